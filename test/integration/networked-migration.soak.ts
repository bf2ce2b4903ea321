// Not part of `npm test` yet. The kept connection was reset now and then: in 3 of 3 suite runs on
// 2026-12-01 (moves 6, 8, 16), at move 8 in the CI rehearsal of 2026-12-02 05:18 and at move 10 in a
// soak run under load at 05:40, always on a move of the server away from the client's node
// (n2 → n1). The last failure printed the client's "Connection reset by peer" while the restored
// server was intact and had sent no reset: the reset came from the dead source namespace on the
// client's node, between the dump and the removal of its interface. Since then the agent fences the
// container's TCP in its namespace while it is dumped (RuncCheckpointer.fenceTcp); 3 of 3 soak runs
// under load passed after it. Back into `npm test` once a longer series under load passes.
/**
 * A `netecho` server with an established connection from a client container on the other node
 * moves back and forth 10 times, on a real two-node local cluster (herd up). The client checks
 * every echoed byte (it exits on a reset, a close or a mismatch) and numbers its requests, so:
 * zero resets, zero lost or duplicated bytes; the server keeps its address every time; a fresh
 * connection from the host works after each move; exactly one copy runs at any time. When the
 * kept connection stops echoing, the failure carries the client's last output and what the kernel
 * and the bridge say (sockets with their retransmission state, neighbours, firewall rules, the
 * bridge's FDB). Traffic goes only to the cluster's own addresses on herd0.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { copiesOf, engineOf, herdJson, logsOf, waitFor } from "./support/cluster-harness.js";
import { diagnose, echoOnce, migrate, psRow, sequence, twoNodeCluster } from "./support/networked.js";

describe("a kept TCP connection across 20 moves on a two-node local cluster", { timeout: 900_000 }, () => {
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
      const before = sequence(await logsOf(n2, "echo-client")).length;
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
      // The kept connection carries on: more echoes, the client never saw a reset.
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
  });
});
