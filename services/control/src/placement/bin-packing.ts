/**
 * Job placement by bin packing: First-Fit, Best-Fit, First-Fit-Decreasing, Best-Fit-Decreasing.
 * Pure functions of (free capacity, waiting batch); reservations — never momentary usage — decide fit.
 *
 * A job is a gang: all its containers are placed in one decision or none is (it keeps waiting).
 * Containers of one job may land on different nodes. Sizes are two-dimensional (CPU, memory); the
 * scalar size used to sort (FFD/BFD) and to rank fits (BF) normalizes each dimension by the
 * largest node's capacity, so a core and a gigabyte weigh what they are worth in this cluster.
 */

export type PackingPolicy = "ff" | "bf" | "ffd" | "bfd";
export const PACKING_POLICIES: readonly PackingPolicy[] = ["ff", "bf", "ffd", "bfd"];

export interface PackingNode {
  readonly id: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Capacity not yet reserved. */
  readonly freeCpus: number;
  readonly freeMemoryBytes: number;
}

export interface PackingItem {
  readonly cpus: number;
  readonly memoryBytes: number;
}

export interface PackingJob {
  readonly id: string;
  /** Higher first; ties keep the batch order (submission order). */
  readonly priority: number;
  readonly items: readonly PackingItem[];
  /** This job's own policy (per-submission choice); absent = the round's. */
  readonly policy?: PackingPolicy;
}

export interface PackingResult {
  /** Job id → node id per item (same order as the job's items). */
  readonly placed: ReadonlyMap<string, readonly string[]>;
  /** Jobs left waiting, in the order they were considered. */
  readonly waiting: readonly string[];
  /** Decisions made (one per job considered). */
  readonly decisions: number;
}

const isDecreasing = (p: PackingPolicy) => p === "ffd" || p === "bfd";
const isBest = (p: PackingPolicy) => p === "bf" || p === "bfd";

/** Normalizers: each dimension divided by the largest node's capacity in it. */
export function packingScale(nodes: readonly PackingNode[]): { cpu: number; mem: number } {
  let cpu = 0;
  let mem = 0;
  for (const n of nodes) {
    if (n.cpus > cpu) cpu = n.cpus;
    if (n.memoryBytes > mem) mem = n.memoryBytes;
  }
  return { cpu: cpu || 1, mem: mem || 1 };
}

export function itemSize(item: PackingItem, scale: { cpu: number; mem: number }): number {
  return item.cpus / scale.cpu + item.memoryBytes / scale.mem;
}

// Capacities are compared with a small tolerance so 0.1 + 0.2 cores fit in 0.3.
const EPS = 1e-9;

/**
 * The order a batch is considered in: priority (higher first), then — for a decreasing policy —
 * size (larger first), then the batch's own order. Stable.
 */
export function orderBatch(jobs: readonly PackingJob[], policy: PackingPolicy, scale: { cpu: number; mem: number }): PackingJob[] {
  const size = new Map(jobs.map((j) => [j.id, j.items.reduce((s, it) => s + itemSize(it, scale), 0)]));
  const index = new Map(jobs.map((j, i) => [j.id, i]));
  return [...jobs].sort((a, b) => {
    if (a.priority !== b.priority) return b.priority - a.priority;
    if (isDecreasing(policy)) {
      const d = size.get(b.id)! - size.get(a.id)!;
      if (Math.abs(d) > EPS) return d;
    }
    return index.get(a.id)! - index.get(b.id)!;
  });
}

/**
 * Places a waiting batch onto nodes. `nodes` is the free capacity now; it is not modified.
 * FF takes the first node (in the given order) where an item fits; BF the node it leaves with the
 * least normalized free capacity. FFD/BFD do the same after sorting the batch by size, largest
 * first (and a job's items largest first).
 */
export function packBatch(policy: PackingPolicy, nodes: readonly PackingNode[], jobs: readonly PackingJob[]): PackingResult {
  const scale = packingScale(nodes);
  const freeCpu = nodes.map((n) => n.freeCpus);
  const freeMem = nodes.map((n) => n.freeMemoryBytes);
  const placed = new Map<string, string[]>();
  const waiting: string[] = [];
  let decisions = 0;
  for (const job of orderBatch(jobs, policy, scale)) {
    decisions++;
    const jobPolicy = job.policy ?? policy;
    const order = job.items.map((_, i) => i);
    if (isDecreasing(jobPolicy)) order.sort((a, b) => itemSize(job.items[b]!, scale) - itemSize(job.items[a]!, scale) || a - b);
    const chosen = new Array<number>(job.items.length);
    const taken: number[] = [];
    let ok = true;
    for (const i of order) {
      const item = job.items[i]!;
      const n = isBest(jobPolicy) ? bestFit(item, freeCpu, freeMem, scale) : firstFit(item, freeCpu, freeMem);
      if (n < 0) {
        ok = false;
        break;
      }
      freeCpu[n]! -= item.cpus;
      freeMem[n]! -= item.memoryBytes;
      chosen[i] = n;
      taken.push(i);
    }
    if (!ok) {
      // All or nothing: give back what this job's earlier items took.
      for (const i of taken) {
        freeCpu[chosen[i]!]! += job.items[i]!.cpus;
        freeMem[chosen[i]!]! += job.items[i]!.memoryBytes;
      }
      waiting.push(job.id);
      continue;
    }
    placed.set(
      job.id,
      chosen.map((n) => nodes[n]!.id),
    );
  }
  return { placed, waiting, decisions };
}

function fits(item: PackingItem, cpu: number, mem: number): boolean {
  return item.cpus <= cpu + EPS && item.memoryBytes <= mem + EPS;
}

function firstFit(item: PackingItem, freeCpu: readonly number[], freeMem: readonly number[]): number {
  for (let n = 0; n < freeCpu.length; n++) if (fits(item, freeCpu[n]!, freeMem[n]!)) return n;
  return -1;
}

function bestFit(item: PackingItem, freeCpu: readonly number[], freeMem: readonly number[], scale: { cpu: number; mem: number }): number {
  let best = -1;
  let bestLeft = Infinity;
  for (let n = 0; n < freeCpu.length; n++) {
    if (!fits(item, freeCpu[n]!, freeMem[n]!)) continue;
    const left = (freeCpu[n]! - item.cpus) / scale.cpu + (freeMem[n]! - item.memoryBytes) / scale.mem;
    if (left < bestLeft - EPS) {
      best = n;
      bestLeft = left;
    }
  }
  return best;
}

/**
 * Why a job can never be placed, or undefined if some node could hold each of its containers
 * when empty. (A job whose containers each fit somewhere is accepted even if it must wait.)
 */
export function neverFits(items: readonly PackingItem[], nodes: readonly Pick<PackingNode, "id" | "cpus" | "memoryBytes">[]): string | undefined {
  if (nodes.length === 0) return undefined;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (nodes.some((n) => it.cpus <= n.cpus + EPS && it.memoryBytes <= n.memoryBytes + EPS)) continue;
    const maxCpu = Math.max(...nodes.map((n) => n.cpus));
    const maxMem = Math.max(...nodes.map((n) => n.memoryBytes));
    const mib = (b: number) => `${Math.round(b / 1_048_576)} MiB`;
    return (
      `container ${i} asks for ${it.cpus} CPUs and ${mib(it.memoryBytes)}; no node has that much ` +
      `(largest: ${maxCpu} CPUs, ${mib(maxMem)}; ${nodes.length} node${nodes.length === 1 ? "" : "s"})`
    );
  }
  return undefined;
}
