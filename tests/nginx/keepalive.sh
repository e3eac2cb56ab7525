#!/usr/bin/env bash
# Keep-alive against a real server: Debian's nginx on a free loopback port, started here
# (installed quietly when missing), with two tenants:
#   /Every3/...  keepalive_requests 3: nginx closes every connection after its third answer;
#   /Idle1s/...  keepalive_timeout 1s: nginx closes a connection idle for 1 s.
# Runs tests/c/test_keepalive.c against them (built by the Makefile, under ASan and UBSan).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
prog="${1:?usage: keepalive.sh path/to/test_keepalive}"
say() { printf 'keepalive.sh: %s\n' "$*" >&2; }

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    say "installing nginx-light from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq nginx-light >/dev/null 2>&1 || apt-get install -y -qq nginx >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/so-keepalive.XXXXXX")"
nginx_pid=""
cleanup() {
    [ -n "$nginx_pid" ] && { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT

read -r every3_port idle_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
ep="api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    log_format tenant "\$request_uri";
    server {
        listen 127.0.0.1:$every3_port;
        keepalive_requests 3;
        access_log $tmp/every3.log tenant;
        location = /Every3/$ep { return 204; }
    }
    server {
        listen 127.0.0.1:$idle_port;
        keepalive_timeout 1s;
        access_log $tmp/idle.log tenant;
        location = /Idle1s/$ep { return 204; }
    }
}
CONF
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx.conf" -e "$tmp/error.log" &
nginx_pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$idle_port") 2>/dev/null && break
    kill -0 "$nginx_pid" 2>/dev/null || { say "nginx did not start: $(cat "$tmp/error.log")"; exit 1; }
    sleep 0.1
done
export SO_EVERY3_URL="http://127.0.0.1:$every3_port/Every3"
export SO_IDLE_URL="http://127.0.0.1:$idle_port/Idle1s"
export SO_EVERY3_LOG="$tmp/every3.log" SO_IDLE_LOG="$tmp/idle.log"
"$prog"
