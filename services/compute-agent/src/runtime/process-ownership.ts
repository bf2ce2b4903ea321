import { readFile, readdir, readlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** The pid a pid file holds, or undefined when missing or not a pid. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, "utf8")).trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A process's command line with arguments joined by spaces; undefined when it is gone. */
export async function cmdlineOf(pid: number, procRoot = "/proc"): Promise<string | undefined> {
  try {
    return (await readFile(`${procRoot}/${pid}/cmdline`, "utf8")).split("\0").join(" ").trim();
  } catch {
    return undefined;
  }
}

/** Pids (other than this process) whose command line matches. */
export async function findProcesses(match: (cmdline: string) => boolean, procRoot = "/proc"): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = await cmdlineOf(pid, procRoot);
    if (cmdline !== undefined && match(cmdline)) out.push(pid);
  }
  return out;
}

/**
 * Inodes of the sockets listening on `port` in `/proc/net/tcp`-format text (IPv4 or IPv6).
 * Pure. Columns: sl local_address rem_address st … inode; LISTEN is state 0A.
 */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const out: string[] = [];
  for (const line of procNetTcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = f[1] ?? "";
    const portHex = local.slice(local.lastIndexOf(":") + 1);
    if (f[3] === "0A" && Number.parseInt(portHex, 16) === port && f[9] !== undefined) out.push(f[9]);
  }
  return out;
}

/** True when `pid` itself holds a socket listening on `port` (in its own network namespace). */
export async function listensOn(pid: number, port: number, procRoot = "/proc"): Promise<boolean> {
  const inodes = new Set<string>();
  for (const table of ["tcp", "tcp6"]) {
    const text = await readFile(`${procRoot}/${pid}/net/${table}`, "utf8").catch(() => "");
    for (const inode of listeningInodes(text, port)) inodes.add(inode);
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = await readdir(`${procRoot}/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    const target = await readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1] !== undefined && inodes.has(m[1])) return true;
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (or after 5 s more). */
export async function terminate(pid: number, graceMs: number, procRoot = "/proc"): Promise<void> {
  const gone = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!alive(pid) || (await cmdlineOf(pid, procRoot)) === "") return true; // "" = zombie
      await sleep(25);
    }
    return !alive(pid);
  };
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  if (await gone(graceMs)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  await gone(5_000);
}
