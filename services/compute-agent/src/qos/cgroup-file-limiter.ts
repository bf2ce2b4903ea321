import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorMessage, ExternalError, NotFoundError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { parseProcCgroup, type CgroupMembership } from "../metrics/cgroup-parsers.js";
import { defaultCgroupPath } from "../metrics/cgroup-metric-source.js";
import { checkDevice, type CgroupLimiter, type CgroupTarget, type CgroupWrite, type ContainerLimits } from "./cgroup-limits.js";

interface Remembered {
  /** file → value found before Herd's first write. */
  original: Map<string, string>;
  /** file → value that means "no limit" for this file. */
  unlimited: Map<string, string>;
}

/** Maps limits onto one cgroup version's files. */
interface CgroupLayout {
  version: 1 | 2;
  dirFor(membership: CgroupMembership, controller: "cpu" | "memory" | "blkio", target: CgroupTarget): string;
  /** Writes for the limits: [file, value, unlimited value, how to read the current value back]. */
  writes(
    limits: ContainerLimits,
    dir: (c: "cpu" | "memory" | "blkio") => string,
    read: (file: string) => string,
  ): Array<{ file: string; value: string; unlimited: string; originalOf?: (text: string) => string }>;
}

const V1: CgroupLayout = {
  version: 1,
  dirFor: (m, controller, target) => (m.v1.get(controller) ?? defaultCgroupPath({ id: target.id })).replace(/^\/*/, ""),
  writes(limits, dir, read) {
    const out = [];
    if (limits.cpuMillicores !== undefined) {
      const periodText = read(join(dir("cpu"), "cpu.cfs_period_us")).trim();
      const period = Number(periodText) || 100_000;
      out.push({
        file: join(dir("cpu"), "cpu.cfs_quota_us"),
        value: String(Math.max(1_000, Math.round((limits.cpuMillicores * period) / 1000))),
        unlimited: "-1",
      });
    }
    if (limits.cpuWeight !== undefined) {
      out.push({ file: join(dir("cpu"), "cpu.shares"), value: String(Math.max(2, Math.round((limits.cpuWeight * 1024) / 100))), unlimited: "1024" });
    }
    if (limits.memorySoftBytes !== undefined) {
      out.push({ file: join(dir("memory"), "memory.soft_limit_in_bytes"), value: String(Math.round(limits.memorySoftBytes)), unlimited: "-1" });
    }
    if (limits.writeBps !== undefined) {
      const dev = checkDevice(limits.writeBps.device);
      // One line per device; the "original" of this device is "no rule" (0 removes the rule).
      out.push({
        file: join(dir("blkio"), "blkio.throttle.write_bps_device"),
        value: `${dev} ${Math.round(limits.writeBps.bytesPerSecond)}`,
        unlimited: `${dev} 0`,
        originalOf: (text: string) => v1DeviceRule(text, dev),
      });
    }
    return out;
  },
};

const V2: CgroupLayout = {
  version: 2,
  dirFor: (m, _controller, target) => (m.unified ?? defaultCgroupPath({ id: target.id })).replace(/^\/*/, ""),
  writes(limits, dir, read) {
    const out = [];
    if (limits.cpuMillicores !== undefined) {
      const period =
        Number(
          read(join(dir("cpu"), "cpu.max"))
            .trim()
            .split(/\s+/)[1],
        ) || 100_000;
      out.push({
        file: join(dir("cpu"), "cpu.max"),
        value: `${Math.max(1_000, Math.round((limits.cpuMillicores * period) / 1000))} ${period}`,
        unlimited: `max ${period}`,
      });
    }
    if (limits.cpuWeight !== undefined) {
      out.push({ file: join(dir("cpu"), "cpu.weight"), value: String(Math.min(10_000, Math.max(1, Math.round(limits.cpuWeight)))), unlimited: "100" });
    }
    if (limits.memorySoftBytes !== undefined) {
      out.push({ file: join(dir("memory"), "memory.high"), value: String(Math.round(limits.memorySoftBytes)), unlimited: "max" });
    }
    if (limits.writeBps !== undefined) {
      const dev = checkDevice(limits.writeBps.device);
      out.push({
        file: join(dir("blkio"), "io.max"),
        value: `${dev} wbps=${Math.round(limits.writeBps.bytesPerSecond)}`,
        unlimited: `${dev} wbps=max`,
        originalOf: (text: string) => v2DeviceRule(text, dev),
      });
    }
    return out;
  },
};

/**
 * CgroupLimiter writing the cgroup files directly (not through Docker, so the engine's own
 * HostConfig, and what a migration copies, stay untouched). One class, two layouts: v1
 * (`cpu.cfs_quota_us`, `cpu.shares`, `memory.soft_limit_in_bytes`, `blkio.throttle.write_bps_device`)
 * and v2 (`cpu.max`, `cpu.weight`, `memory.high`, `io.max`).
 */
export class CgroupFileLimiter implements CgroupLimiter {
  private readonly layout: CgroupLayout;
  private readonly remembered = new Map<string, Remembered>();

  constructor(
    version: 1 | 2,
    private readonly log: Logger,
    private readonly cgroupRoot = "/sys/fs/cgroup",
    private readonly procRoot = "/proc",
  ) {
    this.layout = version === 2 ? V2 : V1;
  }

  get version(): 1 | 2 {
    return this.layout.version;
  }

  async apply(target: CgroupTarget, limits: ContainerLimits): Promise<CgroupWrite[]> {
    const dir = this.dirs(target);
    const mem = this.remembered.get(target.id) ?? { original: new Map<string, string>(), unlimited: new Map<string, string>() };
    this.remembered.set(target.id, mem);
    const done: CgroupWrite[] = [];
    for (const w of this.layout.writes(limits, dir, (f) => this.read(f))) {
      const key = w.originalOf ? `${w.file}#${w.unlimited}` : w.file;
      if (!mem.original.has(key)) {
        const current = this.read(w.file).trim();
        mem.original.set(key, w.originalOf ? w.originalOf(current) || w.unlimited : current);
        mem.unlimited.set(key, w.unlimited);
      }
      this.write(w.file, w.value);
      done.push({ file: w.file, value: w.value });
    }
    this.log.debug("cgroup limits applied", { containerId: target.id, writes: done });
    return done;
  }

  async clear(target: CgroupTarget): Promise<CgroupWrite[]> {
    const mem = this.remembered.get(target.id);
    this.remembered.delete(target.id);
    if (mem === undefined) return [];
    const done: CgroupWrite[] = [];
    for (const [key, value] of mem.original) {
      const file = key.split("#")[0] ?? key;
      try {
        this.write(file, value);
        done.push({ file, value });
      } catch (err) {
        // The cgroup went away with the container: nothing left to undo.
        if (err instanceof NotFoundError) continue;
        throw err;
      }
    }
    this.log.debug("cgroup limits removed", { containerId: target.id, writes: done });
    return done;
  }

  /** Containers this limiter has touched and not cleared (for shutdown). */
  get touched(): string[] {
    return [...this.remembered.keys()];
  }

  private dirs(target: CgroupTarget): (c: "cpu" | "memory" | "blkio") => string {
    if (!(target.pid > 0)) throw new NotFoundError(`container ${target.id} is not running`);
    const membership = parseProcCgroup(this.read(join(this.procRoot, String(target.pid), "cgroup")));
    return (c) => join(this.cgroupRoot, this.layout.version === 1 ? c : "", this.layout.dirFor(membership, c, target));
  }

  private read(file: string): string {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new NotFoundError(`cannot read ${file}: ${errorMessage(err)}`, { cause: err });
    }
  }

  private write(file: string, value: string): void {
    try {
      writeFileSync(file, value);
    } catch (err) {
      const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
      if (code === "ENOENT" || code === "ENODEV") throw new NotFoundError(`${file} is gone`, { cause: err });
      throw new ExternalError(`cannot write "${value}" to ${file}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** The v1 rule line for one device ("8:0 1048576") in blkio.throttle.write_bps_device, or "". */
function v1DeviceRule(text: string, device: string): string {
  return text.split("\n").find((l) => l.startsWith(`${device} `)) ?? "";
}

/** The v2 io.max wbps for one device ("8:0 wbps=1048576"), or "". */
function v2DeviceRule(text: string, device: string): string {
  const line = text.split("\n").find((l) => l.startsWith(`${device} `));
  const wbps = line?.split(/\s+/).find((f) => f.startsWith("wbps="));
  return wbps ? `${device} ${wbps}` : "";
}
