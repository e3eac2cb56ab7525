#!/usr/bin/env bash
# The side-by-side benchmark behind `make bench`: this library against libcurl, a raw
# keep-alive socket and Python requests, in one run, against one local nginx answering
# 204, with the same request. Prints a table and writes it to BENCHMARKS.md.
#
# Usage: bench/run.sh            (from `make bench`, which builds the library first)
# Environment:
#   SO_LIB          the library to measure (default target/release/libsuperoffice.so)
#   BENCH_N         sequential requests per peer and round (default 20000)
#   BENCH_ROUNDS    rounds of the sequential C peers, interleaved; the best round of each
#                   peer counts: on a shared machine, the one least disturbed (default 9)
#   BENCH_PY_N      requests of the Python peers (default 20000; requests gets a quarter)
#   BENCH_THREADS   threads of the threaded peers (default 8)
#   BENCH_OUT       where the report goes (default BENCHMARKS.md at the repository root)
#   BENCH_CG_N      sends under callgrind and strace (default 2000)
#
# Timing never fails the run: the exit status is non-zero only when something could not
# be set up or a request failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"
work="$root/build/bench"
lib="${SO_LIB:-$root/target/release/libsuperoffice.so}"
N="${BENCH_N:-20000}"
ROUNDS="${BENCH_ROUNDS:-9}"
PY_N="${BENCH_PY_N:-20000}"
REQ_N=$((PY_N / 4))
T="${BENCH_THREADS:-8}"
PER_THREAD=$((N / 2))
WARM=1000
CG_N="${BENCH_CG_N:-2000}"
report="${BENCH_OUT:-$root/BENCHMARKS.md}"

BENCH_NAME=bench
# shellcheck source=common.sh
. "$bench/common.sh"

[ -f "$lib" ] || die "$lib is missing: run 'make build' (or 'make bench') first"

# --- 1. Tools: Debian's nginx, libcurl's headers, openssl, valgrind, strace --------------
bench_need nginx curl-dev openssl valgrind strip strace venv

# --- 2. Build the peers -----------------------------------------------------------------
mkdir -p "$work/lib" "$work/bin"
cp -f "$lib" "$work/lib/libsuperoffice.so"
soname="$(objdump -p "$work/lib/libsuperoffice.so" 2>/dev/null | awk '/SONAME/ {print $2}')"
if [ -n "$soname" ] && [ "$soname" != libsuperoffice.so ]; then
    ln -sf libsuperoffice.so "$work/lib/$soname"
fi
CFLAGS=(-std=c11 -O2 -Wall -Wextra -I"$root/include" -I"$bench")
gcc "${CFLAGS[@]}" "$bench/bench_so.c" -o "$work/bin/bench_so" \
    -L"$work/lib" -lsuperoffice -Wl,-rpath,"$work/lib" -lpthread
gcc "${CFLAGS[@]}" "$bench/bench_curl.c" -o "$work/bin/bench_curl" -lcurl -lpthread
gcc "${CFLAGS[@]}" "$bench/bench_raw.c" -o "$work/bin/bench_raw"

# The bench's own venv: requests from PyPI; the binding from its source, on the same library.
PY=("$(bench_venv "$work/venv" requests)")
export PYTHONPATH="$root/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
export SUPEROFFICE_LIB="$work/lib/libsuperoffice.so"
# No proxy for any peer: the library and requests read these variables.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy NO_PROXY no_proxy

# --- 3. nginx on 127.0.0.1, http and https, answering 204 -------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/so-bench.XXXXXX")"
cleanup() {
    bench_stop_nginx
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_make_cert "$tmp"
# Debian's nginx-light brings the echo module: a second tenant answers after 2 ms, as a
# server over a network would, to show what threads sharing one client gain there.
echo_module=/usr/lib/nginx/modules/ngx_http_echo_module.so
load_line=""
slow_location=""
if [ -f "$echo_module" ]; then
    load_line="load_module $echo_module;"
    slow_location="location = /Slow12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail { echo_status 204; echo_sleep 0.002; }"
fi
bench_start_nginx "$tmp" "$load_line" "$slow_location"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
base="http://127.0.0.1:$http_port/Cust12345"
sbase="https://127.0.0.1:$https_port/Cust12345"
url="$base/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
surl="$sbase/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
load_start="$(bench_load)"
say "nginx on 127.0.0.1:$http_port (http) and :$https_port (https); load average $load_start"

# --- 4. Measure ----------------------------------------------------------------------------
declare -A R  # results: R[peer.key] = value
# run PEER CMD...: runs CMD, keeps the best "rps" (and its "cpu_us", and the 1-minute load
# average when it started) over calls for PEER.
run() {
    local peer="$1"
    shift
    local out load
    load="$(bench_load | cut -d' ' -f1)"
    out="$("$@")" || die "$peer failed"
    local rps cpu
    rps="$(awk '$1 == "rps" {print $2}' <<<"$out")"
    cpu="$(awk '$1 == "cpu_us" {print $2}' <<<"$out")"
    if [ -z "${R[$peer.rps]:-}" ] || awk -v a="$rps" -v b="${R[$peer.rps]}" 'BEGIN {exit !(a > b)}'; then
        R[$peer.rps]="$rps"
        R[$peer.cpu]="${cpu:-}"
        R[$peer.load]="$load"
    fi
    R[$peer.runs]="$(( ${R[$peer.runs]:-0} + 1 ))"
}
get() { awk -v k="$2" '$1 == k {print $2}' <<<"$1"; }

B="$work/bin"
for round in $(seq 1 "$ROUNDS"); do
    say "round $round of $ROUNDS: sequential C peers, $N requests each"
    run raw "$B/bench_raw" 127.0.0.1 "$http_port" "$N" "$WARM"
    run curl "$B/bench_curl" seq "$url" "$N" "$WARM"
    run so "$B/bench_so" seq "$base" "$N" "$WARM"
done
say "Python peers: $PY_N requests through the binding, $REQ_N with requests.Session"
for round in 1 2; do
    run py_so "${PY[@]}" "$bench/bench_py.py" so "$base" "$PY_N" 500
    run py_requests "${PY[@]}" "$bench/bench_py.py" requests "$base" "$REQ_N" 200
done
say "$T threads: $PER_THREAD requests each"
for round in 1 2; do
    run curl_mt "$B/bench_curl" threads "$url" "$T" "$PER_THREAD" 200
    run so_mt "$B/bench_so" threads "$base" "$T" "$PER_THREAD" 200
done
say "https keep-alive: $N requests each"
for round in 1 2 3; do
    run curl_tls "$B/bench_curl" https "$surl" "$tmp/ca.pem" "$N" 200
    run so_tls "$B/bench_so" https "$sbase" "$tmp/ca.pem" "$N" 200
done

if [ -n "$slow_location" ]; then
    say "a server answering after 2 ms: 1 and $T threads"
    slow="http://127.0.0.1:$http_port/Slow12345"
    run so_slow1 "$B/bench_so" threads "$slow" 1 1000 20
    run so_slowT "$B/bench_so" threads "$slow" "$T" 1000 20
    run curl_slow1 "$B/bench_curl" threads "$slow/api/v1/Agents/Person/SendCustomerCentrePasswordEmail" 1 1000 20
    run curl_slowT "$B/bench_curl" threads "$slow/api/v1/Agents/Person/SendCustomerCentrePasswordEmail" "$T" 1000 20
fi

say "batch of 1,000 at concurrency 8, client creation, memory"
batch="$("$B/bench_so" batch "$base" 1000 8)" || die "batch failed"
newfree="$("$B/bench_so" newfree "$base" 1000)" || die "so_client_new failed"
rss="$("$B/bench_so" rss "$base")" || die "memory run failed"

say "callgrind: $CG_N sends minus a 0-send run, this library and libcurl"
# instructions CMD...: instructions of CMD under callgrind (every thread).
instructions() {
    local f="$tmp/cg.out"
    valgrind --tool=callgrind --callgrind-out-file="$f" "$@" >/dev/null 2>"$tmp/cg.err" ||
        die "callgrind run failed: $(tail -3 "$tmp/cg.err")"
    awk '/^(summary|totals):/ {print $2; exit}' "$f"
}
cg_so=$(( ($(instructions "$B/bench_so" count "$base" "$CG_N" 10) - $(instructions "$B/bench_so" count "$base" 0 10)) / CG_N ))
cg_curl=$(( ($(instructions "$B/bench_curl" count "$url" "$CG_N" 10) - $(instructions "$B/bench_curl" count "$url" 0 10)) / CG_N ))
# Where a send's instructions go: callgrind collecting inside so_send_cc_password_email only.
valgrind --tool=callgrind --toggle-collect=so_send_cc_password_email --callgrind-out-file="$tmp/cg.send" \
    "$B/bench_so" count "$base" "$CG_N" 10 >/dev/null 2>"$tmp/cg.err" || die "callgrind profile failed"
profile_rows="$(callgrind_annotate "$tmp/cg.send" 2>/dev/null | awk -v n="$((CG_N + 10))" '
    /PROGRAM TOTALS/ {total = $1; gsub(/,/, "", total); next}
    /^-+$/ {dash++; next}
    dash >= 4 && total > 0 && /%\)/ && shown < 12 {
        ir = $1; gsub(/,/, "", ir)
        fn = $0; sub(/^[^)]*\) +/, "", fn); sub(/ \[.*\]$/, "", fn); sub(/^[^:]*:/, "", fn)
        gsub(/\|/, "\\|", fn)
        printf "| %d | %.1f%% | `%s` |\n", ir / n, 100 * ir / total, fn; shown++
    }')"

# System calls per send, by name: strace -f (every thread) over CG_N sends minus a 0-send
# run; threads started per send are its clone and clone3 calls.
sc() {  # sc KEY CMD... with N as its count argument replaced by {}
    local key="$1"
    shift
    bench_strace "$tmp/sc.$key.with" "${@/\{\}/$CG_N}"
    bench_strace "$tmp/sc.$key.without" "${@/\{\}/0}"
    bench_per_send "$tmp/sc.$key.with" "$tmp/sc.$key.without" "$CG_N" >"$tmp/sc.$key"
}
sc_total() { awk '{t += $2} END {printf "%.1f", t}' "$tmp/sc.$1"; }
sc_threads() { awk '$1 == "clone" || $1 == "clone3" {t += $2} END {printf "%.2f", t}' "$tmp/sc.$1"; }
sc so "$B/bench_so" count "$base" {} 10
sc curl "$B/bench_curl" count "$url" {} 10
sc raw "$B/bench_raw" 127.0.0.1 "$http_port" {} 10
sc_so="$(sc_total so)"; sc_curl="$(sc_total curl)"; sc_raw="$(sc_total raw)"
threads_so="$(sc_threads so)"; threads_curl="$(sc_threads curl)"
# Every name either peer calls, by this library's count: "| name | so | curl |".
syscall_rows="$(awk '
    FILENAME ~ /sc\.so$/ {so[$1] = $2; names[$1] = 1; next}
    {curl[$1] = $2; names[$1] = 1}
    END {for (n in names) printf "%s %.2f %.2f\n", n, so[n] + 0, curl[n] + 0}
' "$tmp/sc.so" "$tmp/sc.curl" | sort -k2,2nr -k3,3nr -k1,1 | awk '{printf "| `%s` | %s | %s |\n", $1, $2, $3}')"

cp -f "$lib" "$tmp/stripped.so"
strip "$tmp/stripped.so"
size_stripped="$(stat -c %s "$tmp/stripped.so")"
size_raw="$(stat -c %s "$lib")"
load_end="$(bench_load)"

# --- 5. Report ----------------------------------------------------------------------------
f() { awk -v v="$1" -v d="${2:-0}" 'BEGIN {printf "%.*f", d, v}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a >= b)}'; }
mark() { if ge "$1" "$2"; then echo "yes"; else echo "**no**"; fi; }
le() { if awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; then echo "yes"; else echo "**no**"; fi; }
lt() { if awk -v a="$1" -v b="$2" 'BEGIN {exit !(a < b)}'; then echo "yes"; else echo "**no**"; fi; }

row() {  # row PEER LABEL REQUESTS
    local p="$1"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$3" "$(f "${R[$p.rps]}")" \
        "$( [ -n "${R[$p.cpu]:-}" ] && f "${R[$p.cpu]}" 1 || echo "-")" \
        "$(ratio "${R[$p.rps]}" "${R[curl.rps]}")" "$(ratio "${R[$p.rps]}" "${R[raw.rps]}")" "${R[$p.load]}"
}

# With the echo module: a server answering after 2 ms, 1 and $T threads.
slow_rows() {
    [ -n "${R[so_slow1.rps]:-}" ] || return 0
    printf '| server answering after 2 ms, 1 thread, req/s | %s | %s |\n' \
        "$(f "${R[so_slow1.rps]}")" "$(f "${R[curl_slow1.rps]}")"
    printf '| server answering after 2 ms, %s threads (one client / a handle each), req/s | %s (%sx) | %s (%sx) |\n' \
        "$T" "$(f "${R[so_slowT.rps]}")" "$(ratio "${R[so_slowT.rps]}" "${R[so_slow1.rps]}")" \
        "$(f "${R[curl_slowT.rps]}")" "$(ratio "${R[curl_slowT.rps]}" "${R[curl_slow1.rps]}")"
}

threads_note() {
    if ge "$mt_vs_one" 1.5; then
        printf -- "- Threads: here %s threads sharing one client give %sx one thread, libcurl with a\n" "$T" "$mt_vs_one"
        printf '  handle per thread %sx its one thread. One thread waits for each answer; on a\n' "$curl_mt_vs_one"
        printf '  virtual machine whose cores are otherwise idle, each wait costs a wake-up of an idle\n'
        printf '  core, which threads keep busy. %s' "$(slow_note)"
    else
        printf -- "- Threads: nginx, the client's threads and the rest of the machine share %s cores\n" "$(nproc)"
        printf '  (load average above). One sequential client already keeps about one core busy (its\n'
        printf "  own CPU per request plus nginx's), so threads can add at most the other core, minus\n"
        printf '  the cost of switching threads on a core: here %s threads give %sx one thread, and\n' "$T" "$mt_vs_one"
        printf '  libcurl with a handle per thread %sx its one thread. %s' "$curl_mt_vs_one" "$(slow_note)"
    fi
}

slow_note() {
    [ -n "${R[so_slow1.rps]:-}" ] || return 0
    printf 'Against a server that answers after 2 ms, as one over a network would, %s threads sharing one client give %sx one thread.' \
        "$T" "$(ratio "${R[so_slowT.rps]}" "${R[so_slow1.rps]}")"
}

so_vs_curl="$(ratio "${R[so.rps]}" "${R[curl.rps]}")"
cpu_vs_curl="$(ratio "${R[so.cpu]}" "${R[curl.cpu]}")"
so_vs_raw="$(ratio "${R[so.rps]}" "${R[raw.rps]}")"
py_vs_requests="$(ratio "${R[py_so.rps]}" "${R[py_requests.rps]}")"
mt_vs_one="$(ratio "${R[so_mt.rps]}" "${R[so.rps]}")"
curl_mt_vs_one="$(ratio "${R[curl_mt.rps]}" "${R[curl.rps]}")"
tls_vs_curl="$(ratio "${R[so_tls.rps]}" "${R[curl_tls.rps]}")"
new_us="$(get "$newfree" mean_us)"
new_first_ms="$(get "$newfree" first_ms)"
rss1="$(f "$(get "$rss" rss_1k_kib)")"; rss10="$(f "$(get "$rss" rss_10k_kib)")"; rss100="$(f "$(get "$rss" rss_100k_kib)")"
rss_growth=$(( rss100 - rss1 ))
batch_rps="$(get "$batch" batch_rps)"; batch_seq="$(get "$batch" seq_rps)"
cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"

{
cat <<EOF
# Benchmarks

\`make bench\` (bench/run.sh) measures, in one run and against one local nginx answering
\`204\`, the same request sent by this library and by what a user would use instead:
\`POST /Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail\` with
\`Authorization: SOTicket ...\`, \`SO-AppToken\`, \`Accept\`, \`Content-Type\`,
\`Accept-Language\`/\`SO-Language: sv\`, the same \`User-Agent\` and the 95-byte JSON body,
over one keep-alive connection per thread. Sequential C peers: best of $ROUNDS rounds of
$N requests after $WARM warm-up requests, interleaved; Python and threaded peers: best of
2 rounds, https: best of 3.
The machine is shared: compare rows of one run, not runs; client CPU per request
(\`getrusage\`) and instructions under callgrind are the steadier numbers.

## Requests per second

| peer | requests | req/s | client CPU µs/req | vs libcurl | vs raw socket | load (1 min) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
$(row raw "raw keep-alive socket, fixed request (C) — the practical limit" "$N")
$(row curl "libcurl, one reused easy handle (C)" "$N")
$(row so "**superoffice from C**, one client" "$N")
$(row py_so "**superoffice from Python** (binding)" "$PY_N")
$(row py_requests "Python requests.Session" "$REQ_N")
$(row curl_mt "libcurl, $T threads, one handle each (C)" "$((T * PER_THREAD))")
$(row so_mt "**superoffice, $T threads sharing one client** (C)" "$((T * PER_THREAD))")
$(row curl_tls "https: libcurl, one handle (C)" "$N")
$(row so_tls "**https: superoffice**, one client (C)" "$N")

## Sequential sends beside libcurl (the steady figures)

CPU is the best round's client CPU (user + system, \`getrusage\`) per request; system calls
and threads are counted by \`strace -f -c\` over $CG_N sends minus a run of none.

| per send, sequential, from C | this library | libcurl | ratio | target | holds |
| --- | ---: | ---: | ---: | --- | :---: |
| client CPU, µs | $(f "${R[so.cpu]}" 1) | $(f "${R[curl.cpu]}" 1) | ${cpu_vs_curl}x | at most 1.3x libcurl's | $(le "$cpu_vs_curl" 1.3) |
| system calls | $sc_so | $sc_curl | $(ratio "$sc_so" "$sc_curl")x | at most 15 | $(le "$sc_so" 15) |
| threads started | $threads_so | $threads_curl | | none | $(le "$threads_so" 0) |

System calls per send by name (every name either makes; the raw socket loop makes $sc_raw
in all):

| system call | this library | libcurl |
| --- | ---: | ---: |
$syscall_rows

## Targets

| target | measured | holds |
| --- | ---: | :---: |
| from C, at least 1.0x libcurl | ${so_vs_curl}x | $(mark "$so_vs_curl" 1.0) |
| from C, at least 0.85x the raw socket loop | ${so_vs_raw}x | $(mark "$so_vs_raw" 0.85) |
| from Python, at least 4x requests.Session | ${py_vs_requests}x | $(mark "$py_vs_requests" 4) |
| $T threads on one client, at least 1.5x one thread (libcurl, handle per thread: ${curl_mt_vs_one}x) | ${mt_vs_one}x | $(mark "$mt_vs_one" 1.5) |
| \`so_client_new\` + \`so_client_free\` under 5 ms | $(f "$new_us" 1) µs | $(lt "$new_us" 5000) |
| memory flat after warm-up (RSS after 100,000 sends vs after 1,000) | +$rss_growth KiB | $(lt "$rss_growth" 1024) |
| stripped library at most 2.5 MB | $(f "$(awk -v s="$size_stripped" 'BEGIN {print s / 1e6}')" 2) MB | $(lt "$size_stripped" 2500001) |

## Other measurements

| what | this library | libcurl |
| --- | ---: | ---: |
| instructions per send (callgrind, $CG_N sends minus a 0-send run) | $cg_so | $cg_curl |
| https keep-alive, req/s | $(f "${R[so_tls.rps]}") | $(f "${R[curl_tls.rps]}") (${tls_vs_curl}x) |
$(slow_rows)

| what | value |
| --- | ---: |
| \`so_client_new\` + \`so_client_free\`, mean of 1,000 | $(f "$new_us" 1) µs |
| the first \`so_client_new\` of a process (loads the system trust store once) | $(f "$new_first_ms" 2) ms |
| resident memory after 1,000 / 10,000 / 100,000 sends | $rss1 / $rss10 / $rss100 KiB |
| 1,000 items, \`so_send_cc_password_emails\` at concurrency 8 (best of 3) | $(f "$batch_rps") req/s |
| 1,000 sequential \`so_send_cc_password_email\` (best of 3) | $(f "$batch_seq") req/s |
| libsuperoffice.so, stripped copy / as built | $size_stripped / $size_raw bytes |

## Notes

- Every request goes through ureq's \`Agent\` (\`Agent::run\`), with or without a proxy: the
  request head is formatted by ureq for each send, a pooled connection is probed and its
  socket timeouts set by ureq's own transport. An earlier hand-written transport beside
  ureq was faster on loopback (about 6,200 instructions per send against about 30,000)
  but bought nothing against a server that takes real time to answer (see the
  latency-bound tables below), broke the total timeout under signals and did not compile
  for Windows; it was removed.
- The size target was set when the library carried no bundled roots of ureq's own; ureq's
  stable \`rustls\` feature bundles \`webpki-roots\` beside the \`webpki-root-certs\` the
  library falls back on, which the size row shows.
$(threads_note)

## Where a send's time goes

Instructions per send inside \`so_send_cc_password_email\` (callgrind with
\`--toggle-collect\`, self cost, the first 12 functions), beside the system calls above.

| instructions per send | share | function |
| ---: | ---: | --- |
$profile_rows

## Machine

| | |
| --- | --- |
| nproc | $(nproc) |
| CPU | ${cpu_model:-unknown} |
| kernel | $(uname -sr) |
| load average at start / end | $load_start / $load_end |
| nginx | $("$NGINX" -v 2>&1 | sed 's/^nginx version: //') (worker_processes auto, access_log off) |
| libcurl | $(curl-config --version 2>/dev/null || echo unknown) |
| Python / requests | $("${PY[@]}" -c 'import sys, requests; print(sys.version.split()[0], "/", requests.__version__)') |
| compiler | $(gcc --version | head -1) -O2 |
| rustc | $(rustc --version 2>/dev/null || echo unknown) |
| ureq | $(awk '/^name = "ureq"$/ {getline; gsub(/"/, "", $3); print $3; exit}' "$root/Cargo.lock") |
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
EOF
} >"$tmp/report.md"

# The report replaces BENCHMARKS.md up to the marker line; sections after it (written by
# other benchmarks, e.g. make bench-latency) are kept.
marker='<!-- end of make bench -->'
if [ -f "$report" ] && grep -qF "$marker" "$report"; then
    { cat "$tmp/report.md"; echo; echo "$marker"; sed -n "/^$marker\$/,\$p" "$report" | tail -n +2; } >"$tmp/full.md"
else
    { cat "$tmp/report.md"; echo; echo "$marker"; } >"$tmp/full.md"
fi
cp "$tmp/full.md" "$report"
cat "$tmp/report.md"
say "wrote $report"
