#!/usr/bin/env bash
# Python wheels, one per platform, each carrying its own library, into build/wheels:
#
#   manylinux_2_17_x86_64   the glibc 2.17 libsuperoffice.so, checked by auditwheel
#   manylinux_2_17_aarch64  the same for aarch64
#   win_amd64               superoffice.dll
#   macosx_10_12_x86_64, macosx_11_0_arm64   only when the dylibs were linked
#
# Usage: packaging/wheels.sh  (after packaging/cross/build.sh)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cross/env.sh"
cd "$root"

out="$root/build/wheels"
rm -rf "$out"
mkdir -p "$out"
python="$cross_venv/bin/python"

wheel() { # LIBRARY PLATFORM_TAG
    [ -f "$1" ] || { echo "wheels: $1 is missing: run packaging/cross/build.sh" >&2; exit 1; }
    SUPEROFFICE_LIB="$1" PYTHON="$python" bindings/python/build-wheel.sh "$out" "$2" >/dev/null
}

wheel "$linux_so" manylinux_2_17_x86_64.manylinux2014_x86_64
wheel "$linux_arm64_so" manylinux_2_17_aarch64.manylinux2014_aarch64
wheel "$win_dll" win_amd64
if [ -f "$mac_x64_dylib" ]; then wheel "$mac_x64_dylib" macosx_10_12_x86_64; fi
if [ -f "$mac_arm64_dylib" ]; then wheel "$mac_arm64_dylib" macosx_11_0_arm64; fi

# auditwheel must find each manylinux wheel consistent with the tag it carries.
for w in "$out"/*manylinux*.whl; do
    report="$("$cross_venv/bin/auditwheel" show "$w" 2>&1)" || { echo "$report" >&2; exit 1; }
    flat="$(tr -s ' \n' '  ' <<<"$report")"   # captured, then matched: no pipe into grep -q
    if [[ "$flat" != *'consistent with the following platform tag: "manylinux_2_17_'* ]]; then
        echo "wheels: auditwheel does not give $(basename "$w") a manylinux_2_17 tag:" >&2
        echo "$report" >&2
        exit 1
    fi
done
ls -1 "$out"
