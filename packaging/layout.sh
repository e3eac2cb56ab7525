#!/usr/bin/env bash
# Lays out one installed tree of superoffice: the one layout `make install`, each release
# archive and the Debian packages are made from, so they cannot drift apart.
#
# Usage: packaging/layout.sh --target TRIPLE --from DIR --dest DIR [--libdir REL]
#                            [--prefix ABSOLUTE] [--notices FILE]
#   --target   the Rust target the files were built for (x86_64-unknown-linux-gnu,
#              aarch64-unknown-linux-gnu, x86_64-pc-windows-gnu)
#   --from     cargo's output folder for it (target/<triple>/release): the libraries,
#              the command line, and libsuperoffice.rlib for the static library's system
#              libraries (rustc --print native-static-libs)
#   --dest     the root of the tree to write (created when missing; files already there
#              are replaced, nothing else is removed)
#   --libdir   the library folder under the root: lib (default) or lib/x86_64-linux-gnu
#   --prefix   the absolute prefix superoffice.pc names (make install, the .debs); without
#              it the .pc is relocatable: prefix=${pcfiledir}/../.. (the archives)
#   --notices  THIRD-PARTY-NOTICES.txt (packaging/notices.sh) for share/doc/superoffice
#
# The tree (Linux; Windows has bin/superoffice.dll and .exe, lib/libsuperoffice.dll.a and
# lib/superoffice.lib instead of the .so files):
#   bin/superoffice                       the command line, stripped
#   include/superoffice.h, superoffice.hpp
#   LIBDIR/libsuperoffice.so.VERSION      stripped, soname libsuperoffice.so.MAJOR
#   LIBDIR/libsuperoffice.so.MAJOR, libsuperoffice.so   links
#   LIBDIR/libsuperoffice.a
#   LIBDIR/pkgconfig/superoffice.pc       from packaging/superoffice.pc.in
#   LIBDIR/cmake/superoffice/             from packaging/cmake/*.cmake.in
#   share/doc/superoffice/                README.md, SECURITY.md, the licences, the notices
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

target="" from="" dest="" libdir=lib prefix="" notices=""
while [ $# -gt 0 ]; do
    case "$1" in
        --target) target="$2" ;;
        --from) from="$2" ;;
        --dest) dest="$2" ;;
        --libdir) libdir="$2" ;;
        --prefix) prefix="$2" ;;
        --notices) notices="$2" ;;
        *) echo "layout: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
[ -n "$target" ] && [ -n "$from" ] && [ -n "$dest" ] || { sed -n '4,18p' "$0" >&2; exit 2; }
fail() { echo "layout: $*" >&2; exit 1; }

version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' "$root/Cargo.toml")"
major="${version%%.*}"
case "$target" in
    *-windows-*) platform=windows ;;
    *-linux-*) platform=linux ;;
    *) fail "no layout for $target" ;;
esac
for f in libsuperoffice.a libsuperoffice.rlib; do
    [ -f "$from/$f" ] || fail "$from/$f is missing: build the library for $target first"
done

# The system libraries the static library needs, as rustc reports them for this target: a
# staticlib of one line that links this crate's rlib (archived, not compiled again).
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
echo 'extern crate superoffice;' >"$probe/probe.rs"
# A cross build's proc-macro crates are the host's, in target/release/deps.
search=(-L "dependency=$from/deps")
if [ -d "$from/../../release/deps" ]; then
    search+=(-L "dependency=$(cd "$from/../../release/deps" && pwd)")
fi
native_libs="$(rustc --edition 2021 --crate-type staticlib --crate-name superoffice_probe --target "$target" \
    "${search[@]}" --extern "superoffice=$from/libsuperoffice.rlib" \
    --print native-static-libs -o "$probe/libprobe.a" "$probe/probe.rs" 2>&1 |
    sed -n 's/.*native-static-libs: //p' | tail -n 1)"
[ -n "$native_libs" ] || fail "rustc printed no native-static-libs for $target"
# CMake takes the thread library through find_dependency(Threads).
cmake_libs="$(tr ' ' '\n' <<<"$native_libs" | grep -v -x -e '-lpthread' -e '' | paste -sd ';' -)"

# Strippers that know each format (llvm-strip knows them all; binutils' own as a fallback).
strip_tool() {
    if command -v llvm-strip >/dev/null 2>&1; then echo llvm-strip
    elif [ "$platform" = windows ]; then echo x86_64-w64-mingw32-strip
    else echo strip; fi
}
strip="$(strip_tool)"

install -d "$dest/bin" "$dest/include" "$dest/$libdir/pkgconfig" "$dest/$libdir/cmake/superoffice" \
    "$dest/share/doc/superoffice"
install -m 0644 "$root/include/superoffice.h" "$root/include/superoffice.hpp" "$dest/include/"
# The static library as rustc wrote it: llvm-strip's rewrite of it is an archive GNU ld
# cannot read, and GNU strip knows no aarch64.
install -m 0644 "$from/libsuperoffice.a" "$dest/$libdir/libsuperoffice.a"

if [ "$platform" = linux ]; then
    [ -f "$from/libsuperoffice.so" ] || fail "$from/libsuperoffice.so is missing"
    [ -f "$from/superoffice" ] || fail "$from/superoffice (the command line) is missing"
    install -m 0644 "$from/libsuperoffice.so" "$dest/$libdir/libsuperoffice.so.$version"
    "$strip" --strip-unneeded "$dest/$libdir/libsuperoffice.so.$version"
    ln -sfn "libsuperoffice.so.$version" "$dest/$libdir/libsuperoffice.so.$major"
    ln -sfn "libsuperoffice.so.$major" "$dest/$libdir/libsuperoffice.so"
    install -m 0755 "$from/superoffice" "$dest/bin/superoffice"
    "$strip" "$dest/bin/superoffice"
else
    for f in superoffice.dll libsuperoffice.dll.a superoffice.exe; do
        [ -f "$from/$f" ] || fail "$from/$f is missing"
    done
    install -m 0755 "$from/superoffice.dll" "$from/superoffice.exe" "$dest/bin/"
    "$strip" --strip-unneeded "$dest/bin/superoffice.dll"
    "$strip" "$dest/bin/superoffice.exe"
    install -m 0644 "$from/libsuperoffice.dll.a" "$dest/$libdir/libsuperoffice.dll.a"
    # MSVC's import library, from a .def of every function the header declares.
    def="$probe/superoffice.def"
    "$root/packaging/def.sh" "$root/include/superoffice.h" >"$def"
    if command -v llvm-dlltool >/dev/null 2>&1; then
        llvm-dlltool -m i386:x86-64 -d "$def" -D superoffice.dll -l "$dest/$libdir/superoffice.lib"
    else
        x86_64-w64-mingw32-dlltool -m i386:x86-64 -d "$def" -D superoffice.dll -l "$dest/$libdir/superoffice.lib"
    fi
fi

# superoffice.pc and the CMake package, each from its one template.
if [ -n "$prefix" ]; then
    pc_prefix="$prefix"
else
    pc_prefix='${pcfiledir}/../..'
    [ "$libdir" = lib ] || fail "a relocatable superoffice.pc needs --libdir lib"
fi
up="$(sed -E 's#[^/]+#..#g' <<<"$libdir/cmake/superoffice")"
fill() {
    sed -e "s|@VERSION@|$version|g" -e "s|@SOVERSION@|$major|g" -e "s|@PLATFORM@|$platform|g" \
        -e "s|@LIBDIR@|$libdir|g" -e "s|@PC_PREFIX@|$pc_prefix|g" -e "s|@CMAKE_TO_PREFIX@|$up|g" \
        -e "s|@NATIVE_LIBS@|$native_libs|g" -e "s|@CMAKE_STATIC_LIBS@|$cmake_libs|g" "$1" >"$2"
    chmod 0644 "$2"
}
fill "$root/packaging/superoffice.pc.in" "$dest/$libdir/pkgconfig/superoffice.pc"
fill "$root/packaging/cmake/superofficeConfig.cmake.in" "$dest/$libdir/cmake/superoffice/superofficeConfig.cmake"
fill "$root/packaging/cmake/superofficeConfigVersion.cmake.in" \
    "$dest/$libdir/cmake/superoffice/superofficeConfigVersion.cmake"

install -m 0644 "$root/README.md" "$root/SECURITY.md" "$root/LICENSE-MIT" "$root/LICENSE-APACHE" \
    "$dest/share/doc/superoffice/"
if [ -n "$notices" ]; then
    install -m 0644 "$notices" "$dest/share/doc/superoffice/THIRD-PARTY-NOTICES.txt"
fi
