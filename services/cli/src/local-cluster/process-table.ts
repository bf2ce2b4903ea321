import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** What Herd's local cluster started, recognised from /proc without any pid file. */
export interface HerdProcess {
  pid: number;
  cmdline: string;
}

/** True while `pid` exists and is not a zombie (a zombie has already exited). */
export function isAlive(pid: number, procRoot = "/proc"): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(join(procRoot, String(pid), "stat"), "utf8");
    // state is the field after the parenthesised command name, which may itself hold spaces
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export async function waitForExit(pid: number, timeoutMs: number, procRoot = "/proc"): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid, procRoot)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid, procRoot);
}

/**
 * A process is Herd's when it carries the cluster's mark in its environment (everything the
 * cluster spawns, and what dockerd/containerd spawn in turn, inherits it) or names one of the
 * cluster's own paths on its command line. Paths must end with "/" so /run/herd/ never matches
 * another tool's /run/herd-something.
 */
export function isHerdProcess(cmdline: string, environ: string[], mark: string, pathMarkers: string[]): boolean {
  if (environ.includes(`HERD_CLUSTER_MARK=${mark}`)) return true;
  return pathMarkers.some((p) => cmdline.includes(p));
}

export function findHerdProcesses(mark: string, pathMarkers: string[], procRoot = "/proc"): HerdProcess[] {
  const out: HerdProcess[] = [];
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(join(procRoot, entry, "cmdline"), "utf8")
        .split("\0")
        .join(" ")
        .trim();
      if (cmdline === "") continue; // kernel threads and zombies
      const environ = readFileSync(join(procRoot, entry, "environ"), "utf8").split("\0");
      if (isHerdProcess(cmdline, environ, mark, pathMarkers)) out.push({ pid, cmdline });
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

/** Mount points from /proc/self/mountinfo (field 5), with the kernel's octal escapes decoded. */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && p !== "")
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

/** Mount points at or below any of `dirs`, deepest first, so each can be unmounted in order. */
export function mountsUnder(mountPoints: string[], dirs: string[]): string[] {
  const roots = dirs.map((d) => d.replace(/\/+$/, ""));
  const hits = mountPoints.filter((m) => roots.some((r) => m === r || m.startsWith(`${r}/`)));
  // Duplicates stay: a path mounted twice (stacked) needs two unmounts.
  return hits.sort((a, b) => b.split("/").length - a.split("/").length || b.length - a.length);
}
