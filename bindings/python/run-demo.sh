#!/usr/bin/env bash
# Run examples/send_password_email.py with the binding's venv.
#
# Usage: tests/with-stub.sh bindings/python/run-demo.sh
#    or: SO_BASE_URL=... SO_TICKET=... bindings/python/run-demo.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=_venv.sh
. "$here/_venv.sh"

export SUPEROFFICE_LIB="${SUPEROFFICE_LIB:-$repo/target/release/libsuperoffice.so}"
ensure_venv "$here"
exec "$here/.venv/bin/python" "$here/examples/send_password_email.py" "$@"
