#!/usr/bin/env bash
# Tests of what packaging/cross/build.sh built. Usage: tests/cross/test.sh [PART...]
#   linux    the glibc 2.17 builds: highest GLIBC_ version needed <= 2.17, format, exports;
#            test_superoffice.c against each (aarch64 under qemu-user; stub: $SO_STUB_URL)
#   windows  superoffice.dll: format, exports, the DLLs it imports; then the C tests of
#            tests/c compiled with mingw-w64 and run under wine against the stub
#            ($SO_STUB_URL; run through tests/with-stub.sh)
#   macos    the compiled (not linked) static libraries hold Mach-O objects of each arch
#   wheels   build/wheels (packaging/wheels.sh): each wheel carries its platform's library;
#            the manylinux x86_64 wheel installed into a fresh venv sends to the stub
#   nuget    build/nuget (packaging/nuget.sh): the package's files, each native library's
#            format; its assembly and linux-x64 library, run by Mono, send to the stub
# Without PART: linux, windows and macos. Exit 1 at the first failure.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../packaging/cross/env.sh"
cd "$root"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok   $*"; }

# The functions the header declares, sorted.
header_functions() {
    sed -nE 's/^[a-z][^(]*[ *](so_[a-z0-9_]+)\(.*/\1/p' include/superoffice.h | sort
}

# file(1)'s description of $1 must match the extended regex $2.
expect_format() {
    local what
    what="$(file -b "$1")"
    grep -Eq "$2" <<<"$what" || fail "$1 is \"$what\", expected /$2/"
    ok "$(basename "$(dirname "$(dirname "$1")")")/$(basename "$1"): $what"
}

part_linux() {
    local so arch max
    for so in "$linux_so" "$linux_arm64_so"; do
        [ -f "$so" ] || fail "$so is missing: run packaging/cross/build.sh"
        case "$so" in
            */aarch64-*) arch="ARM aarch64" ;;
            *) arch="x86-64" ;;
        esac
        expect_format "$so" "^ELF 64-bit LSB shared object, $arch"
        max="$(objdump -T "$so" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -uV | tail -1)"
        [ -n "$max" ] || fail "$so: no GLIBC_ symbol versions found"
        [ "$(printf '%s\n2.17\n' "$max" | sort -V | tail -1)" = "2.17" ] ||
            fail "$so needs GLIBC_$max, more than 2.17"
        ok "${so#"$root"/} needs at most GLIBC_$max"
        diff <(header_functions) <(nm -D --defined-only "$so" | awk '$3 ~ /^so_/ {print $3}' | sort) >&2 ||
            fail "$so exports other so_ functions than include/superoffice.h declares"
        ok "${so#"$root"/} exports the $(header_functions | wc -l) functions of the header"
    done

    # The shipped x86_64 library runs the C tests here, as this machine's own build does.
    [ -n "${SO_STUB_URL:-}" ] || fail "SO_STUB_URL is not set: run through tests/with-stub.sh"
    local dir="$cross/linux-x64" start=$SECONDS last
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$linux_so" "$dir/libsuperoffice.so"
    ln -s libsuperoffice.so "$dir/libsuperoffice.so.0"
    ${CC:-cc} -std=c11 -O0 -g -Wall -Wextra -Werror -Iinclude tests/c/test_superoffice.c -o "$dir/test_superoffice" \
        -L"$dir" -lsuperoffice -Wl,-rpath,"$dir" -lpthread
    [ "$(ldd "$dir/test_superoffice" | awk '$1 == "libsuperoffice.so.0" {print $3}')" = "$dir/libsuperoffice.so.0" ] ||
        fail "the test program does not load the glibc 2.17 build"
    "$dir/test_superoffice" >"$dir/test.log" 2>&1 || { cat "$dir/test.log" >&2; fail "C tests against the glibc 2.17 build"; }
    last="$(tail -n 1 "$dir/test.log")"
    ok "C tests against the glibc 2.17 libsuperoffice.so: $last ($((SECONDS - start)) s)"

    # The aarch64 one too, compiled by zig for glibc 2.17 and run by qemu-user with
    # Debian's aarch64 glibc.
    dir="$cross/linux-arm64"
    start=$SECONDS
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$linux_arm64_so" "$dir/libsuperoffice.so"
    ln -s libsuperoffice.so "$dir/libsuperoffice.so.0"
    "$cross_venv/bin/python" -m ziglang cc -target aarch64-linux-gnu.2.17 -std=c11 -O0 -g -Wall -Wextra -Werror \
        -Iinclude tests/c/test_superoffice.c -o "$dir/test_superoffice" -L"$dir" -lsuperoffice -lpthread
    local format
    format="$(file -b "$dir/test_superoffice")"
    [[ "$format" == *"ARM aarch64"* ]] || fail "$dir/test_superoffice is not an aarch64 program ($format)"
    QEMU_LD_PREFIX=/usr/aarch64-linux-gnu LD_LIBRARY_PATH="$dir" qemu-aarch64 "$dir/test_superoffice" \
        >"$dir/test.log" 2>&1 || { cat "$dir/test.log" >&2; fail "C tests against the aarch64 build under qemu-user"; }
    last="$(tail -n 1 "$dir/test.log")"
    grep -Eq '^[0-9]+ passed, 0 failed' <<<"$last" || { cat "$dir/test.log" >&2; fail "aarch64 under qemu: $last"; }
    ok "C tests against the aarch64 glibc 2.17 libsuperoffice.so under qemu-user: $last ($((SECONDS - start)) s)"
}

part_windows() {
    [ -f "$win_dll" ] || fail "$win_dll is missing: run packaging/cross/build.sh"
    [ -f "$win_implib" ] || fail "$win_implib (import library) is missing"
    expect_format "$win_dll" '^PE32\+ executable \(DLL\).*x86-64'
    local exports imports
    exports="$(x86_64-w64-mingw32-objdump -p "$win_dll" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' |
        grep -oE '\bso_[a-z0-9_]+' | sort)"
    diff <(header_functions) <(echo "$exports") >&2 ||
        fail "superoffice.dll exports other so_ functions than include/superoffice.h declares"
    ok "superoffice.dll exports the $(header_functions | wc -l) functions of the header"
    imports="$(x86_64-w64-mingw32-objdump -p "$win_dll" | sed -n 's/^\s*DLL Name: //p' | sort -uf | tr '\n' ' ')"
    # Only Windows' own DLLs: no libgcc_s, libwinpthread or other mingw runtime to ship.
    if grep -Eiq 'libgcc|libwinpthread|libstdc' <<<"$imports"; then
        fail "superoffice.dll imports a mingw runtime DLL: $imports"
    fi
    ok "superoffice.dll imports only system DLLs: $imports"

    [ -n "${SO_STUB_URL:-}" ] || fail "SO_STUB_URL is not set: run through tests/with-stub.sh"
    local out="$cross/windows"
    mkdir -p "$out"
    local cflags=(-std=c11 -O0 -g -Wall -Wextra -Werror -Iinclude)
    x86_64-w64-mingw32-gcc "${cflags[@]}" -O2 -shared -o "$out/bcryptprimitives.dll" \
        tests/windows/bcryptprimitives.c -ladvapi32
    cp "$win_dll" "$out/"
    local prog
    for prog in test_superoffice test_faults soak; do
        x86_64-w64-mingw32-gcc "${cflags[@]}" "tests/c/$prog.c" -o "$out/$prog.exe" \
            -L"$(dirname "$win_implib")" -lsuperoffice -lws2_32 -lpsapi
    done
    # wine keeps this process's environment (SO_STUB_URL) for the Windows program.
    run_wine() {
        local start=$SECONDS log="$out/$1.log" last
        shift
        if ! (cd "$out" && "$wine" "$@") >"$log" 2>&1; then
            cat "$log" >&2
            fail "under wine: $*"
        fi
        last="$(tail -n 1 "$log" | tr -d '\r')"
        grep -Eq '^[0-9]+ passed, 0 failed' <<<"$last" || { cat "$log" >&2; fail "under wine: $*: $last"; }
        ok "wine $*: $last ($((SECONDS - start)) s)"
    }
    # The soak's send part is shorter than on Linux (8 x 10,000): under wine each send
    # costs about ten times what it costs natively (wineserver round trips).
    run_wine test_superoffice test_superoffice.exe
    run_wine test_faults test_faults.exe
    run_wine soak-send soak.exe send 8 1000
    run_wine soak-churn soak.exe churn 100000
    "$(dirname "$wine")/wineserver" -k 2>/dev/null || true
}

part_macos() {
    local a arch dir n bad
    for a in "$mac_x64_a" "$mac_arm64_a"; do
        [ -f "$a" ] || fail "$a is missing: run packaging/cross/build.sh"
        case "$a" in
            */aarch64-*) arch="arm64" ;;
            *) arch="x86_64" ;;
        esac
        # zig's ar (llvm-ar) reads the BSD archive format rustc writes for Apple targets.
        dir="$cross/macos-$arch"
        rm -rf "$dir"
        mkdir -p "$dir"
        (cd "$dir" && "$cross_venv/bin/python" -m ziglang ar x "$a")
        n="$(find "$dir" -name '*.o' | wc -l)"
        [ "$n" -gt 0 ] || fail "$a holds no object files"
        bad="$(find "$dir" -name '*.o' -exec file -b {} + | grep -cv "^Mach-O 64-bit $arch object" || true)"
        [ "$bad" = 0 ] || fail "$a: $bad of $n objects are not Mach-O $arch objects"
        [ -n "$(find "$dir" -name 'superoffice-*.o' -print -quit)" ] || fail "$a holds no object of this crate"
        ok "$(basename "$(dirname "$(dirname "$a")")")/libsuperoffice.a: $n Mach-O 64-bit $arch objects, this crate's and ring's (compiled, not linked)"
        rm -rf "$dir"
    done
}

# The names in the zip file $1 (a wheel, a .nupkg), one a line.
zip_names() {
    python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"
}

# The format of the zip entry $2 of $1, by file(1).
entry_format() {
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2" |
        file -b -
}

# Each wheel holds the library its tag names, in the format of that platform.
part_wheels() {
    local dir="$root/build/wheels" w n=0
    for w in "$dir"/superoffice_ffi-*.whl; do
        [ -f "$w" ] || fail "no wheels in $dir: run packaging/wheels.sh"
        local entry want
        case "$w" in
            *manylinux_2_17_x86_64*) entry=superoffice_ffi/libsuperoffice.so want='^ELF 64-bit LSB shared object, x86-64' ;;
            *manylinux_2_17_aarch64*) entry=superoffice_ffi/libsuperoffice.so want='^ELF 64-bit LSB shared object, ARM aarch64' ;;
            *win_amd64*) entry=superoffice_ffi/superoffice.dll want='^PE32\+ executable \(DLL\).*x86-64' ;;
            *macosx*x86_64*) entry=superoffice_ffi/libsuperoffice.dylib want='^Mach-O 64-bit.*x86_64' ;;
            *macosx*arm64*) entry=superoffice_ffi/libsuperoffice.dylib want='^Mach-O 64-bit.*arm64' ;;
            *) fail "$(basename "$w"): a wheel of no known platform" ;;
        esac
        local names
        names="$(zip_names "$w")"
        grep -qx "$entry" <<<"$names" || fail "$(basename "$w") does not hold $entry"
        [ "$(grep -c -E '^superoffice_ffi/(lib)?superoffice\.(so|dll|dylib)$' <<<"$names")" = 1 ] ||
            fail "$(basename "$w") holds more than one library"
        grep -qx superoffice_ffi/_native.py <<<"$names" || fail "$(basename "$w") has no _native.py"
        local what
        what="$(entry_format "$w" "$entry")"
        grep -Eq "$want" <<<"$what" || fail "$(basename "$w"): $entry is \"$what\""
        ok "$(basename "$w"): $entry: $(cut -d, -f1-2 <<<"$what")"
        n=$((n + 1))
    done
    [ "$n" -ge 3 ] || fail "expected at least 3 wheels in $dir, found $n"

    # The manylinux wheel, installed into a fresh venv, sends to the stub.
    [ -n "${SO_STUB_URL:-}" ] || fail "SO_STUB_URL is not set: run through tests/with-stub.sh"
    local venv="$cross/wheel-venv" elsewhere="$cross/wheel-run"
    rm -rf "$venv" "$elsewhere"
    python3 -m venv "$venv"
    venv="$(cd "$venv" && pwd -P)"
    "$venv/bin/python" -m pip install -q --no-index "$dir"/superoffice_ffi-*-manylinux_2_17_x86_64*.whl
    mkdir -p "$elsewhere"
    local prefix="/wheel-$$-$RANDOM" result
    result="$(cd "$elsewhere" && env -u SUPEROFFICE_LIB -u PYTHONPATH SO_PREFIX="$prefix" \
        "$venv/bin/python" - <<'PY'
import json, os, urllib.request
import superoffice_ffi as so
stub, prefix = os.environ["SO_STUB_URL"], os.environ["SO_PREFIX"]
with so.Client(f"{stub}{prefix}/Cust12345", ticket="7T:dGVzdA==") as client:
    client.send_customer_centre_password_email(670, sender="support@example.com",
                                               recipient="kari@example.com", subject="wheel")
with urllib.request.urlopen(f"{stub}/_stub/count?prefix={prefix}") as answer:
    count = json.load(answer)["count"]
print(so.library_source(), os.path.realpath(so.library_path()), count)
PY
    )" || fail "the manylinux wheel did not send"
    local source path count
    read -r source path count <<<"$result"
    [ "$source" = package ] || fail "the wheel's library was found via $source, not the package"
    case "$path" in
        "$venv"/*) ;;
        *) fail "the wheel loaded $path, not the one in $venv" ;;
    esac
    [ "$count" = 1 ] || fail "the stub recorded $count requests, expected 1"
    ok "manylinux wheel in a fresh venv: loaded ${path#"$root"/}, sent 1 e-mail to the stub"
}

# The package's files and each native library's format.
part_nuget() {
    local pkg
    local version
    version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' "$root/Cargo.toml")"
    # This version's package by name: never whichever file an earlier build left.
    pkg="$root/build/nuget/SuperOffice.Ffi.$version.nupkg"
    [ -f "$pkg" ] || fail "no $(basename "$pkg") in build/nuget: run packaging/nuget.sh"
    local names
    names="$(zip_names "$pkg" | sort)"
    echo "$(basename "$pkg"):"
    sed 's/^/    /' <<<"$names"
    local entry want
    while read -r entry want; do
        grep -qx "$entry" <<<"$names" || fail "$(basename "$pkg") has no $entry"
        local what
        what="$(entry_format "$pkg" "$entry")"
        grep -Eq "$want" <<<"$what" || fail "$entry is \"$what\", expected /$want/"
        ok "$entry: ${what}"
    done <<'LIST'
runtimes/win-x64/native/superoffice.dll ^PE32\+ executable \(DLL\).*x86-64
runtimes/linux-x64/native/libsuperoffice.so ^ELF 64-bit LSB shared object, x86-64
runtimes/linux-arm64/native/libsuperoffice.so ^ELF 64-bit LSB shared object, ARM aarch64
lib/net472/SuperOffice.Ffi.dll Mono/\.Net assembly
SuperOffice.Ffi.nuspec XML
README.md text
LIST
    for entry in runtimes/osx-x64/native/libsuperoffice.dylib runtimes/osx-arm64/native/libsuperoffice.dylib; do
        if grep -qx "$entry" <<<"$names"; then
            what="$(entry_format "$pkg" "$entry")"
            grep -Eq '^Mach-O 64-bit' <<<"$what" || fail "$entry is \"$what\", expected Mach-O"
            ok "$entry: $what"
        fi
    done
    # Nothing else under runtimes/: no test-only DLL (bcryptprimitives) shipped.
    local extra
    extra="$(grep '^runtimes/' <<<"$names" | grep -Ev '^runtimes/(win-x64/native/superoffice\.dll|linux-(x64|arm64)/native/libsuperoffice\.so|osx-(x64|arm64)/native/libsuperoffice\.dylib)$' || true)"
    [ -z "$extra" ] || fail "unexpected files under runtimes/: $extra"
    ok "runtimes/ holds one library per runtime and nothing else"

    # The package used as NuGet would lay it out on linux-x64: the sample compiled against
    # lib/net472/SuperOffice.Ffi.dll, run by Mono with [DllImport("superoffice")]
    # resolved to runtimes/linux-x64/native/libsuperoffice.so, sends to the stub.
    [ -n "${SO_STUB_URL:-}" ] || fail "SO_STUB_URL is not set: run through tests/with-stub.sh"
    local run="$cross/nuget-run" prefix="/nuget-$$-$RANDOM"
    rm -rf "$run"
    mkdir -p "$run/app"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$pkg" "$run/package"
    cp "$run/package/lib/net472/SuperOffice.Ffi.dll" "$run/app/"
    mcs -langversion:7.2 -nologo -r:System.dll -r:System.Core.dll -r:"$run/app/SuperOffice.Ffi.dll" \
        -target:exe -out:"$run/app/SendPasswordEmail.exe" bindings/csharp/samples/SendPasswordEmail.cs
    local out
    out="$(cd "$run/app" && LD_LIBRARY_PATH="$run/package/runtimes/linux-x64/native" \
        SO_BASE_URL="$SO_STUB_URL$prefix/Cust12345" SO_TICKET="7T:dGVzdA==" SO_PERSON_ID=670 \
        mono SendPasswordEmail.exe 2>&1)" || { echo "$out" >&2; fail "the package's sample did not send"; }
    local count
    count="$(python3 -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["count"])' \
        "$SO_STUB_URL/_stub/count?prefix=$prefix")"
    [ "$count" = 1 ] || fail "the stub recorded $count requests from the package's sample, expected 1"
    ok "the package's net472 assembly and linux-x64 library (Mono): the sample sent 1 e-mail to the stub"
    rm -rf "$run"
}

parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=(linux windows macos)
for p in "${parts[@]}"; do
    "part_$p"
done
