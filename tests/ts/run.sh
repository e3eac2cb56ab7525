#!/usr/bin/env bash
# make test-ts: the official TypeScript client @superoffice/webapi (from npm, pinned in
# tests/ts/package-lock.json) against the stub server; see official_client.js.
#
# Installs the client into tests/ts/node_modules only when it is missing (npm ci, quiet).
# When node or npm is missing, or the npm registry cannot be reached for that install, it
# prints one line saying it skipped and why, and exits 0. Any other failure fails.
# Runs under tests/with-stub.sh when SO_STUB_URL is not set.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ -z "${SO_STUB_URL:-}" ]; then
    exec "$root/tests/with-stub.sh" "$here/run.sh" "$@"
fi

skip() {
    echo "test-ts: skipped: $*"
    exit 0
}

command -v node >/dev/null 2>&1 || skip "node is not installed"

if [ ! -f "$here/node_modules/@superoffice/webapi/package.json" ]; then
    command -v npm >/dev/null 2>&1 || skip "npm is not installed, so @superoffice/webapi cannot be installed"
    registry="$(npm config get registry 2>/dev/null || echo 'the npm registry')"
    if ! timeout 30 npm ping >/dev/null 2>&1; then
        skip "$registry cannot be reached, so @superoffice/webapi cannot be installed"
    fi
    log="$(mktemp "${TMPDIR:-/tmp}/test-ts-npm.XXXXXX")"
    if ! (cd "$here" && timeout 600 npm ci --silent --no-audit --no-fund --prefer-offline) >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "test-ts: npm ci of @superoffice/webapi failed (the registry answered ping)" >&2
        exit 1
    fi
    rm -f "$log"
fi

exec node "$here/official_client.js"
