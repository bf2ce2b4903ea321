import type { ContainerSample, NodeSample } from "../../../../shared/src/contracts/telemetry.js";
import type { RawContainerCounters, RawNodeCounters, RawSample } from "./metric-source.js";

/** The usage part of a ContainerSample; discovery adds id, name, image, state and labels. */
export type ContainerUsage = Omit<ContainerSample, "id" | "name" | "image" | "state" | "labels">;

/**
 * Per-second rate of a cumulative counter. A counter that went backwards was reset (the container
 * restarted, or the kernel wrapped it); the true increase since then is unknown, so the rate is 0
 * for this interval rather than a huge or negative number.
 */
function rate(prev: number, cur: number, seconds: number): number {
  if (seconds <= 0 || cur < prev) return 0;
  return (cur - prev) / seconds;
}

/**
 * Turns two successive raw readings of one container into the contract's rates. With no previous
 * reading, or a previous one of another process (the container restarted: its counters started
 * again from zero), every rate is 0.
 */
export function containerUsage(prev: RawContainerCounters | undefined, cur: RawContainerCounters): ContainerUsage {
  const comparable = prev !== undefined && prev.pid === cur.pid;
  const seconds = comparable ? (cur.atMs - prev.atMs) / 1000 : 0;
  const p = comparable ? prev : cur;
  return {
    // ns per second / 1e9 = cores; × 100 = percent of one core.
    cpuPct: rate(p.cpuUsageNs, cur.cpuUsageNs, seconds) / 1e7,
    cpuUsageNs: cur.cpuUsageNs,
    memBytes: cur.memBytes,
    memLimitBytes: cur.memLimitBytes,
    blkReadBytes: cur.blkReadBytes,
    blkWriteBytes: cur.blkWriteBytes,
    blkReadBps: rate(p.blkReadBytes, cur.blkReadBytes, seconds),
    blkWriteBps: rate(p.blkWriteBytes, cur.blkWriteBytes, seconds),
    netRxBytes: cur.netRxBytes,
    netTxBytes: cur.netTxBytes,
    netRxBps: rate(p.netRxBytes, cur.netRxBytes, seconds),
    netTxBps: rate(p.netTxBytes, cur.netTxBytes, seconds),
    pids: cur.pids,
  };
}

/**
 * Node CPU busy over the interval as a percentage of all cores, and memory in use (total minus
 * what the kernel reports as available). With no previous reading CPU is 0.
 */
export function nodeUsage(prev: RawNodeCounters | undefined, cur: RawNodeCounters): NodeSample {
  let cpuPct = 0;
  if (prev !== undefined) {
    const total = cur.cpuTotalTicks - prev.cpuTotalTicks;
    const busy = cur.cpuBusyTicks - prev.cpuBusyTicks;
    if (total > 0 && busy >= 0) cpuPct = Math.min(100, (busy / total) * 100);
  }
  return {
    cpuCores: Math.max(1, cur.cpuCores),
    cpuPct,
    memTotalBytes: cur.memTotalBytes,
    memUsedBytes: Math.max(0, cur.memTotalBytes - cur.memAvailableBytes),
  };
}

export interface Rates {
  node: NodeSample;
  /** Keyed by container id; only containers present in the latest raw sample. */
  containers: Map<string, ContainerUsage>;
}

/**
 * Keeps the previous raw sample and turns each new one into rates. No I/O and no clock of its own
 * (time comes from the samples), so it is deterministic. Containers that disappear are forgotten,
 * so a container that comes back starts again with rates 0.
 */
export class RateCalculator {
  private prevNode: RawNodeCounters | undefined;
  private prevContainers = new Map<string, RawContainerCounters>();

  update(sample: RawSample): Rates {
    const node = nodeUsage(this.prevNode, sample.node);
    const containers = new Map<string, ContainerUsage>();
    const next = new Map<string, RawContainerCounters>();
    for (const cur of sample.containers) {
      containers.set(cur.id, containerUsage(this.prevContainers.get(cur.id), cur));
      next.set(cur.id, cur);
    }
    this.prevNode = sample.node;
    this.prevContainers = next;
    return { node, containers };
  }
}
