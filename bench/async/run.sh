#!/usr/bin/env bash
# `make bench-async`: N asynchronous sends to the stub server with delay_ms=20, at 64 and
# 256 in flight, all in one run: this library from C callbacks, Python asyncio
# (superoffice_ffi.AsyncClient) and C# Tasks, beside libcurl's multi interface (C),
# aiohttp and httpx.AsyncClient (Python, from PyPI) on the same stub. Each row gives the
# ratio of the ideal time (N x 20 ms / in-flight) to the measured one (1.00 is ideal), the
# client's CPU (user + system) per send and its ratio to libcurl's at the same
# concurrency, the peak threads and peak resident memory (VmHWM) of the process, and the
# machine's 1-minute load average when the row started.
#
# Usage: bench/async/run.sh   (make bench-async; starts its own stub unless SO_STUB_URL is set)
# Environment: BENCH_ASYNC_N (default 10000), BENCH_ASYNC_SLOW_N (httpx, whose sends cost
#              milliseconds of CPU each; default 2000), BENCH_ASYNC_IN_FLIGHT (default
#              "64 256"), BENCH_ASYNC_PEERS (default "c curl so aiohttp httpx csharp"),
#              BENCH_ASYNC_OUT (default build/bench/async.md; its table goes into BENCHMARKS.md).
# Timing never fails the run; a failed request does.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_NAME=bench-async
# shellcheck source=../common.sh
. "$here/../common.sh"
root="$bench_root"
if [ -z "${SO_STUB_URL:-}" ]; then
    exec "$root/tests/with-stub.sh" "$here/run.sh" "$@"
fi
work="$root/build/bench/async"
N="${BENCH_ASYNC_N:-10000}"
SLOW_N="${BENCH_ASYNC_SLOW_N:-2000}"
IN_FLIGHT="${BENCH_ASYNC_IN_FLIGHT:-64 256}"
PEERS="${BENCH_ASYNC_PEERS:-c curl so aiohttp httpx csharp}"
DELAY_MS=20
out="${BENCH_ASYNC_OUT:-$root/build/bench/async.md}"
lib_dir="$root/target/release"

[ -f "$lib_dir/libsuperoffice.so" ] || die "build the library first (make build)"
ln -sf libsuperoffice.so "$lib_dir/libsuperoffice.so.0"
mkdir -p "$work"
bench_need curl-dev venv
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy NO_PROXY no_proxy

# The peers: C (this library, libcurl multi), Python (the binding from its source; httpx
# and aiohttp from PyPI in the bench's venv), C# (Mono).
CFLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -I"$root/include" -I"$root/bench")
gcc "${CFLAGS[@]}" "$here/bench_async.c" -o "$work/bench_async" \
    -L"$lib_dir" -lsuperoffice -Wl,-rpath,"$lib_dir" -lpthread
gcc "${CFLAGS[@]}" "$root/bench/latency_curl.c" -o "$work/latency_curl" -lcurl
py="$(bench_venv "$work/venv" httpx aiohttp)"
export PYTHONPATH="$root/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
export SUPEROFFICE_LIB="$lib_dir/libsuperoffice.so"
if [[ " $PEERS " == *" csharp "* ]]; then
    # shellcheck source=../../bindings/csharp/build.sh
    . "$root/bindings/csharp/build.sh" >&2
    mcs -langversion:7.2 -nologo -r:System.dll -r:System.Core.dll -r:"$build_dir/SuperOffice.Ffi.dll" \
        -out:"$work/BenchAsync.exe" "$here/BenchAsync.cs"
    cp "$build_dir/SuperOffice.Ffi.dll" "$work/"
fi

# libcurl's multi interface, in the same line format as the others.
curl_peer() {  # curl_peer BASE N K
    local o
    o="$("$work/latency_curl" "$1/api/v1/Agents/Person/SendCustomerCentrePasswordEmail" "$2" "$3")" ||
        die "libcurl multi failed"
    awk -v k="$3" -v n="$2" '{v[$1] = $2}
        END {printf "curl %d %d %.3f 0 %d %d %.3f\n", k, n, v["seconds"], v["threads_peak"], v["rss_peak_kib"], v["cpu_s"]}' <<<"$o"
}

results="$work/results.txt"
: >"$results"
load_start="$(bench_load)"
for k in $IN_FLIGHT; do
    for peer in $PEERS; do
        base="$SO_STUB_URL/bench-async-$k-$peer-$$/delay_ms=$DELAY_MS/Cust12345"
        load="$(bench_load | cut -d' ' -f1)"
        say "in flight $k: $peer (load $load)"
        case "$peer" in
            c) line="$("$work/bench_async" "$base" "$N" "$k")" ;;
            curl) line="$(curl_peer "$base" "$N" "$k")" ;;
            so | aiohttp) line="$("$py" "$here/bench_aio.py" "$peer" "$base" "$N" "$k")" ;;
            httpx) line="$("$py" "$here/bench_aio.py" httpx "$base" "$SLOW_N" "$k")" ;;
            csharp) line="$(mono "$work/BenchAsync.exe" "$base" "$N" "$k")" ;;
            *) die "unknown peer $peer" ;;
        esac
        say "  $line"
        echo "$line $load" >>"$results"
    done
done
load_end="$(bench_load)"

if awk '$5 != 0 { bad = 1 } END { exit bad ? 0 : 1 }' "$results"; then
    say "some requests failed:"; cat "$results" >&2; exit 1
fi

{
    echo "| peer | in flight | sends | seconds | ideal | of ideal | CPU µs/send | CPU vs libcurl | peak threads | peak RSS MiB | load (1 min) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    awk -v delay="$DELAY_MS" '
        BEGIN {
            name["c"] = "**superoffice from C**, callbacks"
            name["curl"] = "libcurl multi (C)"
            name["so"] = "**superoffice from Python**, AsyncClient"
            name["aiohttp"] = "aiohttp.ClientSession (Python)"
            name["httpx"] = "httpx.AsyncClient (Python)"
            name["csharp"] = "**superoffice from C#** (Mono), Tasks"
        }
        FNR == NR { if ($1 == "curl") curl[$2] = $8 / $3; next }
        {
            ideal = $3 * delay / 1000 / $2
            per = $8 / $3
            vs = ($2 in curl) ? sprintf("%.2fx", per / curl[$2]) : "-"
            printf "| %s | %d | %d | %.2f | %.2f | %.2f | %.0f | %s | %d | %.1f | %s |\n", name[$1], $2, $3, $4, ideal, ideal / $4, per * 1e6, vs, $6, $7 / 1024, $9
        }' "$results" "$results"
    echo
    echo "Load average at start / end: $load_start / $load_end; $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')."
} | tee "$out"
say "table written to $out"
