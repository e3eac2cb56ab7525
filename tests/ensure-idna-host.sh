#!/bin/sh
# Makes the international test host name so-stub.bæk.test resolve to 127.0.0.1, for the
# tests of international host names (IDNA) against the stub. Its ASCII form,
# so-stub.xn--bk-1ia.test, is what the library resolves; the entry goes into /etc/hosts
# only when it is missing and the file is writable (a throwaway test machine).
# Idempotent. Exit status 0 when the name resolves to 127.0.0.1, 1 otherwise (the tests
# then check the conversion alone and say so).
NAME=so-stub.xn--bk-1ia.test
resolves() { getent ahostsv4 "$NAME" 2>/dev/null | grep -q '^127\.0\.0\.1 '; }
resolves && exit 0
if [ -w /etc/hosts ] && ! grep -qs "[[:space:]]$NAME\([[:space:]]\|\$\)" /etc/hosts; then
    printf '127.0.0.1 %s\n' "$NAME" >> /etc/hosts
fi
resolves
