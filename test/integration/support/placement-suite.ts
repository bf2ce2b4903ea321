// Issue 4's live acceptance: load piled on node 1 is spread by the automatic loop, within its
// budgets, with the migrations recorded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterInfo } from "../../../services/cli/src/local-cluster/local-cluster.js";
import { engineOf, herd, herdJson, waitFor } from "./cluster-harness.js";

interface MigrationView {
  id: string;
  containerName: string;
  source: string;
  destination: string;
  state: string;
  createdAt: number;
  finishedAt?: number;
}
interface ContainerView {
  name: string;
  nodeId: string;
  cpuPct: number;
}

export function placementSuite(ctx: () => { info: ClusterInfo }): void {
  describe("automatic rebalancing", () => {
    it("shows a dry-run plan with reasons and rejects bad policy arguments", async () => {
      const bad = await herd("plan", "--policy", "threshold", "--args", '{"cpuThreshold":7}');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /cpuThreshold: must be a number between 0\.1 and 1/);
      const unknown = await herd("plan", "--policy", "magic");
      assert.match(unknown.stderr, /unknown placement policy "magic"; valid: none, threshold, sandpiper, forecast/);
      const plan = await herdJson<{ policy: string; nodes: unknown[] }>("plan");
      assert.equal(plan.policy, "forecast");
      assert.equal(plan.nodes.length, 2);
      assert.ok(ctx().info.nodes.length === 2);
    });

    it("spreads CPU burners piled on n1 without anyone typing migrate", async () => {
      // Only the pile burns CPU: earlier tests' burners would share the two real cores.
      for (const n of ctx().info.nodes) {
        const docker = engineOf(ctx().info, n.id);
        for (const c of await docker.listContainers({ all: true })) {
          if (c.Command.includes("cpuburn")) await docker.getContainer(c.Id).remove({ force: true });
        }
      }
      const before = new Set((await herdJson<MigrationView[]>("migrations", "--limit", "500")).map((m) => m.id));
      for (const i of [1, 2, 3]) {
        const r = await herd("run", "--node", "n1", "--name", `pile${i}`, "herd/workload:latest", "cpuburn", "1");
        assert.equal(r.code, 0, r.stderr);
      }
      // Precondition: the pile is a hotspot (on a quiet machine 3 burners take both cores, 100 %
      // of n1; other work on the machine can only lower that, so the test says so if it does).
      await waitFor(
        "the pile to use over 55 % of n1's two cores",
        async () => {
          const piles = (await herdJson<ContainerView[]>("ps")).filter((c) => c.name.startsWith("pile"));
          return piles.length === 3 && piles.reduce((a, c) => a + c.cpuPct, 0) > 110;
        },
        60_000,
      );
      // The forecast policy with its overload point at 50 % (the lowest it accepts), so that the
      // pile counts as a hotspot even when other work on the machine takes part of the cores.
      const on = await herd("rebalance", "--auto", "on", "--policy", "forecast", "--args", '{"overloadAt":0.5,"target":0.45}');
      assert.match(on.stdout, /automatic rebalancing is on/);
      try {
        const moved = await waitFor(
          "a burner moved by the loop",
          async () => {
            const ms = (await herdJson<MigrationView[]>("migrations", "--limit", "500")).filter((m) => !before.has(m.id));
            return ms.some((m) => m.containerName.startsWith("pile") && m.state === "committed") ? ms : undefined;
          },
          120_000,
          1_000,
        );
        const ps = await herdJson<ContainerView[]>("ps");
        const piles = ps.filter((c) => c.name.startsWith("pile"));
        assert.equal(piles.length, 3, "no burner lost");
        assert.ok(
          piles.some((c) => c.nodeId === "n2"),
          `burners now on ${piles.map((c) => c.nodeId).join(",")}`,
        );
        assert.ok(
          piles.some((c) => c.nodeId === "n1"),
          "the loop did not simply move the pile",
        );
        // Budgets: at most 1 migration per node at a time, and the cooldown keeps a container put.
        const byContainer = new Map<string, MigrationView[]>();
        for (const m of moved) byContainer.set(m.containerName, [...(byContainer.get(m.containerName) ?? []), m]);
        for (const [name, list] of byContainer) assert.equal(list.length, 1, `${name} moved ${list.length} times within the cooldown`);
      } finally {
        await herd("rebalance", "--auto", "off");
      }
    });
  });
}
