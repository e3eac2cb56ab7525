"""Credentials the library gets itself, through the Python binding, against the stub's
login service: SystemUser in each key form, one login shared by threads and by
AsyncClient, the renewal after a 401, CredentialsError, OAuthRefresh, and no secret in
reprs, messages or log lines."""

from __future__ import annotations

import asyncio
import threading
from typing import List, Tuple

import pytest

from conftest import REPO_ROOT, Stub, header
from superoffice_ffi import (
    AsyncClient,
    Client,
    CredentialsError,
    InvalidArgumentError,
    OAuthRefresh,
    SystemUser,
    UnauthorizedError,
)

KEYS = REPO_ROOT / "tests" / "keys"
TOKEN = "Partner App-8k8Q7DmBgo"
CLIENT_SECRET = "py-client-secret-leak-check"
AUTHENTICATE = "/login/api/PartnerSystemUser/Authenticate"


def key(name: str) -> str:
    return (KEYS / name).read_text()


def make(stub: Stub, prefix: str, login_directives: str = "", tenant_directives: Tuple[str, ...] = (), **kw):
    login_prefix = prefix + ("/" + login_directives if login_directives else "")
    args = dict(
        system_user=SystemUser(token=TOKEN, private_key=key("partner.xml"), client_secret=CLIENT_SECRET),
        login_url=f"{stub.url}{login_prefix}/login",
        context_identifier="Cust12345",
        proxy="",
        timeout=5.0,
    )
    args.update(kw)
    return Client(stub.tenant(login_prefix, *tenant_directives), **args), login_prefix


def logins(stub: Stub, prefix: str) -> int:
    return sum(1 for r in stub.requests(prefix) if r["path"].endswith(AUTHENTICATE))


def api(stub: Stub, prefix: str) -> List[dict]:
    return [r for r in stub.requests(prefix) if r["path"].endswith("SendCustomerCentrePasswordEmail")]


@pytest.mark.parametrize("form", ["partner.pkcs1.pem", "partner.pkcs8.pem", "partner.xml"])
def test_each_key_form_gets_one_ticket(stub: Stub, prefix: str, form: str) -> None:
    su = SystemUser(token=TOKEN, private_key=key(form), client_secret=CLIENT_SECRET)
    client, p = make(stub, prefix, system_user=su)
    with client:
        client.send_customer_centre_password_email(670, sender="a@example.com", recipient="b@example.com", subject="s")
        client.send_customer_centre_password_email(670, sender="a@example.com", recipient="b@example.com", subject="s")
    assert logins(stub, p) == 1
    sent = api(stub, p)
    assert len(sent) == 2
    assert all(header(r, "Authorization").startswith("SOTicket 7T:stub-ticket-") for r in sent)
    assert all(header(r, "SO-AppToken") == CLIENT_SECRET for r in sent)


def test_threads_share_one_login(stub: Stub, prefix: str) -> None:
    client, p = make(stub, prefix, "login_delay_ms=300")
    errors: List[BaseException] = []

    def one() -> None:
        try:
            client.send_customer_centre_password_email(670)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert errors == []
    assert logins(stub, p) == 1
    assert len(api(stub, p)) == 16


def test_async_client_takes_the_same_keywords(stub: Stub, prefix: str) -> None:
    login_prefix = prefix + "/revoke_first=1"

    async def main() -> None:
        async with AsyncClient(
            stub.tenant(login_prefix),
            system_user=SystemUser(token=TOKEN, private_key=key("partner.pkcs8.pem"), client_secret=CLIENT_SECRET),
            login_url=f"{stub.url}{login_prefix}/login",
            context_identifier="Cust12345",
            proxy="",
        ) as client:
            await asyncio.gather(*(client.send_customer_centre_password_email(670) for _ in range(4)))

    asyncio.run(main())
    # The first ticket is revoked: one renewal for every send that saw the 401.
    assert logins(stub, login_prefix) == 2


def test_a_second_401_raises_unauthorized(stub: Stub, prefix: str) -> None:
    client, p = make(stub, prefix, "revoke_first=100")
    with client, pytest.raises(UnauthorizedError):
        client.send_customer_centre_password_email(670)
    assert logins(stub, p) == 2
    assert len(api(stub, p)) == 2


@pytest.mark.parametrize(
    "directive, piece",
    [
        ("login=refused", "not approved"),
        ("login=500", "answered 500"),
        ("jwt=unknown_key", "does not publish"),
        ("jwt=expired", "expired"),
        ("jwt=wrong_iss", "issuer"),
        ("jwt=wrong_aud", "audience"),
    ],
)
def test_failures_raise_credentials_error_and_send_nothing(stub: Stub, prefix: str, directive: str, piece: str) -> None:
    lines: List[str] = []
    client, p = make(stub, prefix, directive, log_callback=lambda level, message: lines.append(message))
    with client, pytest.raises(CredentialsError) as info:
        client.send_customer_centre_password_email(670)
    assert piece in str(info.value)
    assert info.value.code == 28
    for text in [str(info.value), *lines]:
        assert CLIENT_SECRET not in text and TOKEN not in text
    assert api(stub, p) == []


def test_an_unreadable_key_is_invalid_and_not_quoted(stub: Stub, prefix: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        make(stub, prefix, system_user=SystemUser(token=TOKEN, private_key="my-secret-key-text", client_secret=CLIENT_SECRET))
    assert "my-secret-key-text" not in str(info.value)
    assert "private key" in str(info.value)


def test_reprs_hide_the_secrets() -> None:
    su = SystemUser(token=TOKEN, private_key="k", client_secret=CLIENT_SECRET)
    oa = OAuthRefresh(client_id="cid", client_secret=CLIENT_SECRET, refresh_token="r-secret")
    for text in (repr(su), repr(oa)):
        assert CLIENT_SECRET not in text and TOKEN not in text and "r-secret" not in text
    with pytest.raises(TypeError):
        Client("http://127.0.0.1:1/Cust1", system_user=su, oauth=oa)


def test_oauth_refresh_sends_a_bearer_token(stub: Stub, prefix: str) -> None:
    oa = OAuthRefresh(client_id="cid", client_secret=CLIENT_SECRET, refresh_token="stub-refresh-token")
    client, p = make(stub, prefix, system_user=None, oauth=oa)
    with client:
        client.send_customer_centre_password_email(670)
    sent = api(stub, p)
    assert len(sent) == 1 and header(sent[0], "Authorization").startswith("Bearer 8A:stub-access-")
    bad = OAuthRefresh(client_id="cid", client_secret=CLIENT_SECRET, refresh_token="not-known")
    client, p = make(stub, prefix + "-bad", system_user=None, oauth=bad)
    with client, pytest.raises(CredentialsError) as info:
        client.send_customer_centre_password_email(670)
    assert "invalid_grant" in str(info.value) and "not-known" not in str(info.value)


def test_clients_in_turn_share_one_login_and_authenticate_sends_no_email(stub: Stub, prefix: str) -> None:
    for _ in range(5):
        client, p = make(stub, prefix)
        with client:
            client.authenticate()
            client.send_customer_centre_password_email(670)
    assert logins(stub, p) == 1
    assert len(api(stub, p)) == 5
    client, p2 = make(stub, prefix + "-auth-only")
    with client:
        client.authenticate()
    assert logins(stub, p2) == 1
    assert api(stub, p2) == []


def test_shared_credentials_false_gives_each_client_its_own_login(stub: Stub, prefix: str) -> None:
    for _ in range(3):
        client, p = make(stub, prefix, shared_credentials=False)
        with client:
            client.send_customer_centre_password_email(670)
    assert logins(stub, p) == 3
    with pytest.raises(TypeError):
        make(stub, prefix, shared_credentials=1)


def test_forget_credentials_makes_the_next_send_log_in(stub: Stub, prefix: str) -> None:
    from superoffice_ffi import forget_credentials

    client, p = make(stub, prefix)
    with client:
        client.send_customer_centre_password_email(670)
        forget_credentials()
        client.send_customer_centre_password_email(670)
    assert logins(stub, p) == 2


def test_authenticate_raises_credentials_error_with_the_clock_named(stub: Stub, prefix: str) -> None:
    client, p = make(stub, prefix, login_directives="clock_min=20")
    with client, pytest.raises(CredentialsError) as info:
        client.authenticate()
    assert "this machine's clock is 20 minutes behind the login service's" in str(info.value)
    assert "so the login service refuses it: correct the clock" in str(info.value)
    assert api(stub, p) == []
    # A ticket given: nothing to obtain, nothing sent.
    with Client(stub.tenant(prefix + "-ticket"), ticket="7T:dGVzdA==", proxy="") as given:
        given.authenticate()
    assert stub.requests(prefix + "-ticket") == []
