/**
 * Networked services across moves, on a real two-node local cluster (herd up): containers on the
 * cluster network (macvlan over each node's interface on herd0, 10.77.0.0/24) keep their address
 * when Herd moves them.
 *
 * 1. A `netecho` server with an established connection from a client container on the other node
 *    moves back and forth 10 times. The client checks every echoed byte (it exits on a reset, a
 *    close or a mismatch) and numbers its requests, so: zero resets, zero lost or duplicated
 *    bytes; the server keeps its address every time; a fresh connection from the host works after
 *    each move; exactly one copy runs at any time. When the kept connection stops echoing, the
 *    failure carries the client's last output and what the kernel and the bridge say (sockets with
 *    their retransmission state, neighbours, firewall rules, the bridge's FDB).
 *    History: the kept connection used to be reset now and then on a move away from the client's
 *    node, by the dead source namespace answering a retransmission between the dump and the
 *    removal of its interface. The agent now fences the container's TCP while it is dumped
 *    (RuncCheckpointer.fenceTcp) and takes the interface down itself after the dump.
 * 2. A listening-only server moves; new connections at the same address work from the host and
 *    from a container on the other node.
 * 3. `herd rm` gives the name and the address back: a new container on the other node takes both
 *    at once and answers there (it announces itself, so the bridge stops sending to the old node).
 * Traffic goes only to the cluster's own addresses on herd0.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiGet, copiesOf, engineOf, herd, herdJson, logsOf, waitFor } from "./support/cluster-harness.js";
import { diagnose, echoOnce, migrate, psRow, sequence, twoNodeCluster } from "./support/networked.js";

describe("networked migration on a two-node local cluster", { timeout: 900_000 }, () => {
  const cluster = twoNodeCluster();

  it("keeps an established connection and the address across 10 round trips", async () => {
    const run = await herdJson<{ address?: string; network: string }>("run", "--node", "n1", "--name", "echo", "herd/workload:latest", "netecho", "7000");
    assert.equal(run.network, "cluster", "the cluster network is the default");
    const address = run.address ?? "";
    assert.ok(address.startsWith("10.77.0."), `address in the cluster subnet: "${address}"`);
    await waitFor("echo listening from the host", () => echoOnce(address, 7000, "hello").then(() => true), 30_000);

    // The client on the other node: one connection for the whole test, a request every 20 ms.
    await herdJson("run", "--node", "n2", "--name", "echo-client", "herd/workload:latest", "netecho", "client", address, "7000", "20");
    const n2 = engineOf(cluster.info, "n2");
    await waitFor("client echoing", async () => sequence(await logsOf(n2, "echo-client")).length >= 10, 30_000);

    let where = "n1";
    for (let move = 1; move <= 20; move++) {
      const to = where === "n1" ? "n2" : "n1";
      await migrate("echo", to);
      where = to;
      const row = await waitFor(`echo reported on ${to}`, async () => {
        const r = await psRow("echo");
        return r?.nodeId === to && r.state === "running" ? r : undefined;
      });
      assert.equal(row.address, address, `move ${move}: same address`);
      const copies = (await copiesOf(cluster.info, "echo")).filter((c) => c.running);
      assert.deepEqual(
        copies.map((c) => c.node),
        [to],
        `move ${move}: exactly one running copy`,
      );
      // The kept connection carries on: more echoes after the move (counted from now, not from
      // before it: echoes sent before the freeze must not pass for echoes after the restore), and
      // the client never saw a reset.
      const before = sequence(await logsOf(n2, "echo-client")).length;
      try {
        await waitFor(`move ${move}: client echoing again`, async () => sequence(await logsOf(n2, "echo-client")).length >= before + 10, 30_000);
      } catch (err) {
        const report = await diagnose(cluster.info, [
          { node: to, name: "echo" },
          { node: "n2", name: "echo-client" },
        ]);
        const clientLog = (await logsOf(n2, "echo-client").catch((e: Error) => e.message)).slice(-600);
        throw new Error(`${(err as Error).message}\n## echo-client's last output\n${clientLog}\n${report}`);
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
    for (const name of ["echo-client", "echo"]) await herdJson("rm", name);
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
    const n1 = engineOf(cluster.info, "n1");
    const done = await waitFor("probe finished", async () => /probe done .*/.exec(await logsOf(n1, "probe-n1"))?.[0], 30_000);
    const m = /ok=(\d+) failed=(\d+) reconnects=(\d+)/.exec(done);
    assert.ok(m, done);
    assert.ok(Number(m[1]) > 20, done);
    assert.equal(Number(m[2]), 0, done);
    assert.equal(Number(m[3]), 0, done);
  });

  it("herd rm removes a container and gives its name and address back", async () => {
    const claims = async () => (await apiGet<{ claims: Array<{ address: string; container: string }> }>(cluster.info, "/network")).claims;
    const held = (await claims()).find((c) => c.container === "listener");
    assert.ok(held, "the listener holds an address before it is removed");
    const rm = await herdJson<{ removed: boolean; nodeId: string; address?: string }>("rm", "listener");
    assert.deepEqual([rm.removed, rm.nodeId, rm.address], [true, "n2", held.address]);
    assert.deepEqual(await copiesOf(cluster.info, "listener"), [], "no copy left on any node");
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
