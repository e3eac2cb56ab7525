#!/usr/bin/env bash
# The NuGet package SuperOffice.Ffi, with the native library of every platform built
# here, into build/nuget/SuperOffice.Ffi.0.1.0.nupkg (see bindings/csharp/SuperOffice.Ffi.nuspec).
#
# Usage: packaging/nuget.sh  (after packaging/cross/build.sh; needs Debian's nuget and
# mono-mcs, which packaging/cross/toolchains.sh installs)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cross/env.sh"
cd "$root"

out="$root/build/nuget"
stage="$out/stage"
rm -rf "$out"
mkdir -p "$stage/lib/net472"

native() { # LIBRARY RID
    [ -f "$1" ] || { echo "nuget: $1 is missing: run packaging/cross/build.sh" >&2; exit 1; }
    mkdir -p "$stage/runtimes/$2/native"
    cp "$1" "$stage/runtimes/$2/native/"
}
native "$win_dll" win-x64
native "$linux_so" linux-x64
native "$linux_arm64_so" linux-arm64
if [ -f "$mac_x64_dylib" ]; then native "$mac_x64_dylib" osx-x64; fi
if [ -f "$mac_arm64_dylib" ]; then native "$mac_arm64_dylib" osx-arm64; fi

# The managed assembly: the binding's sources, as bindings/csharp/build.sh compiles them.
mcs -langversion:7.2 -warnaserror+ -nologo -optimize+ -r:System.dll -r:System.Core.dll \
    -target:library -doc:"$stage/lib/net472/SuperOffice.Ffi.xml" \
    -out:"$stage/lib/net472/SuperOffice.Ffi.dll" bindings/csharp/src/*.cs
cp bindings/csharp/README.md "$stage/"

# nuget (Mono) writes its settings under $HOME: keep them in build/nuget.
HOME="$out/home" XDG_CONFIG_HOME="$out/home/.config" \
    nuget pack bindings/csharp/SuperOffice.Ffi.nuspec -BasePath "$stage" -OutputDirectory "$out" \
    -NoPackageAnalysis -NonInteractive -Verbosity quiet >"$out/pack.log" 2>&1 ||
    { cat "$out/pack.log" >&2; exit 1; }
ls "$out"/SuperOffice.Ffi.*.nupkg
