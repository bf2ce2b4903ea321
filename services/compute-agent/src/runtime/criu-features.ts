import { errorMessage } from "../../../../shared/src/errors.js";
import { runProcess, type ProcessRunner } from "../../../../shared/src/process/run-process.js";

/** Whether memory pre-copy (CRIU's dirty-page tracking) is possible on this node, in CRIU's words. */
export interface MemoryPreCopySupport {
  available: boolean;
  detail: string;
}

/**
 * Reads `criu check --feature mem_dirty_track`'s outcome. CRIU exits 0 when the kernel tracks
 * soft-dirty pages; otherwise it says why on stderr ("Warn (criu/cr-check.c:824): Dirty tracking
 * is OFF. Memory snapshot will not work."), whose last line is kept without CRIU's source location.
 */
export function parseDirtyTrackCheck(code: number, stdout: string, stderr: string): MemoryPreCopySupport {
  const words = (s: string) =>
    s
      .trim()
      .split("\n")
      .map((l) => l.replace(/^\s*(Warn|Error)\s*\([^)]*\):\s*/, "").trim())
      .filter(Boolean)
      .at(-1);
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
