"""make bench-latency: the Python peers against a server that answers after a delay.

Usage: latency_py.py MODE BASE_URL N CONCURRENCY
  httpx      httpx.AsyncClient, N tasks gated by an asyncio.Semaphore(CONCURRENCY)
  requests   requests, one Session per thread, in a ThreadPoolExecutor(CONCURRENCY)
  so         superoffice_ffi.Client shared by a ThreadPoolExecutor(CONCURRENCY)
  so_many    superoffice_ffi.Client.send_many(..., max_concurrency=CONCURRENCY)

BASE_URL is the tenant URL (without /api/...). Prints "seconds S" (the sends only: clients
are made before the clock starts) and exits non-zero when any send failed.
"""

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from common import BODY, ENDPOINT, FROM, HEADERS, PERSON, SUBJECT, TO, send_one, so_client


def run_httpx(base, n, conc):
    import asyncio

    import httpx

    async def main():
        limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
        timeout = httpx.Timeout(30.0, connect=10.0)
        async with httpx.AsyncClient(limits=limits, timeout=timeout, headers=HEADERS) as client:
            gate = asyncio.Semaphore(conc)
            url = base + ENDPOINT

            async def one():
                async with gate:
                    r = await client.post(url, content=BODY)
                    if r.status_code // 100 != 2:
                        raise RuntimeError(f"httpx: HTTP {r.status_code}")

            t0 = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return time.perf_counter() - t0

    return asyncio.run(main())


def run_requests(base, n, conc):
    import requests

    local = threading.local()
    url = base + ENDPOINT

    def session():
        s = getattr(local, "session", None)
        if s is None:
            s = local.session = requests.Session()
            s.headers.clear()
            s.headers.update(HEADERS)
        return s

    def one(_):
        r = session().post(url, data=BODY, timeout=(10, 30))
        if r.status_code // 100 != 2:
            raise RuntimeError(f"requests: HTTP {r.status_code}")

    return timed_in_pool(one, n, conc)


def timed_in_pool(one, n, conc):
    """Seconds that `one(i)` for i in range(n) takes in a pool of `conc` threads."""
    with ThreadPoolExecutor(max_workers=conc) as pool:
        t0 = time.perf_counter()
        list(pool.map(one, range(n)))
        return time.perf_counter() - t0


def run_so(base, n, conc):
    with so_client(base) as client:
        return timed_in_pool(lambda _: send_one(client), n, conc)


def run_so_many(base, n, conc):
    with so_client(base) as client:
        if not hasattr(client, "send_many"):
            print("unavailable Client.send_many")
            sys.exit(3)
        items = [(PERSON, FROM, TO, SUBJECT)] * n
        t0 = time.perf_counter()
        results = client.send_many(items, max_concurrency=conc)
        t = time.perf_counter() - t0
        bad = [r for r in results if not r.ok]
        if bad:
            raise RuntimeError(f"send_many: {len(bad)} of {n} failed: {bad[0].message}")
        return t


def main():
    mode, base, n, conc = sys.argv[1], sys.argv[2].rstrip("/"), int(sys.argv[3]), int(sys.argv[4])
    run = {"httpx": run_httpx, "requests": run_requests, "so": run_so, "so_many": run_so_many}[mode]
    print(f"seconds {run(base, n, conc):.6f}", flush=True)


if __name__ == "__main__":
    main()
