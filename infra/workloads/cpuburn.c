/*
 * cpuburn: keeps N threads busy for a fraction of each 100 ms window.
 *
 *   cpuburn [threads] [fraction]     (env CPUBURN_THREADS default 1, CPUBURN_FRACTION 0..1 default 1)
 *
 * Prints one line per second with the loops done, so throughput under a CPU limit is visible.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double fraction = 1.0;
static atomic_ullong loops;

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *burn(void *arg) {
  (void)arg;
  const double window = 0.1;
  volatile unsigned long long x = 1;
  for (;;) {
    double start = mono_s();
    while (mono_s() - start < window * fraction) {
      for (int i = 0; i < 10000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      atomic_fetch_add(&loops, 1);
    }
    double rest = window - (mono_s() - start);
    if (rest > 0) {
      struct timespec ts = {0, (long)(rest * 1e9)};
      nanosleep(&ts, NULL);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int threads = argc > 1 ? atoi(argv[1]) : getenv("CPUBURN_THREADS") ? atoi(getenv("CPUBURN_THREADS")) : 1;
  fraction = argc > 2 ? atof(argv[2]) : getenv("CPUBURN_FRACTION") ? atof(getenv("CPUBURN_FRACTION")) : 1.0;
  if (threads < 1) threads = 1;
  if (fraction <= 0 || fraction > 1) fraction = 1.0;
  printf("cpuburn start pid=%d threads=%d fraction=%.2f\n", (int)getpid(), threads, fraction);
  for (int i = 0; i < threads; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, burn, NULL) != 0) { perror("cpuburn: pthread_create"); return 1; }
  }
  unsigned long long prev = 0;
  for (;;) {
    sleep(1);
    unsigned long long now = atomic_load(&loops);
    printf("cpuburn loops_per_s=%llu total=%llu\n", now - prev, now);
    prev = now;
  }
}
