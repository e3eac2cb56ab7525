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
mono --debug "$build_dir/Tests.exe" "$@"
[ "$#" -eq 0 ] || exit 0

# Sends under GC pressure, 10 runs: odd runs with Mono's preemptive suspend (signals to
# every thread, the library's included), even runs with its default. A watchdog turns a
# hang into a failure.
for i in $(seq 1 10); do
    suspend=default
    [ $((i % 2)) -eq 1 ] && suspend=preemptive
    echo "gc stress run $i of 10 ($suspend suspend)"
    if [ "$suspend" = preemptive ]; then export MONO_THREADS_SUSPEND=preemptive; else unset MONO_THREADS_SUSPEND; fi
    if ! timeout 60 mono --debug "$build_dir/GcStress.exe"; then
        echo "FAIL gc stress run $i (exit code or hang)" >&2
        exit 1
    fi
done
unset MONO_THREADS_SUSPEND
