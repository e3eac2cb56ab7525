#!/usr/bin/env bash
# Usage: tests/ensure-cxx.sh COMPILER...   (g++, clang++)
# Installs Debian's package of each C++ compiler named that is missing (g++: g++, clang++:
# clang). Needs root, as on the project's machines.
set -euo pipefail
packages=()
for cxx in "$@"; do
    command -v "$cxx" >/dev/null 2>&1 && continue
    case "$cxx" in
        g++) packages+=(g++) ;;
        clang++) packages+=(clang) ;;
        *) echo "ensure-cxx: no package known for $cxx" >&2; exit 2 ;;
    esac
done
[ "${#packages[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "ensure-cxx: ${packages[*]} missing; run 'apt-get install -y ${packages[*]}' as root" >&2
    exit 1
fi
echo "ensure-cxx: installing Debian's ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt may hold the lock for a while: wait for it.
for _ in $(seq 1 60); do
    if apt-get install -y -qq "${packages[@]}" >/dev/null 2>&1; then
        exit 0
    fi
    apt-get update -qq >/dev/null 2>&1 || true
    sleep 2
done
echo "ensure-cxx: could not install ${packages[*]}" >&2
exit 1
