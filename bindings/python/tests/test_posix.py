"""Signals and fork(), as Python programs meet them: a SIGALRM timer interrupting a
send (CPython installs handlers without SA_RESTART), and a client made before
``os.fork()`` used in every process (gunicorn, uWSGI, Celery prefork)."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from typing import Iterator

import pytest

import superoffice_ffi
from conftest import STUB_TICKET, Stub

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and fork()")


@pytest.fixture
def pestered() -> Iterator[list]:
    """SIGALRM every 0.3 s to this (the main) thread, with a handler that does nothing.

    Each signal interrupts the native call's system calls (CPython's C-level handler has
    no SA_RESTART); the Python-level handler runs once, after the call returns, for all
    the signals that arrived meanwhile, so the list holds one entry per native call."""
    caught: list = []
    old = signal.signal(signal.SIGALRM, lambda signum, frame: caught.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 0.3, 0.3)
    try:
        yield caught
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, old)


def test_total_timeout_holds_under_signals(pestered: list) -> None:
    # A server that never answers: the kernel completes the handshake, nobody reads.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        with superoffice_ffi.Client(
            f"http://127.0.0.1:{port}/Cust12345", ticket=STUB_TICKET, timeout=2.0, max_retries=0
        ) as client:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                client.send_customer_centre_password_email(670)
            took = time.monotonic() - started
    print(f"2 s timeout under SIGALRM every 0.3 s: timed out after {took:.2f} s, {len(pestered)} signals")
    assert len(pestered) >= 1
    assert 1.9 <= took <= 3.0


def test_no_timeout_survives_signals(pestered: list, stub: Stub, prefix: str) -> None:
    with superoffice_ffi.Client(
        stub.tenant(prefix, "delay_ms=1000"), ticket=STUB_TICKET, timeout=None, connect_timeout=None
    ) as client:
        client.send_customer_centre_password_email(670)
    assert len(pestered) >= 1
    assert stub.count(prefix) == 1


@pytest.mark.parametrize("children", [4])
def test_fork_each_process_sends_on_its_own_connections(children: int, stub: Stub, prefix: str) -> None:
    sends = 200
    client = superoffice_ffi.Client(stub.tenant(prefix), ticket=STUB_TICKET, timeout=10.0)
    client.send_customer_centre_password_email(670)  # a pooled connection to inherit
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            failed = 0
            try:
                for _ in range(sends):
                    try:
                        client.send_customer_centre_password_email(670)
                    except superoffice_ffi.SuperOfficeError as e:
                        failed += 1
                        if failed < 3:
                            print(f"[child {os.getpid()}] {e}", file=sys.stderr)
                client.close()
            finally:
                os._exit(min(failed, 255))
        pids.append(pid)
    failed_here = 0
    for _ in range(sends):
        try:
            client.send_customer_centre_password_email(670)
        except superoffice_ffi.SuperOfficeError:
            failed_here += 1
    failed_children = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status)
        failed_children += os.WEXITSTATUS(status)
    client.send_customer_centre_password_email(670)
    client.close()
    assert (failed_here, failed_children) == (0, 0)
    assert stub.count(prefix) == 2 + (children + 1) * sends


def test_async_client_in_a_forked_child(stub: Stub, prefix: str) -> None:
    """A child forked after the parent used AsyncClient (whose completions thread does
    not exist in the child) sends asynchronously too: it gets a completion queue and
    thread of its own."""
    import asyncio

    async def send(n: int) -> None:
        async with superoffice_ffi.AsyncClient(stub.tenant(prefix), ticket=STUB_TICKET) as so:
            await asyncio.wait_for(
                asyncio.gather(*(so.send_customer_centre_password_email(670) for _ in range(n))), 10
            )

    asyncio.run(send(5))
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            asyncio.run(send(20))
            code = 0
        except BaseException as e:  # noqa: BLE001 - reported by the exit status
            print(f"[child {os.getpid()}] {e!r}", file=sys.stderr)
        finally:
            os._exit(code)
    asyncio.run(send(5))
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert stub.count(prefix) == 30
