"""What the Python peers of the benchmarks share: the request every peer sends (as
bench/common.h has it for the C peers) and this library's client for it."""

TICKET = "7T:dGVzdA=="
APP_TOKEN = "bench-app-token-0123456789abcdef"
LANGUAGE = "sv"
ENDPOINT = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
PERSON, FROM, TO, SUBJECT = 670, "support@example.com", "kari@example.com", "Your password"
BODY = (
    '{"PersonId":670,"From":"support@example.com","To":"kari@example.com",'
    '"Subject":"Your password"}'
).encode()
# Only the headers every peer sends (an HTTP client adds Host and Content-Length).
HEADERS = {
    "Authorization": "SOTicket " + TICKET,
    "SO-AppToken": APP_TOKEN,
    "Accept": "application/json",
    "Content-Type": "application/json; charset=utf-8",
    "Accept-Language": LANGUAGE,
    "SO-Language": LANGUAGE,
    "User-Agent": "superoffice-ffi/0.1.0",
}


def so_client(base):
    """This library's client for the tenant URL `base`, with the request's credentials."""
    from superoffice_ffi import Client

    return Client(base, ticket=TICKET, app_token=APP_TOKEN, language=LANGUAGE)


def send_one(client):
    """One send of the request through this library's client."""
    client.send_customer_centre_password_email(PERSON, sender=FROM, recipient=TO, subject=SUBJECT)
