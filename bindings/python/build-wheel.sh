#!/usr/bin/env bash
# Build a wheel of superoffice_ffi that carries the native library.
#
# Usage: bindings/python/build-wheel.sh OUTDIR [PLATFORM_TAG]
#
# Copies the package sources into a staging directory, puts the library
# ($SUPEROFFICE_LIB, default target/release/libsuperoffice.so) inside the
# package there, and runs `pip wheel --no-deps` into OUTDIR. setup.py tags such
# a wheel py3-none-<platform> (it holds native code; it uses no Python ABI):
# this machine's platform, or PLATFORM_TAG for a library built for another one
# (make wheels: manylinux_2_17_x86_64.manylinux2014_x86_64, win_amd64, ...).
# The library is stored under the name the package loads on that platform
# (superoffice.dll, libsuperoffice.dylib, libsuperoffice.so).
# The source tree is left untouched. $PYTHON chooses the interpreter (python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:?usage: build-wheel.sh OUTDIR [PLATFORM_TAG]}"
plat="${2:-}"
lib="${SUPEROFFICE_LIB:-$repo/target/release/libsuperoffice.so}"
python="${PYTHON:-python3}"

if [ ! -f "$lib" ]; then
    echo "build-wheel.sh: $lib not found; run 'cargo build --release' first" >&2
    exit 1
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"

stage="$(mktemp -d "${TMPDIR:-/tmp}/superoffice-wheel.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
tar -C "$here" \
    --exclude=./.venv --exclude=./build --exclude=./dist --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=./tests \
    -cf - . | tar -C "$stage" -xf -
case "$plat" in
    win*) name=superoffice.dll ;;
    macosx*) name=libsuperoffice.dylib ;;
    *) name=libsuperoffice.so ;;
esac
cp "$lib" "$stage/src/superoffice_ffi/$name"

# Build offline with the interpreter's own setuptools when it has a recent
# one; otherwise let pip fetch the build requirements from PyPI.
flags=(--no-deps --quiet)
if "$python" -c 'import sys, setuptools, wheel; sys.exit(int(setuptools.__version__.split(".")[0]) < 68)' 2>/dev/null; then
    flags+=(--no-build-isolation)
fi
SUPEROFFICE_WHEEL_PLATFORM="$plat" "$python" -m pip wheel "${flags[@]}" -w "$out" "$stage"
ls "$out"/superoffice_ffi-*"${plat:+-$plat}".whl
