#!/usr/bin/env bash
# Compiles the C# binding with Mono's mcs into bindings/csharp/build/:
#   SuperOffice.Ffi.dll (+ .xml docs), Tests.exe, SendPasswordEmail.exe.
# Installs Mono (mono-mcs, mono-runtime) first when mcs or mono is missing.
# Sourced by run-tests.sh and run-demo.sh; can also be run on its own.
set -euo pipefail

csharp_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$csharp_dir/../.." && pwd)"
build_dir="$csharp_dir/build"
native_dir="${CARGO_TARGET_DIR:-$repo_dir/target}/release"
case "$native_dir" in
    /*) ;;
    *) native_dir="$repo_dir/$native_dir" ;;
esac

if ! command -v mcs >/dev/null 2>&1 || ! command -v mono >/dev/null 2>&1; then
    echo "csharp: installing Mono (mono-mcs, mono-runtime)" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mono-mcs mono-runtime >/dev/null
fi

mkdir -p "$build_dir"
# C# 7.2 is the newest language version mcs accepts; the sources keep to it.
mcs_flags=(-langversion:7.2 -warnaserror+ -nologo -debug -r:System.dll -r:System.Core.dll)
mcs "${mcs_flags[@]}" -target:library -doc:"$build_dir/SuperOffice.Ffi.xml" \
    -out:"$build_dir/SuperOffice.Ffi.dll" "$csharp_dir"/src/*.cs
mcs "${mcs_flags[@]}" -target:exe -r:"$build_dir/SuperOffice.Ffi.dll" \
    -out:"$build_dir/Tests.exe" "$csharp_dir/tests/Tests.cs"
mcs "${mcs_flags[@]}" -target:exe -r:"$build_dir/SuperOffice.Ffi.dll" \
    -out:"$build_dir/GcStress.exe" "$csharp_dir/tests/GcStress.cs"
mcs "${mcs_flags[@]}" -target:exe -r:"$build_dir/SuperOffice.Ffi.dll" \
    -out:"$build_dir/SendPasswordEmail.exe" "$csharp_dir/samples/SendPasswordEmail.cs"

if [ ! -f "$native_dir/libsuperoffice.so" ]; then
    echo "csharp: $native_dir/libsuperoffice.so is missing; run 'cargo build --release' in $repo_dir" >&2
    exit 1
fi
# Mono resolves [DllImport("superoffice")] to libsuperoffice.so through LD_LIBRARY_PATH.
export LD_LIBRARY_PATH="$native_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
