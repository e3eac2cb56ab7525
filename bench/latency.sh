#!/usr/bin/env bash
# make bench-latency: the latency-bound batch. N sends to the bundled stub server on a
# tenant path with delay_ms=20 (every answer comes 20 ms after the request), at
# concurrency 1, 8 and 64, by this library and by the peers a user would pick instead,
# each as a ratio to the ideal N x 20 ms / concurrency, all in one run:
#   - this library from C: so_send_cc_password_emails (max_concurrency = c), and c threads
#     with sequential so_send_cc_password_email on one shared client;
#   - libcurl's multi interface from C, c transfers at once, keep-alive;
#   - Python httpx.AsyncClient with a semaphore of c; requests in a ThreadPoolExecutor(c),
#     a Session per thread; this library from Python (Client shared by a
#     ThreadPoolExecutor(c), and Client.send_many);
#   - the official TypeScript client @superoffice/webapi (npm) with a pool of c promises
#     (a plain Node fetch, labelled so, when the client cannot be installed or used).
# Every run has a tenant path of its own, and its request count in the stub's log
# (/_stub/count?prefix=) must equal N, or the run is invalid. Then what a host name costs
# against an IP literal: 200 sequential sends with delay_ms=20 (and 2,000 without delay)
# to http://localhost:PORT/... and http://127.0.0.1:PORT/..., interleaved.
#
# Prints a table and writes it to BENCHMARKS.md as the section
# "Latency-bound batch (stub, 20 ms per answer)" (replacing that section only), unless a
# run was invalid (then the exit status is 1 and BENCHMARKS.md is left alone).
#
# Usage: bench/latency.sh   (from `make bench-latency`, which builds the library first)
# Environment:
#   SO_LIB         the library (default target/release/libsuperoffice.so)
#   LAT_DELAY_MS   the stub's delay (default 20)
#   LAT_IDEAL_S    the ideal duration of each run in seconds, which sets N (default 2:
#                  N = 100, 800, 6400 at 20 ms)
#   LAT_ROUNDS     rounds of every row, one after the other; a row shows its best round and
#                  lists them all (default 2)
#   LAT_CONCURRENCY  the concurrencies (default "1 8 64"; the library allows 1 to 64)
#   LAT_ONLY       only these implementations (space-separated keys, see IMPLS below)
#   BENCH_OUT      where the report goes (default BENCHMARKS.md at the repository root)
# Timing never fails the run; lost or failed sends do.
set -euo pipefail

BENCH_NAME=bench-latency
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
root="$bench_root"
bench="$root/bench"
work="$root/build/bench-latency"
lib="${SO_LIB:-$root/target/release/libsuperoffice.so}"
DELAY="${LAT_DELAY_MS:-20}"
IDEAL_S="${LAT_IDEAL_S:-2}"
ROUNDS="${LAT_ROUNDS:-2}"
read -r -a CONCS <<<"${LAT_CONCURRENCY:-1 8 64}"
DNS_N=200
DNS_FAST_N=2000
report="${BENCH_OUT:-$root/BENCHMARKS.md}"
SECTION="Latency-bound batch (stub, $DELAY ms per answer)"

[ -f "$lib" ] || die "$lib is missing: run 'make build' (or 'make bench-latency') first"

# The stub: our own instance, through tests/with-stub.sh (which exports SO_STUB_URL).
if [ -z "${SO_STUB_URL:-}" ]; then
    exec "$root/tests/with-stub.sh" "$bench/latency.sh" "$@"
fi
stub="$SO_STUB_URL"
stub_port="${stub##*:}"
# No proxy for any peer.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy NO_PROXY no_proxy

# --- 1. Tools: libcurl's headers, python3-venv (Debian); httpx and requests (PyPI); the
#        official TypeScript client (npm) --------------------------------------------------
bench_need curl-dev venv

mkdir -p "$work/bin"
CFLAGS=(-std=c11 -O2 -Wall -Wextra -I"$root/include" -I"$bench")
gcc "${CFLAGS[@]}" "$bench/latency_so.c" -o "$work/bin/latency_so" \
    -L"$(dirname "$lib")" -lsuperoffice -Wl,-rpath,"$(dirname "$lib")" -lpthread
gcc "${CFLAGS[@]}" "$bench/latency_curl.c" -o "$work/bin/latency_curl" -lcurl

PY="$(bench_venv "$work/venv" httpx requests)"
export PYTHONPATH="$root/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
export SUPEROFFICE_LIB="$lib"

# The Node peer: the official client when it can be installed and used, else plain fetch.
ts_mode=""
ts_note=""
if command -v node >/dev/null 2>&1; then
    if [ ! -f "$bench/ts/node_modules/@superoffice/webapi/package.json" ]; then
        say "installing @superoffice/webapi into bench/ts/node_modules"
        if ! (cd "$bench/ts" && timeout 600 npm ci --silent --no-audit --no-fund --prefer-offline) >"$work/npm.log" 2>&1; then
            ts_note="npm ci failed: $(tail -1 "$work/npm.log")"
        fi
    fi
    if [ -z "$ts_note" ] && (cd "$bench/ts" && node -e 'require("@superoffice/webapi").PersonAgent.prototype.sendCustomerCentrePasswordEmailAsync || process.exit(1)') 2>/dev/null; then
        ts_mode=webapi
    else
        ts_mode=fetch
        ts_note="${ts_note:-@superoffice/webapi has no PersonAgent.sendCustomerCentrePasswordEmailAsync}"
        say "the official TypeScript client cannot be used ($ts_note): measuring plain Node fetch instead"
    fi
else
    say "node is not installed: no Node peer"
fi
ts_version=""
if [ "$ts_mode" = webapi ]; then
    ts_version="$(node -p 'require(process.argv[1]).version' "$bench/ts/node_modules/@superoffice/webapi/package.json")"
    axios_version="$(node -p 'require(process.argv[1]).version' "$bench/ts/node_modules/axios/package.json")"
fi

# --- 2. The implementations ------------------------------------------------------------------
IMPLS=(so_batch so_threads curl_multi py_so py_so_many httpx requests)
[ -n "$ts_mode" ] && IMPLS+=(ts)
if [ -n "${LAT_ONLY:-}" ]; then read -r -a IMPLS <<<"$LAT_ONLY"; fi
declare -A LABEL=(
    [so_batch]="**superoffice from C**: \`so_send_cc_password_emails\`, max_concurrency = c"
    [so_threads]="**superoffice from C**: c threads, sequential \`so_send_cc_password_email\`, one shared client"
    [curl_multi]="libcurl multi interface (C), c transfers at once, keep-alive"
    [py_so]="**superoffice from Python**: one \`Client\` shared by a \`ThreadPoolExecutor(c)\`"
    [py_so_many]="**superoffice from Python**: \`Client.send_many(max_concurrency=c)\`"
    [httpx]="Python \`httpx.AsyncClient\`, \`asyncio.Semaphore(c)\`"
    [requests]="Python \`requests\`, a \`Session\` per thread, \`ThreadPoolExecutor(c)\`"
    [ts]="official TypeScript client \`@superoffice/webapi\` ${ts_version}, a pool of c promises (Node)"
)
if [ "$ts_mode" = fetch ]; then
    LABEL[ts]="plain Node \`fetch\` (keep-alive), a pool of c promises: NOT the official client ($ts_note)"
fi

E="/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
# cmd IMPL BASE N C: the command line of one run.
cmd() {
    local impl="$1" base="$2" n="$3" c="$4"
    case "$impl" in
        so_batch) echo "$work/bin/latency_so batch $base $n $c" ;;
        so_threads) echo "$work/bin/latency_so threads $base $n $c" ;;
        curl_multi) echo "$work/bin/latency_curl $base$E $n $c" ;;
        py_so) echo "$PY $bench/latency_py.py so $base $n $c" ;;
        py_so_many) echo "$PY $bench/latency_py.py so_many $base $n $c" ;;
        httpx) echo "$PY $bench/latency_py.py httpx $base $n $c" ;;
        requests) echo "$PY $bench/latency_py.py requests $base $n $c" ;;
        ts) echo "node $bench/ts/latency.js $ts_mode $base $n $c" ;;
        *) die "unknown implementation $impl" ;;
    esac
}

count() {
    python3 - "$stub" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "/_stub/count?prefix=" + urllib.parse.quote(sys.argv[2], safe="/")
with urllib.request.urlopen(url, timeout=10) as r:
    print(json.load(r)["count"])
EOF
}

run_id="$(date +%H%M%S)-$$"
declare -A S      # S[impl.c] = seconds, or "" when the run was invalid
declare -A WHY    # WHY[impl.c] = why the run is invalid
invalid=0
# measure KEY IMPL N C HOST [DELAY]: one run on a tenant path of its own; checks the count.
measure() {
    local key="$1" impl="$2" n="$3" c="$4" host="$5" delay="${6:-$DELAY}"
    local prefix="/lat-$run_id-$key/"
    local base="http://$host:$stub_port${prefix}delay_ms=$delay/Cust12345"
    local out rc=0 seconds got
    # shellcheck disable=SC2046
    out="$($(cmd "$impl" "$base" "$n" "$c") 2>"$work/last.err")" || rc=$?
    seconds="$(awk '$1 == "seconds" {print $2}' <<<"$out")"
    got="$(count "$prefix")"
    if [ "$rc" -eq 3 ] && grep -q '^unavailable' <<<"$out"; then
        S[$key]=""; WHY[$key]="unavailable"
        say "$key: unavailable (${out#unavailable })"
        return
    fi
    if [ "$rc" -ne 0 ] || [ -z "$seconds" ]; then
        S[$key]=""; WHY[$key]="failed (exit $rc): $(tail -1 "$work/last.err")"
        invalid=1
    elif [ "$got" != "$n" ]; then
        S[$key]=""; WHY[$key]="the stub saw $got requests, not $n"
        invalid=1
    else
        S[$key]="$seconds"
    fi
    say "$key: N=$n c=$c ${S[$key]:-INVALID ${WHY[$key]}} s (stub count $got)"
}

load_start="$(bench_load)"
say "stub $stub, delay $DELAY ms, ideal $IDEAL_S s per run; load average $load_start"
declare -A N_OF
declare -A ROUNDS_OF  # ROUNDS_OF[impl.c] = every round's seconds, in the order run
for c in "${CONCS[@]}"; do N_OF[$c]=$((IDEAL_S * 1000 * c / DELAY)); done
# Rounds run one after the other, each through every concurrency and implementation, so
# that a burst of load from elsewhere on the machine hits one round of a row, not all.
for round in $(seq 1 "$ROUNDS"); do
    say "round $round of $ROUNDS"
    for c in "${CONCS[@]}"; do
        for impl in "${IMPLS[@]}"; do
            measure "$impl.$c.r$round" "$impl" "${N_OF[$c]}" "$c" 127.0.0.1
        done
    done
done
# A row's figure is its best round; a row with an invalid round is invalid.
for c in "${CONCS[@]}"; do
    for impl in "${IMPLS[@]}"; do
        key="$impl.$c" best="" why="" all=""
        for round in $(seq 1 "$ROUNDS"); do
            v="${S[$key.r$round]}"
            if [ -z "$v" ]; then why="${why:-${WHY[$key.r$round]}}"; continue; fi
            all="${all:+$all / }$(awk -v v="$v" 'BEGIN {printf "%.3f", v}')"
            if [ -z "$best" ] || awk -v a="$v" -v b="$best" 'BEGIN {exit !(a < b)}'; then best="$v"; fi
        done
        if [ -n "$why" ]; then S[$key]=""; WHY[$key]="$why"; else S[$key]="$best"; fi
        ROUNDS_OF[$key]="$all"
    done
done

# --- 3. A host name against an IP literal: sequential sends, interleaved -----------------
DNS_ROUNDS=3
say "host name against IP literal: $DNS_N sends at $DELAY ms, $DNS_FAST_N without delay, $DNS_ROUNDS rounds each"
for round in $(seq 1 "$DNS_ROUNDS"); do
    measure "dns_ip.$round" so_threads "$DNS_N" 1 127.0.0.1
    measure "dns_name.$round" so_threads "$DNS_N" 1 localhost
    measure "dns0_ip.$round" so_threads "$DNS_FAST_N" 1 127.0.0.1 0
    measure "dns0_name.$round" so_threads "$DNS_FAST_N" 1 localhost 0
done
# What the lookup alone costs (what a cache would save per send), and how many threads
# the library starts per send (ureq resolves on a thread of its own when a timeout is set).
GAI_N=10000
gai_out="$("$work/bin/latency_so" getaddrinfo localhost "$stub_port" "$GAI_N")"
gai() { awk -v k="$1" '$1 == k {printf "%.1f", $2}' <<<"$gai_out"; }
clones_ip="" clones_name=""
if command -v strace >/dev/null 2>&1; then
    clones() {
        strace -f -qq -c -e trace=clone,clone3 -o "$work/strace.out" \
            "$work/bin/latency_so" threads "http://$1:$stub_port/lat-$run_id-strace-$1/Cust12345" 1000 1 >/dev/null &&
            awk '$NF == "clone" || $NF == "clone3" {n += $4} END {printf "%.2f", n / 1000}' "$work/strace.out"
    }
    clones_ip="$(clones 127.0.0.1)"
    clones_name="$(clones localhost)"
fi
load_end="$(bench_load)"

# --- 4. The report ----------------------------------------------------------------------------
f() { awk -v v="$1" -v d="${2:-3}" 'BEGIN {printf "%.*f", d, v}'; }
ideal() { awk -v n="$1" -v c="$2" -v d="$DELAY" 'BEGIN {printf "%.3f", n * d / 1000 / c}'; }
ratio() { [ -n "$1" ] && awk -v s="$1" -v i="$2" 'BEGIN {printf "%.3f", i / s}' || echo "—"; }
rows() {
    local c impl key id
    for c in "${CONCS[@]}"; do
        id="$(ideal "${N_OF[$c]}" "$c")"
        for impl in "${IMPLS[@]}"; do
            key="$impl.$c"
            if [ -n "${S[$key]}" ]; then
                printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$impl]}" "$c" "${N_OF[$c]}" \
                    "$(f "${S[$key]}")" "${ROUNDS_OF[$key]}" "$id" "$(ratio "${S[$key]}" "$id")"
            else
                printf '| %s | %s | %s | %s | %s | %s | — |\n' "${LABEL[$impl]}" "$c" "${N_OF[$c]}" \
                    "${WHY[$key]}" "${ROUNDS_OF[$key]}" "$id"
            fi
        done
    done
}
# Per send over the DNS rounds: mean_ms KEY N; diff_us A B N (mean of B minus mean of A);
# spread_us A B N (the per-round differences, lowest to highest).
mean_ms() {
    local k="$1" n="$2" r sum=0
    for r in $(seq 1 "$DNS_ROUNDS"); do sum="$(awk -v a="$sum" -v b="${S[$k.$r]:-0}" 'BEGIN {print a + b}')"; done
    awk -v s="$sum" -v r="$DNS_ROUNDS" -v n="$n" 'BEGIN {printf "%.3f", s / r / n * 1000}'
}
diff_us() { awk -v a="$(mean_ms "$1" "$3")" -v b="$(mean_ms "$2" "$3")" 'BEGIN {printf "%.1f", (b - a) * 1000}'; }
spread_us() {
    local r
    for r in $(seq 1 "$DNS_ROUNDS"); do
        awk -v a="${S[$1.$r]:-0}" -v b="${S[$2.$r]:-0}" -v n="$3" 'BEGIN {printf "%.1f\n", (b - a) / n * 1e6}'
    done | sort -g | paste -sd' ' | sed 's/ / \/ /g'
}
per_send_ms() { awk -v s="$1" -v n="$2" 'BEGIN {printf "%.3f", s / n * 1000}'; }

# Goals at the highest concurrency: the library's batch at least 0.95 of the ideal and
# ahead of every peer (rows not of this library).
top="${CONCS[${#CONCS[@]}-1]}"
top_id="$(ideal "${N_OF[$top]}" "$top")"
goal_rows=""
if [ -n "${S[so_batch.$top]:-}" ]; then
    r="$(ratio "${S[so_batch.$top]}" "$top_id")"
    holds="$(awk -v r="$r" 'BEGIN {print (r >= 0.95) ? "yes" : "no"}')"
    goal_rows+="| \`so_send_cc_password_emails\` at concurrency $top, at least 0.95 of the ideal | $r | $holds |"$'\n'
    best_peer="" best_r=0
    for impl in curl_multi httpx requests ts; do
        [ -n "${S[$impl.$top]:-}" ] || continue
        pr="$(ratio "${S[$impl.$top]}" "$top_id")"
        if awk -v a="$pr" -v b="$best_r" 'BEGIN {exit !(a > b)}'; then best_r="$pr"; best_peer="$impl"; fi
    done
    if [ -n "$best_peer" ]; then
        holds="$(awk -v a="$r" -v b="$best_r" 'BEGIN {print (a > b) ? "yes" : "no"}')"
        # A gap between the two best rounds smaller than either row's spread between its
        # rounds is no measurable lead, either way.
        spread() { tr -d ' ' <<<"${ROUNDS_OF[$1]}" | tr '/' '\n' | sort -g | sed -n '1p;$p' | paste -sd' ' | awk '{print $2 - $1}'; }
        if awk -v a="${S[so_batch.$top]}" -v b="${S[$best_peer.$top]}" -v s1="$(spread "so_batch.$top")" \
            -v s2="$(spread "$best_peer.$top")" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d < s1 || d < s2)}'; then
            holds="$holds (the gap is within the spread between rounds)"
        fi
        goal_rows+="| ahead of every peer at concurrency $top (best peer: ${LABEL[$best_peer]%%,*}, $best_r) | $r | $holds |"$'\n'
    fi
fi

lib_version="$("$PY" -c 'import superoffice_ffi; print(superoffice_ffi.version())' 2>/dev/null || echo unknown)"
cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
{
    cat <<EOF
## $SECTION

\`make bench-latency\` (bench/latency.sh), one run: N sends of
\`POST /{tenant}/delay_ms=$DELAY/Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail\`
to the bundled stub server on 127.0.0.1 (one thread per connection; every answer, \`204\`,
comes $DELAY ms after the request), \`Authorization: SOTicket 7T:dGVzdA==\`, the same
app token, language and body values for every implementation (the official TypeScript
client spells the keys in camelCase, as it always does). N is chosen so that the ideal,
N × $DELAY ms / concurrency, is $IDEAL_S s. Ratio = ideal / best measured (1.000 is
perfect). $ROUNDS rounds, one after the other, each through every row; a row shows its best
round (the machine is shared: a burst of load elsewhere slows one round, not the
implementation) and lists every round. Each run has a tenant path of its own; the stub's
request count for it equalled N in every round of every row with a figure. Times cover
the sends only (clients and connection pools are made before the clock starts,
connections are opened inside it).

| implementation | concurrency | N | seconds (best) | each round, s | ideal s | ratio to ideal |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
$(rows)

| goal | measured | holds |
| --- | ---: | :---: |
${goal_rows%$'\n'}

### A host name against an IP literal

One client, sequential sends (\`so_send_cc_password_email\`, one thread), to
\`http://localhost:$stub_port/...\` and to \`http://127.0.0.1:$stub_port/...\`, interleaved,
$DNS_ROUNDS rounds each. Here \`localhost\` comes from /etc/hosts through glibc's
\`getaddrinfo\`; a name that needs a DNS server costs a round trip to it on every send
unless something on the machine caches it.

| sends | delay | per send, 127.0.0.1 | per send, localhost | the host name costs per send (mean) | per round |
| ---: | ---: | ---: | ---: | ---: | ---: |
| $DNS_N | $DELAY ms | $(mean_ms dns_ip "$DNS_N") ms | $(mean_ms dns_name "$DNS_N") ms | $(diff_us dns_ip dns_name "$DNS_N") µs | $(spread_us dns_ip dns_name "$DNS_N") µs |
| $DNS_FAST_N | none | $(mean_ms dns0_ip "$DNS_FAST_N") ms | $(mean_ms dns0_name "$DNS_FAST_N") ms | $(diff_us dns0_ip dns0_name "$DNS_FAST_N") µs | $(spread_us dns0_ip dns0_name "$DNS_FAST_N") µs |

| what | per send |
| --- | ---: |
| threads started per send (strace, 1,000 sends), to 127.0.0.1 / to localhost | ${clones_ip:-not measured} / ${clones_name:-not measured} |
| \`getaddrinfo("localhost")\` on the calling thread (mean of $GAI_N, as are the next two) | $(gai gai_same_us) µs |
| \`getaddrinfo("localhost")\` on a fresh thread per call, as ureq's resolver runs it, thread included | $(gai gai_thread_us) µs |
| a fresh thread doing nothing (what an IP literal still costs there) | $(gai thread_only_us) µs |

### Notes

- The ideal leaves out everything but the server's $DELAY ms: the loopback round trip, the
  stub's thread waking from its sleep and each client's own work. Sequential rows show
  that floor (libcurl's included); a ratio near it at concurrency 1 is as good as it gets.
- Every send of this library resolves its host through ureq's resolver, which runs the
  lookup on a thread of its own whenever a timeout is set (the library always sets one):
  one thread started per send, to an IP literal too (the strace row). A resolver with a
  cache of its own would save the thread and the lookup (the last three rows); against a
  name that needs a DNS server, the lookup is a network round trip unless the machine
  caches it. At $DELAY ms per answer both are within the noise of the sends above.
- httpx at high concurrency spends its time in httpcore's pool bookkeeping
  (\`AsyncConnectionPool._assign_requests_to_connections\` walks every connection and probes
  each idle socket on every request; cProfile of 640 sends at concurrency 64 put about half
  of the run there with httpcore 1.0.9; encode/httpcore#1035 proposes a linear pass).

### Machine and versions

| | |
| --- | --- |
| command | \`make bench-latency\` |
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| nproc | $(nproc) (shared with other builds: compare rows of one run) |
| CPU | ${cpu_model:-unknown} |
| load average at start / end | $load_start / $load_end |
| superoffice | $lib_version, ureq $(awk '/^name = "ureq"$/ {getline; gsub(/"/, "", $3); print $3; exit}' "$root/Cargo.lock") |
| libcurl | $(curl-config --version 2>/dev/null || echo unknown) |
| Python / httpx / httpcore / requests | $("$PY" -c 'import sys, httpx, httpcore, requests; print(sys.version.split()[0], "/", httpx.__version__, "/", httpcore.__version__, "/", requests.__version__)') |
| Node / @superoffice/webapi / axios | $(node --version 2>/dev/null || echo none) / ${ts_version:-not used} / ${axios_version:-not used} |
| compiler | $(gcc --version | head -1) -O2 |
EOF
} >"$work/section.md"

cat "$work/section.md"
if [ "$invalid" -ne 0 ]; then
    say "some runs were invalid (failed or lost sends): $report left alone; the table is in $work/section.md"
    exit 1
fi
# Replace this section (from its heading to the next "## " heading) or append it.
python3 - "$report" "$work/section.md" "## $SECTION" <<'EOF'
import sys
path, section_path, heading = sys.argv[1:4]
section = open(section_path, encoding="utf-8").read().rstrip("\n") + "\n"
try:
    lines = open(path, encoding="utf-8").read().split("\n")
except FileNotFoundError:
    lines = []
out, i, replaced = [], 0, False
while i < len(lines):
    if lines[i] == heading and not replaced:
        j = i + 1
        while j < len(lines) and not lines[j].startswith("## ") and not lines[j].startswith("<!-- "):
            j += 1
        out.extend(section.rstrip("\n").split("\n"))
        out.append("")
        replaced = True
        i = j
        continue
    out.append(lines[i])
    i += 1
text = "\n".join(out).rstrip("\n") + "\n"
if not replaced:
    text += "\n" + section
open(path, "w", encoding="utf-8").write(text)
EOF
say "wrote the section \"$SECTION\" of $report"
