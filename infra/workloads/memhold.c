/*
 * memhold: holds N MB filled with a pattern derived from a seed, and proves it is still intact.
 *
 *   memhold [mb] [seed]           hold memory (env MEMHOLD_MB, MEMHOLD_SEED,
 *                                 MEMHOLD_CHECK_S = seconds between self-checks, default 10,
 *                                 MEMHOLD_DIRTY_MBPS = MB/s rewritten to keep pages dirty, default 0,
 *                                 MEMHOLD_STATUS = status file, default /data/memhold.status,
 *                                 MEMHOLD_PROGRESS_S = seconds between "progress" lines, default 0 =
 *                                 none: wall clock, ticks so far and the time spent dirtying, so a
 *                                 bench can see the workload slow down while its pages are pulled)
 *   memhold verify [pid]          ask a holder (default pid 1, e.g. via `docker exec`) to re-check
 *                                 now; prints its verdict line, exits 0 on OK, 1 on FAIL/timeout
 *
 * Word i of the region is splitmix64(seed + i), so the expected content and its checksum are
 * known without keeping a copy. After a restore, a check that prints the same checksum as before
 * the checkpoint shows every byte came back. Dirtying rewrites the same values (content stays
 * verifiable) but marks pages dirty, which is what iterative pre-copy has to chase.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t check_requested = 0;
static void on_usr1(int sig) { (void)sig; check_requested = 1; }

static inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_status(const char *path, const char *line) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  size_t len = strlen(line);
  if (write(fd, line, len) == (ssize_t)len) rename(tmp, path);
  close(fd);
}

static int read_status(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  return 0;
}

static long parse_round(const char *status) {
  const char *r = strstr(status, "round=");
  return r ? atol(r + 6) : -1;
}

static int verify_mode(int argc, char **argv, const char *status_path) {
  int pid = argc > 2 ? atoi(argv[2]) : 1;
  char before[512] = "", after[512];
  read_status(status_path, before, sizeof before);
  long round0 = parse_round(before);
  if (kill(pid, SIGUSR1) != 0) { perror("memhold verify: kill"); return 1; }
  for (int i = 0; i < 600; i++) {  /* up to 60 s: a check of several GB takes a while */
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    if (read_status(status_path, after, sizeof after) == 0 && parse_round(after) > round0) {
      fputs(after, stdout);
      return strncmp(after, "pattern ok", 10) == 0 ? 0 : 1;
    }
  }
  fprintf(stderr, "memhold verify: no new check from pid %d within 60 s\n", pid);
  return 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *status_path = getenv("MEMHOLD_STATUS") ? getenv("MEMHOLD_STATUS") : "/data/memhold.status";
  mkdir("/data", 0755);
  if (argc > 1 && strcmp(argv[1], "verify") == 0) return verify_mode(argc, argv, status_path);

  long mb = argc > 1 ? atol(argv[1]) : getenv("MEMHOLD_MB") ? atol(getenv("MEMHOLD_MB")) : 64;
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0)
                  : getenv("MEMHOLD_SEED") ? strtoull(getenv("MEMHOLD_SEED"), NULL, 0) : 42;
  long check_s = getenv("MEMHOLD_CHECK_S") ? atol(getenv("MEMHOLD_CHECK_S")) : 10;
  double dirty_mbps = getenv("MEMHOLD_DIRTY_MBPS") ? atof(getenv("MEMHOLD_DIRTY_MBPS")) : 0;
  double progress_s = getenv("MEMHOLD_PROGRESS_S") ? atof(getenv("MEMHOLD_PROGRESS_S")) : 0;
  if (mb <= 0) { fprintf(stderr, "memhold: mb must be > 0\n"); return 2; }

  size_t words = (size_t)mb * 1024 * 1024 / sizeof(uint64_t);
  uint64_t *mem = mmap(NULL, words * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) { perror("memhold: mmap"); return 1; }
  uint64_t expected = 0;
  for (size_t i = 0; i < words; i++) {
    mem[i] = splitmix64(seed + i);
    expected ^= mem[i] * (i | 1);
  }
  printf("memhold ready pid=%d mb=%ld seed=%llu checksum=%016llx\n", (int)getpid(), mb,
         (unsigned long long)seed, (unsigned long long)expected);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);

  char line[512];
  long round = 0;
  double last_check = 0;
  size_t dirty_pos = 0;
  long ticks = 0;
  double work_s = 0, last_progress = now_s();
  const size_t words_per_page = 4096 / sizeof(uint64_t);
  for (;;) {
    double t = now_s();
    if (check_requested || (check_s > 0 && t - last_check >= (double)check_s)) {
      check_requested = 0;
      uint64_t sum = 0;
      size_t bad = (size_t)-1;
      for (size_t i = 0; i < words; i++) {
        uint64_t v = mem[i];
        if (bad == (size_t)-1 && v != splitmix64(seed + i)) bad = i;
        sum ^= v * (i | 1);
      }
      round++;
      if (bad == (size_t)-1 && sum == expected)
        snprintf(line, sizeof line, "pattern ok %016llx round=%ld mb=%ld\n", (unsigned long long)sum, round, mb);
      else
        snprintf(line, sizeof line, "pattern FAIL %016llx round=%ld mb=%ld first_bad_offset=%zu\n",
                 (unsigned long long)sum, round, mb, bad * sizeof(uint64_t));
      fputs(line, stdout);
      write_status(status_path, line);
      last_check = now_s();
    }
    /* 100 ms ticks; dirty one word per page so each touched page becomes dirty cheaply. */
    double w0 = now_s();
    if (dirty_mbps > 0) {
      size_t pages = (size_t)(dirty_mbps * 1024 * 1024 / 4096 / 10);
      for (size_t p = 0; p < pages; p++) {
        size_t i = dirty_pos;
        mem[i] = splitmix64(seed + i);
        dirty_pos += words_per_page;
        if (dirty_pos >= words) dirty_pos = 0;
      }
    }
    ticks++;
    work_s += now_s() - w0;
    if (progress_s > 0 && now_s() - last_progress >= progress_s) {
      last_progress = now_s();
      printf("progress at_ms=%.0f ticks=%ld work_ms=%.1f\n", last_progress * 1000, ticks, work_s * 1000);
    }
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
}
