import { spawn } from "node:child_process";
import { ExternalError, TimeoutError } from "../errors.js";

export interface RunProcessOptions {
  /** Killed (with its whole process group) after this long. Required: nothing runs without a deadline. */
  timeoutMs: number;
  /** Aborting kills the process group too (e.g. a command whose own time ran out). */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, then closed (passwords stay out of argv). */
  input?: string;
  /** Time between SIGTERM and SIGKILL for the group. */
  killGraceMs?: number;
  /** Called with each chunk of stdout as it arrives (progress parsing). */
  onStdout?: (chunk: string) => void;
  /** Keep at most this many characters of each stream (the tail). */
  maxOutputChars?: number;
  /** Told the process group id once the process starts, and again (null) when it has ended. */
  onGroup?: (pgid: number | null) => void;
}

export interface ProcessOutcome {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs a program (no shell) in its own process group with a deadline. When the deadline passes
 * or `signal` aborts, the whole group gets SIGTERM, then SIGKILL after a grace period — children
 * such as the CRIU that runc starts go with it — and the promise rejects with TimeoutError.
 * A program that cannot be started rejects with ExternalError; a non-zero exit resolves (callers
 * decide what an exit code means).
 *
 * Written here rather than taken from a library: execa and friends kill the child on timeout,
 * not its process group, and a runc killed without its CRIU leaves the dump running.
 */
export function runProcess(file: string, args: readonly string[], o: RunProcessOptions): Promise<ProcessOutcome> {
  const started = Date.now();
  const max = o.maxOutputChars ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new TimeoutError(`${file} not started: ${abortReason(o.signal)}`, { retryable: false }));
      return;
    }
    const child = spawn(file, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let expired: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const pgid = child.pid;
    const killGroup = (sig: NodeJS.Signals) => {
      if (pgid === undefined) return;
      try {
        process.kill(-pgid, sig);
      } catch {
        // the group is already gone
      }
    };
    const expire = (why: string) => {
      if (expired) return;
      expired = why;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), o.killGraceMs ?? 2_000);
    };
    const deadline = setTimeout(() => expire(`deadline of ${o.timeoutMs} ms passed`), o.timeoutMs);
    const onAbort = () => expire(abortReason(o.signal));
    o.signal?.addEventListener("abort", onAbort, { once: true });
    if (pgid !== undefined) o.onGroup?.(pgid);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      o.onStdout?.(d);
      stdout = (stdout + d).slice(-max);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-max)));
    child.stdin.on("error", () => undefined); // the child may exit before reading its input
    child.stdin.end(o.input ?? "");
    let exitTimer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(deadline);
      if (exitTimer) clearTimeout(exitTimer);
      o.signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      o.onGroup?.(null);
    };
    child.once("error", (err) => {
      done();
      reject(new ExternalError(`cannot run ${file}: ${err.message}`, { cause: err }));
    });
    // When the leader exits, no member of its group may outlive it (a background child would
    // also hold the output pipes open, and "close" would never come).
    child.once("exit", () => {
      killGroup("SIGKILL");
      exitTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 2_000);
    });
    child.once("close", (code, sig) => {
      done();
      const durationMs = Date.now() - started;
      if (expired) {
        reject(new TimeoutError(`${file} ${args[0] ?? ""} killed after ${durationMs} ms: ${expired}${tail(stderr)}`, { retryable: false }));
        return;
      }
      resolve({ code: code ?? 128, signal: sig, stdout, stderr, durationMs });
    });
  });
}

function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (r instanceof Error && (r.name === "TimeoutError" || /deadline/.test(r.message))) return `the command's time ran out (${r.message})`;
  return r instanceof Error ? r.message : "aborted";
}

const tail = (s: string) => {
  const t = s.trim().split("\n").slice(-2).join(" | ");
  return t ? ` (${t})` : "";
};

/** Runs a process with a deadline; injected so that an agent can track (and reap) its process groups. */
export type ProcessRunner = (file: string, args: readonly string[], o: RunProcessOptions) => Promise<ProcessOutcome>;

/**
 * {@link runProcess} for a step that must succeed: a non-zero exit is an ExternalError carrying
 * the tail of stderr. Same deadline and process-group kill.
 */
export async function runChecked(file: string, args: readonly string[], o: RunProcessOptions): Promise<ProcessOutcome> {
  const r = await runProcess(file, args, o);
  if (r.code !== 0) throw new ExternalError(`${file} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim().slice(-500)}`);
  return r;
}
