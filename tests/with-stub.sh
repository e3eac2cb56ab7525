#!/usr/bin/env bash
# Usage: tests/with-stub.sh CMD ARGS...
# Starts the SuperOffice stub server (building it first if needed), exports
# SO_STUB_URL=http://127.0.0.1:PORT, runs CMD, stops the stub and exits with CMD's status.
# SO_STUB_BIN overrides the stub binary (default: target/release/examples/stub_server).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD ARGS..." >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in
    /*) ;;
    *) target_dir="$root/$target_dir" ;;
esac
bin="${SO_STUB_BIN:-$target_dir/release/examples/stub_server}"

if [ -z "${SO_STUB_BIN:-}" ]; then
    if [ ! -x "$bin" ]; then
        echo "with-stub: building the stub server" >&2
        (cd "$root" && cargo build --release --example stub_server) >&2
    elif [ "$root/tests/stub/mod.rs" -nt "$bin" ] || [ "$root/examples/stub_server.rs" -nt "$bin" ]; then
        echo "with-stub: the stub's sources changed, rebuilding it" >&2
        if ! (cd "$root" && cargo build --release --example stub_server) >&2; then
            echo "with-stub: rebuild failed, using the existing $bin" >&2
        fi
    fi
fi
if [ ! -x "$bin" ]; then
    echo "with-stub: no stub server at $bin" >&2
    exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/so-stub.XXXXXX")"
stub_pid=""
cleanup() {
    if [ -n "$stub_pid" ]; then
        kill "$stub_pid" 2>/dev/null || true
        wait "$stub_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
cmd_pid=""
on_signal() {
    if [ -n "$cmd_pid" ]; then
        kill "-$1" "$cmd_pid" 2>/dev/null || true
    fi
    exit "$2"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# The stub's "listening" line goes to stderr so CMD's stdout stays its own.
"$bin" --port-file "$tmp/url" >&2 &
stub_pid=$!

for _ in $(seq 1 100); do
    [ -s "$tmp/url" ] && break
    if ! kill -0 "$stub_pid" 2>/dev/null; then
        echo "with-stub: the stub server exited before it was ready" >&2
        exit 1
    fi
    sleep 0.1
done
if [ ! -s "$tmp/url" ]; then
    echo "with-stub: the stub server did not start within 10 s" >&2
    exit 1
fi

SO_STUB_URL="$(cat "$tmp/url")"
export SO_STUB_URL

# CMD runs in the background (keeping our stdin) so that INT/TERM reach the traps at once.
set +e
"$@" <&0 &
cmd_pid=$!
wait "$cmd_pid"
status=$?
set -e
exit "$status"
