#!/usr/bin/env bash
# Builds the C# binding with Mono and runs its tests against the stub server.
# Needs SO_STUB_URL: run it as  tests/with-stub.sh bindings/csharp/run-tests.sh  (from the repo root).
# Extra arguments select tests by name substring.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/build.sh"

if [ -z "${SO_STUB_URL:-}" ]; then
    echo "csharp: SO_STUB_URL is not set; run: tests/with-stub.sh bindings/csharp/run-tests.sh" >&2
    exit 1
fi
exec mono --debug "$build_dir/Tests.exe" "$@"
