#!/usr/bin/env bash
# `make bench-async`: N asynchronous sends to the stub server with delay_ms=20, from C
# callbacks, Python asyncio (superoffice_ffi.AsyncClient) and C# Tasks, at max_in_flight
# 64 and 256, beside httpx.AsyncClient (PyPI) at the same concurrency. Each figure is the
# ratio of the ideal time (N x 20 ms / in-flight) to the measured one (1.00 is ideal),
# with the peak threads and peak resident memory (VmHWM) of the process.
#
# Usage: tests/with-stub.sh bench/async/run.sh   (make bench-async does this)
# Environment: BENCH_ASYNC_N (default 10000), BENCH_ASYNC_IN_FLIGHT (default "64 256"),
#              BENCH_ASYNC_OUT (default build/bench/async.md; paste it into BENCHMARKS.md).
# Timing never fails the run; a failed request does.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/async"
work="$root/build/bench/async"
N="${BENCH_ASYNC_N:-10000}"
IN_FLIGHT="${BENCH_ASYNC_IN_FLIGHT:-64 256}"
DELAY_MS=20
out="${BENCH_ASYNC_OUT:-$root/build/bench/async.md}"
lib_dir="$root/target/release"

say() { printf 'bench-async: %s\n' "$*" >&2; }
[ -n "${SO_STUB_URL:-}" ] || { say "SO_STUB_URL is not set: run through tests/with-stub.sh"; exit 2; }
[ -f "$lib_dir/libsuperoffice.so" ] || { say "build the library first (make build)"; exit 1; }
ln -sf libsuperoffice.so "$lib_dir/libsuperoffice.so.0"
mkdir -p "$work"

# The peers: C, Python (with httpx from PyPI in the binding's venv), C# (Mono).
gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$root/include" "$here/bench_async.c" -o "$work/bench_async" \
    -L"$lib_dir" -lsuperoffice -Wl,-rpath,"$lib_dir" -lpthread
# shellcheck source=../../bindings/python/_venv.sh
. "$root/bindings/python/_venv.sh"
ensure_venv "$root/bindings/python" >&2
py="$root/bindings/python/.venv/bin/python"
"$py" -c "import httpx" 2>/dev/null || "$py" -m pip install --quiet httpx >&2
# shellcheck source=../../bindings/csharp/build.sh
. "$root/bindings/csharp/build.sh" >&2
mcs -langversion:7.2 -nologo -r:System.dll -r:System.Core.dll -r:"$build_dir/SuperOffice.Ffi.dll" \
    -out:"$work/BenchAsync.exe" "$here/BenchAsync.cs"
cp "$build_dir/SuperOffice.Ffi.dll" "$work/"

export SUPEROFFICE_LIB="$lib_dir/libsuperoffice.so"
results="$work/results.txt"
: > "$results"
for k in $IN_FLIGHT; do
    base="$SO_STUB_URL/bench-async-$k-$$/delay_ms=$DELAY_MS/Cust12345"
    say "in flight $k: C"
    "$work/bench_async" "$base" "$N" "$k" | tee -a "$results" >&2
    say "in flight $k: Python asyncio"
    "$py" "$here/bench_aio.py" so "$base" "$N" "$k" | tee -a "$results" >&2
    say "in flight $k: C# Tasks"
    mono "$work/BenchAsync.exe" "$base" "$N" "$k" | tee -a "$results" >&2
    say "in flight $k: httpx.AsyncClient"
    "$py" "$here/bench_aio.py" httpx "$base" "$N" "$k" | tee -a "$results" >&2
done

if awk '$5 != 0 { bad = 1 } END { exit bad ? 0 : 1 }' "$results"; then
    say "some requests failed:"; cat "$results" >&2; exit 1
fi

{
    echo "| peer | in flight | sends | seconds | ideal | of ideal | peak threads | peak RSS MiB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    awk -v delay="$DELAY_MS" '
        BEGIN {
            name["c"] = "**superoffice from C**, callbacks"
            name["so"] = "**superoffice from Python**, AsyncClient"
            name["csharp"] = "**superoffice from C#** (Mono), Tasks"
            name["httpx"] = "httpx.AsyncClient (Python)"
        }
        {
            ideal = $3 * delay / 1000 / $2
            printf "| %s | %d | %d | %.2f | %.2f | %.2f | %d | %.1f |\n", name[$1], $2, $3, $4, ideal, ideal / $4, $6, $7 / 1024
        }' "$results"
} | tee "$out"
say "table written to $out"
