#!/usr/bin/env bash
# Runs tests/c/test_async.c under ThreadSanitizer, with the library and Rust's standard
# library built with -Zsanitizer=thread (on the stable toolchain, with RUSTC_BOOTSTRAP=1
# and -Zbuild-std: installs the rust-src component when missing). The C program is
# instrumented by gcc and linked with Rust's own TSan runtime (gcc 12's libtsan lacks
# symbols that rustc's instrumentation uses). Needs SO_STUB_URL (run through
# tests/with-stub.sh). Usage: tests/c/tsan.sh [N sends, default 1000]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target=x86_64-unknown-linux-gnu
tsan_dir="$root/target/tsan"
lib_dir="$tsan_dir/$target/debug"
out="$root/build/c"
n="${1:-1000}"

sysroot="$(rustc --print sysroot)"
if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    echo "tsan: installing the rust-src component (for -Zbuild-std)" >&2
    rustup component add rust-src
fi
runtimes=("$sysroot/lib/rustlib/$target/lib/"librustc-*_rt.tsan.a)   # a glob, not ls | head
runtime="${runtimes[0]}"
[ -f "$runtime" ] || { echo "tsan: no ThreadSanitizer runtime under $sysroot/lib/rustlib/$target/lib" >&2; exit 1; }

RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=thread" \
    cargo build -Zbuild-std --target "$target" --lib --target-dir "$tsan_dir"
ln -sf libsuperoffice.so "$lib_dir/libsuperoffice.so.0"

mkdir -p "$out"
gcc -std=c11 -O1 -g -Wall -Wextra -Werror -I"$root/include" -fsanitize=thread \
    -c tests/c/test_async.c -o "$out/test_async_tsan.o"
gcc "$out/test_async_tsan.o" -o "$out/test_async_tsan" -rdynamic \
    -Wl,--whole-archive "$runtime" -Wl,--no-whole-archive \
    -L"$lib_dir" -lsuperoffice -Wl,-rpath,"$lib_dir" -lpthread -ldl -lm -lrt

# TSan does not support threads started in a child of a multi-threaded fork: that test is
# left to the ASan build.
SO_ASYNC_SKIP_FORK=1 TSAN_OPTIONS="halt_on_error=1:exitcode=66${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
    "$out/test_async_tsan" "$n"
