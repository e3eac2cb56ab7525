"""The Python peers: this library through its binding, and requests.Session.

Usage: bench_py.py so|requests BASE_URL N WARMUP
Prints "rps R" and "cpu_us C" lines (bench/run.sh collects them); exits non-zero when a
send fails.
"""

import sys
import time

TICKET = "7T:dGVzdA=="
APP_TOKEN = "bench-app-token-0123456789abcdef"
ENDPOINT = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
FROM, TO, SUBJECT = "support@example.com", "kari@example.com", "Your password"
BODY = (
    '{"PersonId":670,"From":"support@example.com","To":"kari@example.com",'
    '"Subject":"Your password"}'
).encode()


def with_superoffice(base):
    from superoffice_ffi import Client

    client = Client(base, ticket=TICKET, app_token=APP_TOKEN, language="sv")

    def send():
        client.send_customer_centre_password_email(670, sender=FROM, recipient=TO, subject=SUBJECT)

    return send


def with_requests(base):
    import requests

    session = requests.Session()
    # Only the headers every peer sends (requests adds Host and Content-Length).
    session.headers.clear()
    session.headers.update(
        {
            "Authorization": "SOTicket " + TICKET,
            "SO-AppToken": APP_TOKEN,
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "Accept-Language": "sv",
            "SO-Language": "sv",
            "User-Agent": "superoffice-ffi/0.1.0",
        }
    )
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
