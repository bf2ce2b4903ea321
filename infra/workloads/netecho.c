/*
 * netecho: a TCP echo server, and a client that measures round trips against it.
 *
 *   netecho [port] [hold_mb]                    server (env NETECHO_PORT, default 7000), optionally
 *                                               holding hold_mb MB of written memory
 *   netecho client <host> <port> [interval_ms] [size]
 *                                               sends `size` bytes (default 64) every interval
 *                                               (default 100 ms) on one connection, checks each
 *                                               echo byte for byte, prints "seq=<n> rtt_us=<n>";
 *                                               exits 1 on a reset/close, 3 on a mismatch
 *   netecho probe <host> <port> [interval_ms] [duration_s] [timeout_ms]
 *                                               like client but reconnects on failure and counts:
 *                                               one summary line per second (see probe())
 *
 * The server is single-threaded with poll(), so its whole state is a handful of fds and one
 * buffer: easy for CRIU (use --tcp-established to keep live connections).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_FDS = 256 };

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills buf with bytes that depend on the request's sequence number, so a lost, duplicated or
 * reordered byte anywhere in the stream shows up as a mismatch. */
static void fill(char *buf, size_t size, unsigned long seq) {
  for (size_t i = 0; i < size; i++) buf[i] = (char)('a' + (seq * 31 + i) % 26);
}

static int connect_to(const struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) { close(fd); return -1; }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int parse_addr(const char *host, const char *port, struct sockaddr_in *addr) {
  *addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  if (inet_pton(AF_INET, host, &addr->sin_addr) != 1) { fprintf(stderr, "netecho: bad IPv4 address\n"); return -1; }
  return 0;
}

/* Reads exactly size bytes, waiting at most timeout_ms in total (< 0: forever). 0 ok, -1 closed or
 * failed (errno kept), -2 timed out. */
static int read_full(int fd, char *back, size_t size, long timeout_ms) {
  size_t got = 0;
  double deadline = mono_s() + (double)timeout_ms / 1000.0;
  while (got < size) {
    if (timeout_ms >= 0) {
      long left = (long)((deadline - mono_s()) * 1000.0);
      if (left <= 0) return -2;
      struct pollfd p = {.fd = fd, .events = POLLIN};
      int r = poll(&p, 1, (int)left);
      if (r == 0) return -2;
      if (r < 0) continue;
    }
    ssize_t n = read(fd, back + got, size - got);
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

static int client(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: netecho client <host> <port> [interval_ms] [size]\n"); return 2; }
  long interval_ms = argc > 4 ? atol(argv[4]) : 100;
  size_t size = argc > 5 ? (size_t)atol(argv[5]) : 64;
  if (size == 0 || size > 65536) size = 64;
  struct sockaddr_in addr;
  if (parse_addr(argv[2], argv[3], &addr) != 0) return 2;
  int fd = connect_to(&addr);
  if (fd < 0) { perror("netecho: connect"); return 1; }
  char *buf = malloc(size), *back = malloc(size);
  for (unsigned long seq = 0;; seq++) {
    double t0 = mono_s();
    fill(buf, size, seq);
    if (write(fd, buf, size) != (ssize_t)size) { perror("netecho: write"); return 1; }
    if (read_full(fd, back, size, -1) != 0) { perror("netecho: connection closed"); return 1; }
    if (memcmp(buf, back, size) != 0) { printf("netecho: mismatch seq=%lu\n", seq); return 3; }
    printf("seq=%lu rtt_us=%.0f\n", seq, (mono_s() - t0) * 1e6);
    struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* A client that keeps going: one request every interval on a kept connection; a request that is
 * not echoed within timeout_ms, a reset or a mismatch counts as failed and the connection is
 * re-opened (a reconnect). Prints a summary line every second and at the end:
 *   probe t_s=.. ok=.. failed=.. reconnects=.. mismatches=.. max_gap_ms=.. last_gap_ms=..
 * max_gap_ms is the longest time between two successful echoes (what a user of the service sees). */
static int probe(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: netecho probe <host> <port> [interval_ms] [duration_s] [timeout_ms]\n"); return 2; }
  long interval_ms = argc > 4 ? atol(argv[4]) : 10;
  double duration_s = argc > 5 ? atof(argv[5]) : 0; /* 0: forever */
  long timeout_ms = argc > 6 ? atol(argv[6]) : 5000;
  struct sockaddr_in addr;
  if (parse_addr(argv[2], argv[3], &addr) != 0) return 2;
  enum { SIZE = 64 };
  char buf[SIZE], back[SIZE];
  unsigned long ok = 0, failed = 0, reconnects = 0, mismatches = 0, seq = 0;
  double start = mono_s(), last_ok = start, max_gap = 0, next_report = start + 1;
  int fd = connect_to(&addr);
  for (;;) {
    double now = mono_s();
    if (duration_s > 0 && now - start >= duration_s) break;
    if (fd < 0) {
      fd = connect_to(&addr);
      if (fd < 0) { failed++; goto wait; }
      reconnects++;
    }
    fill(buf, SIZE, seq);
    if (write(fd, buf, SIZE) != SIZE) { failed++; close(fd); fd = -1; goto wait; }
    int r = read_full(fd, back, SIZE, timeout_ms);
    if (r != 0) { failed++; close(fd); fd = -1; goto wait; }
    if (memcmp(buf, back, SIZE) != 0) { mismatches++; failed++; close(fd); fd = -1; goto wait; }
    seq++;
    ok++;
    now = mono_s();
    if (now - last_ok > max_gap) max_gap = now - last_ok;
    last_ok = now;
  wait:
    now = mono_s();
    if (now >= next_report) {
      printf("probe t_s=%.1f ok=%lu failed=%lu reconnects=%lu mismatches=%lu max_gap_ms=%.0f\n", now - start, ok,
             failed, reconnects, mismatches, max_gap * 1000);
      next_report += 1;
    }
    struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  double now = mono_s();
  if (now - last_ok > max_gap) max_gap = now - last_ok;
  printf("probe done t_s=%.1f ok=%lu failed=%lu reconnects=%lu mismatches=%lu max_gap_ms=%.0f\n", now - start, ok, failed,
         reconnects, mismatches, max_gap * 1000);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1 && strcmp(argv[1], "client") == 0) return client(argc, argv);
  if (argc > 1 && strcmp(argv[1], "probe") == 0) return probe(argc, argv);
  int port = argc > 1 ? atoi(argv[1]) : getenv("NETECHO_PORT") ? atoi(getenv("NETECHO_PORT")) : 7000;
  /* Optional ballast: a server holding <mb> MB of written memory, so a move has that much to carry. */
  long hold_mb = argc > 2 ? atol(argv[2]) : 0;
  if (hold_mb > 0) {
    size_t n = (size_t)hold_mb << 20;
    unsigned char *ballast = malloc(n);
    if (!ballast) { perror("netecho: ballast"); return 1; }
    for (size_t i = 0; i < n; i += 4096) ballast[i] = (unsigned char)(i >> 12);
  }
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 64) != 0) { perror("netecho: bind/listen"); return 1; }
  printf("netecho listening pid=%d port=%d\n", (int)getpid(), port);

  struct pollfd fds[MAX_FDS];
  int nfds = 1;
  fds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
  static char buf[65536];
  unsigned long long echoed = 0;
  for (;;) {
    if (poll(fds, (nfds_t)nfds, -1) < 0) continue;
    if (fds[0].revents & POLLIN) {
      int cfd = accept(lfd, NULL, NULL);
      if (cfd >= 0 && nfds < MAX_FDS) {
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fds[nfds++] = (struct pollfd){.fd = cfd, .events = POLLIN};
        printf("netecho connection open clients=%d\n", nfds - 1);
      } else if (cfd >= 0) {
        close(cfd);
      }
    }
    for (int i = 1; i < nfds; i++) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      ssize_t off = 0;
      while (n > 0 && off < n) {
        ssize_t w = write(fds[i].fd, buf + off, (size_t)(n - off));
        if (w <= 0) { n = -1; break; }
        off += w;
      }
      if (n <= 0) {
        close(fds[i].fd);
        fds[i] = fds[--nfds];
        i--;
        printf("netecho connection closed clients=%d echoed_bytes=%llu\n", nfds - 1, echoed);
      } else {
        echoed += (unsigned long long)n;
      }
    }
  }
}
