import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ExternalError } from "../../../../shared/src/errors.js";
import { isAlive, waitForExit } from "./process-table.js";

export interface DetachedSpec {
  command: string;
  args: string[];
  /** Added to the inherited environment. */
  env: Record<string, string>;
  logFile: string;
  pidFile: string;
  cwd: string;
  /** Run inside this network namespace (path under /run/netns), in the host's mount namespace. */
  netnsPath?: string;
}

/**
 * Starts a long-running process that outlives the caller (own session, stdio to a log file) and
 * records its pid. With a netns, `nsenter --net` execs the program, so the pid is the program's.
 * Only daemons come here (dockerd, control, agents): they are meant to run until `herd down`, so
 * they get no deadline of their own. Nothing waits on them unbounded either: every caller checks
 * readiness with its own deadline (expectAlive, waitForControl, the engine's ping) and stops them
 * with stopByPidFile (SIGTERM, then SIGKILL after a grace period). Short-lived programs go
 * through runCommand, which kills its whole process group at a deadline.
 */
export function startDetached(spec: DetachedSpec): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const [file, args] = spec.netnsPath ? ["nsenter", [`--net=${spec.netnsPath}`, spec.command, ...spec.args]] : [spec.command, spec.args];
  const out = openSync(spec.logFile, "a");
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ["ignore", out, out],
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
    });
    if (child.pid === undefined) throw new ExternalError(`could not start ${spec.command}`);
    child.on("error", () => undefined); // reported through the pid check below
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

export function pidFromFile(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid recorded in `pidFile` if that process still runs and its command line contains `expect`. */
export function runningPid(pidFile: string, expect: string, procRoot = "/proc"): number | undefined {
  const pid = pidFromFile(pidFile);
  return pid !== undefined && pidRuns(pid, expect, procRoot) ? pid : undefined;
}

/** True while process `pid` runs a command line containing `expect`. */
export function pidRuns(pid: number, expect: string, procRoot = "/proc"): boolean {
  if (!isAlive(pid, procRoot)) return false;
  try {
    // Guards against a recycled pid: the number alone could now belong to anything.
    return readFileSync(`${procRoot}/${pid}/cmdline`, "utf8").split("\0").join(" ").includes(expect);
  } catch {
    return false;
  }
}

/** The last `lines` lines of a process's log, joined with `separator`, for an error message. */
export function logTail(file: string, lines = 8, separator = " | "): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join(separator);
  } catch {
    return `(no log at ${file})`;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; removes the pid file. Returns true if something ran. */
export async function stopByPidFile(pidFile: string, expect: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(pidFile, expect);
  let stopped = false;
  if (pid !== undefined) {
    process.kill(pid, "SIGTERM");
    if (!(await waitForExit(pid, graceMs))) {
      process.kill(pid, "SIGKILL");
      await waitForExit(pid, 5_000);
    }
    stopped = true;
  }
  rmSync(pidFile, { force: true });
  return stopped;
}
