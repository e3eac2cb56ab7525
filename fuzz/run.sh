#!/usr/bin/env bash
# Usage: fuzz/run.sh SECONDS [TARGET...]
# Builds the fuzz targets with cargo-fuzz (installing it when missing) and runs each for
# SECONDS, starting from the committed seeds (fuzz/corpus/TARGET/seed-*); what libFuzzer
# adds goes to fuzz/target/work-corpus/TARGET, a finding to fuzz/artifacts/TARGET.
# Only a stable toolchain is installed here: cargo-fuzz's -Z flags are allowed with
# RUSTC_BOOTSTRAP=1. Prints one summary line per target and fails on any finding.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(base_url error_body ffi_surface credentials)
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz >&2
fi
cargo fuzz build -O >&2
status=0
for t in "${targets[@]}"; do
    work="target/work-corpus/$t"
    mkdir -p "$work" "artifacts/$t"
    log="target/fuzz-$t.log"
    if cargo fuzz run -O "$t" "$work" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
        -timeout=30 -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz $t: $result, $runs executions in ${secs} s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) units"
    if [ "$result" = FAILED ]; then
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
    fi
done
exit "$status"
