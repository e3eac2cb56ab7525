#!/usr/bin/env bash
# Installs Debian's tinyproxy when it is missing (the proxy tests start it themselves, in
# the foreground, on a free port of 127.0.0.1). Needs root, as on the project's machines.
set -euo pipefail
if command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/sbin/tinyproxy ] || [ -x /usr/bin/tinyproxy ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "ensure-tinyproxy: tinyproxy is missing; run 'apt-get install -y tinyproxy' as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt may hold the lock for a while: wait for it.
for _ in $(seq 1 60); do
    if apt-get install -y -qq tinyproxy >/dev/null 2>&1; then
        exit 0
    fi
    apt-get update -qq >/dev/null 2>&1 || true
    sleep 2
done
echo "ensure-tinyproxy: could not install tinyproxy" >&2
exit 1
