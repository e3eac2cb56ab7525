"""The Python peers: this library through its binding, and requests.Session.

Usage: bench_py.py so|requests BASE_URL N WARMUP
Prints "rps R" and "cpu_us C" lines (bench/run.sh collects them); exits non-zero when a
send fails.
"""

import sys
import time

from common import BODY, ENDPOINT, HEADERS, send_one, so_client


def with_superoffice(base):
    client = so_client(base)
    return lambda: send_one(client)


def with_requests(base):
    import requests

    session = requests.Session()
    session.headers.clear()
    session.headers.update(HEADERS)
    url = base + ENDPOINT

    def send():
        r = session.post(url, data=BODY, timeout=(10, 30))
        if r.status_code // 100 != 2:
            raise RuntimeError(f"requests: HTTP {r.status_code}")

    return send


def main():
    mode, base, n, warm = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    send = {"so": with_superoffice, "requests": with_requests}[mode](base)
    for _ in range(warm):
        send()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        send()
    t, c = time.perf_counter() - t0, time.process_time() - c0
    print(f"rps {n / t:.6f}")
    print(f"cpu_us {c / n * 1e6:.6f}")


if __name__ == "__main__":
    main()
