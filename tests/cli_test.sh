#!/usr/bin/env bash
# The built `superoffice` program as an operator runs it, against the stub ($SO_STUB_URL,
# run under tests/with-stub.sh): --help, one e-mail, a CSV and its re-run, --json,
# --dry-run, usage errors, Ctrl-C, and the progress bar under a pseudo-terminal.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${SO_STUB_URL:?run under tests/with-stub.sh}"
bin="${SUPEROFFICE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/superoffice}"
[ -x "$bin" ] || { echo "cli_test: no $bin (run make build)" >&2; echo "0 passed, 1 failed"; exit 1; }
command -v python3 >/dev/null || { echo "cli_test: python3 is needed to read --json" >&2; echo "0 passed, 1 failed"; exit 1; }
if ! command -v script >/dev/null; then
    apt-get install -y -qq bsdutils >/dev/null 2>&1 || true
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAILED: $1" >&2; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

ticket='7T:dGVzdA=='
run_id="sh-$$"
export SO_TICKET="$ticket"
unset SO_BEARER_TOKEN SO_USERNAME SO_PASSWORD SO_APP_TOKEN SO_LANGUAGE SO_CULTURE SO_TIMEZONE
count() { curl -s "$SO_STUB_URL/_stub/count?prefix=/$1" | sed 's/[^0-9]//g'; }
json() { python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
no_secret() { ! grep -rqF "$ticket" "$@"; }

# --help warns about secrets on the command line.
"$bin" send-password-email --help > "$tmp/help" 2>&1
check "--help says secrets show in ps and shell history" grep -q "shell history" "$tmp/help"
check "--help points to --ticket-file" grep -q -- "--ticket-file" "$tmp/help"

# One e-mail.
export SO_BASE_URL="$SO_STUB_URL/$run_id-one/Cust12345"
out="$("$bin" send-password-email --person-id 670 --from support@example.com --to kari@example.com --subject "Your password" 2>"$tmp/err")"
status=$?
check "one e-mail: exit 0" [ "$status" -eq 0 ]
check "one e-mail: one line" [ "$out" = "person 670 -> kari@example.com: accepted (HTTP 204)" ]
check "one e-mail: the stub saw it" [ "$(count "$run_id-one")" = 1 ]
"$bin" send-password-email --person-id 99999 --to nobody@example.com >"$tmp/out" 2>"$tmp/err"
status=$?
check "404: exit 1" [ "$status" -eq 1 ]
check "404: message, status and ErrorType" grep -q "Person id 99999 not found.*HTTP 404, ErrorType SoNotFoundException" "$tmp/err"

# A CSV: bad rows reported by line, 404s failed, the rest accepted; then a re-run.
export SO_BASE_URL="$SO_STUB_URL/$run_id-csv/Cust12345"
{
    echo "subject,person_id,to"
    for i in $(seq 1 50); do echo "Your password,$i,p$i@example.com"; done
    echo "Your password,x7,bad@example.com"
    echo "Your password,99999,nf@example.com"
} > "$tmp/persons.csv"
"$bin" send-password-email --csv "$tmp/persons.csv" --from support@example.com --concurrency 4 --json >"$tmp/run1.json" 2>"$tmp/run1.err"
status=$?
check "csv: exit 1 (a bad row and a 404)" [ "$status" -eq 1 ]
check "csv: 50 accepted" [ "$(json "$tmp/run1.json" 'v["counts"]["accepted"]')" = 50 ]
check "csv: the 404 listed" [ "$(json "$tmp/run1.json" '[f["line"] for f in v["failed"]]')" = "[53]" ]
check "csv: the bad row by its line" grep -q "line 52: person_id 'x7' is not a positive integer" "$tmp/run1.err"
check "csv: one line per row when not a terminal" [ "$(grep -c '^\[' "$tmp/run1.err")" -eq 51 ]
check "csv: journal beside the CSV" [ -f "$tmp/persons.csv.journal.sqlite" ]
check "csv: the stub saw 51" [ "$(count "$run_id-csv")" = 51 ]
"$bin" send-password-email --csv "$tmp/persons.csv" --from support@example.com --json >"$tmp/run2.json" 2>/dev/null
check "re-run: accepted rows skipped" [ "$(json "$tmp/run2.json" 'v["counts"]["already_accepted"]')" = 50 ]
check "re-run: only the failed row sent again" [ "$(count "$run_id-csv")" = 52 ]
"$bin" send-password-email --csv "$tmp/persons.csv" --from support@example.com --dry-run >"$tmp/dry.txt" 2>/dev/null
check "dry run: sends nothing" [ "$(count "$run_id-csv")" = 52 ]
check "dry run: says what it would send" grep -q "1 would be sent" "$tmp/dry.txt"
check "no secret in any output or the journal" no_secret "$tmp"

# Usage errors exit 2.
"$bin" send-password-email --csv "$tmp/persons.csv" --person-id 1 >/dev/null 2>&1
check "usage: --csv with --person-id exits 2" [ $? -eq 2 ]
SO_BASE_URL= "$bin" send-password-email --person-id 1 >/dev/null 2>&1
check "usage: no base URL exits 2" [ $? -eq 2 ]

# Ctrl-C: the rows in flight finish and are recorded, the rest wait for a re-run.
export SO_BASE_URL="$SO_STUB_URL/$run_id-int/delay_ms=300/Cust12345"
seq 1 200 | sed 's/.*/&,p&@example.com/' | sed '1i person_id,to' > "$tmp/slow.csv"
"$bin" send-password-email --csv "$tmp/slow.csv" --concurrency 4 --json >"$tmp/int.json" 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 300); do [ "$(count "$run_id-int")" -ge 4 ] && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"
status=$?
sent="$(count "$run_id-int")"
check "Ctrl-C: exit 1" [ "$status" -eq 1 ]
check "Ctrl-C: interrupted" [ "$(json "$tmp/int.json" 'v["interrupted"]')" = True ]
check "Ctrl-C: every request sent was recorded as accepted" [ "$(json "$tmp/int.json" 'v["counts"]["accepted"]')" = "$sent" ]
check "Ctrl-C: the rest not started" [ "$(json "$tmp/int.json" 'v["counts"]["not_started"]')" = "$((200 - sent))" ]

# On a terminal: a progress bar instead of lines.
export SO_BASE_URL="$SO_STUB_URL/$run_id-tty/Cust12345"
head -31 "$tmp/slow.csv" > "$tmp/tty.csv"
script -q -e -c "stty cols 120 rows 40; $bin send-password-email --csv $tmp/tty.csv" /dev/null </dev/null >"$tmp/tty.out" 2>&1
status=$?
check "terminal: exit 0" [ "$status" -eq 0 ]
check "terminal: the bar reaches 30/30" grep -q "30/30" "$tmp/tty.out"
check "terminal: no per-row lines" bash -c "! grep -q '^\[ 1/30\]' '$tmp/tty.out'"

echo "cli_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
