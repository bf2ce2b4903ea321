// Shared helpers for the tests that run against the real local cluster (herd up).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Dockerode from "dockerode";
import { logTail } from "../../../services/cli/src/local-cluster/detached-process.js";
import { LocalCluster, type ClusterInfo } from "../../../services/cli/src/local-cluster/local-cluster.js";

export const execFileAsync = promisify(execFile);
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const herdBin = resolve(repoRoot, "bin/herd");

export function newCluster(log: string[] = []): LocalCluster {
  return new LocalCluster({ repoRoot, log: (l) => log.push(l) });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `herd` binary. */
export async function herd(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [herdBin, ...args], { timeout: 300_000, env: { ...process.env, HERD_LOG_LEVEL: "warn" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

export async function herdJson<T>(...args: string[]): Promise<T> {
  const r = await herd(...args, "-o", "json");
  if (r.code !== 0) throw new Error(`herd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Thrown inside a waitFor callback to stop waiting at once. */
export class GiveUp extends Error {}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Why the control API may have stopped answering: empty while the control service runs, else
 * that it is gone and the end of its log (a crash's stack), so that a test timing out says so.
 */
export function controlAutopsy(cluster: LocalCluster, lines = 25): string {
  const control = cluster.controlReplicas()[0];
  if (!control || control.pid !== undefined) return "";
  return `\nthe control service is not running; the end of its log (${control.logFile}):\n${logTail(control.logFile, lines, "\n")}`;
}

export function engineOf(info: ClusterInfo, nodeId: string): Dockerode {
  const node = info.nodes.find((n) => n.id === nodeId);
  if (!node) throw new Error(`no node ${nodeId}`);
  return new Dockerode({ socketPath: node.dockerHost.replace("unix://", "") });
}

export interface ClusterSecrets {
  controlPassword: string;
  nodePasswords: Record<string, string>;
}

export function secretsOf(cluster: LocalCluster): ClusterSecrets {
  return (JSON.parse(readFileSync(cluster.stateFile, "utf8")) as { secrets: ClusterSecrets }).secrets;
}

/** Every container named `name` on any node, with its state. */
export async function copiesOf(info: ClusterInfo, name: string): Promise<Array<{ node: string; id: string; running: boolean }>> {
  const out: Array<{ node: string; id: string; running: boolean }> = [];
  for (const n of info.nodes) {
    const list = await engineOf(info, n.id).listContainers({ all: true, filters: { name: [`^/${name}$`] } });
    for (const c of list) out.push({ node: n.id, id: c.Id, running: c.State === "running" });
  }
  return out;
}

/** Docker's multiplexed stdout/stderr stream (an 8-byte header before each frame) as text. */
function demux(buf: Buffer): string {
  let out = "";
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString("utf8");
    i += 8 + len;
  }
  return out;
}

/** The container's stdout so far. */
export async function logsOf(docker: Dockerode, container: string): Promise<string> {
  return demux((await docker.getContainer(container).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
}

export async function dockerExec(docker: Dockerode, container: string, cmd: string[]): Promise<{ code: number; output: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((res, rej) => {
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => res());
    stream.on("error", rej);
  });
  const output = demux(Buffer.concat(chunks));
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, output };
}

/** Last counter value a `counter` workload printed. */
export function lastCounter(logs: string): number {
  const m = [...logs.matchAll(/counter (\d+)/g)];
  return m.length ? Number(m[m.length - 1]![1]) : -1;
}

export function firstCounter(logs: string): number {
  const m = /counter (\d+)/.exec(logs);
  return m ? Number(m[1]) : -1;
}

/** GET on the control API of the local cluster (faster than spawning the CLI when polling). */
export async function apiGet<T>(info: ClusterInfo, path: string): Promise<T> {
  const res = await fetch(new URL(`/api/v1${path}`, info.apiUrl), { headers: { authorization: `Bearer ${info.apiToken}` } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
