/*
 * cpusteps: a CPU demand that changes over time — busy for a fraction of each 100 ms window, the
 * fraction stepping through a list, each step lasting the same number of seconds (then repeats).
 *
 *   cpusteps <seconds_per_step> <fraction> [fraction ...]      e.g. cpusteps 15 0.9 0.1 0.5
 *
 * Prints one line per second: "cpusteps step=<i> fraction=<f> loops_per_s=<n>", so the demand in
 * force and the work done under a CPU limit are both visible.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3) { fprintf(stderr, "usage: cpusteps <seconds_per_step> <fraction> [fraction ...]\n"); return 2; }
  double step_s = atof(argv[1]);
  if (step_s <= 0) { fprintf(stderr, "cpusteps: seconds_per_step must be positive\n"); return 2; }
  int steps = argc - 2;
  double fractions[64];
  if (steps > 64) steps = 64;
  for (int i = 0; i < steps; i++) {
    fractions[i] = atof(argv[i + 2]);
    if (fractions[i] < 0 || fractions[i] > 1) { fprintf(stderr, "cpusteps: fraction %s not in 0..1\n", argv[i + 2]); return 2; }
  }
  printf("cpusteps start pid=%d steps=%d seconds_per_step=%.1f\n", (int)getpid(), steps, step_s);
  const double window = 0.1;
  volatile unsigned long long x = 1;
  unsigned long long loops = 0;
  double t0 = mono_s(), last_print = t0;
  for (;;) {
    double start = mono_s();
    int step = (int)((start - t0) / step_s) % steps;
    double fraction = fractions[step];
    while (mono_s() - start < window * fraction) {
      for (int i = 0; i < 10000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      loops++;
    }
    double rest = window - (mono_s() - start);
    if (rest > 0) {
      struct timespec ts = {0, (long)(rest * 1e9)};
      nanosleep(&ts, NULL);
    }
    if (mono_s() - last_print >= 1.0) {
      printf("cpusteps step=%d fraction=%.2f loops_per_s=%llu\n", step, fraction, loops);
      loops = 0;
      last_print = mono_s();
    }
  }
}
