import { existsSync } from "node:fs";
import { join } from "node:path";

/** What the QoS loop may set on a container's cgroup; a field left out is left alone. */
export interface ContainerLimits {
  /** CPU time per period, in thousandths of a core (v1 cpu.cfs_quota_us, v2 cpu.max). */
  cpuMillicores?: number;
  /** Relative CPU weight 1–10000 as in v2 (v1 cpu.shares = weight·1024/100). */
  cpuWeight?: number;
  /** Memory the kernel reclaims down to under pressure (v1 memory.soft_limit_in_bytes, v2 memory.high). */
  memorySoftBytes?: number;
  /** Write bandwidth on one block device (v1 blkio.throttle.write_bps_device, v2 io.max wbps). */
  writeBps?: { device: string; bytesPerSecond: number };
}

export interface CgroupTarget {
  id: string;
  /** Host pid of the container's init: its /proc/<pid>/cgroup says where the container lives. */
  pid: number;
}

/** One file write, as logged and published ("what was written where"). */
export interface CgroupWrite {
  file: string;
  value: string;
}

/**
 * Sets and removes a container's cgroup limits. Contract: `apply` writes only the fields given and
 * returns every write it made; the first time it touches a file it remembers the value found
 * there, and `clear` puts those values back (or the "no limit" value for files it never saw),
 * succeeding when the container is already gone.
 */
export interface CgroupLimiter {
  readonly version: 1 | 2;
  apply(target: CgroupTarget, limits: ContainerLimits): Promise<CgroupWrite[]>;
  clear(target: CgroupTarget): Promise<CgroupWrite[]>;
}

/** v2 when the root is a pure unified hierarchy (cgroup.controllers at its top), else v1. */
export function detectCgroupVersion(cgroupRoot: string): 1 | 2 {
  return existsSync(join(cgroupRoot, "cgroup.controllers")) ? 2 : 1;
}

const DEVICE = /^\d+:\d+$/;
export function checkDevice(device: string): string {
  if (!DEVICE.test(device)) throw new RangeError(`block device must be "major:minor", got "${device}"`);
  return device;
}
