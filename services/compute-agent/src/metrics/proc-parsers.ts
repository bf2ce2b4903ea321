// Pure parsers for the /proc files the sampler reads. Inputs are the files' text.
import { ExternalError } from "../../../../shared/src/errors.js";
import { keyedValue, nextLine, skipBlanks, skipToken, uintAt } from "./text-scan.js";

export interface NetBytes {
  rx: number;
  tx: number;
}

/**
 * `/proc/<pid>/net/dev` of a container's init process: that is its network namespace's view.
 * Sums receive and transmit bytes over every interface except loopback (traffic a container sends
 * to itself is not network load on the node).
 */
export function parseNetDev(text: string): NetBytes {
  let rx = 0;
  let tx = 0;
  // Two header lines, then "  iface: rxBytes rxPackets errs drop fifo frame compressed multicast txBytes ..."
  let pos = nextLine(text, nextLine(text, 0));
  while (pos < text.length) {
    const end = nextLine(text, pos);
    const nameStart = skipBlanks(text, pos);
    const colon = text.indexOf(":", nameStart);
    if (colon > nameStart && colon < end) {
      const isLoopback = colon - nameStart === 2 && text.startsWith("lo", nameStart);
      if (!isLoopback) {
        let p = colon + 1;
        for (let field = 0; field <= 8 && p < end; field++) {
          p = skipBlanks(text, p);
          if (field === 0) rx += uintAt(text, p) || 0;
          else if (field === 8) tx += uintAt(text, p) || 0;
          p = skipToken(text, p);
        }
      }
    }
    pos = end;
  }
  return { rx, tx };
}

export interface CpuTicks {
  /** Number of `cpuN` lines: the cores the kernel accounts. */
  cores: number;
  busy: number;
  total: number;
}

/**
 * `/proc/stat` aggregate "cpu" line: user nice system idle iowait irq softirq steal guest
 * guest_nice (clock ticks). Idle time is idle + iowait; guest time is already inside user/nice,
 * so it is not added again.
 */
export function parseProcStatCpu(text: string): CpuTicks {
  if (!text.startsWith("cpu ")) throw new ExternalError("/proc/stat does not start with the aggregate cpu line");
  const fields: number[] = [];
  let p = 3;
  const end = nextLine(text, 0);
  while (fields.length < 8) {
    p = skipBlanks(text, p);
    if (p >= end) break;
    fields.push(uintAt(text, p) || 0);
    p = skipToken(text, p);
  }
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  let cores = 0;
  let pos = end;
  while (pos < text.length && text.startsWith("cpu", pos)) {
    const c = text.charCodeAt(pos + 3);
    if (c >= 48 && c <= 57) cores++;
    pos = nextLine(text, pos);
  }
  return { cores, busy, total: busy + idle + iowait };
}

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
}

/** `/proc/meminfo` MemTotal and MemAvailable (kB in the file). */
export function parseMeminfo(text: string): MemInfo {
  const total = keyedValue(text, "MemTotal", ":");
  const available = keyedValue(text, "MemAvailable", ":");
  if (total === undefined || available === undefined) throw new ExternalError("/proc/meminfo lacks MemTotal or MemAvailable");
  return { totalBytes: total * 1024, availableBytes: available * 1024 };
}
