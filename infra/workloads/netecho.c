/*
 * netecho: a TCP echo server, and a client that measures round trips against it.
 *
 *   netecho [port]                              server (env NETECHO_PORT, default 7000)
 *   netecho client <host> <port> [interval_ms] [size]
 *                                               sends `size` bytes (default 64) every interval
 *                                               (default 100 ms), prints "rtt_us=<n>" per echo
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

static int client(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: netecho client <host> <port> [interval_ms] [size]\n"); return 2; }
  long interval_ms = argc > 4 ? atol(argv[4]) : 100;
  size_t size = argc > 5 ? (size_t)atol(argv[5]) : 64;
  if (size == 0 || size > 65536) size = 64;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
  if (inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1) { fprintf(stderr, "netecho: bad IPv4 address\n"); return 2; }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("netecho: connect"); return 1; }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char *buf = malloc(size), *back = malloc(size);
  memset(buf, 'x', size);
  for (unsigned long seq = 0;; seq++) {
    double t0 = mono_s();
    if (write(fd, buf, size) != (ssize_t)size) { perror("netecho: write"); return 1; }
    size_t got = 0;
    while (got < size) {
      ssize_t n = read(fd, back + got, size - got);
      if (n <= 0) { fprintf(stderr, "netecho: connection closed\n"); return 1; }
      got += (size_t)n;
    }
    printf("seq=%lu rtt_us=%.0f\n", seq, (mono_s() - t0) * 1e6);
    struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1 && strcmp(argv[1], "client") == 0) return client(argc, argv);
  int port = argc > 1 ? atoi(argv[1]) : getenv("NETECHO_PORT") ? atoi(getenv("NETECHO_PORT")) : 7000;
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
