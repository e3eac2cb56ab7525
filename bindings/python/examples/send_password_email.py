#!/usr/bin/env python3
"""Send a SuperOffice Customer Centre password e-mail from the command line.

Configuration comes from the environment:

  SO_BASE_URL       the installation's or tenant's URL
                    (default: $SO_STUB_URL + "/Cust12345", the test server)
  SO_TICKET         authenticate with a SuperOffice ticket, or
  SO_BEARER_TOKEN   with an OAuth access token, or
  SO_USERNAME, SO_PASSWORD   with Basic authentication
                    (against the stub, with none of these: ticket 7T:dGVzdA==)
  SO_APP_TOKEN      the application token (SO-AppToken)
  SO_LANGUAGE       Accept-Language / SO-Language, e.g. "sv"
  SO_PERSON_ID      the person to send to (default 670)
  SO_FROM, SO_TO, SO_SUBJECT   From, To and Subject (default: the server's)

Prints the outcome; on an error prints it and exits with status 1.
Run it with bindings/python/run-demo.sh (under tests/with-stub.sh for the stub).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Optional

from superoffice_ffi import Client, SuperOfficeError

STUB_TICKET = "7T:dGVzdA=="


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value else None


def main() -> int:
    stub = _env("SO_STUB_URL")
    base_url = _env("SO_BASE_URL") or (stub.rstrip("/") + "/Cust12345" if stub else None)
    if base_url is None:
        print("error: set SO_BASE_URL (or SO_STUB_URL to use the test server)", file=sys.stderr)
        return 1

    auth: Dict[str, Any] = {}
    if _env("SO_TICKET"):
        auth["ticket"] = _env("SO_TICKET")
    elif _env("SO_BEARER_TOKEN"):
        auth["bearer_token"] = _env("SO_BEARER_TOKEN")
    elif _env("SO_USERNAME"):
        auth["basic"] = (_env("SO_USERNAME"), os.environ.get("SO_PASSWORD", ""))
    elif stub and base_url.startswith(stub.rstrip("/")):
        auth["ticket"] = STUB_TICKET

    try:
        person_id = int(os.environ.get("SO_PERSON_ID", "670"))
    except ValueError:
        print(f"error: SO_PERSON_ID must be a number, not {os.environ['SO_PERSON_ID']!r}",
              file=sys.stderr)
        return 1

    try:
        with Client(base_url, app_token=_env("SO_APP_TOKEN"), language=_env("SO_LANGUAGE"),
                    **auth) as so:
            so.send_customer_centre_password_email(
                person_id,
                sender=_env("SO_FROM"),
                recipient=_env("SO_TO"),
                subject=_env("SO_SUBJECT"),
            )
    except SuperOfficeError as exc:
        details = []
        if exc.http_status:
            details.append(f"HTTP {exc.http_status}")
        if exc.error_type:
            details.append(exc.error_type)
        suffix = f" ({', '.join(details)})" if details else ""
        print(f"error: {type(exc).__name__}: {exc}{suffix}", file=sys.stderr)
        return 1
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    print(f"sent the Customer Centre password e-mail for person {person_id} via {base_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
