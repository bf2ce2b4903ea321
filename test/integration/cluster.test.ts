// Issue 2's acceptance on the real local cluster: `herd up --nodes 2`, telemetry from real
// containers into `herd ps`, bad input, broker restart, agent death and return, dead-lettering,
// then the live-migration suite (issue 3) on the same cluster, and `herd down` leaving nothing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import amqp from "amqplib";
import { randomUUID } from "node:crypto";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { EXCHANGES, QUEUES, TELEMETRY_QUEUE_MAX_LENGTH } from "../../shared/src/topology.js";
import { execFileAsync, herd, herdJson, newCluster, secretsOf, waitFor } from "./support/cluster-harness.js";
import { migrationSuite } from "./support/migration-suite.js";
import { placementSuite } from "./support/placement-suite.js";

interface NodeView {
  id: string;
  status: string;
  lastTelemetryAt?: number;
  cpuPct?: number;
}
interface ContainerView {
  id: string;
  name: string;
  nodeId: string;
  state: string;
  cpuPct: number;
  memBytes: number;
}

const log: string[] = [];
const cluster = newCluster(log);
let info: ClusterInfo;

async function deadLetterCount(): Promise<number> {
  const s = secretsOf(cluster);
  const conn = await amqp.connect(`amqp://herd-control:${encodeURIComponent(s.controlPassword)}@127.0.0.1:5672/herd`);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(QUEUES.dead)).messageCount;
  } finally {
    await conn.close();
  }
}

async function publishAs(user: string, password: string, exchange: string, key: string, body: string | Buffer, persistent = false): Promise<void> {
  const conn = await amqp.connect(`amqp://${user}:${encodeURIComponent(password)}@127.0.0.1:5672/herd`);
  conn.on("error", () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
    // A refused publish closes the channel with an error event rather than failing the callback.
    await new Promise<void>((res, rej) => {
      ch.once("error", rej);
      ch.publish(exchange, key, Buffer.from(body), { persistent }, (err) => (err ? rej(err) : res()));
    });
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function api(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const token = init.token === undefined ? info.apiToken : init.token;
  return fetch(new URL(`/api/v1${path}`, info.apiUrl), {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" },
  });
}

const nodeStatus = async (id: string) => (await herdJson<NodeView[]>("nodes")).find((n) => n.id === id);

describe("Herd on a real two-node local cluster", { timeout: 3_000_000 }, () => {
  before(async () => {
    assert.equal(cluster.info(), undefined, "a local cluster is already up: run `herd down` before the integration tests");
    const r = await herd("up", "--nodes", "2");
    assert.equal(r.code, 0, `herd up failed: ${r.stderr}`);
    info = cluster.info()!;
  });

  after(async () => {
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
    console.log(log.join("\n"));
  });

  it("brings both nodes up", async () => {
    const nodes = await waitFor("both nodes up", async () => {
      const n = await herdJson<NodeView[]>("nodes");
      return n.length === 2 && n.every((x) => x.status === "up") && n;
    });
    assert.deepEqual(
      nodes.map((n) => n.id),
      ["n1", "n2"],
    );
  });

  it("shows a CPU burner started on node 2 in herd ps with non-zero CPU within seconds", async () => {
    const run = await herd("run", "--node", "n2", "--name", "burner", "herd/workload:latest", "cpuburn", "1");
    assert.equal(run.code, 0, run.stderr);
    await herd("run", "--node", "n2", "--name", "idler", "herd/workload:latest", "sleep", "3600");
    const t0 = Date.now();
    const burner = await waitFor(
      "burner CPU in herd ps",
      async () => {
        const ps = await herdJson<ContainerView[]>("ps");
        const b = ps.find((c) => c.name === "burner");
        return b && b.cpuPct > 20 ? b : undefined;
      },
      15_000,
    );
    assert.equal(burner.nodeId, "n2");
    assert.ok(Date.now() - t0 < 15_000);
    const idler = (await herdJson<ContainerView[]>("ps")).find((c) => c.name === "idler");
    assert.ok(idler && idler.cpuPct < 5, `idle container shows ${idler?.cpuPct}% CPU`);
    const table = await herd("ps");
    assert.match(table.stdout, /burner\s+n2\s+10\.77\.0\.\d+\s+herd\/workload:latest\s+running\s+\d+\.\d%/);
  });

  it("serves a container's recent metrics", async () => {
    const r = await herdJson<{ points: Array<{ cpuPct: number }> }>("metrics", "burner", "--limit", "5");
    assert.ok(r.points.length >= 1 && r.points.length <= 5);
    assert.ok(r.points.some((p) => p.cpuPct > 20));
  });

  it("refuses the API without a valid token and names bad fields", async () => {
    assert.equal((await api("/nodes", { token: null })).status, 401);
    assert.equal((await api("/nodes", { token: "wrong-token-wrong-token" })).status, 401);
    assert.equal((await fetch(new URL("/metrics", info.apiUrl))).status, 401);
    const badLimit = await api("/containers/burner/metrics?limit=abc");
    assert.equal(badLimit.status, 400);
    assert.equal(((await badLimit.json()) as { field: string }).field, "limit");
    const badRun = await api("/containers", { method: "POST", body: JSON.stringify({ node: "N 2", name: "x", image: "y" }) });
    assert.equal(badRun.status, 400);
    assert.equal(((await badRun.json()) as { field: string }).field, "node");
    const notJson = await api("/containers", { method: "POST", body: "{nope" });
    assert.equal(notJson.status, 400);
    assert.equal((await api("/containers/no-such-container")).status, 404);
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["limit=10001", "limit"],
      ["limit=1&cursor=!!", "cursor"],
      [`limit=1&cursor=${Buffer.from('["n1"]').toString("base64url")}`, "cursor"],
    ]) {
      const bad = await api(`/containers?${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(((await bad.json()) as { field: string }).field, field, query);
    }
    // Paging one container at a time returns the whole listing, in order, once.
    const all = ((await (await api("/containers")).json()) as { containers: Array<{ id: string }> }).containers;
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const p = (await (await api(`/containers?limit=1${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { containers: Array<{ id: string }>; nextCursor?: string };
      paged.push(...p.containers.map((c) => c.id));
      cursor = p.nextCursor;
    } while (cursor && paged.length <= all.length);
    assert.ok(all.length >= 2);
    assert.deepEqual(paged, all.map((c) => c.id));
    const metrics = await (await fetch(new URL("/metrics", info.apiUrl), { headers: { authorization: `Bearer ${info.apiToken}` } })).text();
    assert.match(metrics, /herd_telemetry_batches_total\{node="n2"\} \d+/);
  });

  it("gives CLI argument errors that name the argument", async () => {
    const badFormat = await herd("ps", "-o", "yaml");
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /-o\/--output.*"yaml"/);
    const badNodes = await herd("up", "--nodes", "0");
    assert.equal(badNodes.code, 2);
    assert.match(badNodes.stderr, /--nodes must be an integer from 1 to 16/);
    const badNode = await herd("ps", "--node", "Node 1");
    assert.equal(badNode.code, 2);
  });

  it("dead-letters and counts malformed telemetry and commands, and keeps consuming", async () => {
    const s = secretsOf(cluster);
    const before = await deadLetterCount();
    await publishAs("herd-node-n1", s.nodePasswords.n1!, EXCHANGES.telemetry, "node.n1", "{not json");
    await publishAs("herd-node-n1", s.nodePasswords.n1!, EXCHANGES.telemetry, "node.n1", JSON.stringify({ v: 1, kind: "telemetry", nodeId: "n1", seq: -1 }));
    await publishAs(
      "herd-control",
      s.controlPassword,
      EXCHANGES.commands,
      "n1",
      JSON.stringify({ v: 1, id: "bad-command-1", type: "reboot", nodeId: "n1", issuedAt: 1, payload: {} }),
      true,
    );
    await publishAs("herd-control", s.controlPassword, EXCHANGES.commands, "n1", "garbage", true);
    await waitFor("4 dead letters", async () => (await deadLetterCount()) >= before + 4, 10_000);
    const metrics = await (await fetch(new URL("/metrics", info.apiUrl), { headers: { authorization: `Bearer ${info.apiToken}` } })).text();
    assert.match(metrics, /herd_messages_rejected_total\{queue="telemetry",reason="[^"]+"\} [1-9]/);
    // Both consumers still work: n1 runs a new container and its telemetry keeps flowing.
    const run = await herd("run", "--node", "n1", "--name", "after-bad-input", "herd/workload:latest", "sleep", "3600");
    assert.equal(run.code, 0, run.stderr);
    await waitFor("after-bad-input in ps", async () => (await herdJson<ContainerView[]>("ps")).some((c) => c.name === "after-bad-input"));
  });

  it("takes over a telemetry queue an older version declared (dead-lettering its overflow, another cap) and keeps ingesting", async () => {
    const s = secretsOf(cluster);
    const conn = await amqp.connect(`amqp://herd-control:${encodeURIComponent(s.controlPassword)}@127.0.0.1:5672/herd`);
    try {
      const ch = await conn.createChannel();
      // Deleting the queue cancels the control's consumer; the old declaration is back before the control reconnects (≥ 250 ms).
      await ch.deleteQueue(QUEUES.telemetryIngest);
      await ch.assertQueue(QUEUES.telemetryIngest, {
        durable: false,
        arguments: { "x-max-length": 2_000, "x-overflow": "drop-head", "x-dead-letter-exchange": EXCHANGES.dead },
      });
      await ch.bindQueue(QUEUES.telemetryIngest, EXCHANGES.telemetry, "node.*");
    } finally {
      await conn.close();
    }
    const since = Date.now();
    const admin = `Basic ${Buffer.from(`${info.amqp.adminUser}:${info.amqp.adminPassword}`).toString("base64")}`;
    await waitFor(
      "the telemetry queue declared with today's arguments and consumed",
      async () => {
        const res = await fetch(`${info.amqp.managementUrl}/api/queues/herd/${encodeURIComponent(QUEUES.telemetryIngest)}`, { headers: { authorization: admin } });
        if (!res.ok) return false;
        const q = (await res.json()) as { arguments: Record<string, unknown>; consumers?: number };
        return q.arguments["x-dead-letter-exchange"] === undefined && q.arguments["x-max-length"] === TELEMETRY_QUEUE_MAX_LENGTH && (q.consumers ?? 0) >= 1;
      },
      30_000,
    );
    for (const id of ["n1", "n2"]) {
      await waitFor(`telemetry from ${id} stored again`, async () => ((await nodeStatus(id))?.lastTelemetryAt ?? 0) > since + 1000, 30_000);
    }
  });

  it("does not let a node publish as another node", async () => {
    const s = secretsOf(cluster);
    await assert.rejects(publishAs("herd-node-n1", s.nodePasswords.n1!, EXCHANGES.telemetry, "node.n2", "{}"), /ACCESS_REFUSED|403/);
  });

  it("loses no command across a broker restart and resumes telemetry within seconds", async () => {
    const s = secretsOf(cluster);
    await cluster.stopAgent("n2");
    // A command for n2 waits in its durable queue while n2's agent is away…
    const command = {
      v: 1,
      id: randomUUID(),
      type: "container.run",
      nodeId: "n2",
      issuedAt: Date.now(),
      payload: { name: "queued-during-restart", image: "herd/workload:latest", cmd: ["sleep", "3600"] },
    };
    await publishAs("herd-control", s.controlPassword, EXCHANGES.commands, "n2", JSON.stringify(command), true);
    // …survives the broker restart…
    await execFileAsync("rabbitmqctl", ["stop_app"]);
    const restartedAt = Date.now();
    await execFileAsync("rabbitmqctl", ["start_app"]);
    await execFileAsync("rabbitmqctl", ["await_startup"]);
    await cluster.startAgent("n2");
    // …and runs once the agent is back.
    await waitFor("queued command executed", async () => (await herdJson<ContainerView[]>("ps")).some((c) => c.name === "queued-during-restart"), 45_000);
    for (const id of ["n1", "n2"]) {
      await waitFor(`telemetry from ${id} after the restart`, async () => ((await nodeStatus(id))?.lastTelemetryAt ?? 0) > restartedAt + 1000, 30_000);
      await waitFor(`${id} up after the restart`, async () => (await nodeStatus(id))?.status === "up", 30_000);
    }
  });

  it("shows a killed agent's node down, and up again when it is restarted", async () => {
    const pid = cluster.info()!.nodes.find((n) => n.id === "n1")!.agentPid!;
    process.kill(pid, "SIGKILL");
    await waitFor("n1 down", async () => (await nodeStatus("n1"))?.status === "down", 15_000);
    assert.equal((await nodeStatus("n2"))?.status, "up");
    const ps = await herd("ps");
    assert.match(ps.stdout, /n1 \(down\)/);
    await cluster.startAgent("n1");
    await waitFor("n1 up again", async () => (await nodeStatus("n1"))?.status === "up", 15_000);
  });

  migrationSuite(() => ({ cluster, info: cluster.info()! }));
  migrationSuite(() => ({ cluster, info: cluster.info()! }), "post-copy");

  placementSuite(() => ({ info: cluster.info()! }));

  it("herd down leaves no engine, namespace, container or process behind", async () => {
    const r = await herd("down");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await cluster.leftovers(), []);
    const { stdout: netns } = await execFileAsync("ip", ["netns", "list"]);
    assert.doesNotMatch(netns, /herd-/);
    const { stdout: ps } = await execFileAsync("ps", ["-eo", "args"]);
    assert.doesNotMatch(ps, /\/run\/herd\/|compute-agent\/src\/main|services\/control\/src\/main/);
    const { stdout: mounts } = await execFileAsync("cat", ["/proc/mounts"]);
    assert.doesNotMatch(mounts, /\/var\/lib\/herd\/nodes|\/run\/herd\//);
  });
});
