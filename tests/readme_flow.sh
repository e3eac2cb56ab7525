#!/usr/bin/env bash
# The README's flow as a new user runs it, N times in a row, each on a fresh clone:
# `make demo`, then `make test`, each under `timeout`, output to a log file per run.
# Usage: tests/readme_flow.sh [RUNS] [WORKDIR]   (defaults: 3, a new folder under /tmp)
# Prints one line per step and the log's last lines when a step fails; exits 1 at the
# first failure (the clone and its log are kept for reading), 0 when every run passed.
set -euo pipefail
runs="${1:-3}"
work="${2:-$(mktemp -d "${TMPDIR:-/tmp}/readme-flow.XXXXXX")}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
commit="$(git -C "$repo" rev-parse HEAD)"
mkdir -p "$work"
echo "readme flow: $runs run(s) of commit ${commit:0:12} in $work"
for i in $(seq 1 "$runs"); do
    clone="$work/run$i"
    log="$work/run$i.log"
    rm -rf "$clone"
    git clone -q "$repo" "$clone"
    git -C "$clone" checkout -q "$commit"   # every run tests the same commit
    for step in demo test; do
        start=$SECONDS
        rc=0
        (cd "$clone" && timeout 60m make "$step") >>"$log" 2>&1 || rc=$?
        echo "run $i: make $step: exit $rc after $((SECONDS - start)) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
        if [ "$rc" -ne 0 ]; then
            echo "--- last lines of $log:"
            tail -n 40 "$log"
            exit 1
        fi
    done
    rm -rf "$clone"
done
echo "readme flow: $runs of $runs runs passed"
