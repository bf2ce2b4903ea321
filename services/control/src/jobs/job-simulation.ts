import { seededRandom } from "../../../../shared/src/seeded-random.js";
import { neverFits, packBatch, type PackingJob, type PackingNode, type PackingPolicy } from "../placement/bin-packing.js";

/**
 * A discrete-time simulation of the job scheduler: the same packing functions the control service
 * uses, on a generated cluster and workload. Each tick (one simulated second) frees the
 * reservations of jobs that ended, queues the jobs that arrived (refusing those larger than any
 * node) and runs one placement round over everything waiting — as the live scheduler does.
 */

export interface SimNode {
  id: string;
  cpus: number;
  memoryBytes: number;
}

export interface SimJob {
  id: string;
  arrival: number;
  duration: number;
  priority: number;
  items: { cpus: number; memoryBytes: number }[];
}

export interface JobWorkload {
  nodes: SimNode[];
  jobs: SimJob[];
}

const GiB = 1024 ** 3;

/**
 * `nodeCount` nodes of four sizes (8–64 cores, 4 GiB per core) and `jobCount` jobs arriving as a
 * Poisson process whose rate swings ±60 % around the mean over a period (so queues build and
 * drain), sized so the cluster is about `load` busy on average. 1–4 containers per job, CPUs from
 * 0.5 to 16 (small ones far more often), 1–8 GiB per core, exponential run times; `oversized`
 * of the jobs ask for more than any node has.
 */
export function generateJobWorkload(o: {
  nodeCount: number;
  jobCount: number;
  seed: number;
  load?: number;
  meanDurationS?: number;
  oversized?: number;
}): JobWorkload {
  const rnd = seededRandom(o.seed);
  const sizes = [8, 16, 32, 64];
  const nodes: SimNode[] = Array.from({ length: o.nodeCount }, (_, i) => {
    const cpus = sizes[Math.floor(rnd() * sizes.length)]!;
    return { id: `n${String(i + 1).padStart(4, "0")}`, cpus, memoryBytes: cpus * 4 * GiB };
  });
  const capacity = nodes.reduce((s, n) => s + n.cpus, 0);
  const cpuChoices = [0.5, 0.5, 1, 1, 1, 2, 2, 4, 8, 16];
  const meanDuration = o.meanDurationS ?? 600;
  const items = () =>
    Array.from({ length: 1 + Math.floor(rnd() ** 3 * 4) }, () => {
      const cpus = cpuChoices[Math.floor(rnd() * cpuChoices.length)]!;
      return { cpus, memoryBytes: Math.round(cpus * (1 + Math.floor(rnd() * 8)) * GiB) };
    });
  // Mean CPUs per job, measured on a sample of the same generator (a separate stream).
  const probe = seededRandom(o.seed + 1);
  let sample = 0;
  for (let i = 0; i < 4000; i++) {
    const n = 1 + Math.floor(probe() ** 3 * 4);
    for (let k = 0; k < n; k++) sample += cpuChoices[Math.floor(probe() * cpuChoices.length)]!;
  }
  const meanCpus = sample / 4000;
  const rate = ((o.load ?? 0.85) * capacity) / (meanCpus * meanDuration);
  const period = Math.max(600, o.jobCount / rate / 4);
  const jobs: SimJob[] = [];
  let t = 0;
  for (let i = 0; i < o.jobCount; i++) {
    // Thinning: candidate arrivals at the peak rate, kept with probability rate(t)/peak.
    for (;;) {
      t += -Math.log(1 - rnd()) / (rate * 1.6);
      if (rnd() < (1 + 0.6 * Math.sin((2 * Math.PI * t) / period)) / 1.6) break;
    }
    const big = rnd() < (o.oversized ?? 0.002);
    jobs.push({
      id: `j-${i + 1}`,
      arrival: t,
      duration: Math.max(1, -Math.log(1 - rnd()) * meanDuration),
      priority: 0,
      items: big ? [{ cpus: 128, memoryBytes: 64 * GiB }] : items(),
    });
  }
  return { nodes, jobs };
}

export interface JobSimResult {
  policy: PackingPolicy;
  jobs: number;
  placed: number;
  refused: number;
  /** Still waiting when the simulation ended (should be 0: it runs until the queue drains). */
  neverPlaced: number;
  /** Time-averaged number of nodes holding at least one reservation, and the peak. */
  meanNodesUsed: number;
  peakNodesUsed: number;
  /** Time-averaged reserved CPU ÷ capacity of the nodes in use (packing density). */
  meanUtilisationOfUsed: number;
  /** Time-averaged reserved CPU ÷ the whole cluster's capacity. */
  meanClusterUtilisation: number;
  /** Time-averaged reserved memory ÷ the whole cluster's memory. */
  meanClusterMemoryUtilisation: number;
  meanQueueWaitS: number;
  p95QueueWaitS: number;
  /** Jobs placed at once (0 s wait). */
  placedImmediately: number;
  decisions: number;
  /** Wall time spent inside placement rounds, and decisions per second of it. */
  placementSeconds: number;
  decisionsPerSecond: number;
  simulatedSeconds: number;
}

/** Runs one policy over the workload. `now` measures placement time (injected for tests). */
export function simulateJobs(w: JobWorkload, policy: PackingPolicy, now: () => number = () => performance.now()): JobSimResult {
  const n = w.nodes.length;
  const freeCpu = w.nodes.map((x) => x.cpus);
  const freeMem = w.nodes.map((x) => x.memoryBytes);
  const index = new Map(w.nodes.map((x, i) => [x.id, i]));
  const capacity = w.nodes.reduce((s, x) => s + x.cpus, 0);
  const memCapacity = w.nodes.reduce((s, x) => s + x.memoryBytes, 0);
  let reservedMem = 0;
  let reservedMemArea = 0;
  const holders = new Array<number>(n).fill(0);
  // Ends: min-heap by time of [end, jobIndex].
  const ends: { at: number; job: number; where: number[] }[] = [];
  const push = (e: (typeof ends)[number]) => {
    ends.push(e);
    let i = ends.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ends[p]!.at <= ends[i]!.at) break;
      [ends[p], ends[i]] = [ends[i]!, ends[p]!];
      i = p;
    }
  };
  const pop = () => {
    const top = ends[0]!;
    const last = ends.pop()!;
    if (ends.length) {
      ends[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < ends.length && ends[l]!.at < ends[m]!.at) m = l;
        if (r < ends.length && ends[r]!.at < ends[m]!.at) m = r;
        if (m === i) break;
        [ends[m], ends[i]] = [ends[i]!, ends[m]!];
        i = m;
      }
    }
    return top;
  };

  let queue: PackingJob[] = [];
  const arrivalOf = new Map<string, number>();
  const waits: number[] = [];
  let refused = 0;
  let decisions = 0;
  let placementMs = 0;
  let usedArea = 0;
  let reservedArea = 0;
  let usedCapArea = 0;
  let peakUsed = 0;
  let usedNodes = 0;
  let reservedCpu = 0;
  let usedCap = 0;
  let next = 0;
  let t = 0;
  const nodeById = w.nodes;
  const take = (i: number, cpus: number, mem: number) => {
    freeCpu[i]! -= cpus;
    freeMem[i]! -= mem;
    reservedCpu += cpus;
    reservedMem += mem;
    if (holders[i]!++ === 0) {
      usedNodes++;
      usedCap += nodeById[i]!.cpus;
    }
  };
  const give = (i: number, cpus: number, mem: number) => {
    freeCpu[i]! += cpus;
    freeMem[i]! += mem;
    reservedCpu -= cpus;
    reservedMem -= mem;
    if (--holders[i]! === 0) {
      usedNodes--;
      usedCap -= nodeById[i]!.cpus;
    }
  };

  while (next < w.jobs.length || queue.length > 0 || ends.length > 0) {
    t += 1;
    while (ends.length && ends[0]!.at <= t) {
      const e = pop();
      const job = w.jobs[e.job]!;
      e.where.forEach((i, k) => give(i, job.items[k]!.cpus, job.items[k]!.memoryBytes));
    }
    while (next < w.jobs.length && w.jobs[next]!.arrival <= t) {
      const j = w.jobs[next]!;
      if (neverFits(j.items, w.nodes)) refused++;
      else {
        queue.push({ id: String(next), priority: j.priority, items: j.items });
        arrivalOf.set(String(next), j.arrival);
      }
      next++;
    }
    if (queue.length) {
      const start = now();
      const nodes: PackingNode[] = w.nodes.map((x, i) => ({
        id: x.id,
        cpus: x.cpus,
        memoryBytes: x.memoryBytes,
        freeCpus: freeCpu[i]!,
        freeMemoryBytes: freeMem[i]!,
      }));
      const r = packBatch(policy, nodes, queue);
      placementMs += now() - start;
      decisions += r.decisions;
      for (const [id, where] of r.placed) {
        const ji = Number(id);
        const job = w.jobs[ji]!;
        const idx = where.map((nid) => index.get(nid)!);
        idx.forEach((i, k) => take(i, job.items[k]!.cpus, job.items[k]!.memoryBytes));
        // Arrivals are queued at the tick after they happen: the wait counts from the arrival.
        waits.push(t - arrivalOf.get(id)!);
        push({ at: t + job.duration, job: ji, where: idx });
      }
      if (r.placed.size) queue = queue.filter((q) => !r.placed.has(q.id));
    }
    usedArea += usedNodes;
    reservedArea += reservedCpu;
    reservedMemArea += reservedMem / memCapacity;
    usedCapArea += usedCap;
    if (usedNodes > peakUsed) peakUsed = usedNodes;
    if (next >= w.jobs.length && ends.length === 0 && queue.length > 0) break; // can never drain
  }
  const sorted = [...waits].sort((a, b) => a - b);
  const placementSeconds = placementMs / 1000;
  return {
    policy,
    jobs: w.jobs.length,
    placed: waits.length,
    refused,
    neverPlaced: queue.length,
    meanNodesUsed: usedArea / t,
    peakNodesUsed: peakUsed,
    meanUtilisationOfUsed: usedCapArea > 0 ? reservedArea / usedCapArea : 0,
    meanClusterUtilisation: reservedArea / (capacity * t),
    meanClusterMemoryUtilisation: reservedMemArea / t,
    meanQueueWaitS: waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : 0,
    p95QueueWaitS: sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]! : 0,
    placedImmediately: waits.filter((x) => x <= 1).length,
    decisions,
    placementSeconds,
    decisionsPerSecond: placementSeconds > 0 ? decisions / placementSeconds : Infinity,
    simulatedSeconds: t,
  };
}
