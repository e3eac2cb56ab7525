#!/usr/bin/env bash
# The module-definition file of superoffice.dll: every function superoffice.h declares,
# read from the header each time (never a list kept by hand), for the MSVC import library.
# Usage: packaging/def.sh include/superoffice.h >superoffice.def
set -euo pipefail
header="${1:?usage: $0 HEADER}"
functions="$(sed -nE 's/^[a-z][^(]*[ *](so_[a-z0-9_]+)\(.*/\1/p' "$header" | sort -u)"
[ -n "$functions" ] || { echo "def: no function declared in $header" >&2; exit 1; }
echo "LIBRARY superoffice.dll"
echo "EXPORTS"
sed 's/^/    /' <<<"$functions"
