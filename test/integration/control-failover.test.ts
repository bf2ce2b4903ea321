// Issue 16: two control replicas on the real two-node cluster. The leader is killed (SIGKILL)
// mid-migration; the other replica must take the lease within 10 s, adopt the migration and bring
// it to a terminal state, with the container existing exactly once (one copy, running, counting on).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { MigrationRecord, TERMINAL_STATES } from "../../shared/src/contracts/migration-api.js";
import { copiesOf, engineOf, herd, herdJson, lastCounter, logsOf, newCluster, waitFor } from "./support/cluster-harness.js";

const NAME = "failover-a";
const DEADLINE_MS = 40_000;
const log: string[] = [];
const cluster = newCluster(log);

interface LeaderView {
  replicaId: string;
  isLeader: boolean;
  leader: { replicaId: string; epoch: number; apiUrl?: string } | null;
  driving: string[];
}

async function call<T>(info: ClusterInfo, base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(`/api/v1${path}`, base), {
    ...init,
    headers: { authorization: `Bearer ${info.apiToken}`, "content-type": "application/json" },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

describe("control replicas: the leader dies mid-migration", { timeout: 10 * 60_000 }, () => {
  let info: ClusterInfo;

  before(async () => {
    if (cluster.info() !== undefined || (await cluster.leftovers()).length > 0) await cluster.down();
    info = await cluster.up({ nodes: 2, controls: 2 });
    const r = await herd("run", "--node", "n1", "--name", NAME, "herd/workload:latest", "counter", "8", "100");
    assert.equal(r.code, 0, r.stderr);
    await waitFor("container in herd ps", async () => (await herdJson<Array<{ name: string }>>("ps")).some((c) => c.name === NAME), 30_000);
  });

  after(async () => {
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
    if (process.env.HERD_TEST_VERBOSE) console.log(log.join("\n"));
  });

  it("another replica takes over within 10 s and the migration ends with the container exactly once", async () => {
    const replicas = cluster.controlReplicas();
    assert.equal(replicas.length, 2, "two control processes run");
    assert.ok(replicas.every((r) => r.pid !== undefined));

    // Exactly one leader, and both replicas agree on who it is.
    const views = await waitFor(
      "one leader",
      async () => {
        const vs = await Promise.all(replicas.map((r) => call<LeaderView>(info, r.apiUrl, "/control/leader").then((x) => x.body)));
        return vs.filter((v) => v.isLeader).length === 1 ? vs : undefined;
      },
      20_000,
    );
    const leaderAt = views.findIndex((v) => v.isLeader);
    const leader = replicas[leaderAt]!;
    const follower = replicas[1 - leaderAt]!;
    const oldEpoch = views[leaderAt]!.leader!.epoch;
    assert.equal(views[1 - leaderAt]!.leader?.replicaId, views[leaderAt]!.replicaId);

    // Every replica serves the API: the migration is asked of the follower, which records it; the leader drives it.
    const counterBefore = lastCounter(await logsOf(engineOf(info, "n1"), NAME));
    const posted = await call<unknown>(info, follower.apiUrl, "/migrations", {
      method: "POST",
      body: JSON.stringify({ container: NAME, to: "n2", deadlineMs: DEADLINE_MS, reason: "failover test" }),
    });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    const m = MigrationRecord.parse(posted.body);

    // Kill the leader as soon as it is seen driving (a step past describe has begun).
    const seen = await waitFor(
      `${m.id} driven by the leader`,
      async () => {
        const r = MigrationRecord.parse((await call<unknown>(info, follower.apiUrl, `/migrations/${m.id}`)).body);
        if (TERMINAL_STATES.includes(r.state)) throw new Error(`${m.id} finished (${r.state}) before the leader could be killed`);
        return r.steps.length >= 2 ? r : undefined;
      },
      30_000,
      20,
    );
    process.kill(leader.pid!, "SIGKILL");
    const killedAt = Date.now();
    log.push(`killed leader ${views[leaderAt]!.replicaId} at step ${seen.step}`);

    // The follower takes over within 10 s, under a larger epoch.
    const took = await waitFor(
      "the follower leads",
      async () => {
        const v = (await call<LeaderView>(info, follower.apiUrl, "/control/leader")).body;
        return v.isLeader ? v : undefined;
      },
      10_000,
      100,
    );
    const takeoverMs = Date.now() - killedAt;
    assert.ok(took.leader!.epoch > oldEpoch, `epoch ${took.leader!.epoch} > ${oldEpoch}`);

    // …and settles the migration within its bound (plus the takeover time).
    const final = await waitFor(
      `${m.id} terminal`,
      async () => {
        const r = MigrationRecord.parse((await call<unknown>(info, follower.apiUrl, `/migrations/${m.id}`)).body);
        return TERMINAL_STATES.includes(r.state) ? r : undefined;
      },
      DEADLINE_MS + 20_000,
      200,
    );
    console.log(`failover: killed the leader at ${seen.step}; follower led after ${takeoverMs} ms; migration ${final.state} (${final.whereabouts ?? ""})`);
    assert.ok(final.state === "committed" || final.state === "rolled-back", `ended ${final.state}: ${final.error?.message ?? ""}`);

    // Exactly once: one copy of the container on all nodes together, running, counting on from where it was.
    const copies = await waitFor(
      "exactly one copy",
      async () => {
        const cs = await copiesOf(info, NAME);
        return cs.length === 1 && cs[0]!.running ? cs : undefined;
      },
      20_000,
    ).catch(async () => copiesOf(info, NAME));
    assert.equal(copies.length, 1, `copies: ${JSON.stringify(copies)}`);
    assert.equal(copies[0]!.running, true);
    assert.equal(copies[0]!.node, final.state === "committed" ? "n2" : "n1");
    const docker = engineOf(info, copies[0]!.node);
    const counted = await waitFor(
      "counter moving on",
      async () => {
        const v = lastCounter(await logsOf(docker, NAME));
        return v > counterBefore ? v : undefined;
      },
      20_000,
    );
    assert.ok(counted > counterBefore);
  });
});
