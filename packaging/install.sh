#!/usr/bin/env bash
# Installs the built library, the headers (superoffice.h and the header-only C++ wrapper
# superoffice.hpp), the pkg-config file and the `superoffice` program under PREFIX.
# Usage: packaging/install.sh PREFIX  (run `cargo build --release` first)
set -euo pipefail
prefix="${1:?usage: $0 PREFIX}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}/release"
version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' "$root/Cargo.toml")"
major="${version%%.*}"

install -d "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/bin"
install -m 0755 "$target/libsuperoffice.so" "$prefix/lib/libsuperoffice.so.$version"
ln -sf "libsuperoffice.so.$version" "$prefix/lib/libsuperoffice.so.$major"
ln -sf "libsuperoffice.so.$major" "$prefix/lib/libsuperoffice.so"
install -m 0644 "$target/libsuperoffice.a" "$prefix/lib/libsuperoffice.a"
install -m 0644 "$root/include/superoffice.h" "$prefix/include/superoffice.h"
install -m 0644 "$root/include/superoffice.hpp" "$prefix/include/superoffice.hpp"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$root/packaging/superoffice.pc.in" \
    > "$prefix/lib/pkgconfig/superoffice.pc"
install -m 0755 "$target/superoffice" "$prefix/bin/superoffice"
echo "installed superoffice $version under $prefix"
