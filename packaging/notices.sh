#!/usr/bin/env bash
# Writes the third-party notices (THIRD-PARTY-NOTICES.txt): every licence of the crates
# built into what ships, with the crates under each, from Cargo.lock by cargo-about
# (settings packaging/about.toml, template packaging/about.hbs). cargo-about is installed
# with cargo when missing (a pinned version, quietly; the log in build/cargo-about.log).
# A result is kept by what it is made from (Cargo.lock, the settings, the template, the
# tool's version) in ~/.cache/superoffice-ffi/notices, so that make install, make dist and
# a fresh clone on the same machine make it once (cargo-about takes a minute or two).
#
# Usage: packaging/notices.sh [OUT]  (default build/THIRD-PARTY-NOTICES.txt); prints OUT.
# Exit 3 with one line on stderr when cargo-about is missing and cannot be installed.
#
# The file is generated at dist time and never committed: a committed copy would drift
# whenever Cargo.lock changes, and a drift check would need cargo-about in every test run
# anyway; generated, it always matches the build it ships with.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/build/THIRD-PARTY-NOTICES.txt}"
about_version=0.9.3
log="$root/build/cargo-about.log"
cache="$HOME/.cache/superoffice-ffi/notices"
mkdir -p "$cache" "$root/build" "$(dirname "$out")"

key="$(cat "$root/Cargo.lock" "$root/packaging/about.toml" "$root/packaging/about.hbs" <(echo "$about_version") |
    sha256sum | cut -c1-16)"
cached="$cache/$key.txt"
if [ ! -f "$cached" ]; then
    : >"$log"
    if [ "$(cargo about --version 2>/dev/null || true)" != "cargo-about $about_version" ]; then
        if ! cargo install --quiet --locked --version "$about_version" --features cli cargo-about >>"$log" 2>&1; then
            echo "notices: cargo-about $about_version could not be installed (details: ${log#"$root"/})" >&2
            exit 3
        fi
    fi
    # --frozen: the licence texts come from the crates' own sources, never from the network.
    (cd "$root" && cargo about generate --frozen --fail -c packaging/about.toml -o "$cached.tmp" \
        packaging/about.hbs) >>"$log" 2>&1 ||
        { tail -20 "$log" >&2; echo "notices: cargo-about failed (details: ${log#"$root"/})" >&2; exit 1; }
    mv "$cached.tmp" "$cached"
fi
cp "$cached" "$out"
echo "$out"
