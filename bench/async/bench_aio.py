"""N sends from Python asyncio: superoffice_ffi.AsyncClient, or httpx.AsyncClient or
aiohttp.ClientSession with the same request, at most IN_FLIGHT at once. N coroutines are
gathered at once; each waits on an asyncio.Semaphore(IN_FLIGHT) before it sends, for every
peer alike (httpx's connection pool slows down quadratically with thousands of requests
queued inside it: 200 requests queued at once took 4.7 s here).

Usage: python bench_aio.py {so|httpx|aiohttp} BASE_URL N IN_FLIGHT
Prints: <peer> <in-flight> <n> <seconds> <failures> <peak threads> <peak RSS KiB> <CPU s>
(CPU: user + system of the process over the sends, interpreter start and imports excluded)
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any, Awaitable, Callable, List

TICKET = "7T:dGVzdA=="
ENDPOINT = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
BODY = json.dumps({"PersonId": 670, "From": "support@example.com", "To": "kari@example.com",
                   "Subject": "Your password"}, separators=(",", ":")).encode()
HEADERS = {"Authorization": "SOTicket " + TICKET, "Accept": "application/json",
           "Content-Type": "application/json; charset=utf-8"}


def status_field(name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1])
    return -1


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(send: Callable[[], Awaitable[bool]], n: int, k: int) -> "tuple[float, int, int, float]":
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
    started, cpu_started = time.perf_counter(), cpu_seconds()
    results: List[Any] = await asyncio.gather(*(gated() for _ in range(n)), return_exceptions=True)
    took, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    done.set()
    await sampler
    failures = sum(1 for r in results if r is not True)
    return took, failures, peak, cpu


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

            took, failures, peak, cpu = await run(send, n, k)
    elif peer == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=k, limit_per_host=k)
        async with aiohttp.ClientSession(connector=connector, trust_env=False,
                                         timeout=aiohttp.ClientTimeout(total=120)) as session:
            url = base + ENDPOINT

            async def send() -> bool:
                async with session.post(url, data=BODY, headers=HEADERS) as response:
                    await response.read()
                    return response.status == 204

            took, failures, peak, cpu = await run(send, n, k)
    else:
        import httpx

        body, headers = BODY, HEADERS
        limits = httpx.Limits(max_connections=k, max_keepalive_connections=k)
        async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(120.0, pool=None),
                                     trust_env=False) as client:
            url = base + ENDPOINT

            async def send() -> bool:
                response = await client.post(url, content=body, headers=headers)
                return response.status_code == 204

            took, failures, peak, cpu = await run(send, n, k)
    print(f"{peer} {k} {n} {took:.3f} {failures} {peak} {status_field('VmHWM:')} {cpu:.3f}")


asyncio.run(main())
