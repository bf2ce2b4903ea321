import { readdir, readFile, readlink } from "node:fs/promises";
import type { Refusal } from "./container-spec.js";

/** One process of a container: who it runs as (real, effective and saved ids). */
export interface ProcessIdentity {
  pid: number;
  command: string;
  uids: [number, number, number];
  gids: [number, number, number];
}

/** CAP_SYS_RESOURCE's bit in a capability mask. */
const CAP_SYS_RESOURCE = 24n;

/** Whether a `CapEff:` mask (hex, from /proc/<pid>/status) holds CAP_SYS_RESOURCE. */
export function hasSysResource(capEffHex: string): boolean {
  return ((BigInt(`0x${capEffHex.trim() || "0"}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

/**
 * Pure: the refusal for processes CRIU could not dump from this agent. CRIU reads every dumped
 * process's resource limits with prlimit(), and the kernel lets a caller read another process's
 * limits only when all its real/effective/saved ids match the caller's, or with CAP_SYS_RESOURCE.
 * An agent without that capability (a container or sandbox that drops it) therefore cannot dump a
 * process that runs as another user — the dump would fail after the container is frozen, so it
 * is refused up front. With the capability, nothing is refused here.
 */
export function identityRefusals(self: { uid: number; gid: number; sysResource: boolean }, processes: ProcessIdentity[]): Refusal[] {
  if (self.sysResource) return [];
  const foreign = processes.filter((p) => p.uids.some((u) => u !== self.uid) || p.gids.some((g) => g !== self.gid));
  if (foreign.length === 0) return [];
  const shown = foreign
    .slice(0, 3)
    .map((p) => `pid ${p.pid} (${p.command}) runs as uid ${p.uids[1]} gid ${p.gids[1]}`)
    .join(", ");
  return [
    {
      code: "process-identity",
      detail: foreign.length > 3 ? `${shown} and ${foreign.length - 3} more` : shown,
      reason: `CRIU must read the resource limits of every process it dumps, and for a process of another user the kernel allows that only with CAP_SYS_RESOURCE, which this node's agent does not have (uid ${self.uid}); run the agent with CAP_SYS_RESOURCE (a root service normally has it) or the container's processes as uid ${self.uid}`,
    },
  ];
}

function ids(status: string, field: "Uid" | "Gid"): [number, number, number] {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, "m").exec(status);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [-1, -1, -1];
}

/** Every process in the pid namespace of `initPid` (the container's processes), read from procfs. */
export async function containerProcesses(initPid: number, procRoot = "/proc"): Promise<ProcessIdentity[]> {
  const ns = await readlink(`${procRoot}/${initPid}/ns/pid`).catch(() => undefined);
  if (!ns) return [];
  const out: ProcessIdentity[] = [];
  for (const name of await readdir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    if ((await readlink(`${procRoot}/${name}/ns/pid`).catch(() => "")) !== ns) continue;
    const status = await readFile(`${procRoot}/${name}/status`, "utf8").catch(() => "");
    if (!status) continue;
    out.push({ pid: Number(name), command: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?", uids: ids(status, "Uid"), gids: ids(status, "Gid") });
  }
  return out;
}

/** This process's own ids and whether it holds CAP_SYS_RESOURCE. */
export async function ownIdentity(procRoot = "/proc"): Promise<{ uid: number; gid: number; sysResource: boolean }> {
  const status = await readFile(`${procRoot}/self/status`, "utf8");
  return { uid: ids(status, "Uid")[1], gid: ids(status, "Gid")[1], sysResource: hasSysResource(/^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? "0") };
}
