// Helpers of the networked-migration tests (the cluster network, kept TCP connections).
import assert from "node:assert/strict";
import { connect } from "node:net";
import type { ClusterInfo } from "../../../services/cli/src/local-cluster/local-cluster.js";
import { after, before } from "node:test";
import { engineOf, execFileAsync, herd, herdJson, newCluster, waitFor } from "./cluster-harness.js";

/**
 * A real two-node local cluster (herd up) for the enclosing describe: up with both nodes reporting
 * before its tests, down after them. Call inside describe; read `.info` inside the tests.
 */
export function twoNodeCluster(): { readonly info: ClusterInfo } {
  const cluster = newCluster([]);
  let info: ClusterInfo | undefined;
  before(async () => {
    assert.equal(cluster.info(), undefined, "a local cluster is already up: run `herd down` before the integration tests");
    info = await cluster.up({ nodes: 2 });
    await waitFor("both nodes up", async () => (await herdJson<Array<{ status: string }>>("nodes")).filter((n) => n.status === "up").length === 2, 60_000);
  });
  after(async () => {
    await cluster.down();
  });
  return {
    get info(): ClusterInfo {
      if (!info) throw new Error("the cluster is not up (twoNodeCluster's before hook has not run)");
      return info;
    },
  };
}

export interface PsRow {
  name: string;
  nodeId: string;
  state: string;
  address?: string;
}

export async function psRow(name: string): Promise<PsRow | undefined> {
  return (await herdJson<PsRow[]>("ps")).find((c) => c.name === name);
}

/** One fresh connection from the host: send a line, expect it back byte for byte. */
export function echoOnce(host: string, port: number, text: string, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let got = "";
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no echo from ${host}:${port} within ${timeoutMs} ms (got "${got}")`));
    }, timeoutMs);
    s.on("connect", () => s.write(text));
    s.on("data", (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        s.end();
        if (got === text) resolve();
        else reject(new Error(`echo mismatch: sent "${text}", got "${got}"`));
      }
    });
    s.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The client's request numbers, in order of its log. */
export function sequence(logs: string): number[] {
  return [...logs.matchAll(/^seq=(\d+) /gm)].map((m) => Number(m[1]));
}

/** What the kernel and the bridge say about a stalled connection: sockets, FDB, neighbours, firewall rules. */
export async function diagnose(info: ClusterInfo, containers: Array<{ node: string; name: string }>): Promise<string> {
  const out: string[] = [];
  const sh = async (label: string, cmd: string, args: string[]): Promise<void> => {
    try {
      const r = await execFileAsync(cmd, args, { timeout: 10_000 });
      out.push(`## ${label}\n${r.stdout}${r.stderr}`);
    } catch (err) {
      out.push(`## ${label}\nfailed: ${(err as Error).message}`);
    }
  };
  for (const c of containers) {
    try {
      const s = await engineOf(info, c.node).getContainer(c.name).inspect();
      out.push(`## ${c.name} on ${c.node}: running=${s.State.Running} pid=${s.State.Pid} exit=${s.State.ExitCode}`);
      if (s.State.Pid > 0) {
        const pid = String(s.State.Pid);
        await sh(`${c.name} sockets`, "nsenter", ["-t", pid, "-n", "ss", "-tnioe"]);
        await sh(`${c.name} neighbours`, "nsenter", ["-t", pid, "-n", "ip", "neigh"]);
        await sh(`${c.name} links`, "nsenter", ["-t", pid, "-n", "ip", "-br", "link"]);
        await sh(`${c.name} iptables`, "nsenter", ["-t", pid, "-n", "iptables-save"]);
        await sh(`${c.name} netstat`, "nsenter", [
          "-t",
          pid,
          "-n",
          "nstat",
          "-az",
          "TcpExt*Retrans*",
          "TcpOutRsts",
          "TcpInErrs",
          "TcpExtTCPAbort*",
          "TcpExtListen*",
        ]);
      }
    } catch (err) {
      out.push(`## ${c.name} on ${c.node}: ${(err as Error).message}`);
    }
  }
  await sh("herd0 fdb", "bridge", ["fdb", "show", "br", "herd0"]);
  return out.join("\n");
}

/** `herd migrate`; HERD_SOAK_MODE (e.g. post-copy) runs the same moves in another memory mode. */
export async function migrate(name: string, to: string): Promise<void> {
  const mode = process.env.HERD_SOAK_MODE;
  const r = await herd("migrate", name, "--to", to, ...(mode ? ["--mode", mode] : []));
  assert.equal(r.code, 0, `herd migrate ${name} --to ${to}: ${r.stdout}\n${r.stderr}`);
}
