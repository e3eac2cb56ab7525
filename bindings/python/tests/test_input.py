"""Bad Python input is refused before any native call (TypeError / ValueError);
bad settings are refused by the library when the Client is constructed."""

from __future__ import annotations

import pytest

from conftest import STUB_TICKET, header
from superoffice_ffi import Client, InvalidArgumentError, ResultCode, SendItem, SuperOfficeError


@pytest.fixture
def client(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        yield so


class Unindexable:
    pass


@pytest.mark.parametrize("person_id", [True, False, "670", 670.0, None, b"670", [670], Unindexable()])
def test_person_id_of_wrong_type_is_type_error(client, stub, prefix, person_id):
    with pytest.raises(TypeError):
        client.send_customer_centre_password_email(person_id)
    assert stub.count(prefix) == 0


@pytest.mark.parametrize("person_id", [0, -1, -(2**31), 2**31, 2**63, 10**30])
def test_person_id_out_of_range_is_value_error(client, stub, prefix, person_id):
    with pytest.raises(ValueError) as info:
        client.send_customer_centre_password_email(person_id)
    assert isinstance(info.value, InvalidArgumentError)
    assert stub.count(prefix) == 0


@pytest.mark.parametrize("person_id", [0, -1, -(2**31)])
def test_a_person_id_that_is_not_positive_is_refused_by_the_library(client, stub, prefix, person_id):
    # The rule is the library's: the binding passes the id and maps its code.
    with pytest.raises(InvalidArgumentError) as info:
        client.send_customer_centre_password_email(person_id)
    assert info.value.code == ResultCode.INVALID_ARGUMENT
    assert info.value.message == f"person_id must be positive, got {person_id}"
    results = client.send_many([670, person_id])
    assert results[0].ok
    assert results[1].code == ResultCode.INVALID_ARGUMENT
    assert results[1].message == f"person_id must be positive, got {person_id}"
    assert stub.count(prefix) == 1


def test_person_id_bounds_that_are_valid(client, stub, prefix):
    client.send_customer_centre_password_email(1)
    client.send_customer_centre_password_email(2**31 - 1)
    assert stub.count(prefix) == 2


@pytest.mark.parametrize("field", ["sender", "recipient", "subject"])
@pytest.mark.parametrize("value", [123, b"bytes", ["a"], 1.5])
def test_text_of_wrong_type_is_type_error(client, stub, prefix, field, value):
    with pytest.raises(TypeError):
        client.send_customer_centre_password_email(670, **{field: value})
    assert stub.count(prefix) == 0


@pytest.mark.parametrize("field", ["sender", "recipient", "subject"])
@pytest.mark.parametrize("value", ["a\x00b", "\x00", "lone \ud800 surrogate"])
def test_text_with_nul_or_bad_unicode_is_value_error(client, stub, prefix, field, value):
    with pytest.raises(ValueError):
        client.send_customer_centre_password_email(670, **{field: value})
    assert stub.count(prefix) == 0


def test_positional_sender_is_refused(client):
    with pytest.raises(TypeError):
        client.send_customer_centre_password_email(670, "support@example.com")  # type: ignore[misc]


def test_huge_subject_does_not_crash(client):
    try:
        client.send_customer_centre_password_email(670, subject="x" * (1 << 20))
    except SuperOfficeError:
        pass


@pytest.mark.parametrize("base_url", [None, 42, b"http://127.0.0.1/"])
def test_base_url_of_wrong_type(base_url):
    with pytest.raises(TypeError):
        Client(base_url, ticket=STUB_TICKET)


@pytest.mark.parametrize(
    "base_url",
    ["", "not a url", "ftp://example.com/Cust1", "file:///etc/passwd", "http://", "http://exa mple.com/",
     "http://example.com/\x00"],
)
def test_malformed_base_url_is_value_error(base_url):
    with pytest.raises(ValueError) as info:
        Client(base_url, ticket=STUB_TICKET)
    assert isinstance(info.value, InvalidArgumentError)


@pytest.mark.parametrize(
    "option", ["ticket", "bearer_token", "app_token", "xsrf_token", "language", "culture", "timezone"]
)
@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb"])
def test_cr_lf_in_header_value_is_value_error(stub, option, value):
    with pytest.raises(ValueError) as info:
        Client(stub.url + "/Cust12345", **{option: value})
    assert isinstance(info.value, InvalidArgumentError)


def test_cr_lf_in_basic_credentials_is_value_error(stub):
    with pytest.raises(ValueError):
        Client(stub.url + "/Cust12345", basic=("user\r\nX: y", "pw"))


@pytest.mark.parametrize(
    "auth, sent",
    [
        ({"ticket": "7T:x", "bearer_token": "8A:y"}, "Bearer 8A:y"),
        ({"ticket": "7T:x", "basic": ("tje0", "Tje0")}, "Basic dGplMDpUamUw"),
        ({"bearer_token": "8A:y", "basic": ("tje0", "Tje0")}, "Basic dGplMDpUamUw"),
        ({"ticket": "7T:x", "bearer_token": "8A:y", "basic": ("tje0", "Tje0")}, "Basic dGplMDpUamUw"),
    ],
)
def test_several_auth_schemes_follow_the_librarys_rule(stub, prefix, auth, sent):
    # The library's rule (superoffice.h): a scheme set replaces the one before; the
    # binding sets ticket, bearer_token, basic in that order.
    with Client(stub.tenant(prefix), **auth) as so:
        try:
            so.send_customer_centre_password_email(670)
        except SuperOfficeError:
            pass  # 401 for the made-up ones: what matters is what was sent
    [request] = stub.requests(prefix)
    assert header(request, "authorization") == sent


def test_xsrf_token_is_not_an_auth_scheme(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET, xsrf_token="xsrf-123") as so:
        so.send_customer_centre_password_email(670)


@pytest.mark.parametrize("basic", ["user:pw", ("user",), ("u", "p", "x"), ("u", None), (1, "p")])
def test_basic_must_be_a_pair_of_str(stub, basic):
    with pytest.raises(TypeError):
        Client(stub.url + "/Cust12345", basic=basic)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"timeout": -1}, ValueError),
        ({"timeout": 0}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"connect_timeout": -0.5}, ValueError),
        ({"timeout": 5_000_000}, ValueError),
        ({"timeout": "10"}, TypeError),
        ({"timeout": True}, TypeError),
        ({"max_retries": 11}, ValueError),
        ({"max_retries": -1}, ValueError),
        ({"max_retries": 2.0}, TypeError),
        ({"max_retries": True}, TypeError),
        ({"select": 5}, TypeError),
        ({"select": ["Name", 5]}, TypeError),
        ({"ca_file": 5}, TypeError),
        ({"proxy": 8080}, TypeError),
        ({"proxy": "not a proxy url"}, ValueError),
        ({"credentials_callback": "not callable"}, TypeError),
        ({"log_callback": 42}, TypeError),
        ({"language": "sv\x00"}, ValueError),
    ],
)
def test_bad_settings(stub, kwargs, error):
    with pytest.raises(error):
        Client(stub.url + "/Cust12345", ticket=STUB_TICKET, **kwargs)


def test_missing_ca_file_is_refused(stub, tmp_path):
    with pytest.raises(SuperOfficeError):
        Client(stub.url + "/Cust12345", ticket=STUB_TICKET, ca_file=tmp_path / "missing.pem")


def test_no_time_limits(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET, connect_timeout=None, timeout=None) as so:
        so.send_customer_centre_password_email(670)
    assert stub.count(prefix) == 1


def test_tiny_timeout_is_not_no_limit(stub, prefix):
    # 0.0001 s rounds up to 1 ms, never down to 0 (= no limit).
    with Client(stub.tenant(prefix, "delay_ms=2000"), ticket=STUB_TICKET,
                timeout=0.0001, max_retries=0) as so:
        with pytest.raises(SuperOfficeError):
            so.send_customer_centre_password_email(670)


@pytest.mark.parametrize(
    "items, error",
    [
        ([True], TypeError),
        (["670"], TypeError),
        ([(670, 5)], TypeError),
        ([(670, "a\x00")], ValueError),
        ([()], TypeError),
        ([{"sender": "x"}], TypeError),
        ([{"person_id": 670, "from": "x"}], TypeError),
        ([SendItem(670, subject=b"x")], TypeError),  # type: ignore[arg-type]
        ([670, 671, 2**31], ValueError),
    ],
)
def test_bad_batch_items_send_nothing(client, stub, prefix, items, error):
    with pytest.raises(error) as info:
        client.send_many(items)
    assert "items[" in str(info.value)
    assert stub.count(prefix) == 0


@pytest.mark.parametrize("max_concurrency, error", [(-1, ValueError), (2**32, ValueError),
                                                    ("8", TypeError), (True, TypeError)])
def test_bad_max_concurrency(client, stub, prefix, max_concurrency, error):
    with pytest.raises(error):
        client.send_many([670], max_concurrency=max_concurrency)
    assert stub.count(prefix) == 0


def test_progress_must_be_callable(client, stub, prefix):
    with pytest.raises(TypeError):
        client.send_many([670], progress=5)  # type: ignore[arg-type]
    assert stub.count(prefix) == 0
