/*
 * diskwrite: writes to a file at a target rate and fsyncs every second (a storage workload).
 *
 *   diskwrite [dir] [kb_per_s] [file_mb]   (env DISKWRITE_DIR default /data, DISKWRITE_KBPS default
 *                                            1024, DISKWRITE_FILE_MB default 64: wraps to the start
 *                                            when the file reaches this size, so disk use is bounded)
 *
 * Prints the bytes written and fsync latency per second, so blkio throttling is measurable.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *dir = argc > 1 ? argv[1] : getenv("DISKWRITE_DIR") ? getenv("DISKWRITE_DIR") : "/data";
  long kbps = argc > 2 ? atol(argv[2]) : getenv("DISKWRITE_KBPS") ? atol(getenv("DISKWRITE_KBPS")) : 1024;
  long file_mb = argc > 3 ? atol(argv[3]) : getenv("DISKWRITE_FILE_MB") ? atol(getenv("DISKWRITE_FILE_MB")) : 64;
  if (kbps <= 0) kbps = 1024;
  if (file_mb <= 0) file_mb = 64;
  mkdir(dir, 0755);
  char path[4096];
  snprintf(path, sizeof path, "%s/diskwrite.dat", dir);
  int fd = open(path, O_WRONLY | O_CREAT, 0644);
  if (fd < 0) { perror("diskwrite: open"); return 1; }

  enum { BLOCK = 64 * 1024 };
  static char block[BLOCK];
  for (int i = 0; i < BLOCK; i++) block[i] = (char)(i * 31 + 7);
  const off_t limit = (off_t)file_mb * 1024 * 1024;
  off_t pos = 0;
  printf("diskwrite start pid=%d file=%s kbps=%ld file_mb=%ld\n", (int)getpid(), path, kbps, file_mb);

  const double tick = 0.1; /* spread the second's bytes over 10 ticks */
  long long written_this_second = 0;
  double second_start = mono_s();
  double budget = 0;
  for (;;) {
    double t0 = mono_s();
    budget += (double)kbps * 1024 * tick;
    while (budget >= 1) {
      size_t n = budget >= BLOCK ? BLOCK : (size_t)budget;
      if (pos + (off_t)n > limit) pos = 0;
      ssize_t w = pwrite(fd, block, n, pos);
      if (w <= 0) { perror("diskwrite: pwrite"); return 1; }
      pos += w;
      budget -= (double)w;
      written_this_second += w;
    }
    if (mono_s() - second_start >= 1.0) {
      double f0 = mono_s();
      fsync(fd);
      double fsync_ms = (mono_s() - f0) * 1000;
      printf("diskwrite bytes_per_s=%lld fsync_ms=%.2f\n", written_this_second, fsync_ms);
      written_this_second = 0;
      second_start = mono_s();
    }
    double rest = tick - (mono_s() - t0);
    if (rest > 0) {
      struct timespec ts = {0, (long)(rest * 1e9)};
      nanosleep(&ts, NULL);
    }
  }
}
