#!/usr/bin/env bash
# Installs what the cross builds need, only what is missing, quietly:
#   the Rust targets (rustup), mingw-w64, wine64, nuget, Mono's mcs, qemu-user and
#   aarch64's glibc (Debian), and
#   cargo-zigbuild, ziglang and auditwheel (PyPI, into build/cross/venv);
# then initialises the wine prefix build/cross/wineprefix.
#
# Usage: packaging/cross/toolchains.sh [--or-skip WHAT]
# Exit 0 when everything is ready. When something cannot be installed (a download
# refused, no network, no root): without --or-skip, the reason and exit 1; with
# --or-skip, one line "WHAT: skipped: <reason>" on stdout and exit 3.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

skip_as=""
if [ "${1:-}" = "--or-skip" ]; then
    skip_as="${2:?--or-skip needs a name}"
fi
mkdir -p "$cross"
log="$cross/toolchains.log"
: >"$log"

# What is being installed: on stderr, or only in the log with --or-skip (make test stays quiet).
say() {
    echo "toolchains: $*" >>"$log"
    if [ -z "$skip_as" ]; then echo "toolchains: $*" >&2; fi
}

cannot() {
    if [ -n "$skip_as" ]; then
        echo "$skip_as: skipped: $1 (details: ${log#"$root"/})"
        exit 3
    fi
    echo "toolchains: $1 (details: $log)" >&2
    exit 1
}

# Rust targets.
installed="$(rustup target list --installed 2>>"$log" || true)"
missing=()
for t in "${cross_rust_targets[@]}"; do
    grep -qx "$t" <<<"$installed" || missing+=("$t")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "rustup target add ${missing[*]}"
    rustup target add "${missing[@]}" >>"$log" 2>&1 || cannot "rustup could not add ${missing[*]}"
fi

# Debian packages.
missing=()
for p in "${cross_debian_packages[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [[ "$status" == *"install ok installed"* ]] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || cannot "${missing[*]} missing and neither root nor sudo"
        sudo="sudo -n"
    fi
    say "apt-get install ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        $sudo apt-get update -qq >>"$log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
            cannot "apt-get could not install ${missing[*]}"
    fi
fi
[ -x "$wine" ] || cannot "$wine is missing after installing wine64"

# PyPI tools in their own venv.
if [ ! -f "$cross_venv/.ready" ]; then
    say "pip install ${cross_pypi_packages[*]} into ${cross_venv#"$root"/}"
    rm -rf "$cross_venv"
    python3 -m venv "$cross_venv" >>"$log" 2>&1 || cannot "python3 -m venv failed"
    "$cross_venv/bin/python" -m pip install -q "${cross_pypi_packages[@]}" >>"$log" 2>&1 ||
        cannot "pip could not install ${cross_pypi_packages[*]}"
    touch "$cross_venv/.ready"
fi

# The wine prefix, once.
if [ ! -f "$WINEPREFIX/.ready" ]; then
    say "initialising the wine prefix ${WINEPREFIX#"$root"/}"
    rm -rf "$WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    "$wine" wineboot --init >>"$log" 2>&1 || cannot "wineboot --init failed"
    "$(dirname "$wine")/wineserver" -w >>"$log" 2>&1 || true
    touch "$WINEPREFIX/.ready"
fi
