#!/usr/bin/env bash
# test-dist: what `make dist` wrote in build/dist, used from outside as a user would.
#   contents   SHA256SUMS verifies and covers every file; each archive's and package's file
#              list equals its manifest (packaging/manifests); no test-only file ships
#   cmake      the version rule of superofficeConfigVersion.cmake (0.x at least the one asked)
#   install    `make install` into a temporary prefix: tests/consumer built with CMake
#   linux      each Linux archive unpacked, then moved under a folder whose path has a space:
#              the .so's soname, links, strip, no RPATH/RUNPATH, GLIBC <= 2.17; tests/consumer
#              with CMake (aarch64 with Debian's cross gcc, run under qemu-user), pkg-config shared and
#              --static builds; the archive's superoffice program
#   windows    the zip unpacked and moved likewise: tests/consumer cross-built with the
#              mingw-w64 posix toolchain file, run under wine; superoffice.lib's imports are
#              the header's functions; superoffice.exe; GCC's win32 thread model builds the
#              synchronous example and fails on a std::future send with the one named error
#   debs       lintian reports no error; as root: dpkg -i, tests/consumer and pkg-config find
#              them with no path, send, dpkg -r leaves none of their files (not root: skipped)
# Every program sends one e-mail to the stub ($SO_STUB_URL; run through tests/with-stub.sh),
# counted by the stub. Usage: tests/dist_test.sh [PART...] (default: all, in that order).
# SO_UPDATE_MANIFESTS=1 rewrites packaging/manifests from build/dist (review the diff).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../packaging/cross/env.sh"
cd "$root"
: "${SO_STUB_URL:?run under tests/with-stub.sh}"
version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' Cargo.toml)"
dist="$root/build/dist"
work="$root/build/dist-test"
rm -rf "$work"
mkdir -p "$work"
passed=0
skipped=0

ok() { echo "ok   $*"; passed=$((passed + 1)); }
skip() { echo "skip $*"; skipped=$((skipped + 1)); }
fail() {
    echo "FAIL: $*" >&2
    echo "dist: $passed passed, 1 failed"
    exit 1
}
# A command's output captured whole before it is matched (no SIGPIPE under pipefail).
out_of() { "$@" 2>&1 || true; }

header_functions() {
    sed -nE 's/^[a-z][^(]*[ *](so_[a-z0-9_]+)\(.*/\1/p' include/superoffice.h | sort -u
}

# The stub's count of requests whose path starts with $1.
stub_count() {
    local n
    n="$(curl -s "$SO_STUB_URL/_stub/count?prefix=$1")"
    echo "${n//[^0-9]/}"
}

# sends WHAT PROGRAM [ARGS...]: the program, run with SO_BASE_URL under a fresh prefix of
# the stub, exits 0 and the stub saw exactly one request from it.
seq_no=0
sends() {
    local what="$1" prefix log
    shift
    seq_no=$((seq_no + 1))
    prefix="/dist-$$-$seq_no"
    log="$work/send-$seq_no.log"
    if ! SO_BASE_URL="$SO_STUB_URL$prefix/Cust12345" SO_TICKET='7T:dGVzdA==' "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "$what did not send"
    fi
    [ "$(stub_count "$prefix")" = 1 ] || { cat "$log" >&2; fail "$what: the stub saw $(stub_count "$prefix") requests, expected 1"; }
    ok "$what sent one e-mail to the stub"
}

# The file list of an archive or package, its top folder and version written as in the
# manifests (@VERSION@).
listing() {
    case "$1" in
        *.tar.gz) tar -tzf "$1" | grep -v '/$' | sed "s#^[^/]*/##" ;;
        *.zip) python3 -c 'import sys, zipfile; print("\n".join(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if not n.endswith("/")))' "$1" |
            sed "s#^[^/]*/##" ;;
        *.deb) dpkg-deb --fsys-tarfile "$1" | tar -t | grep -v '/$' | sed 's#^\./#/#' ;;
    esac | sed "s/$(sed 's/\./\\./g' <<<"$version")/@VERSION@/g" | LC_ALL=C sort
}

# Whether two paths name the same file (/lib is /usr/lib on a merged-/usr system).
same_file() { [ -n "$1" ] && [ "$(realpath "$1")" = "$(realpath "$2")" ]; }

# ldd's answer for the library: the path libsuperoffice.so.0 was loaded from.
loaded_from() { out_of "$@" | sed -n 's/^[[:space:]]*libsuperoffice\.so\.0 => \(.*\) (0x[0-9a-f]*)$/\1/p'; }

part_contents() {
    [ -f "$dist/SHA256SUMS" ] || fail "no build/dist/SHA256SUMS: run make dist"
    (cd "$dist" && sha256sum --quiet --strict -c SHA256SUMS) >&2 || fail "SHA256SUMS does not verify"
    diff <(awk '{print $2}' "$dist/SHA256SUMS" | LC_ALL=C sort) <(cd "$dist" && ls | grep -vx SHA256SUMS | LC_ALL=C sort) >&2 ||
        fail "SHA256SUMS does not cover exactly the files of build/dist"
    ok "SHA256SUMS verifies its $(wc -l <"$dist/SHA256SUMS") files, every file of build/dist"
    local f manifest name
    for f in "$dist"/*.tar.gz "$dist"/*.zip "$dist"/*.deb; do
        name="$(basename "$f")"
        case "$name" in
            superoffice-"$version"-*.tar.gz) manifest="${name#superoffice-"$version"-}"; manifest="${manifest%.tar.gz}" ;;
            superoffice-"$version"-*.zip) manifest="${name#superoffice-"$version"-}"; manifest="${manifest%.zip}" ;;
            *.deb) manifest="${name%%_*}" ;;
        esac
        manifest="packaging/manifests/$manifest.txt"
        if [ "${SO_UPDATE_MANIFESTS:-}" = 1 ]; then
            mkdir -p packaging/manifests
            listing "$f" >"$manifest"
        fi
        [ -f "$manifest" ] || fail "$name has no manifest $manifest (SO_UPDATE_MANIFESTS=1 writes it)"
        diff "$manifest" <(listing "$f") >&2 || fail "$name: its files differ from $manifest (< manifest, > archive)"
        if listing "$f" | grep -qi 'bcryptprimitives'; then fail "$name holds the test-only bcryptprimitives stand-in"; fi
        ok "$name: $(listing "$f" | wc -l) files, as $manifest lists"
    done
    for f in "$dist"/*.tar.gz "$dist"/*.zip; do
        name="$(basename "$f")"
        name="${name%.tar.gz}"
        name="${name%.zip}"
        local tops
        case "$f" in
            *.zip) tops="$(python3 -c 'import sys, zipfile; print("\n".join(sorted({n.split("/")[0] for n in zipfile.ZipFile(sys.argv[1]).namelist()})))' "$f")" ;;
            *) tops="$(tar -tzf "$f" | cut -d/ -f1 | sort -u)" ;;
        esac
        [ "$tops" = "$name" ] || fail "$(basename "$f") has top folders '$tops', expected one: $name"
    done
    ok "each archive has one top folder of its own name"
}

# The version rule, asked of superofficeConfigVersion.cmake as find_package asks it.
part_cmake() {
    local template="packaging/cmake/superofficeConfigVersion.cmake.in" have want expect got
    while read -r have want expect; do
        sed -e "s/@VERSION@/$have/g" -e "s/@SOVERSION@/${have%%.*}/g" "$template" >"$work/version.cmake"
        cat >"$work/ask.cmake" <<EOF
set(PACKAGE_FIND_VERSION "$want")
set(CMAKE_SIZEOF_VOID_P 8)
include("$work/version.cmake")
message("\${PACKAGE_VERSION_COMPATIBLE}")
EOF
        got="$(cmake -P "$work/ask.cmake" 2>&1)"
        [ "$got" = "$expect" ] || fail "superoffice $have asked for $want: compatible=$got, expected $expect"
    done <<'CASES'
0.1.0 0.1 TRUE
0.1.5 0.1.0 TRUE
0.2.0 0.1 TRUE
0.1.0 0.0.9 TRUE
0.1.0 0.2 FALSE
0.1.0 1.0 FALSE
1.0.0 0.1 FALSE
CASES
    ok "version rule: 0.1 accepts 0.1.x and 0.2; 0.2 refuses 0.1.0; 1.0 refuses 0.x"
}

# configure_consumer BUILD PREFIX [CMAKE ARGS...]: tests/consumer against PREFIX.
configure_consumer() {
    local build="$1" prefix="$2"
    shift 2
    if ! cmake -S tests/consumer -B "$build" -DCMAKE_BUILD_TYPE=Release ${prefix:+"-DCMAKE_PREFIX_PATH=$prefix"} "$@" \
            >"$build.log" 2>&1 || ! cmake --build "$build" -j 2 >>"$build.log" 2>&1; then
        cat "$build.log" >&2
        fail "tests/consumer does not build against ${prefix:-the system}"
    fi
}

# The consumer's three programs on this machine: the shared ones load PREFIX's library.
check_native_consumer() {
    local what="$1" build="$2" libdir="$3"
    local prog
    for prog in consumer_shared consumer_cxx; do
        same_file "$(loaded_from ldd "$build/$prog")" "$libdir/libsuperoffice.so.0" ||
            { ldd "$build/$prog" >&2; fail "$what: $prog does not load $libdir/libsuperoffice.so.0"; }
    done
    ok "$what: ldd shows consumer_shared and consumer_cxx loading $libdir/libsuperoffice.so.0"
    case "$(out_of readelf -d "$build/consumer_static")" in
        *libsuperoffice*) fail "$what: consumer_static still needs libsuperoffice" ;;
    esac
    ok "$what: consumer_static needs no libsuperoffice"
    sends "$what: consumer_shared" "$build/consumer_shared"
    sends "$what: consumer_static" "$build/consumer_static"
    sends "$what: consumer_cxx" "$build/consumer_cxx"
}

# CMake 3.16 (PyPI's cmake 3.16.8 in a venv of its own, installed once when missing):
# the oldest CMake the package promises. Prints its path, or nothing when pip cannot get it.
cmake_3_16() {
    local venv="$cross/cmake-3.16"
    if [ ! -x "$venv/bin/cmake" ]; then
        rm -rf "$venv"
        { python3 -m venv "$venv" && "$venv/bin/python" -m pip install -q "cmake==3.16.8"; } \
            >"$work/cmake-3.16.log" 2>&1 || { rm -rf "$venv"; return 0; }
    fi
    echo "$venv/bin/cmake"
}

part_install() {
    local prefix="$work/install prefix"
    make --no-print-directory install PREFIX="$prefix" >"$work/install.log" 2>&1 ||
        { cat "$work/install.log" >&2; fail "make install"; }
    # Built with CMake 3.16 when PyPI has it (the archives below use this machine's CMake).
    local old_cmake
    old_cmake="$(cmake_3_16)"
    if [ -n "$old_cmake" ]; then
        PATH="$(dirname "$old_cmake"):$PATH" configure_consumer "$work/consumer-install" "$prefix"
        ok "tests/consumer configured and built by $("$old_cmake" --version | head -n 1) against make install"
    else
        skip "CMake 3.16: pip could not install cmake==3.16.8 (details: build/dist-test/cmake-3.16.log)"
        configure_consumer "$work/consumer-install" "$prefix"
    fi
    check_native_consumer "make install" "$work/consumer-install" "$prefix/lib"

    # The version rule as find_package applies it: 1.0 is not found, 0.1 is.
    mkdir -p "$work/versions"
    cat >"$work/versions/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(versions NONE)
find_package(superoffice 1.0 CONFIG QUIET)
set(found_1_0 "${superoffice_FOUND}")
find_package(superoffice 0.1 CONFIG QUIET)
message(STATUS "1.0: ${found_1_0}; 0.1: ${superoffice_FOUND} ${superoffice_VERSION}")
EOF
    local said
    said="$(cmake -S "$work/versions" -B "$work/versions/build" -DCMAKE_PREFIX_PATH="$prefix" 2>&1 | sed -n 's/^-- 1\.0: /1.0: /p')"
    [ "$said" = "1.0: 0; 0.1: 1 $version" ] || fail "find_package by version: '$said', expected '1.0: 0; 0.1: 1 $version'"
    ok "find_package(superoffice 1.0) is not found, find_package(superoffice 0.1) finds $version"
}

# unpack ARCHIVE: unpacked in one folder, then moved under "$work/moved here"; prints the
# moved top folder.
unpack() {
    local archive="$1" name
    name="$(basename "$archive")"
    name="${name%.tar.gz}"
    name="${name%.zip}"
    rm -rf "$work/unpacked" "$work/moved here/$name"
    mkdir -p "$work/unpacked" "$work/moved here"
    case "$archive" in
        *.zip) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$work/unpacked"
               chmod +x "$work/unpacked/$name/bin/"* ;;
        *) tar -xzf "$archive" -C "$work/unpacked" ;;
    esac
    mv "$work/unpacked/$name" "$work/moved here/$name"
    rmdir "$work/unpacked"
    echo "$work/moved here/$name"
}

# The shipped .so: soname, links, stripped, no RPATH/RUNPATH, GLIBC <= 2.17.
check_so() {
    local top="$1" arch="$2" so="$1/lib/libsuperoffice.so.$version" dyn max
    [ "$(readlink "$top/lib/libsuperoffice.so.0")" = "libsuperoffice.so.$version" ] &&
        [ "$(readlink "$top/lib/libsuperoffice.so")" = "libsuperoffice.so.0" ] || fail "$arch: the .so links are wrong"
    dyn="$(out_of readelf -d "$so")"
    grep -q 'SONAME.*\[libsuperoffice\.so\.0\]' <<<"$dyn" || fail "$arch: soname is not libsuperoffice.so.0"
    if grep -Eq 'RPATH|RUNPATH' <<<"$dyn"; then fail "$arch: the .so has an RPATH or RUNPATH"; fi
    [[ "$(file -b "$so")" == *", stripped"* ]] || fail "$arch: the .so is not stripped ($(file -b "$so"))"
    [[ "$(file -b "$top/bin/superoffice")" == *", stripped"* ]] || fail "$arch: bin/superoffice is not stripped"
    for f in "$so" "$top/bin/superoffice"; do
        max="$(objdump -T "$f" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -uV | tail -1)"
        [ "$(printf '%s\n2.17\n' "$max" | sort -V | tail -1)" = "2.17" ] || fail "$f needs GLIBC_$max"
    done
    ok "$arch: libsuperoffice.so.$version (stripped, soname libsuperoffice.so.0, no RPATH/RUNPATH) and bin/superoffice need at most GLIBC 2.17"
}

# pkg-config builds against the moved archive TOP with compiler CC: shared and --static.
# Its output escapes the space in the path, so the command line goes through eval.
pkg_config_builds() {
    local top="$1" cc="$2" out="$3"
    export PKG_CONFIG_PATH="$top/lib/pkgconfig"
    [ "$(pkg-config --modversion superoffice)" = "$version" ] || fail "pkg-config --modversion"
    local cflags libs static
    cflags="$(pkg-config --cflags superoffice)"
    libs="$(pkg-config --libs superoffice)"
    static="$(pkg-config --static --libs superoffice | sed 's/-lsuperoffice\b/-l:libsuperoffice.a/')"
    eval "$cc -std=c11 -Wall -Werror $cflags tests/consumer/consumer.c -o \"$out-pc-shared\" $libs"
    eval "$cc -std=c11 -Wall -Werror $cflags tests/consumer/consumer.c -o \"$out-pc-static\" $static"
    unset PKG_CONFIG_PATH
}

part_linux() {
    local arch top build
    # x86_64, natively.
    top="$(unpack "$dist/superoffice-$version-x86_64-unknown-linux-gnu.tar.gz")"
    check_so "$top" x86_64
    build="$work/consumer-x86_64"
    configure_consumer "$build" "$top"
    check_native_consumer "x86_64 archive" "$build" "$top/lib"
    pkg_config_builds "$top" cc "$build/consumer"
    same_file "$(loaded_from env LD_LIBRARY_PATH="$top/lib" ldd "$build/consumer-pc-shared")" "$top/lib/libsuperoffice.so.0" ||
        fail "the pkg-config build does not load the archive's library"
    case "$(out_of readelf -d "$build/consumer-pc-static")" in
        *libsuperoffice*) fail "the pkg-config --static build still needs libsuperoffice" ;;
    esac
    # The same system libraries from pkg-config --static as CMake gives superoffice::static
    # (the thread library aside: CMake's comes from find_dependency(Threads)).
    local from_pc from_cmake
    from_pc="$(PKG_CONFIG_PATH="$top/lib/pkgconfig" pkg-config --static --libs-only-l superoffice | tr ' ' '\n' |
        grep -v -x -e '' -e -lsuperoffice -e -lpthread | sort -u)"
    from_cmake="$(grep -oE '(^| )-l[^ ]+' "$build/CMakeFiles/consumer_static.dir/link.txt" | tr -d ' ' |
        grep -v -x -e -lpthread | sort -u)"
    [ -n "$from_pc" ] && [ "$from_pc" = "$from_cmake" ] ||
        fail "pkg-config --static gives $(echo $from_pc), CMake's superoffice::static $(echo $from_cmake)"
    ok "pkg-config --static and superoffice::static link the same system libraries: $(echo $from_pc)"
    sends "x86_64 archive: pkg-config shared build" env LD_LIBRARY_PATH="$top/lib" "$build/consumer-pc-shared"
    sends "x86_64 archive: pkg-config --static build (no libsuperoffice needed)" "$build/consumer-pc-static"
    [[ "$("$top/bin/superoffice" --version)" == "superoffice "* ]] || fail "the archive's superoffice --version"
    sends "x86_64 archive: bin/superoffice" "$top/bin/superoffice" send-password-email --person-id 670

    # aarch64: Debian's cross compilers (tests/consumer/aarch64-linux-gnu.cmake), the
    # programs run by qemu-user with Debian's aarch64 glibc and libstdc++.
    top="$(unpack "$dist/superoffice-$version-aarch64-unknown-linux-gnu.tar.gz")"
    check_so "$top" aarch64
    build="$work/consumer-aarch64"
    configure_consumer "$build" "$top" -DCMAKE_TOOLCHAIN_FILE="$root/tests/consumer/aarch64-linux-gnu.cmake"
    local prog qemu=(env QEMU_LD_PREFIX=/usr/aarch64-linux-gnu qemu-aarch64)
    for prog in consumer_shared consumer_cxx; do
        [[ "$(file -b "$build/$prog")" == *"ARM aarch64"* ]] || fail "$prog is not an aarch64 program"
        # ldd's own way, through the loader run by qemu.
        same_file "$(loaded_from "${qemu[@]}" -E LD_TRACE_LOADED_OBJECTS=1 "$build/$prog")" "$top/lib/libsuperoffice.so.0" ||
            fail "aarch64: $prog does not load $top/lib/libsuperoffice.so.0"
    done
    ok "aarch64 archive: the loader (under qemu-user) shows consumer_shared and consumer_cxx loading $top/lib/libsuperoffice.so.0"
    case "$(out_of readelf -d "$build/consumer_static")" in
        *libsuperoffice*) fail "aarch64: consumer_static still needs libsuperoffice" ;;
    esac
    ok "aarch64 archive: consumer_static needs no libsuperoffice"
    for prog in consumer_shared consumer_static consumer_cxx; do
        sends "aarch64 archive under qemu-user: $prog" "${qemu[@]}" "$build/$prog"
    done
    pkg_config_builds "$top" aarch64-linux-gnu-gcc "$build/consumer"
    sends "aarch64 archive under qemu-user: pkg-config shared build" \
        "${qemu[@]}" -E LD_LIBRARY_PATH="$top/lib" "$build/consumer-pc-shared"
    sends "aarch64 archive under qemu-user: pkg-config --static build" "${qemu[@]}" "$build/consumer-pc-static"
    sends "aarch64 archive under qemu-user: bin/superoffice" "${qemu[@]}" "$top/bin/superoffice" send-password-email --person-id 670
}

part_windows() {
    local top build
    top="$(unpack "$dist/superoffice-$version-x86_64-pc-windows-gnu.zip")"

    # superoffice.lib (MSVC's import library): an import for every function of the header,
    # and no other symbol but the import descriptors.
    local nm imports others
    # Every defined external symbol (upper-case type, not U) of every member.
    nm="$(llvm-nm "$top/lib/superoffice.lib" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[A-Z]$/ && $2 != "U" {print $3}' |
        tr -d '\177' | sort -u)"
    imports="$(grep -E '^__imp_' <<<"$nm" | sed 's/^__imp_//')"
    diff <(header_functions) <(echo "$imports") >&2 || fail "superoffice.lib's imports differ from the header's functions"
    others="$(grep -Ev '^__imp_' <<<"$nm" | grep -vxF -f <(header_functions) |
        grep -Ev '^(__IMPORT_DESCRIPTOR_superoffice|__NULL_IMPORT_DESCRIPTOR|superoffice_NULL_THUNK_DATA)$' || true)"
    [ -z "$others" ] || fail "superoffice.lib has other symbols: $others"
    ok "superoffice.lib (llvm-nm): an import for each of the header's $(header_functions | wc -l) functions, no other"

    # What the package gives MSVC, read from the package (no MSVC here): superoffice.lib as
    # the import library and no superoffice::static; mingw gets libsuperoffice.dll.a.
    mkdir -p "$work/msvc"
    cat >"$work/msvc/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(msvc C)
set(MSVC "${AS_MSVC}")
find_package(superoffice 0.1 CONFIG REQUIRED)
get_target_property(implib superoffice::superoffice IMPORTED_IMPLIB)
get_filename_component(implib "${implib}" NAME)
if(TARGET superoffice::static)
  set(static "defined")
else()
  set(static "not defined")
endif()
message(STATUS "package: ${implib}, superoffice::static ${static}")
EOF
    local as said want
    for as in 1 0; do
        rm -rf "$work/msvc/build"
        said="$(cmake -S "$work/msvc" -B "$work/msvc/build" -DAS_MSVC=$as -DCMAKE_PREFIX_PATH="$top" 2>&1 |
            sed -n 's/^-- package: //p')"
        if [ "$as" = 1 ]; then want="superoffice.lib, superoffice::static not defined"
        else want="libsuperoffice.dll.a, superoffice::static defined"; fi
        [ "$said" = "$want" ] || fail "the Windows package with MSVC=$as gives '$said', expected '$want'"
    done
    ok "windows zip: the CMake package gives MSVC superoffice.lib and no superoffice::static, mingw libsuperoffice.dll.a (read, not linked by MSVC)"

    # tests/consumer with the mingw-w64 posix toolchain, run under wine: superoffice.dll
    # found through WINEPATH in the moved bin/ (no copy beside the programs); beside them
    # only the test-only bcryptprimitives stand-in and the posix toolchain's runtime DLLs
    # (libstdc++, libgcc_s_seh, libwinpthread), as a Windows user ships them with a program.
    build="$work/consumer-windows"
    configure_consumer "$build" "$top" -DCMAKE_TOOLCHAIN_FILE="$root/tests/consumer/mingw-w64-posix.cmake"
    x86_64-w64-mingw32-gcc -O2 -shared -o "$build/bcryptprimitives.dll" tests/windows/bcryptprimitives.c -ladvapi32
    local dll
    for dll in libstdc++-6.dll libgcc_s_seh-1.dll libwinpthread-1.dll; do
        cp "$(x86_64-w64-mingw32-g++-posix -print-file-name="$dll")" "$build/" ||
            fail "the posix toolchain has no $dll to put beside the programs"
    done
    [ ! -e "$build/superoffice.dll" ] || fail "a superoffice.dll sits beside the consumer"
    case "$(out_of x86_64-w64-mingw32-objdump -p "$build/consumer_static.exe")" in
        *"DLL Name: superoffice.dll"*) fail "consumer_static.exe imports superoffice.dll" ;;
    esac
    ok "windows zip: consumer_static.exe imports no superoffice.dll"
    # wine sees this machine's / as drive Z:.
    local winbin="Z:${top//\//\\}\\bin" winbuild="Z:${build//\//\\}" prog
    for prog in consumer_shared consumer_static consumer_cxx; do
        sends "windows zip under wine: $prog.exe" env WINEPATH="$winbin" "$wine" "$build/$prog.exe"
    done
    # The command line, in the moved bin/, with the stand-in found through WINEPATH.
    sends "windows zip under wine: bin/superoffice.exe" env WINEPATH="$winbin;$winbuild" "$wine" \
        "$top/bin/superoffice.exe" send-password-email --person-id 670
    "$(dirname "$wine")/wineserver" -k 2>/dev/null || true

    # GCC's win32 thread model: no std::future. The synchronous example builds and links;
    # a std::future send fails with one error, naming the posix thread model.
    x86_64-w64-mingw32-g++-win32 -std=c++17 -Wall -Wextra -Werror -pedantic -I"$top/include" \
        bindings/cpp/send_password_email.cpp -o "$work/send_password_email-win32.exe" "$top/lib/libsuperoffice.dll.a" ||
        fail "the synchronous C++ example does not build with x86_64-w64-mingw32-g++-win32"
    ok "x86_64-w64-mingw32-g++-win32 (no std::future) builds bindings/cpp/send_password_email.cpp"
    local errors
    errors="$(x86_64-w64-mingw32-g++-win32 -std=c++17 -Wall -Wextra -pedantic -I"$top/include" -fsyntax-only \
        tests/consumer/no_std_future.cpp 2>&1 | grep -E '(^|: )error:' || true)"
    [ "$(grep -c . <<<"$errors")" = 1 ] && grep -q 'x86_64-w64-mingw32-g++-posix' <<<"$errors" ||
        { echo "$errors" >&2; fail "a std::future send under the win32 thread model does not give the one named error"; }
    ok "x86_64-w64-mingw32-g++-win32: a std::future send gives one error: ${errors#*error: }"
}

part_debs() {
    local debs=("$dist"/libsuperoffice0_"$version"_amd64.deb "$dist"/libsuperoffice-dev_"$version"_amd64.deb
                "$dist"/superoffice_"$version"_amd64.deb)
    local report
    command -v lintian >/dev/null || fail "lintian is missing (packaging/cross/toolchains.sh installs it)"
    # Its exit status: 0 with no error (warnings and notes do not count), else 1.
    if ! report="$(lintian --no-cfg --fail-on error "${debs[@]}" 2>&1)" || grep -q '^E: ' <<<"$report"; then
        echo "$report" >&2
        fail "lintian reports errors"
    fi
    ok "lintian: no error ($(grep -c '^W: ' <<<"$report" || true) warnings: $(grep '^W: ' <<<"$report" | awk '{print $3}' | sort -u | paste -sd ' ' -))"

    if [ "$(id -u)" -ne 0 ]; then
        skip "debs: not root, so not installed with dpkg -i"
        return
    fi
    local pkg
    for pkg in libsuperoffice0 libsuperoffice-dev superoffice; do
        if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" = "install ok installed" ]; then
            skip "debs: $pkg is already installed on this machine; not installed over it"
            return
        fi
    done
    remove_debs() { dpkg -r superoffice libsuperoffice-dev libsuperoffice0 >"$work/dpkg-r.log" 2>&1; }
    trap 'remove_debs || true' EXIT
    dpkg -i "${debs[@]}" >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log" >&2; fail "dpkg -i"; }
    ok "dpkg -i installed the three packages"
    local build="$work/consumer-deb"
    configure_consumer "$build" ""
    check_native_consumer "installed .debs" "$build" /usr/lib/x86_64-linux-gnu
    cc -std=c11 -Wall -Werror $(pkg-config --cflags superoffice) tests/consumer/consumer.c -o "$build/consumer-pc" \
        $(pkg-config --libs superoffice) || fail "a pkg-config build against the installed .debs"
    sends "installed .debs: pkg-config build" "$build/consumer-pc"
    sends "installed .debs: /usr/bin/superoffice" superoffice send-password-email --person-id 670
    remove_debs || { cat "$work/dpkg-r.log" >&2; fail "dpkg -r"; }
    trap - EXIT
    local left=() path
    for deb in "${debs[@]}"; do
        while read -r path; do
            if [ -e "$path" ] || [ -L "$path" ]; then left+=("$path"); fi
        done < <(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -v '/$' | sed 's#^\./#/#')
    done
    [ "${#left[@]}" = 0 ] || fail "dpkg -r left files behind: ${left[*]}"
    ok "dpkg -r removed the three packages, none of their files left"
}

parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=(contents cmake install linux windows debs)
for p in "${parts[@]}"; do
    "part_$p"
done
echo "dist: $passed passed, 0 failed, $skipped skipped"
