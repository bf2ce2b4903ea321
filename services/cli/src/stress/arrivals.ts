import { seededRandom } from "../../../../shared/src/seeded-random.js";
import type { JobSubmission } from "../../../../shared/src/contracts/jobs.js";

export type ArrivalPattern = "steady" | "bursty" | "incremental" | "random";
export const ARRIVAL_PATTERNS: readonly ArrivalPattern[] = ["steady", "bursty", "incremental", "random"];

/**
 * Submission times (ms from the start, ascending) for `rate` jobs/s on average over `durationS`:
 * steady — evenly spaced; bursty — all of each `burstEveryS` window's jobs at its start;
 * incremental — the rate ramps linearly from 0 to 2×rate; random — a Poisson process (seeded).
 */
export function arrivalTimes(pattern: ArrivalPattern, rate: number, durationS: number, seed: number, burstEveryS = 5): number[] {
  const total = Math.round(rate * durationS);
  const D = durationS * 1000;
  if (total <= 0) return [];
  switch (pattern) {
    case "steady":
      return Array.from({ length: total }, (_, i) => (i * D) / total);
    case "bursty": {
      const windows = Math.max(1, Math.round(durationS / burstEveryS));
      const out: number[] = [];
      for (let w = 0; w < windows; w++) {
        const n = Math.round(((w + 1) * total) / windows) - Math.round((w * total) / windows);
        for (let i = 0; i < n; i++) out.push((w * D) / windows);
      }
      return out;
    }
    case "incremental":
      // Cumulative arrivals N(t) = total·(t/D)²: the i-th job at D·√(i/total).
      return Array.from({ length: total }, (_, i) => D * Math.sqrt(i / total));
    case "random": {
      const rnd = seededRandom(seed);
      const out: number[] = [];
      for (let t = -Math.log(1 - rnd()) / rate; t * 1000 < D; t += -Math.log(1 - rnd()) / rate) out.push(t * 1000);
      return out;
    }
  }
}

export interface JobMix {
  image: string;
  /** How long each job's container runs, seconds: drawn uniformly from [min, max]. */
  runSeconds: readonly [number, number];
  cpus: readonly number[];
  memoryMb: readonly number[];
}

export const DEFAULT_MIX: JobMix = { image: "herd/workload:latest", runSeconds: [1, 3], cpus: [0.1, 0.25, 0.5], memoryMb: [16, 32, 64] };

/** The i-th generated job (deterministic for a seed): one container that sleeps, with a drawn reservation. */
export function generatedJobs(n: number, seed: number, mix: JobMix = DEFAULT_MIX, prefix = "stress"): JobSubmission[] {
  const rnd = seededRandom(seed ^ 0x5eed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const secs = mix.runSeconds[0] + rnd() * (mix.runSeconds[1] - mix.runSeconds[0]);
    return {
      name: `${prefix}-${i}`,
      priority: 0,
      containers: [{ image: mix.image, cmd: ["sleep", secs.toFixed(1)], cpus: pick(mix.cpus), memoryMb: pick(mix.memoryMb), env: {} }],
    };
  });
}
