import { readFile } from "node:fs/promises";
import { errorMessage } from "../../../../shared/src/errors.js";
import { runProcess, type ProcessRunner } from "../../../../shared/src/process/run-process.js";

/** Whether memory pre-copy (CRIU's dirty-page tracking) is possible on this node, in CRIU's words. */
export interface MemoryPreCopySupport {
  available: boolean;
  detail: string;
}

/** CRIU's last words in `s`: its last non-empty line, without the "Warn (file:line):" prefix. */
function words(s: string): string | undefined {
  return s
    .trim()
    .split("\n")
    .map((l) => l.replace(/^\s*(Warn|Error)\s*\([^)]*\):\s*/, "").trim())
    .filter(Boolean)
    .at(-1);
}

/**
 * Reads `criu check --feature mem_dirty_track`'s outcome. CRIU exits 0 when the kernel tracks
 * soft-dirty pages; otherwise it says why on stderr ("Warn (criu/cr-check.c:824): Dirty tracking
 * is OFF. Memory snapshot will not work."), whose last line is kept without CRIU's source location.
 */
export function parseDirtyTrackCheck(code: number, stdout: string, stderr: string): MemoryPreCopySupport {
  if (code === 0) return { available: true, detail: words(stdout) ?? "mem_dirty_track is supported" };
  return { available: false, detail: (words(stderr) ?? words(stdout) ?? `criu check exited ${code}`).slice(0, 300) };
}

/** Asks CRIU (bounded by `timeoutMs`); a CRIU that cannot run counts as "not available", with the reason. */
export async function checkMemoryPreCopy(
  o: { criuPath?: string; timeoutMs?: number; run?: ProcessRunner; env?: NodeJS.ProcessEnv } = {},
): Promise<MemoryPreCopySupport> {
  const run = o.run ?? runProcess;
  try {
    const r = await run(o.criuPath ?? "criu", ["check", "--feature", "mem_dirty_track"], { timeoutMs: o.timeoutMs ?? 15_000, env: o.env });
    return parseDirtyTrackCheck(r.code, r.stdout, r.stderr);
  } catch (err) {
    return { available: false, detail: `criu check could not run: ${errorMessage(err)}`.slice(0, 300) };
  }
}

/** Whether post-copy (CRIU lazy pages, through Docker's restore) can work on this node, and why not. */
export interface PostCopySupport {
  available: boolean;
  detail: string;
}

/**
 * CRIU's page server sizes its pipes to PIPE_MAX_SIZE pages (criu/page-xfer.c: (1<<3)·4096/40 =
 * 819) and, without CAP_SYS_RESOURCE, fails every page request when fs.pipe-max-size is below.
 */
export const LAZY_PIPE_BYTES = 819 * 4096;

/** What the three probes said, in order: CRIU's lazy-pages check, fs.pipe-max-size, the runc wrapper. */
export interface PostCopyProbes {
  criu: { code: number; stdout: string; stderr: string } | { error: string };
  pipeMaxSize: number | { error: string };
  runcWrapper: { code: number; stdout: string; stderr: string } | { error: string };
}

/** Pure: the verdict from the probes; the first missing piece is the reason given. */
export function postCopyVerdict(p: PostCopyProbes): PostCopySupport {
  if ("error" in p.criu) return { available: false, detail: `criu check could not run: ${p.criu.error}`.slice(0, 300) };
  if (p.criu.code !== 0)
    return {
      available: false,
      detail: `CRIU cannot restore with lazy pages here: ${words(p.criu.stderr) ?? words(p.criu.stdout) ?? `exit ${p.criu.code}`}`.slice(0, 300),
    };
  if (typeof p.pipeMaxSize !== "number") return { available: false, detail: `cannot read fs.pipe-max-size: ${p.pipeMaxSize.error}`.slice(0, 300) };
  if (p.pipeMaxSize < LAZY_PIPE_BYTES)
    return {
      available: false,
      detail: `fs.pipe-max-size is ${p.pipeMaxSize}, below the ${LAZY_PIPE_BYTES} bytes CRIU's page server needs (infra/bootstrap.sh raises it to 4194304 where allowed)`,
    };
  if ("error" in p.runcWrapper || p.runcWrapper.code !== 0 || !p.runcWrapper.stdout.startsWith("herd-runc "))
    return {
      available: false,
      detail: "runc on PATH is not Herd's wrapper (infra/herd-runc.sh, installed by infra/bootstrap.sh), so Docker's restore cannot be told to use lazy pages",
    };
  return { available: true, detail: `CRIU lazy pages (uffd-noncoop), fs.pipe-max-size ${p.pipeMaxSize}, ${p.runcWrapper.stdout.trim()}`.slice(0, 300) };
}

/** The version in the runc wrapper's `--herd-lazy-restore-check` answer ("herd-runc 3 (…)"); 0 if it is not one. */
export function herdRuncVersion(stdout: string): number {
  return Number(/^herd-runc (\d+)\b/.exec(stdout.trim())?.[1] ?? 0);
}

/** Runs the probes (each bounded by `timeoutMs`) and gives the verdict. */
export async function checkPostCopy(
  o: { criuPath?: string; runcPath?: string; timeoutMs?: number; run?: ProcessRunner; env?: NodeJS.ProcessEnv; pipeMaxSizeFile?: string } = {},
): Promise<PostCopySupport> {
  const run = o.run ?? runProcess;
  const t = { timeoutMs: o.timeoutMs ?? 15_000, env: o.env };
  const probe = (file: string, args: string[]) => run(file, args, t).catch((err: unknown) => ({ error: errorMessage(err) }));
  const [criu, runcWrapper, pipeMaxSize] = await Promise.all([
    probe(o.criuPath ?? "criu", ["check", "--feature", "uffd-noncoop"]),
    probe(o.runcPath ?? "runc", ["--herd-lazy-restore-check"]),
    readFile(o.pipeMaxSizeFile ?? "/proc/sys/fs/pipe-max-size", "utf8").then(
      (s) => Number(s.trim()),
      (err: unknown) => ({ error: errorMessage(err) }),
    ),
  ]);
  return postCopyVerdict({ criu, runcWrapper, pipeMaxSize });
}
