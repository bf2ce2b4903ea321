// Issue 4's live acceptance: load piled on node 1 is spread by the automatic loop, within its
// budgets, with the migrations recorded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpus } from "node:os";
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
      // The machine is shared (2 cores, other work running), so the share of the cores the pile
      // gets is whatever it gets: measure it, then put the overload point below the pile's own
      // load and the destination target above one burner's, both relative to what was measured.
      // Every node reports the host's cores, so a node's load is the sum of its containers'.
      const pileLoad = async () => {
        const piles = (await herdJson<ContainerView[]>("ps")).filter((c) => c.name.startsWith("pile"));
        return piles.length === 3 && piles.every((c) => c.cpuPct > 1) ? piles.reduce((a, c) => a + c.cpuPct, 0) : undefined;
      };
      await waitFor("the three burners on n1 to report CPU use", pileLoad, 60_000, 1_000);
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        samples.push(await waitFor("a CPU sample of the pile", pileLoad, 30_000, 1_000));
        await new Promise((r) => setTimeout(r, 2_000));
      }
      const cores = cpus().length; // every emulated node reports the host's cores (/proc/stat's cpuN lines)
      const share = Math.min(...samples) / 100 / cores; // fraction of n1's capacity the pile uses
      const overloadAt = Math.max(0.05, Math.min(1, 0.75 * share));
      const target = Math.max(0.05, Math.min(1, 0.6 * share));
      const args = JSON.stringify({ overloadAt: Number(overloadAt.toFixed(3)), target: Number(target.toFixed(3)), z: 0 });
      const on = await herd("rebalance", "--auto", "on", "--policy", "forecast", "--args", args);
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
