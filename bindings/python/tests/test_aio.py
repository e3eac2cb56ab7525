"""AsyncClient: asyncio over the library's asynchronous send (plain asyncio.run, no
pytest plugin). Timings are printed (run pytest with -s to see them), not asserted,
except that a cancellation is prompt (well under a second)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import List

import pytest

from superoffice_ffi import (
    AsyncClient,
    Client,
    NotFoundError,
    OperationCancelledError,
    ResultCode,
    SendItem,
    ServerError,
    SuperOfficeConnectionError,
    SuperOfficeTimeoutError,
)
from superoffice_ffi import aio
from superoffice_ffi.aio import _pending

from conftest import STUB_TICKET, Stub


def test_send_succeeds_and_the_request_is_the_synchronous_one(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix), ticket=STUB_TICKET, language="sv") as so:
            await so.send_customer_centre_password_email(
                670, sender="a@example.com", recipient="b@example.com", subject="Hi"
            )
        with Client(stub.tenant(prefix), ticket=STUB_TICKET, language="sv") as sync:
            sync.send_customer_centre_password_email(
                670, sender="a@example.com", recipient="b@example.com", subject="Hi"
            )

    asyncio.run(main())
    recorded = stub.requests(prefix)
    assert len(recorded) == 2
    assert recorded[0]["body"] == recorded[1]["body"]
    assert recorded[0]["headers"] == recorded[1]["headers"]
    assert not _pending


def test_failures_raise_the_synchronous_client_s_exceptions(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix), ticket=STUB_TICKET) as so:
            with pytest.raises(NotFoundError) as e:
                await so.send_customer_centre_password_email(99999)
            assert e.value.http_status == 404
            assert e.value.error_type == "SoNotFoundException"
            assert e.value.code == ResultCode.NOT_FOUND
        async with AsyncClient(stub.tenant(prefix, "status=502"), ticket=STUB_TICKET) as so:
            with pytest.raises(ServerError):
                await so.send_customer_centre_password_email(670)
        async with AsyncClient(stub.tenant(prefix, "hang"), ticket=STUB_TICKET, timeout=0.3) as so:
            with pytest.raises(SuperOfficeTimeoutError):
                await so.send_customer_centre_password_email(670)
        async with AsyncClient("http://127.0.0.1:1/Cust1", ticket=STUB_TICKET, max_retries=0) as so:
            with pytest.raises(SuperOfficeConnectionError):
                await so.send_customer_centre_password_email(670)
        async with AsyncClient(stub.tenant(prefix), ticket=STUB_TICKET) as so:
            with pytest.raises(ValueError):
                await so.send_customer_centre_password_email(0)
            with pytest.raises(TypeError):
                await so.send_customer_centre_password_email("670")  # type: ignore[arg-type]

    asyncio.run(main())


def test_max_in_flight_is_checked(stub: Stub, prefix: str) -> None:
    with pytest.raises(ValueError):
        AsyncClient(stub.tenant(prefix), max_in_flight=0)
    with pytest.raises(ValueError):
        AsyncClient(stub.tenant(prefix), max_in_flight=1025)


def test_200_concurrent_sends_without_a_thread_per_call(stub: Stub, prefix: str) -> None:
    async def main() -> float:
        async with AsyncClient(stub.tenant(prefix, "delay_ms=200"), ticket=STUB_TICKET,
                               max_in_flight=200) as so:
            threads_before = threading.active_count()
            started = time.perf_counter()
            await asyncio.gather(*(so.send_customer_centre_password_email(670 + i) for i in range(200)))
            took = time.perf_counter() - started
            # The library's threads are not Python threads; ctypes' callbacks run on them
            # without registering a threading.Thread.
            assert threading.active_count() == threads_before
            return took

    took = asyncio.run(main())
    print(f"\n200 concurrent sends to a 200 ms stub: {took:.3f} s (ideal 0.2 s)")
    assert stub.count(prefix) == 200


def test_task_cancel_cancels_the_native_send_at_once(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix, "hang"), ticket=STUB_TICKET, timeout=None) as so:
            task = asyncio.create_task(so.send_customer_centre_password_email(670))
            for _ in range(500):
                if stub.count(prefix) == 1:
                    break
                await asyncio.sleep(0.005)
            assert stub.count(prefix) == 1
            started = time.perf_counter()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            took = time.perf_counter() - started
            print(f"\ncancel of a send awaiting its answer: CancelledError after {took * 1000:.2f} ms")
            assert took < 1.0
            # The native operation ends too, and is freed on the loop.
            for _ in range(200):
                if not _pending:
                    break
                await asyncio.sleep(0.005)
            assert not _pending

    asyncio.run(main())


def test_cancelled_before_sending_is_never_sent(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix, "delay_ms=1000"), ticket=STUB_TICKET,
                               max_in_flight=1) as so:
            first = asyncio.create_task(so.send_customer_centre_password_email(670))
            second = asyncio.create_task(so.send_customer_centre_password_email(671))
            await asyncio.sleep(0.1)
            second.cancel()
            with pytest.raises(asyncio.CancelledError):
                await second
            await first

    asyncio.run(main())
    assert stub.count(prefix) == 1
    assert '"PersonId":671' not in stub.requests(prefix)[0]["body"]


def test_wait_for_timeout_cancels(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix, "hang"), ticket=STUB_TICKET, timeout=None) as so:
            started = time.perf_counter()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(so.send_customer_centre_password_email(670), 0.2)
            assert time.perf_counter() - started < 1.2

    asyncio.run(main())


def test_the_event_loop_keeps_ticking_during_sends(stub: Stub, prefix: str) -> None:
    async def main() -> List[float]:
        ticks: List[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.01)

        async with AsyncClient(stub.tenant(prefix, "delay_ms=500"), ticket=STUB_TICKET,
                               max_in_flight=8) as so:
            t = asyncio.create_task(ticker())
            await asyncio.gather(*(so.send_customer_centre_password_email(670) for _ in range(8)))
            stop.set()
            await t
        return ticks

    ticks = asyncio.run(main())
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    print(f"\nticker during 8 sends of 500 ms: {len(ticks)} ticks, longest gap {max(gaps) * 1000:.1f} ms")
    assert len(ticks) >= 10  # a blocked loop would tick once or twice


def test_the_loop_takes_completions_itself_once_for_all_that_completed_meanwhile(stub: Stub, prefix: str) -> None:
    """20 sends complete while the loop is busy (blocked here on purpose): the loop,
    watching the completion queue's descriptor, takes all 20 in one call once it is free
    again, with no Python thread and no call_soon_threadsafe in between."""
    n = 20

    async def main() -> "tuple[List[int], int]":
        loop = asyncio.get_running_loop()
        takes: List[int] = []
        real_wait = aio._queue_wait
        wakeups = 0
        real_soon = loop.call_soon_threadsafe

        def counting_wait(queue, timeout_ms, ops, codes, capacity, count):  # type: ignore[no-untyped-def]
            result = real_wait(queue, timeout_ms, ops, codes, capacity, count)
            takes.append(count.value)
            return result

        def counting_soon(callback, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal wakeups
            wakeups += 1
            return real_soon(callback, *args, **kwargs)

        loop.call_soon_threadsafe = counting_soon  # type: ignore[method-assign]
        aio._queue_wait = counting_wait
        try:
            async with AsyncClient(stub.tenant(prefix, "delay_ms=100"), ticket=STUB_TICKET, max_in_flight=n) as so:
                threads_before = threading.active_count()
                tasks = [asyncio.create_task(so.send_customer_centre_password_email(670)) for _ in range(n)]
                await asyncio.sleep(0)  # every task has started its native send
                # The loop is blocked until every send has been answered (and pushed).
                deadline = time.monotonic() + 10
                while stub.count(prefix) < n and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.3)
                assert len(_pending) == n and not any(t.done() for t in tasks)
                await asyncio.gather(*tasks)
                assert threading.active_count() == threads_before
                taken, woken = list(takes), wakeups  # (aclose's executor wakes the loop too)
        finally:
            aio._queue_wait = real_wait
        return taken, woken

    taken, wakeups = asyncio.run(main())
    assert len(stub.requests(prefix)) == n
    assert aio._completions().fd >= 0
    assert taken == [n], f"the loop took {taken}"
    assert wakeups == 0, f"call_soon_threadsafe was called {wakeups} times"
    assert aio._completions().thread is None, "no completions thread where the loop watches the queue"


_FALLBACK = """
import asyncio, sys, threading
from superoffice_ffi import AsyncClient, aio

class NoReaderLoop(asyncio.SelectorEventLoop):
    def add_reader(self, fd, callback, *args):  # as a Proactor loop does
        raise NotImplementedError

async def main(base, n):
    loop = asyncio.get_running_loop()
    wakeups = 0
    real = loop.call_soon_threadsafe
    def counting(callback, *args, **kwargs):
        nonlocal wakeups
        wakeups += 1
        return real(callback, *args, **kwargs)
    loop.call_soon_threadsafe = counting
    async with AsyncClient(base, ticket="7T:dGVzdA==", max_in_flight=n) as so:
        await asyncio.wait_for(asyncio.gather(*(so.send_customer_centre_password_email(670) for _ in range(n))), 10)
        names = [t.name for t in threading.enumerate()]
        for _ in range(20):
            await asyncio.wait_for(so.send_customer_centre_password_email(670), 10)
        woken = wakeups
    assert "superoffice-completions" in names, names
    assert not aio._pending
    print("wakeups", woken)

loop = NoReaderLoop()
loop.run_until_complete(main(sys.argv[1], int(sys.argv[2])))
loop.close()
"""


def test_a_loop_without_add_reader_gets_the_completions_thread(stub: Stub, prefix: str) -> None:
    """A loop that cannot watch a descriptor (Windows' Proactor loop) is served by the
    completions thread, woken once per batch. In a process of its own: the thread, once
    started, serves the process for good."""
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _FALLBACK, stub.tenant(prefix, "delay_ms=50"), "20"],
                         capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    wakeups = int(out.stdout.split()[-1])
    assert len(stub.requests(prefix)) == 40
    # 20 sends at once and 20 one after another: far fewer wake-ups than completions for
    # the first 20, one each for the others.
    assert 20 <= wakeups < 40, wakeups


def test_completions_after_the_loop_drained_wake_it_again(stub: Stub, prefix: str) -> None:
    """Sends completing one after another, each awaited before the next starts: each
    completion finds the inbox empty and wakes the loop; none is lost."""

    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix), ticket=STUB_TICKET, max_in_flight=2) as so:
            for _ in range(50):
                await asyncio.wait_for(so.send_customer_centre_password_email(670), 10)

    asyncio.run(main())
    assert len(stub.requests(prefix)) == 50
    assert not _pending


def test_aclose_with_sends_outstanding(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        so = AsyncClient(stub.tenant(prefix, "hang"), ticket=STUB_TICKET, timeout=None, max_in_flight=4)
        tasks = [asyncio.create_task(so.send_customer_centre_password_email(670 + i)) for i in range(12)]
        for _ in range(500):
            if stub.count(prefix) == 4:
                break
            await asyncio.sleep(0.005)
        started = time.perf_counter()
        await so.aclose()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        took = time.perf_counter() - started
        print(f"\naclose() with 12 sends outstanding: {took * 1000:.1f} ms")
        assert all(isinstance(r, OperationCancelledError) for r in results), results
        assert any("may already have received" in str(r) for r in results)
        assert any("before it was sent" in str(r) for r in results)
        assert so.closed
        await so.aclose()  # idempotent
        assert not _pending

    asyncio.run(main())
    assert stub.count(prefix) == 4


def test_send_many(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix), ticket=STUB_TICKET, max_in_flight=4) as so:
            results = await so.send_many([670, SendItem(99999), (671, "a@example.com"), {"person_id": 672}],
                                         max_concurrency=2)
            assert [r.ok for r in results] == [True, False, True, True]
            assert results[0].http_status == 204
            assert results[1].code == ResultCode.NOT_FOUND
            assert isinstance(results[1].exception(), NotFoundError)
            with pytest.raises(TypeError):
                await so.send_many([None])

    asyncio.run(main())
    assert stub.count(prefix) == 4
