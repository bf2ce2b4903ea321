import { opendir, readdir, stat } from "node:fs/promises";
import type { Dirent } from "node:fs";
import { basename, join } from "node:path";
import { TraceFormatError, readTraceText, traceLines } from "./trace-format-error.js";

/** One PlanetLab VM for one day: 288 CPU utilization samples (percent, 0..100), one per 5 minutes. */
export interface PlanetLabVm {
  name: string;
  cpuPct: number[];
}

export interface PlanetLabDay {
  day: string;
  vms: PlanetLabVm[];
}

/** Samples per file in CloudSim's PlanetLab layout: 24 h at 300 s. */
export const PLANETLAB_SAMPLES_PER_DAY = 288;
export const PLANETLAB_STEP_SECONDS = 300;

/**
 * Entries of `dir` that are (or, through symbolic links, point to) a file or a directory. A
 * dangling link is an error naming it, never a silent skip.
 */
async function entriesOfKind(dir: string, entries: readonly Dirent[], kind: "file" | "dir"): Promise<string[]> {
  const out: string[] = [];
  for (const e of entries) {
    let isKind = kind === "file" ? e.isFile() : e.isDirectory();
    if (e.isSymbolicLink()) {
      try {
        const st = await stat(join(dir, e.name));
        isKind = kind === "file" ? st.isFile() : st.isDirectory();
      } catch (err) {
        throw new TraceFormatError(join(dir, e.name), undefined, `symbolic link cannot be followed (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
          cause: err,
        });
      }
    }
    if (isKind) out.push(e.name);
  }
  return out;
}

/** Day folders (YYYYMMDD, symbolic links followed) under a CloudSim-style `planetlab/` root, sorted. */
export async function listPlanetLabDays(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new TraceFormatError(root, undefined, `cannot read PlanetLab root (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  return (await entriesOfKind(root, entries, "dir")).filter((n) => /^\d{8}$/.test(n)).sort();
}

/** Parses one VM file; pure so tests can feed it text directly. */
export function parsePlanetLabFile(file: string, text: string): number[] {
  const lines = traceLines(text);
  if (lines.length === 0) throw new TraceFormatError(file, 1, "empty file, expected 288 CPU samples");
  const out: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!/^-?\d+(\.\d+)?$/.test(raw)) throw new TraceFormatError(file, i + 1, `expected one number (CPU %), got "${raw.slice(0, 40)}"`);
    const v = Number(raw);
    if (v < 0 || v > 100) throw new TraceFormatError(file, i + 1, `CPU % out of range 0..100: ${v}`);
    out.push(v);
  }
  if (out.length !== PLANETLAB_SAMPLES_PER_DAY) {
    throw new TraceFormatError(file, Math.min(out.length, PLANETLAB_SAMPLES_PER_DAY) + 1, `expected ${PLANETLAB_SAMPLES_PER_DAY} samples, got ${out.length}`);
  }
  return out;
}

/**
 * The folder's entries in the file system's own order (what Java's File.listFiles returns).
 * fs.readdir cannot give it: libuv sorts scandir's results; opendir/read does not.
 */
async function listInDirectoryOrder(dir: string): Promise<Dirent[]> {
  const out: Dirent[] = [];
  const d = await opendir(dir);
  for await (const e of d) out.push(e);
  return out;
}

/**
 * Reads every VM file of one day folder. `order: "directory"` keeps the file system's listing
 * order (what CloudSim's `File.listFiles` sees, for reproducing its results); the default
 * "sorted" gives the same order on every machine.
 */
export async function readPlanetLabDay(dir: string, opts: { order?: "sorted" | "directory" } = {}): Promise<PlanetLabDay> {
  let names: string[];
  try {
    names = await entriesOfKind(dir, await listInDirectoryOrder(dir), "file");
  } catch (err) {
    if (err instanceof TraceFormatError) throw err;
    throw new TraceFormatError(dir, undefined, `cannot read PlanetLab day folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  names = names.filter((n) => !n.startsWith("."));
  if ((opts.order ?? "sorted") === "sorted") names.sort();
  if (names.length === 0) throw new TraceFormatError(dir, undefined, "PlanetLab day folder holds no VM files");
  const vms: PlanetLabVm[] = new Array(names.length);
  // Bounded parallelism: ~1,500 files a day would otherwise exhaust file descriptors.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      const file = join(dir, names[i]!);
      vms[i] = { name: names[i]!, cpuPct: parsePlanetLabFile(file, await readTraceText(file)) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, names.length) }, worker));
  return { day: basename(dir), vms };
}
