"""10,000 sends without memory growth, natively (RSS) and in Python (tracemalloc)."""

from __future__ import annotations

import gc
import os
import tracemalloc

from conftest import STUB_TICKET
from superoffice_ffi import Client, NotFoundError

MiB = 1024 * 1024


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def send_round(so: Client, n: int) -> None:
    """n sends; every tenth one fails (404), to run the error path too."""
    for i in range(n):
        if i % 10 == 9:
            try:
                so.send_customer_centre_password_email(99999, subject="missing")
            except NotFoundError:
                pass
        else:
            so.send_customer_centre_password_email(670, sender="support@example.com",
                                                   recipient="kari@example.com",
                                                   subject="Your password")


def test_ten_thousand_sends_do_not_grow_rss(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET, app_token="app") as so:
        send_round(so, 1_000)  # warm-up: pools, caches, allocator arenas
        gc.collect()
        before = rss_bytes()
        send_round(so, 10_000)
        gc.collect()
        after = rss_bytes()
    growth = after - before
    assert stub.count(prefix) == 11_000  # every send reached the server
    print(f"RSS before {before / MiB:.1f} MiB, after {after / MiB:.1f} MiB")
    assert growth < 8 * MiB, f"RSS grew by {growth / MiB:.1f} MiB over 10,000 sends"


def test_python_objects_do_not_accumulate(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        send_round(so, 200)
        gc.collect()
        tracemalloc.start()
        try:
            send_round(so, 200)  # let tracemalloc's own structures settle
            gc.collect()
            first = tracemalloc.take_snapshot()
            send_round(so, 2_000)
            so.send_many(range(1, 201))
            gc.collect()
            second = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diff = second.filter_traces(filters).compare_to(first.filter_traces(filters), "filename")
    grown = sum(stat.size_diff for stat in diff)
    top = "\n".join(str(stat) for stat in diff[:5])
    assert grown < 64 * 1024, f"Python allocations grew by {grown} bytes:\n{top}"
