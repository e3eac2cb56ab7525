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

[ "$(pkg-config --modversion superoffice)" = "$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)" ] \
    || fail "pkg-config version differs from Cargo.toml"
soname="$(readelf -d "$tmp/prefix/lib/libsuperoffice.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')"
[ "$soname" = "libsuperoffice.so.0" ] || fail "soname is '$soname'"

cc -std=c11 -Wall -Werror $(pkg-config --cflags superoffice) "$root/bindings/c/send_password_email.c" \
    -o "$tmp/sample" $(pkg-config --libs superoffice) -Wl,-rpath,"$tmp/prefix/lib"
ldd "$tmp/sample" | grep -q "libsuperoffice.so.0 => $tmp/prefix/lib/" || fail "sample not linked to the installed library"
SO_BASE_URL="$SO_STUB_URL/install-test/Cust12345" SO_TICKET='7T:dGVzdA==' "$tmp/sample" >/dev/null \
    || fail "shared sample failed"

cc -std=c11 -Wall -Werror $(pkg-config --cflags superoffice) "$root/bindings/c/send_password_email.c" \
    -o "$tmp/sample-static" "$tmp/prefix/lib/libsuperoffice.a" $(pkg-config --libs-only-other --static superoffice) -lpthread -ldl -lm
ldd "$tmp/sample-static" | grep -q libsuperoffice && fail "static sample still needs the shared library"
SO_BASE_URL="$SO_STUB_URL/install-test/Cust12345" SO_TICKET='7T:dGVzdA==' "$tmp/sample-static" >/dev/null \
    || fail "static sample failed"

"$tmp/prefix/bin/superoffice" --version | grep -q "^superoffice " || fail "the superoffice program is not installed"
SO_BASE_URL="$SO_STUB_URL/install-test/Cust12345" SO_TICKET='7T:dGVzdA==' "$tmp/prefix/bin/superoffice" \
    send-password-email --person-id 670 >/dev/null || fail "the installed superoffice program failed"

count="$(curl -s "$SO_STUB_URL/_stub/count?prefix=/install-test" | sed 's/[^0-9]//g')"
[ "$count" -ge 3 ] || fail "the stub saw $count requests"
echo "install test: 5 passed, 0 failed"
