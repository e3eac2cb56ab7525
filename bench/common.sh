# The set-up the benchmark scripts share (bench/run.sh, bench/latency.sh,
# bench/async/run.sh); sourced, never run. Before sourcing, a script sets BENCH_NAME (the
# prefix of its messages). It gets:
#   bench_root                the repository
#   say / die                 messages on stderr ("die" exits 1)
#   bench_need WHAT...        installs what is missing, quietly (Debian packages): nginx,
#                             curl-dev (libcurl's headers), openssl, valgrind, strip,
#                             strace, perf, venv (python3-venv)
#   bench_free_ports N        N free TCP ports on 127.0.0.1, on one line
#   bench_load                the load average now (1, 5, 15 minutes)
#   bench_start_nginx DIR CONF_EXTRA   nginx on two free loopback ports (http, https with
#                             the certificate made by bench_make_cert DIR), answering 204
#                             on the benchmark's path; sets nginx_pid, http_port, https_port
#   bench_make_cert DIR       a throwaway CA (DIR/ca.pem) and a server certificate for
#                             127.0.0.1 (DIR/server.pem, DIR/server.key)
#   bench_venv DIR PKG...     a venv at DIR with PKG... from PyPI (made once); prints its python
#   bench_strace OUT CMD...   CMD under strace -f -c (every thread); per-name counts in OUT
#                             as "name calls" lines
#   bench_per_send WITH WITHOUT N   per-name difference of two bench_strace files divided
#                             by N: "name per-send" lines, most frequent first
# Timing never fails a run: what fails is set-up, or a request that failed.

bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
die() { say "$*"; exit 1; }

bench_have_curl_h() {
    [ -f /usr/include/curl/curl.h ] || [ -f "/usr/include/$(gcc -dumpmachine 2>/dev/null)/curl/curl.h" ]
}

bench_need() {
    local missing=() w
    for w in "$@"; do
        case "$w" in
            nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light) ;;
            curl-dev) bench_have_curl_h || missing+=(libcurl4-openssl-dev) ;;
            openssl) command -v openssl >/dev/null 2>&1 || missing+=(openssl) ;;
            valgrind) command -v valgrind >/dev/null 2>&1 || missing+=(valgrind) ;;
            strip) command -v strip >/dev/null 2>&1 || missing+=(binutils) ;;
            strace) command -v strace >/dev/null 2>&1 || missing+=(strace) ;;
            perf) command -v perf >/dev/null 2>&1 || missing+=(linux-perf) ;;
            venv) python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv) ;;
            *) die "bench_need: unknown tool $w" ;;
        esac
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    say "installing ${missing[*]}"
    [ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]} (or install them first)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
        # Releases without nginx-light have plain nginx.
        apt-get install -y -qq "${missing[@]/nginx-light/nginx}" >/dev/null
    fi
}

bench_free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
EOF
}

bench_load() { cut -d' ' -f1-3 /proc/loadavg; }

bench_make_cert() {
    local d="$1"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=superoffice-ffi bench CA" \
        -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$d/ext.cnf"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" >/dev/null 2>&1
}

nginx_pid=""
bench_start_nginx() {
    local d="$1" extra_load="${2:-}" extra_location="${3:-}" user_line="" nginx
    nginx="$(command -v nginx || echo /usr/sbin/nginx)"
    read -r http_port https_port < <(bench_free_ports 2)
    if [ "$(id -u)" -eq 0 ]; then
        user_line="user $(id -un) $(id -gn);"
    fi
    mkdir -p "$d/nginx"
    cat >"$d/nginx.conf" <<EOF
$extra_load
$user_line
worker_processes auto;
daemon off;
master_process on;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    client_body_temp_path $d/nginx/body;
    proxy_temp_path $d/nginx/proxy;
    fastcgi_temp_path $d/nginx/fastcgi;
    uwsgi_temp_path $d/nginx/uwsgi;
    scgi_temp_path $d/nginx/scgi;
    ssl_certificate $d/server.pem;
    ssl_certificate_key $d/server.key;
    server {
        listen 127.0.0.1:$http_port;
        listen 127.0.0.1:$https_port ssl;
        location = /Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail { return 204; }
        $extra_location
    }
}
EOF
    "$nginx" -p "$d/nginx" -c "$d/nginx.conf" -e "$d/error.log" &
    nginx_pid=$!
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null; then return 0; fi
        kill -0 "$nginx_pid" 2>/dev/null || die "nginx did not start: $(cat "$d/error.log" 2>/dev/null)"
        sleep 0.1
    done
    die "nginx did not answer on 127.0.0.1:$http_port"
}

bench_stop_nginx() {
    if [ -n "$nginx_pid" ]; then
        kill "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=""
    fi
}

bench_venv() {
    local venv="$1"
    shift
    if [ ! -f "$venv/.ready" ] || [ "$(cat "$venv/.ready")" != "$*" ]; then
        rm -rf "$venv"
        python3 -m venv "$venv" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
        echo "$*" >"$venv/.ready"
    fi
    echo "$venv/bin/python"
}

bench_strace() {
    local out="$1"
    shift
    strace -f -c -o "$out.raw" "$@" >/dev/null 2>"$out.err" || die "strace run failed: $* ($(tail -2 "$out.err"))"
    # strace -c: "% time seconds usecs/call calls [errors] syscall"; the errors column may
    # be empty, so the name is the last field and the calls the fourth.
    awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {print $NF, $4}' "$out.raw" >"$out"
}

bench_per_send() {
    awk -v n="$3" '
        FNR == NR {without[$1] = $2; next}
        {d = $2 - without[$1]; if (d > 0) printf "%s %.2f\n", $1, d / n}
    ' "$2" "$1" | sort -k2,2nr -k1,1
}
