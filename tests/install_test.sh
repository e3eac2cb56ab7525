#!/usr/bin/env bash
# `make install` into a temporary prefix, then build the C sample against the installed
# copy with pkg-config (shared and static) and send to the stub ($SO_STUB_URL).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${SO_STUB_URL:?run under tests/with-stub.sh}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
make -C "$root" --no-print-directory install PREFIX="$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
fail() { echo "install test: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
# What the loader and pkg-config were steered by, and what a program asks of them: printed
# when a linking check fails, so the failure says why.
explain() {
    local prog="$1"
    echo "--- ldd $prog:" >&2
    ldd "$prog" >&2 || echo "(ldd exited with $?)" >&2
    echo "--- readelf -d $prog (RUNPATH, RPATH, NEEDED):" >&2
    readelf -d "$prog" | grep -E 'RUNPATH|RPATH|NEEDED' >&2 || true
    echo "--- the environment of the loader and pkg-config:" >&2
    local v
    for v in LD_LIBRARY_PATH LD_PRELOAD LD_RUN_PATH LIBRARY_PATH PKG_CONFIG_PATH PKG_CONFIG_LIBDIR \
             PKG_CONFIG_SYSROOT_DIR CC CFLAGS LDFLAGS TMPDIR; do
        echo "$v=${!v-<unset>}" >&2
    done
    echo "--- pkg-config --libs superoffice: $(pkg-config --libs superoffice 2>&1)" >&2
}
# ldd's output is captured whole before it is matched: `ldd | grep -q` under pipefail fails
# at random when grep exits at the first match and ldd, still writing a line at a time,
# dies of SIGPIPE.
ldd_of() { ldd "$1" 2>&1 || true; }
# The installed copy is what is tested: a loader path the caller's shell set is not.
for v in LD_LIBRARY_PATH LD_PRELOAD; do
    if [ -n "${!v:-}" ]; then
        echo "install test: unsetting $v=${!v} for this test" >&2
        unset "$v"
    fi
done

[ "$(pkg-config --modversion superoffice)" = "$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' "$root/Cargo.toml")" ] \
    || fail "pkg-config version differs from Cargo.toml"
soname="$(readelf -d "$tmp/prefix/lib/libsuperoffice.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')"
[ "$soname" = "libsuperoffice.so.0" ] || fail "soname is '$soname'"

cc -std=c11 -Wall -Werror $(pkg-config --cflags superoffice) "$root/bindings/c/send_password_email.c" \
    -o "$tmp/sample" $(pkg-config --libs superoffice) -Wl,-rpath,"$tmp/prefix/lib"
deps="$(ldd_of "$tmp/sample")"
case "$deps" in
    *"libsuperoffice.so.0 => $tmp/prefix/lib/libsuperoffice.so.0 "*) ;;
    *) explain "$tmp/sample"; fail "sample not linked to the installed library" ;;
esac
SO_BASE_URL="$SO_STUB_URL/install-test/Cust12345" SO_TICKET='7T:dGVzdA==' "$tmp/sample" >/dev/null \
    || fail "shared sample failed"

cc -std=c11 -Wall -Werror $(pkg-config --cflags superoffice) "$root/bindings/c/send_password_email.c" \
    -o "$tmp/sample-static" "$tmp/prefix/lib/libsuperoffice.a" $(pkg-config --libs-only-other --static superoffice) -lpthread -ldl -lm
deps="$(ldd_of "$tmp/sample-static")"
case "$deps" in
    *libsuperoffice*) explain "$tmp/sample-static"; fail "static sample still needs the shared library" ;;
esac
SO_BASE_URL="$SO_STUB_URL/install-test/Cust12345" SO_TICKET='7T:dGVzdA==' "$tmp/sample-static" >/dev/null \
    || fail "static sample failed"

version_line="$("$tmp/prefix/bin/superoffice" --version)" || fail "the installed superoffice program does not start"
[[ "$version_line" == "superoffice "* ]] || fail "the superoffice program is not installed (--version said '$version_line')"
SO_BASE_URL="$SO_STUB_URL/install-test/Cust12345" SO_TICKET='7T:dGVzdA==' "$tmp/prefix/bin/superoffice" \
    send-password-email --person-id 670 >/dev/null || fail "the installed superoffice program failed"

# The C++ wrapper: the installed superoffice.hpp, found through the same Cflags as the C
# header, compiled into the C++ sample, which sends to the stub.
[ -f "$tmp/prefix/include/superoffice.hpp" ] || fail "superoffice.hpp is not installed"
cmp -s "$root/include/superoffice.hpp" "$tmp/prefix/include/superoffice.hpp" || fail "the installed superoffice.hpp differs"
"$root/tests/ensure-cxx.sh" g++
# -H lists every header the compiler opened (on standard error): the installed one must be.
if ! g++ -std=c++17 -Wall -Wextra -Werror -pedantic -H $(pkg-config --cflags superoffice) \
        "$root/bindings/cpp/send_password_email.cpp" -o "$tmp/sample-cpp" $(pkg-config --libs superoffice) \
        -Wl,-rpath,"$tmp/prefix/lib" 2>"$tmp/includes"; then
    grep -v '^\.' "$tmp/includes" >&2 || true
    fail "the C++ sample does not build against the installed headers"
fi
includes="$(cat "$tmp/includes")"
case "$includes" in
    *"$tmp/prefix/include/superoffice.hpp"*) ;;
    *) fail "the C++ sample did not include the installed superoffice.hpp" ;;
esac
deps="$(ldd_of "$tmp/sample-cpp")"
case "$deps" in
    *"libsuperoffice.so.0 => $tmp/prefix/lib/libsuperoffice.so.0 "*) ;;
    *) explain "$tmp/sample-cpp"; fail "C++ sample not linked to the installed library" ;;
esac
SO_BASE_URL="$SO_STUB_URL/install-test/Cust12345" SO_TICKET='7T:dGVzdA==' "$tmp/sample-cpp" >/dev/null \
    || fail "C++ sample failed"

count="$(curl -s "$SO_STUB_URL/_stub/count?prefix=/install-test")"
count="${count//[^0-9]/}"
[ "$count" -ge 4 ] || fail "the stub saw $count requests"
echo "install test: 6 passed, 0 failed"
