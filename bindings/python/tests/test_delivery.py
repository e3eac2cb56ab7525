"""Every failure says whether the e-mail may have gone out: ``SuperOfficeError.delivery``
(a :class:`Delivery`) and ``may_have_been_sent``, for the synchronous send, the batch,
AsyncClient and a cancelled AsyncClient send, against the stub server."""

from __future__ import annotations

import asyncio
import json
import pickle
import socket
import urllib.request
from typing import Any, Dict

import pytest

from conftest import REPO_ROOT, STUB_TICKET, Stub
from superoffice_ffi import (
    AsyncClient,
    Client,
    CredentialsError,
    Delivery,
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    SuperOfficeConnectionError,
    SuperOfficeError,
    SuperOfficeTimeoutError,
    SystemUser,
    TLSError,
    TransportError,
    cancelled_delivery,
)


def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/Cust1"


def stub_tls(stub: Stub) -> Dict[str, Any]:
    with urllib.request.urlopen(stub.url + "/_stub/tls", timeout=10) as r:
        return json.loads(r.read().decode("utf-8"))


def failure(base: str, person_id: int = 670, **kw: Any) -> SuperOfficeError:
    args = dict(ticket=STUB_TICKET, proxy="", max_retries=0, timeout=5.0)
    args.update(kw)
    with Client(base, **args) as c, pytest.raises(SuperOfficeError) as info:
        c.send_customer_centre_password_email(person_id)
    return info.value


@pytest.mark.parametrize(
    "directives, cls, delivery, may",
    [
        (("status=404",), NotFoundError, Delivery.ANSWERED, False),
        (("status=503", "retry_after=0"), ServerError, Delivery.ANSWERED, False),
        (("status=500",), ServerError, Delivery.ANSWERED, True),
        (("drop=after",), TransportError, Delivery.UNKNOWN, True),
        (("drop=reset",), TransportError, Delivery.UNKNOWN, True),
    ],
)
def test_each_answer_and_break_has_its_delivery(stub: Stub, prefix: str, directives, cls, delivery, may) -> None:
    e = failure(stub.tenant(prefix, *directives))
    assert isinstance(e, cls), repr(e)
    assert e.delivery is delivery
    assert e.may_have_been_sent is may
    assert stub.count(prefix) == 1
    if delivery is Delivery.UNKNOWN:
        assert str(e).endswith("it may have been processed")


def test_answer_timeout_is_unknown_and_refused_is_not_sent(stub: Stub, prefix: str) -> None:
    e = failure(stub.tenant(prefix, "hang"), timeout=0.3)
    assert isinstance(e, SuperOfficeTimeoutError) and e.delivery is Delivery.UNKNOWN and e.may_have_been_sent
    e = failure(refused_url())
    assert isinstance(e, SuperOfficeConnectionError)
    assert (e.delivery, e.may_have_been_sent) == (Delivery.NOT_SENT, False)
    assert str(e).endswith("it was not sent")


def test_person_id_0_and_a_closed_client_are_not_sent(stub: Stub, prefix: str) -> None:
    e = failure(stub.tenant(prefix), person_id=0)
    assert isinstance(e, InvalidArgumentError) and e.delivery is Delivery.NOT_SENT
    assert stub.count(prefix) == 0
    c = Client(stub.tenant(prefix), ticket=STUB_TICKET)
    c.close()
    with pytest.raises(SuperOfficeError) as info:
        c.send_customer_centre_password_email(670)
    assert info.value.delivery is Delivery.NOT_SENT


def test_a_setter_s_failure_sends_nothing_and_says_none() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Client("ftp://nowhere/x")
    assert info.value.delivery is Delivery.NONE and not info.value.may_have_been_sent


def test_an_untrusted_certificate_is_not_sent_and_decrypts_nothing(stub: Stub) -> None:
    tls = stub_tls(stub)
    e = failure(tls["url"] + "/Cust12345")
    assert isinstance(e, TLSError) and "not trusted" in str(e)
    assert (e.delivery, e.may_have_been_sent) == (Delivery.NOT_SENT, False)
    assert stub_tls(stub)["decrypted"] == tls["decrypted"]


def test_a_refused_login_is_not_sent(stub: Stub, prefix: str) -> None:
    key = (REPO_ROOT / "tests" / "keys" / "partner.xml").read_text()
    login_prefix = prefix + "/login=refused"
    with Client(
        stub.tenant(login_prefix),
        system_user=SystemUser(token="Partner App-8k8Q7DmBgo", private_key=key, client_secret="s"),
        login_url=f"{stub.url}{login_prefix}/login",
        context_identifier="Cust12345",
        proxy="",
    ) as c, pytest.raises(CredentialsError) as info:
        c.send_customer_centre_password_email(670)
    assert info.value.delivery is Delivery.NOT_SENT and not info.value.may_have_been_sent


def test_delivery_survives_pickling(stub: Stub, prefix: str) -> None:
    e = failure(stub.tenant(prefix, "drop=reset"))
    again = pickle.loads(pickle.dumps(e))
    assert (type(again), again.delivery, again.http_status) == (type(e), Delivery.UNKNOWN, 0)


def test_batch_results_carry_their_delivery(stub: Stub, prefix: str) -> None:
    with Client(stub.tenant(prefix), ticket=STUB_TICKET, proxy="") as c:
        ok, bad, missing = c.send_many([670, 0, 99999])
    assert (ok.delivery, bad.delivery, missing.delivery) == (Delivery.ANSWERED, Delivery.NOT_SENT, Delivery.ANSWERED)
    assert (ok.may_have_been_sent, bad.may_have_been_sent, missing.may_have_been_sent) == (True, False, False)
    assert bad.exception().delivery is Delivery.NOT_SENT
    with Client(stub.tenant(prefix + "-reset", "drop=reset"), ticket=STUB_TICKET, proxy="") as c:
        results = c.send_many([670, 671])
    assert [r.delivery for r in results] == [Delivery.UNKNOWN, Delivery.UNKNOWN]
    with Client(refused_url(), ticket=STUB_TICKET, proxy="", max_retries=0) as c:
        assert [r.delivery for r in c.send_many([670])] == [Delivery.NOT_SENT]


def test_async_failures_and_results_carry_their_delivery(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix, "drop=reset"), ticket=STUB_TICKET, proxy="") as so:
            with pytest.raises(TransportError) as info:
                await so.send_customer_centre_password_email(670)
            assert info.value.delivery is Delivery.UNKNOWN and info.value.may_have_been_sent
            results = await so.send_many([671, 0])
            assert [r.delivery for r in results] == [Delivery.UNKNOWN, Delivery.NOT_SENT]
        async with AsyncClient(refused_url(), ticket=STUB_TICKET, proxy="", max_retries=0) as so:
            with pytest.raises(SuperOfficeConnectionError) as info:
                await so.send_customer_centre_password_email(670)
            assert info.value.delivery is Delivery.NOT_SENT
        async with AsyncClient(stub.tenant(prefix + "-ok"), ticket=STUB_TICKET, proxy="") as so:
            (result,) = await so.send_many([670])
            assert result.ok and result.delivery is Delivery.ANSWERED

    asyncio.run(main())


def test_a_cancelled_send_says_whether_it_had_started(stub: Stub, prefix: str) -> None:
    async def main() -> None:
        async with AsyncClient(stub.tenant(prefix, "hang"), ticket=STUB_TICKET, timeout=None, max_in_flight=1) as so:
            first = asyncio.create_task(so.send_customer_centre_password_email(670))
            second = asyncio.create_task(so.send_customer_centre_password_email(671))
            for _ in range(500):
                if stub.count(prefix) == 1:
                    break
                await asyncio.sleep(0.005)
            assert stub.count(prefix) == 1  # the first on the network, the second queued
            # Cancelled before it started: not sent.
            second.cancel()
            with pytest.raises(asyncio.CancelledError) as queued:
                await second
            assert cancelled_delivery(queued.value) is Delivery.NOT_SENT
            # Cancelled on the network: the server may have it.
            first.cancel()
            with pytest.raises(asyncio.CancelledError) as on_network:
                await first
            assert cancelled_delivery(on_network.value) is Delivery.UNKNOWN
        # asyncio.wait_for (and asyncio.timeout, 3.11+) turn the cancellation into a
        # TimeoutError, which still carries it.
        async with AsyncClient(stub.tenant(prefix + "-t", "hang"), ticket=STUB_TICKET, timeout=None) as so:
            with pytest.raises(asyncio.TimeoutError) as timed_out:
                await asyncio.wait_for(so.send_customer_centre_password_email(672), 0.3)
            assert cancelled_delivery(timed_out.value) is Delivery.UNKNOWN
            if hasattr(asyncio, "timeout"):
                with pytest.raises(asyncio.TimeoutError) as timed_out:
                    async with asyncio.timeout(0.3):  # type: ignore[attr-defined]
                        await so.send_customer_centre_password_email(674)
                assert cancelled_delivery(timed_out.value) is Delivery.UNKNOWN
        # Inside the coroutine, the CancelledError itself has it.
        async with AsyncClient(stub.tenant(prefix + "-in", "hang"), ticket=STUB_TICKET, timeout=None) as so:
            seen = []

            async def sender() -> None:
                try:
                    await so.send_customer_centre_password_email(673)
                except asyncio.CancelledError as e:
                    seen.append(e.delivery)  # type: ignore[attr-defined]
                    raise

            task = asyncio.create_task(sender())
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert seen == [Delivery.UNKNOWN]
        assert cancelled_delivery(ValueError("x")) is None

    asyncio.run(main())
    assert '"PersonId":671' not in json.dumps(stub.requests(prefix))
