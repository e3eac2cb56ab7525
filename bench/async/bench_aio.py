"""N sends from Python asyncio: superoffice_ffi.AsyncClient, or httpx.AsyncClient with the
same request, at most IN_FLIGHT at once. N coroutines are gathered at once; each waits on
an asyncio.Semaphore(IN_FLIGHT) before it sends, for both peers alike (httpx's connection
pool slows down quadratically with thousands of requests queued inside it: 200 requests
queued at once took 4.7 s here).

Usage: python bench_aio.py {so|httpx} BASE_URL N IN_FLIGHT
Prints: <peer> <in-flight> <n> <seconds> <failures> <peak threads> <peak RSS KiB>
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, Awaitable, Callable, List

TICKET = "7T:dGVzdA=="
ENDPOINT = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"


def status_field(name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1])
    return -1


async def run(send: Callable[[], Awaitable[bool]], n: int, k: int) -> "tuple[float, int, int]":
    peak = 0
    done = asyncio.Event()
    gate = asyncio.Semaphore(k)

    async def gated() -> bool:
        async with gate:
            return await send()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, status_field("Threads:"))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    results: List[Any] = await asyncio.gather(*(gated() for _ in range(n)), return_exceptions=True)
    took = time.perf_counter() - started
    done.set()
    await sampler
    failures = sum(1 for r in results if r is not True)
    return took, failures, peak


async def main() -> None:
    peer, base, n_text, k_text = sys.argv[1:5]
    n, k = int(n_text), int(k_text)
    if peer == "so":
        from superoffice_ffi import AsyncClient

        async with AsyncClient(base, ticket=TICKET, proxy="", timeout=120, max_in_flight=k) as so:
            async def send() -> bool:
                await so.send_customer_centre_password_email(
                    670, sender="support@example.com", recipient="kari@example.com", subject="Your password")
                return True

            took, failures, peak = await run(send, n, k)
    else:
        import httpx

        body = json.dumps({"PersonId": 670, "From": "support@example.com", "To": "kari@example.com",
                           "Subject": "Your password"}, separators=(",", ":")).encode()
        headers = {"Authorization": "SOTicket " + TICKET, "Accept": "application/json",
                   "Content-Type": "application/json; charset=utf-8"}
        limits = httpx.Limits(max_connections=k, max_keepalive_connections=k)
        async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(120.0, pool=None),
                                     trust_env=False) as client:
            url = base + ENDPOINT

            async def send() -> bool:
                response = await client.post(url, content=body, headers=headers)
                return response.status_code == 204

            took, failures, peak = await run(send, n, k)
    print(f"{peer} {k} {n} {took:.3f} {failures} {peak} {status_field('VmHWM:')}")


asyncio.run(main())
