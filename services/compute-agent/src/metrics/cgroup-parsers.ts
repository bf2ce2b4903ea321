// Pure parsers for cgroup v1 and v2 files. Inputs are the files' text; nothing here touches disk.
import { keyedValue, nextLine, skipBlanks, skipToken, uintAt } from "./text-scan.js";

/** Where a process sits: v1 path per controller, and its cgroup v2 (unified) path if listed. */
export interface CgroupMembership {
  v1: Map<string, string>;
  unified: string | null;
}

/**
 * Parses `/proc/<pid>/cgroup` ("hierarchy-id:controller,list:/path" per line). A v1 line that
 * lists several controllers ("cpu,cpuacct") gives each of them the path; "0::/path" is the
 * unified hierarchy.
 */
export function parseProcCgroup(text: string): CgroupMembership {
  const v1 = new Map<string, string>();
  let unified: string | null = null;
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = first < 0 ? -1 : line.indexOf(":", first + 1);
    if (second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === "") {
      if (line.slice(0, first) === "0") unified = path;
      continue;
    }
    for (const c of controllers.split(",")) v1.set(c, path);
  }
  return { v1, unified };
}

/** PAGE_COUNTER_MAX rounded to pages: v1 reports this (or more) when there is no limit. */
const V1_UNLIMITED_FROM = 2 ** 62;

/**
 * A memory limit: v2 `memory.max` ("max" means none) or v1 `memory.limit_in_bytes` (a huge value
 * means none). Returns null for "no limit", NaN when the text is not a number.
 */
export function parseMemoryLimit(text: string): number | null {
  const start = skipBlanks(text, 0);
  if (text.startsWith("max", start)) return null;
  const v = uintAt(text, start);
  if (v >= V1_UNLIMITED_FROM) return null;
  return v;
}

/** A file holding one unsigned number (cpuacct.usage, memory.current, pids.current). NaN if not. */
export function parseSingleValue(text: string): number {
  return uintAt(text, 0);
}

/**
 * Memory in use the way `docker stats` computes it: usage minus the inactive file cache (which the
 * kernel reclaims first). v1 reads `total_inactive_file` (hierarchical), v2 `inactive_file`.
 */
export function workingSetBytes(usage: number, memoryStat: string, version: 1 | 2): number {
  const inactive = keyedValue(memoryStat, version === 1 ? "total_inactive_file" : "inactive_file") ?? 0;
  return inactive < usage ? usage - inactive : usage;
}

/** v2 `cpu.stat` usage in nanoseconds (the file has microseconds). NaN when absent. */
export function parseCpuStatUsageNs(cpuStat: string): number {
  const usec = keyedValue(cpuStat, "usage_usec");
  return usec === undefined ? NaN : usec * 1000;
}

export interface BlockBytes {
  read: number;
  write: number;
}

/**
 * v2 `io.stat`: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device; sums every device. An empty
 * file (no I/O yet) is zero.
 */
export function parseIoStat(text: string): BlockBytes {
  let read = 0;
  let write = 0;
  let pos = 0;
  while (pos < text.length) {
    const end = nextLine(text, pos);
    // Fields after the device are key=value pairs separated by spaces.
    let p = skipToken(text, pos);
    while (p < end) {
      p = skipBlanks(text, p);
      const tokenEnd = skipToken(text, p);
      if (text.startsWith("rbytes=", p)) read += uintAt(text, p + 7) || 0;
      else if (text.startsWith("wbytes=", p)) write += uintAt(text, p + 7) || 0;
      p = tokenEnd === p ? end : tokenEnd;
    }
    pos = end;
  }
  return { read, write };
}

/**
 * v1 `blkio.*io_service_bytes*`: "MAJ:MIN Read N", "MAJ:MIN Write N", ... per device, then
 * "Total N". Returns null when no device line is present: the kernel leaves some of these files at
 * just "Total 0" depending on the I/O scheduler, so the caller should try the next file.
 */
export function parseBlkioServiceBytes(text: string): BlockBytes | null {
  let read = 0;
  let write = 0;
  let deviceLines = 0;
  let pos = 0;
  while (pos < text.length) {
    const end = nextLine(text, pos);
    const deviceEnd = skipToken(text, pos);
    const colon = text.indexOf(":", pos);
    if (colon >= 0 && colon < deviceEnd) {
      deviceLines++;
      const op = skipBlanks(text, deviceEnd);
      if (text.startsWith("Read ", op)) read += uintAt(text, op + 5) || 0;
      else if (text.startsWith("Write ", op)) write += uintAt(text, op + 6) || 0;
    }
    pos = end;
  }
  return deviceLines === 0 ? null : { read, write };
}
