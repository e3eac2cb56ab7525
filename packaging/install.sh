#!/usr/bin/env bash
# Installs superoffice under PREFIX (DESTDIR, when set, is put before it): the shared and
# static libraries, the headers (superoffice.h and the header-only C++ wrapper
# superoffice.hpp), superoffice.pc, the CMake package, the `superoffice` program and the
# docs with the licences and the third-party notices, laid out by packaging/layout.sh as
# each release archive is.
# Usage: packaging/install.sh PREFIX  (run `cargo build --release` first)
set -euo pipefail
prefix="${1:?usage: $0 PREFIX}"
case "$prefix" in
    /*) ;;
    *) prefix="$(pwd)/$prefix" ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
host="$(rustc -vV | sed -n 's/^host: //p')"
# The third-party notices need cargo-about: without it (not installable here) the rest is
# installed, and this says what is missing.
rc=0
notices="$("$root/packaging/notices.sh")" || rc=$?
if [ "$rc" = 3 ]; then
    echo "install: without THIRD-PARTY-NOTICES.txt (cargo-about could not be installed)" >&2
    notices=""
elif [ "$rc" != 0 ]; then
    exit "$rc"
fi
"$root/packaging/layout.sh" --target "$host" --from "$target_dir/release" --dest "${DESTDIR:-}$prefix" \
    --prefix "$prefix" ${notices:+--notices "$notices"}
version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' "$root/Cargo.toml")"
echo "installed superoffice $version under ${DESTDIR:-}$prefix"
