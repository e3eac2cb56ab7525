#!/usr/bin/env bash
# Run the Python binding's tests against the stub server.
#
# Usage (from the repository root):
#   tests/with-stub.sh bindings/python/run-tests.sh [pytest arguments...]
#
# Creates bindings/python/.venv when missing (pytest + `pip install
# ./bindings/python`, non-editable), points SUPEROFFICE_LIB at the repository's
# target/release/libsuperoffice.so unless it is set, and runs pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=_venv.sh
. "$here/_venv.sh"

if [ -z "${SO_STUB_URL:-}" ]; then
    echo "run-tests.sh: SO_STUB_URL is not set; run me as: tests/with-stub.sh bindings/python/run-tests.sh" >&2
    exit 2
fi
export SUPEROFFICE_LIB="${SUPEROFFICE_LIB:-$repo/target/release/libsuperoffice.so}"

ensure_venv "$here"
cd "$here"
exec "$here/.venv/bin/python" -m pytest "$@"
