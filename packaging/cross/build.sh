#!/usr/bin/env bash
# Builds the library for every platform this machine can build, once each (cargo and
# cargo-zigbuild skip what is up to date), and checks what it can only compile:
#
#   Windows x86_64   cargo, mingw-w64 linker     superoffice.dll, libsuperoffice.dll.a,
#                                                libsuperoffice.a, superoffice.exe
#   Linux x86_64     cargo-zigbuild, glibc 2.17  libsuperoffice.so (the one that ships),
#                                                libsuperoffice.a, superoffice
#   Linux aarch64    cargo-zigbuild, glibc 2.17  libsuperoffice.so, libsuperoffice.a, superoffice
#   macOS x86_64     cargo-zigbuild              check, clippy, libsuperoffice.a (dev profile;
#   macOS arm64                                  compiled, not linked: zig ships no Apple
#                                                frameworks)
#
# The command line (superoffice, feature "cli") is built beside each library: the release
# archives ship it (rusqlite's bundled SQLite is compiled by zig cc and mingw-w64's gcc).
#
# Usage: packaging/cross/build.sh [--macos-check-only | --ship-only]
#   (after packaging/cross/toolchains.sh)
# --macos-check-only (make test): macOS gets check and clippy, not the compile of
# libsuperoffice.a (about 3 minutes on a cold cache; make cross does it).
# --ship-only (make dist): only the three builds that ship, no clippy and no macOS.
set -euo pipefail
macos_compile=1
ship_only=0
case "${1:-}" in
    --macos-check-only) macos_compile=0 ;;
    --ship-only) ship_only=1 ;;
esac
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"

step() {
    local start=$SECONDS
    echo "cross: $1" >&2
    shift
    "$@"
    echo "cross:   $((SECONDS - start)) s" >&2
}

if [ "$ship_only" = 0 ]; then
    step "Windows x86_64: clippy" cargo clippy --quiet --lib --target x86_64-pc-windows-gnu -- -D warnings
fi
step "Windows x86_64: superoffice.dll, superoffice.exe" \
    cargo build --quiet --release --lib --bins --target x86_64-pc-windows-gnu
step "Linux x86_64, glibc 2.17: libsuperoffice.so, superoffice" \
    cargo-zigbuild zigbuild --quiet --release --lib --bins --target x86_64-unknown-linux-gnu.2.17
step "Linux aarch64, glibc 2.17: libsuperoffice.so, superoffice" \
    cargo-zigbuild zigbuild --quiet --release --lib --bins --target aarch64-unknown-linux-gnu.2.17
if [ "$ship_only" = 1 ]; then
    exit 0
fi
for t in x86_64-apple-darwin aarch64-apple-darwin; do
    step "$t: check" cargo-zigbuild check --quiet --lib --target "$t"
    step "$t: clippy" cargo-zigbuild clippy --quiet --lib --target "$t" -- -D warnings
    # The whole crate compiled, ring's C and assembly included (the dev profile: the
    # release profile's LTO would double the time for nothing that can ship); a dylib
    # would need Apple's Security and CoreFoundation frameworks to link.
    if [ "$macos_compile" = 1 ]; then
        step "$t: libsuperoffice.a (compiled, not linked)" \
            cargo-zigbuild rustc --quiet --lib --target "$t" --crate-type staticlib
    fi
done
