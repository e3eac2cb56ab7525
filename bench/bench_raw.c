/* The practical limit: one keep-alive TCP connection, a fixed request (the library's
 * exact bytes) written with one write(), the 204 read back; nothing parsed but the
 * status line and the end of the header.
 * Usage: bench_raw HOST PORT N WARMUP */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

static char request[2048];
static size_t request_len;

static void send_n(int fd, long n) {
    char buf[4096];
    for (long i = 0; i < n; i++) {
        size_t off = 0;
        while (off < request_len) {
            ssize_t w = write(fd, request + off, request_len - off);
            if (w <= 0) {
                perror("bench_raw: write");
                exit(1);
            }
            off += (size_t)w;
        }
        size_t got = 0;
        for (;;) {
            ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
            if (r <= 0) {
                fprintf(stderr, "bench_raw: read failed or connection closed at send %ld\n", i);
                exit(1);
            }
            got += (size_t)r;
            buf[got] = 0;
            if (got >= 4 && memcmp(buf + got - 4, "\r\n\r\n", 4) == 0) break;
            if (got == sizeof buf - 1) {
                fprintf(stderr, "bench_raw: answer too long\n");
                exit(1);
            }
        }
        if (strncmp(buf, "HTTP/1.1 204", 12) != 0) {
            fprintf(stderr, "bench_raw: unexpected answer: %.40s\n", buf);
            exit(1);
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_raw HOST PORT N WARMUP\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    long n = b_arg_long(argc, argv, 3, 20000), warm = b_arg_long(argc, argv, 4, 1000);
    int len = snprintf(request, sizeof request,
                       "POST " B_PATH " HTTP/1.1\r\n"
                       "content-length: %zu\r\n"
                       "host: %s:%d\r\n"
                       "accept: application/json\r\n"
                       "content-type: application/json; charset=utf-8\r\n"
                       "user-agent: " B_USER_AGENT "\r\n"
                       "so-apptoken: " B_APP_TOKEN "\r\n"
                       "accept-language: " B_LANGUAGE "\r\n"
                       "so-language: " B_LANGUAGE "\r\n"
                       "authorization: SOTicket " B_TICKET "\r\n"
                       "\r\n" B_BODY,
                       strlen(B_BODY), host, port);
    request_len = (size_t)len;

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("bench_raw: connect");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    send_n(fd, warm);
    double t0 = b_now(), c0 = b_cpu();
    send_n(fd, n);
    b_rates(n, t0, c0);
    close(fd);
    return 0;
}
