/**
 * Networked services across moves, on a real two-node local cluster (herd up): containers on the
 * cluster network (macvlan over each node's interface on herd0, 10.77.0.0/24) keep their address
 * and their established TCP connections when Herd moves them.
 *
 * 1. A `netecho` server with an established connection from a client container on the other node
 *    moves back and forth 10 times. The client checks every echoed byte (it exits on a reset, a
 *    close or a mismatch) and numbers its requests, so: zero resets, zero lost or duplicated
 *    bytes; the server keeps its address every time; a fresh connection from the host works
 *    after each move; exactly one copy runs at any time.
 * 2. A listening-only server moves; new connections at the same address work from the host and
 *    from a container on the other node.
 * 3. `herd rm` gives the name and the address back: a new container on the other node takes both
 *    at once and answers there (it announces itself, so the bridge stops sending to the old node).
 * When the kept connection stops echoing, the failure carries what the kernel and the bridge say
 * (sockets with their retransmission state, neighbours, firewall rules, the bridge's FDB).
 * Traffic goes only to the cluster's own addresses on herd0.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { apiGet, copiesOf, engineOf, execFileAsync, herd, herdJson, logsOf, newCluster, waitFor } from "./support/cluster-harness.js";

const log: string[] = [];
const cluster = newCluster(log);
let info: ClusterInfo;

interface PsRow {
  name: string;
  nodeId: string;
  state: string;
  address?: string;
}

async function psRow(name: string): Promise<PsRow | undefined> {
  return (await herdJson<PsRow[]>("ps")).find((c) => c.name === name);
}

/** One fresh connection from the host: send a line, expect it back byte for byte. */
function echoOnce(host: string, port: number, text: string, timeoutMs = 5_000): Promise<void> {
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
function sequence(logs: string): number[] {
  return [...logs.matchAll(/^seq=(\d+) /gm)].map((m) => Number(m[1]));
}

/** What the kernel and the bridge say about a stalled connection: sockets, FDB, neighbours, firewall rules. */
async function diagnose(containers: Array<{ node: string; name: string }>): Promise<string> {
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

async function migrate(name: string, to: string): Promise<void> {
  const r = await herd("migrate", name, "--to", to);
  assert.equal(r.code, 0, `herd migrate ${name} --to ${to}: ${r.stdout}\n${r.stderr}`);
}

describe("networked migration on a two-node local cluster", { timeout: 900_000 }, () => {
  before(async () => {
    assert.equal(cluster.info(), undefined, "a local cluster is already up: run `herd down` before the integration tests");
    info = await cluster.up({ nodes: 2 });
    await waitFor("both nodes up", async () => (await herdJson<Array<{ status: string }>>("nodes")).filter((n) => n.status === "up").length === 2, 60_000);
  });

  after(async () => {
    await cluster.down();
  });

  it("keeps an established connection and the address across 10 round trips", async () => {
    const run = await herdJson<{ address?: string; network: string }>("run", "--node", "n1", "--name", "echo", "herd/workload:latest", "netecho", "7000");
    assert.equal(run.network, "cluster", "the cluster network is the default");
    const address = run.address ?? "";
    assert.ok(address.startsWith("10.77.0."), `address in the cluster subnet: "${address}"`);
    await waitFor("echo listening from the host", () => echoOnce(address, 7000, "hello").then(() => true), 30_000);

    // The client on the other node: one connection for the whole test, a request every 20 ms.
    await herdJson("run", "--node", "n2", "--name", "echo-client", "herd/workload:latest", "netecho", "client", address, "7000", "20");
    const n2 = engineOf(info, "n2");
    await waitFor("client echoing", async () => sequence(await logsOf(n2, "echo-client")).length >= 10, 30_000);

    let where = "n1";
    for (let move = 1; move <= 20; move++) {
      const to = where === "n1" ? "n2" : "n1";
      const before = sequence(await logsOf(n2, "echo-client")).length;
      await migrate("echo", to);
      where = to;
      const row = await waitFor(`echo reported on ${to}`, async () => {
        const r = await psRow("echo");
        return r?.nodeId === to && r.state === "running" ? r : undefined;
      });
      assert.equal(row.address, address, `move ${move}: same address`);
      const copies = (await copiesOf(info, "echo")).filter((c) => c.running);
      assert.deepEqual(
        copies.map((c) => c.node),
        [to],
        `move ${move}: exactly one running copy`,
      );
      // The kept connection carries on: more echoes, the client never saw a reset.
      try {
        await waitFor(`move ${move}: client echoing again`, async () => sequence(await logsOf(n2, "echo-client")).length >= before + 10, 30_000);
      } catch (err) {
        const report = await diagnose([
          { node: to, name: "echo" },
          { node: "n2", name: "echo-client" },
        ]);
        throw new Error(`${(err as Error).message}\n${report}`);
      }
      // A fresh connection to the same address, from the host.
      await echoOnce(address, 7000, `fresh connection after move ${move}`);
    }

    const client = await n2.getContainer("echo-client").inspect();
    const logs = await logsOf(n2, "echo-client");
    assert.equal(client.State.Running, true, `client exited (${client.State.ExitCode}): ${logs.slice(-300)}`);
    assert.doesNotMatch(logs, /closed|reset|mismatch|refused/i);
    const seq = sequence(logs);
    // Every request answered once, in order: nothing lost, nothing duplicated.
    assert.deepEqual(
      seq,
      seq.map((_, i) => i),
    );
    assert.ok(seq.length > 200, `client made ${seq.length} round trips`);
  });

  it("moves a listening-only server; new connections work from the host and the other node", async () => {
    const run = await herdJson<{ address?: string }>("run", "--node", "n1", "--name", "listener", "herd/workload:latest", "netecho", "7001");
    const address = run.address ?? "";
    assert.ok(address.startsWith("10.77.0."), `address in the cluster subnet: "${address}"`);
    await waitFor("listener up", () => echoOnce(address, 7001, "before").then(() => true), 30_000);
    // Control's view follows telemetry: it must see the container running before it moves it.
    await waitFor("listener running in herd ps", async () => (await psRow("listener"))?.state === "running", 30_000);
    await migrate("listener", "n2");
    const row = await waitFor("listener reported on n2", async () => {
      const r = await psRow("listener");
      return r?.nodeId === "n2" ? r : undefined;
    });
    assert.equal(row.address, address);
    await echoOnce(address, 7001, "from the host after the move");
    // From the other node (n1, where it came from): a probe container on the cluster network.
    await herdJson("run", "--node", "n1", "--name", "probe-n1", "herd/workload:latest", "netecho", "probe", address, "7001", "10", "2", "1000");
    const n1 = engineOf(info, "n1");
    const done = await waitFor("probe finished", async () => /probe done .*/.exec(await logsOf(n1, "probe-n1"))?.[0], 30_000);
    const m = /ok=(\d+) failed=(\d+) reconnects=(\d+)/.exec(done);
    assert.ok(m, done);
    assert.ok(Number(m[1]) > 20, done);
    assert.equal(Number(m[2]), 0, done);
    assert.equal(Number(m[3]), 0, done);
  });

  it("herd rm removes a container and gives its name and address back", async () => {
    const claims = async () => (await apiGet<{ claims: Array<{ address: string; container: string }> }>(info, "/network")).claims;
    const held = (await claims()).find((c) => c.container === "listener");
    assert.ok(held, "the listener holds an address before it is removed");
    const rm = await herdJson<{ removed: boolean; nodeId: string; address?: string }>("rm", "listener");
    assert.deepEqual([rm.removed, rm.nodeId, rm.address], [true, "n2", held.address]);
    assert.deepEqual(await copiesOf(info, "listener"), [], "no copy left on any node");
    assert.equal(
      (await claims()).find((c) => c.address === held.address),
      undefined,
      "the address is free",
    );
    // Name and address are free for a new container at once.
    const again = await herdJson<{ address?: string }>(
      "run",
      "--node",
      "n1",
      "--name",
      "listener",
      "--ip",
      held.address,
      "herd/workload:latest",
      "netecho",
      "7001",
    );
    assert.equal(again.address, held.address);
    await waitFor("the new listener answers at the same address", () => echoOnce(held.address, 7001, "new listener").then(() => true), 30_000);
    const missing = await herd("rm", "no-such-container");
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no container no-such-container/);
  });
});
