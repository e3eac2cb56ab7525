"""close() semantics and sharing one Client between threads."""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import STUB_TICKET
from superoffice_ffi import Client, ClientClosedError, NotFoundError, SuperOfficeError


def test_close_twice_and_use_after_close(stub, prefix):
    so = Client(stub.tenant(prefix), ticket=STUB_TICKET)
    assert not so.closed
    so.send_customer_centre_password_email(670)
    so.close()
    so.close()
    assert so.closed
    with pytest.raises(ClientClosedError) as info:
        so.send_customer_centre_password_email(670)
    assert isinstance(info.value, SuperOfficeError)
    assert isinstance(info.value, RuntimeError)
    assert info.value.code is None
    with pytest.raises(ClientClosedError):
        so.send_many([670])
    with pytest.raises(ClientClosedError):
        with so:
            pass
    assert stub.count(prefix) == 1
    assert "closed" in repr(so)


def test_context_manager_closes_even_on_error(stub, prefix):
    with pytest.raises(NotFoundError):
        with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
            so.send_customer_centre_password_email(99999)
    assert so.closed
    with pytest.raises(ClientClosedError):
        so.send_customer_centre_password_email(670)


def test_close_during_a_send_lets_it_finish(stub, prefix):
    so = Client(stub.tenant(prefix, "delay_ms=500"), ticket=STUB_TICKET)
    outcome = {}

    def send():
        try:
            so.send_customer_centre_password_email(670)
            outcome["result"] = "ok"
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["result"] = exc

    worker = threading.Thread(target=send)
    worker.start()
    time.sleep(0.15)
    started = time.monotonic()
    so.close()
    close_took = time.monotonic() - started
    with pytest.raises(ClientClosedError):
        so.send_customer_centre_password_email(670)
    worker.join(10)
    assert outcome.get("result") == "ok"
    assert close_took < 0.25, "close() must not wait for running sends"
    assert stub.count(prefix) == 1


def test_garbage_collected_client_is_freed(stub, prefix):
    so = Client(stub.tenant(prefix), ticket=STUB_TICKET, log_callback=lambda level, msg: None)
    so.send_customer_centre_password_email(670)
    del so
    gc.collect()


def test_close_from_a_callback_does_not_deadlock(stub, prefix):
    holder = {}

    def log(level, message):
        client = holder.get("client")
        if client is not None:
            client.close()

    so = Client(stub.tenant(prefix, "status=404"), ticket=STUB_TICKET, log_callback=log)
    holder["client"] = so
    with pytest.raises(NotFoundError):
        so.send_customer_centre_password_email(670)
    holder.clear()
    assert so.closed  # the log callback ran during the send and closed it
    with pytest.raises(ClientClosedError):
        so.send_customer_centre_password_email(670)


def test_eight_threads_send_in_parallel(stub, prefix):
    threads = 8
    barrier = threading.Barrier(threads)
    with Client(stub.tenant(prefix, "delay_ms=200"), ticket=STUB_TICKET) as so:

        def one(_):
            barrier.wait()
            so.send_customer_centre_password_email(670)

        started = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(threads)))
        elapsed = time.monotonic() - started
    # Serialised, 8 sends would take 8 x 200 ms = 1.6 s.
    assert elapsed < 1.2, f"8 sends took {elapsed:.2f}s: they did not run in parallel"
    assert stub.count(prefix + "/") == threads


def test_threads_get_their_own_errors(stub, prefix):
    """The last error is per thread: each thread sees its own outcome."""

    def worker(n):
        seen = []
        for i in range(25):
            person = 99999 if (i + n) % 2 else 670
            try:
                so.send_customer_centre_password_email(person)
                seen.append(("ok", person))
            except NotFoundError as exc:
                assert exc.http_status == 404 and f"Person id {person} not found" in exc.message
                seen.append(("404", person))
        return seen

    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(worker, range(8)))
    for seen in results:
        for outcome, person in seen:
            assert outcome == ("404" if person == 99999 else "ok")
    assert stub.count(prefix) == 8 * 25


def test_close_while_many_threads_send(stub, prefix):
    so = Client(stub.tenant(prefix), ticket=STUB_TICKET)
    stop = time.monotonic() + 5
    counts = {"ok": 0, "closed": 0}
    lock = threading.Lock()

    def worker():
        while time.monotonic() < stop:
            try:
                so.send_customer_centre_password_email(670)
                key = "ok"
            except ClientClosedError:
                key = "closed"
            with lock:
                counts[key] += 1
            if key == "closed":
                return

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for w in workers:
        w.start()
    time.sleep(0.3)
    so.close()
    for w in workers:
        w.join(10)
    assert not any(w.is_alive() for w in workers)
    assert counts["ok"] > 0 and counts["closed"] == 8
