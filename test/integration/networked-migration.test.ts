/**
 * Networked services across moves, on a real two-node local cluster (herd up): containers on the
 * cluster network (macvlan over each node's interface on herd0, 10.77.0.0/24) keep their address
 * when Herd moves them.
 *
 * 1. A listening-only server moves; new connections at the same address work from the host and
 *    from a container on the other node.
 * 2. `herd rm` gives the name and the address back: a new container on the other node takes both
 *    at once and answers there (it announces itself, so the bridge stops sending to the old node).
 * The kept-connection case (10 round trips with a client on the other node) is in
 * networked-migration.soak.ts, run by `npm run test:soak`: see why in its header.
 * Traffic goes only to the cluster's own addresses on herd0.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiGet, copiesOf, engineOf, herd, herdJson, logsOf, waitFor } from "./support/cluster-harness.js";
import { echoOnce, migrate, psRow, twoNodeCluster } from "./support/networked.js";

describe("networked migration on a two-node local cluster", { timeout: 900_000 }, () => {
  const cluster = twoNodeCluster();

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
