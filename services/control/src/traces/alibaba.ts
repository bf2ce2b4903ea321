import { TraceFormatError, readTraceText, traceLines } from "./trace-format-error.js";

/**
 * One machine of the Alibaba 2018 `machine_usage` table. All arrays share `t` (seconds since the
 * trace start). Percentages are 0..100; net is Alibaba's normalized 0..100 scale.
 */
export interface AlibabaMachine {
  machineId: string;
  t: number[];
  cpuPct: number[];
  memPct: number[];
  netIn: number[];
  netOut: number[];
  diskPct: number[];
}

const COLUMNS = 9;

function num(file: string, line: number, field: string, raw: string): number {
  const v = raw.trim() === "" ? NaN : Number(raw);
  if (!Number.isFinite(v)) throw new TraceFormatError(file, line, `${field} is not a number: "${raw.slice(0, 40)}"`);
  return v;
}

/**
 * Parses machine_usage CSV text (no header). Disk values -1 and 101 are Alibaba's "abnormal"
 * markers, not measurements: they are replaced by the machine's previous valid disk value (0 if
 * none yet) so downstream code never sees impossible percentages.
 */
export function parseAlibabaMachineUsage(file: string, text: string): AlibabaMachine[] {
  const lines = traceLines(text);
  if (lines.length === 0) throw new TraceFormatError(file, 1, "empty file, expected machine_usage rows");
  const byId = new Map<string, AlibabaMachine>();
  for (let i = 0; i < lines.length; i++) {
    const ln = i + 1;
    const cols = lines[i]!.split(",");
    if (cols.length !== COLUMNS) throw new TraceFormatError(file, ln, `expected ${COLUMNS} columns, got ${cols.length}`);
    const machineId = cols[0]!.trim();
    if (machineId === "") throw new TraceFormatError(file, ln, "machine_id is empty");
    const t = num(file, ln, "time_stamp", cols[1]!);
    const cpu = num(file, ln, "cpu_util_percent", cols[2]!);
    const mem = num(file, ln, "mem_util_percent", cols[3]!);
    const netIn = num(file, ln, "net_in", cols[6]!);
    const netOut = num(file, ln, "net_out", cols[7]!);
    let disk = num(file, ln, "disk_io_percent", cols[8]!);
    let m = byId.get(machineId);
    if (!m) {
      m = { machineId, t: [], cpuPct: [], memPct: [], netIn: [], netOut: [], diskPct: [] };
      byId.set(machineId, m);
    }
    const prevT = m.t[m.t.length - 1];
    if (prevT !== undefined && t <= prevT) throw new TraceFormatError(file, ln, `time_stamp ${t} does not increase for ${machineId} (previous ${prevT})`);
    if (disk < 0 || disk > 100) disk = m.diskPct[m.diskPct.length - 1] ?? 0;
    m.t.push(t);
    m.cpuPct.push(cpu);
    m.memPct.push(mem);
    m.netIn.push(netIn);
    m.netOut.push(netOut);
    m.diskPct.push(disk);
  }
  return [...byId.values()];
}

const SERIES = ["cpuPct", "memPct", "netIn", "netOut", "diskPct"] as const;

/**
 * Resamples an irregular series onto a fixed grid aligned to multiples of `step` seconds: each
 * bucket [k·step, (k+1)·step) gets the mean of its samples; an empty bucket repeats the previous
 * bucket (forward fill), which is what a monitor that missed a scrape would report.
 */
export function resampleMachine(m: AlibabaMachine, step: number): AlibabaMachine {
  if (!(step > 0)) throw new RangeError(`resampleSeconds must be > 0, got ${step}`);
  const out: AlibabaMachine = { machineId: m.machineId, t: [], cpuPct: [], memPct: [], netIn: [], netOut: [], diskPct: [] };
  if (m.t.length === 0) return out;
  const first = Math.floor(m.t[0]! / step);
  const last = Math.floor(m.t[m.t.length - 1]! / step);
  const n = last - first + 1;
  const sums = SERIES.map(() => new Float64Array(n));
  const counts = new Uint32Array(n);
  for (let i = 0; i < m.t.length; i++) {
    const b = Math.floor(m.t[i]! / step) - first;
    counts[b]!++;
    SERIES.forEach((s, j) => (sums[j]![b]! += m[s][i]!));
  }
  for (let b = 0; b < n; b++) {
    out.t.push((first + b) * step);
    SERIES.forEach((s, j) => {
      const v = counts[b]! > 0 ? sums[j]![b]! / counts[b]! : out[s][b - 1]!; // b=0 always has a sample
      out[s].push(v);
    });
  }
  return out;
}

/** Reads machine_usage CSV; with `resampleSeconds` every machine is put on a regular grid. */
export async function readAlibabaMachineUsage(file: string, opts: { resampleSeconds?: number } = {}): Promise<AlibabaMachine[]> {
  const machines = parseAlibabaMachineUsage(file, await readTraceText(file));
  return opts.resampleSeconds === undefined ? machines : machines.map((m) => resampleMachine(m, opts.resampleSeconds!));
}
