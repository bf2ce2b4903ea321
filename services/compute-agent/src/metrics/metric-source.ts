/**
 * What the sampler needs to know about one container. Discovery fills it from `docker inspect`
 * (full id, State.Pid, HostConfig.CgroupParent) and `docker info` (CgroupDriver); nothing here is
 * a dockerode type, so the sampler does not depend on Docker.
 */
export interface SampleTarget {
  /** Full container id (64 hex characters). */
  id: string;
  /** Host pid of the container's init process (inspect State.Pid); 0 when it is not running. */
  pid: number;
  /** HostConfig.CgroupParent; empty or absent means the engine's default (`/docker` for cgroupfs). */
  cgroupParent?: string;
  /** The engine's cgroup driver; only used when `/proc/<pid>/cgroup` cannot be read. Default cgroupfs. */
  cgroupDriver?: "cgroupfs" | "systemd";
}

/** Raw cumulative counters of one container at one instant. Rates are derived later by RateCalculator. */
export interface RawContainerCounters {
  id: string;
  /** The pid the counters were read for; a different pid next time means the container restarted. */
  pid: number;
  /** Monotonic milliseconds (the source's clock) when this container was read. */
  atMs: number;
  cpuUsageNs: number;
  /** Memory in use without the inactive file cache, as `docker stats` shows it. */
  memBytes: number;
  /** null when the container has no memory limit. */
  memLimitBytes: number | null;
  blkReadBytes: number;
  blkWriteBytes: number;
  /** Summed over the container's interfaces except `lo`. */
  netRxBytes: number;
  netTxBytes: number;
  pids: number;
}

/** Whole-node counters. CPU in clock ticks since boot (from /proc/stat); memory in bytes. */
export interface RawNodeCounters {
  atMs: number;
  cpuCores: number;
  cpuBusyTicks: number;
  cpuTotalTicks: number;
  memTotalBytes: number;
  memAvailableBytes: number;
}

/** A container that could not be read this round (it stopped, its cgroup vanished, ...). */
export interface SampleFailure {
  id: string;
  reason: string;
}

export interface RawSample {
  node: RawNodeCounters;
  containers: RawContainerCounters[];
  failures: SampleFailure[];
}

/**
 * Reads raw cumulative resource counters of the given containers and of the node.
 *
 * Contract:
 * - Returns one entry in `containers` or in `failures` for every target, never both, in no
 *   particular order. A container that disappears between discovery and sampling is a failure,
 *   not an exception: one bad container never costs the others their sample.
 * - Counters are cumulative and may go backwards only when the container restarted (its pid
 *   changed); consumers detect that by comparing `pid`.
 * - Rejects only when the node's own counters cannot be read (the source is unusable).
 * - Cheap enough to be called every second for hundreds of containers; implementations may cache
 *   per-container lookups keyed by (id, pid) and drop them for ids not passed any more.
 */
export interface MetricSource {
  sample(targets: readonly SampleTarget[]): Promise<RawSample>;
}
