/*
 * counter: prints an incrementing counter every interval to stdout and mirrors it to a file.
 *
 *   counter [interval_ms] [file]        (env COUNTER_INTERVAL_MS, COUNTER_FILE)
 *
 * Checkpoint-friendly on purpose: no fd is kept open between ticks except stdout, the file is
 * replaced atomically (write tmp + rename), and the program never resumes from the file on start,
 * so a test that sees the counter continue after a migration knows memory was restored rather
 * than the process cold-restarted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void write_file(const char *path, unsigned long long n) {
  char tmp[4096];
  char buf[64];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  int len = snprintf(buf, sizeof buf, "%llu\n", n);
  if (write(fd, buf, (size_t)len) != len) { close(fd); return; }
  close(fd);
  rename(tmp, path);
}

int main(int argc, char **argv) {
  const char *env_interval = getenv("COUNTER_INTERVAL_MS");
  const char *env_file = getenv("COUNTER_FILE");
  long interval_ms = argc > 1 ? atol(argv[1]) : env_interval ? atol(env_interval) : 100;
  const char *file = argc > 2 ? argv[2] : env_file ? env_file : "/data/counter";
  if (interval_ms <= 0) interval_ms = 100;

  /* /data may be missing when the image runs without a volume; fall back to /tmp. */
  char fallback[256];
  struct stat st;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", file);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    if (stat(dir, &st) != 0 && mkdir(dir, 0755) != 0 && errno != EEXIST) {
      const char *base = strrchr(file, '/') + 1;
      snprintf(fallback, sizeof fallback, "/tmp/%s", base);
      file = fallback;
    }
  }

  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("counter start pid=%d interval_ms=%ld file=%s\n", (int)getpid(), interval_ms, file);
  struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
  for (unsigned long long n = 0;; n++) {
    printf("counter %llu\n", n);
    write_file(file, n);
    nanosleep(&ts, NULL);
  }
}
