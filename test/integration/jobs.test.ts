// Issue 11's acceptance on a real three-node local cluster: jobs submitted through the REST API are
// bin-packed onto nodes by reservations (each policy checked against a packing done by hand), wait
// in the queue until capacity frees, are refused with 422 when larger than any node, survive a
// control restart without being started twice, run with cgroup limits, finish with their exit
// codes, and keep their reservation when live-migrated.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import type { JobRecord, SchedulerStatus } from "../../shared/src/contracts/jobs.js";
import { copiesOf, engineOf, herd, herdJson, newCluster, waitFor } from "./support/cluster-harness.js";

const log: string[] = [];
const cluster = newCluster(log);
let info: ClusterInfo;

// Hand-packable capacities: CPU decides (every node has the same memory).
const CAPACITY = { n1: { cpus: 1.5, memoryMb: 1024 }, n2: { cpus: 1, memoryMb: 1024 }, n3: { cpus: 0.5, memoryMb: 1024 } };
const IMAGE = "herd/workload:latest";

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; data: unknown }> {
  const res = await fetch(new URL(`/api/v1${path}`, info.apiUrl), {
    method,
    headers: { authorization: `Bearer ${info.apiToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, data: await res.json() };
}

async function submit(name: string, cpus: number, cmd: string[] = ["sleep", "600"], memoryMb = 32): Promise<JobRecord> {
  const r = await api("POST", "/jobs", { name, containers: [{ image: IMAGE, cmd, cpus, memoryMb }] });
  assert.equal(r.status, 202, JSON.stringify(r.data));
  return r.data as JobRecord;
}
const job = async (id: string) => (await api("GET", `/jobs/${id}`)).data as JobRecord;
const scheduler = async () => (await api("GET", "/scheduler")).data as SchedulerStatus;
const setScheduler = async (body: object) => assert.equal((await api("PUT", "/scheduler", body)).status, 200);

async function waitState(id: string, states: string[], timeoutMs = 60_000): Promise<JobRecord> {
  return waitFor(
    `job ${id} to be ${states.join("/")}`,
    async () => {
      const j = await job(id);
      return states.includes(j.state) ? j : undefined;
    },
    timeoutMs,
  );
}

/** Cancels every job not finished and waits until nothing is reserved anywhere. */
async function clearJobs(): Promise<void> {
  const { jobs } = (await api("GET", "/jobs?limit=1000")).data as { jobs: JobRecord[] };
  for (const j of jobs) if (!["succeeded", "failed", "cancelled"].includes(j.state)) await api("DELETE", `/jobs/${j.id}`);
  await waitFor("reservations to be released", async () => (await scheduler()).nodes.every((n) => n.reservedCpus === 0 && n.reservedMemoryBytes === 0));
}

describe("jobs on a real three-node local cluster", { timeout: 900_000 }, () => {
  before(async () => {
    assert.equal(cluster.info(), undefined, "a local cluster is already up: run `herd down` before the integration tests");
    info = await cluster.up({ nodes: 3, capacity: CAPACITY });
    await waitFor("all three nodes to report their capacity", async () => {
      const s = await scheduler();
      return s.nodes.length === 3 && s.nodes.every((n) => n.status === "up" && n.source === "heartbeat");
    });
  });

  after(async () => {
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
    if (process.exitCode) console.log(log.join("\n"));
  });

  it("knows each node's capacity from its agent's heartbeat", async () => {
    const s = await scheduler();
    assert.deepEqual(
      s.nodes.map((n) => [n.id, n.cpus, n.memoryBytes]),
      Object.entries(CAPACITY).map(([id, c]) => [id, c.cpus, c.memoryMb * 1_048_576]),
    );
  });

  // Batch a 0.5, b 1.0, c 0.5, d 1.0 CPUs onto n1 1.5, n2 1.0, n3 0.5 (packed by hand):
  //  FF  a→n1 b→n1 c→n2, d waits (n2 and n3 have 0.5 left each)
  //  BF  a→n3 (leaves 0) b→n2 (leaves 0) c→n1 d→n1
  //  FFD b→n1 d→n2 a→n1 c→n3
  //  BFD b→n2 (leaves 0) d→n1 a→n1 (ties n3 on CPU; less memory left) c→n3
  const expected: Record<string, Record<string, string | undefined>> = {
    ff: { a: "n1", b: "n1", c: "n2", d: undefined },
    bf: { a: "n3", b: "n2", c: "n1", d: "n1" },
    ffd: { b: "n1", d: "n2", a: "n1", c: "n3" },
    bfd: { b: "n2", d: "n1", a: "n1", c: "n3" },
  };
  for (const policy of ["ff", "bf", "ffd", "bfd"] as const) {
    it(`${policy.toUpperCase()} packs a held batch where the hand-computed packing says`, async () => {
      await clearJobs();
      await setScheduler({ paused: true, policy });
      const ids: Record<string, string> = {};
      for (const [name, cpus] of [
        ["a", 0.5],
        ["b", 1],
        ["c", 0.5],
        ["d", 1],
      ] as const)
        ids[name] = (await submit(`${policy}-${name}`, cpus)).id;
      await setScheduler({ paused: false });
      const want = expected[policy]!;
      const got: Record<string, string | undefined> = {};
      for (const [name, node] of Object.entries(want)) {
        const j = node ? await waitState(ids[name]!, ["running"]) : await job(ids[name]!);
        got[name] = j.state === "queued" ? undefined : j.tasks[0]!.nodeId;
      }
      assert.deepEqual(got, want);
      if (policy === "ff") {
        // d waits in the queue, with the reason; when b's capacity frees it is placed (on n1).
        const d = await job(ids.d!);
        assert.equal(d.state, "queued");
        assert.match(d.reason ?? "", /waiting for capacity/);
        assert.equal((await api("DELETE", `/jobs/${ids.b}`)).status, 200);
        const placed = await waitState(ids.d!, ["running"]);
        assert.equal(placed.tasks[0]!.nodeId, "n1");
        assert.ok(placed.placedAt! > d.submittedAt);
      }
      const s = await scheduler();
      for (const n of s.nodes) assert.ok(n.reservedCpus <= n.cpus + 1e-9, `${n.id} over-reserved: ${n.reservedCpus} > ${n.cpus}`);
    });
  }

  it("enforces the reservation with cgroup limits (--cpus, --memory) on the node", async () => {
    await clearJobs();
    const j = await waitState((await submit("limits", 0.5, ["sleep", "600"], 48)).id, ["running"]);
    const t = j.tasks[0]!;
    const inspect = await engineOf(info, t.nodeId!).getContainer(t.container).inspect();
    assert.equal(inspect.HostConfig.NanoCpus, 0.5e9);
    assert.equal(inspect.HostConfig.Memory, 48 * 1_048_576);
  });

  it("refuses at once with 422 a job larger than any node, naming why", async () => {
    for (const [cpus, memoryMb, why] of [
      [2, 32, /asks for 2 CPUs.*largest: 1\.5 CPUs/],
      [0.5, 4096, /4096 MiB.*largest: 1\.5 CPUs, 1024 MiB/],
    ] as const) {
      const r = await api("POST", "/jobs", { name: "huge", containers: [{ image: IMAGE, cpus, memoryMb }] });
      assert.equal(r.status, 422);
      assert.match((r.data as { reason: string }).reason, why);
    }
    const bad = await api("POST", "/jobs", { name: "bad", containers: [{ image: IMAGE, cpus: -1, memoryMb: 32 }] });
    assert.equal(bad.status, 400);
    assert.match((bad.data as { field: string }).field, /containers\.0\.cpus/);
    const cli = await herd("jobs", "submit", "--cpus", "8", "--memory", "32", IMAGE, "true");
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /job refused: container 0 asks for 8 CPUs/);
  });

  it("records success and failure with exit codes, frees the reservation and removes the containers", async () => {
    await clearJobs();
    // Everything after the image is the job's command, so -o json goes before it.
    const submitJson = async (...args: string[]) => {
      const r = await herd("jobs", "submit", "-o", "json", ...args);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as JobRecord;
    };
    const ok = await submitJson("--name", "ok", "--cpus", "0.25", "--memory", "16", IMAGE, "sleep", "1");
    const bad = await submitJson("--name", "bad", "--cpus", "0.25", "--memory", "16", IMAGE, "sh", "-c", "exit 3");
    assert.deepEqual(bad.tasks[0]!.cmd, ["sh", "-c", "exit 3"]);
    const done = await waitState(ok.id, ["succeeded", "failed"]);
    assert.equal(done.state, "succeeded", done.reason);
    assert.equal(done.tasks[0]!.exitCode, 0);
    assert.ok(done.runningAt! >= done.placedAt! && done.finishedAt! >= done.runningAt!);
    const failed = await waitState(bad.id, ["succeeded", "failed"]);
    assert.equal(failed.state, "failed");
    assert.match(failed.reason ?? "", /container 0 exited with 3/);
    await waitFor(
      "finished jobs' containers to be removed",
      async () => (await copiesOf(info, ok.tasks[0]!.container)).length === 0 && (await copiesOf(info, bad.tasks[0]!.container)).length === 0,
    );
    assert.ok((await scheduler()).nodes.every((n) => n.reservedCpus === 0));
    const listed = await herdJson<JobRecord[]>("jobs", "ls", "--state", "failed");
    assert.ok(listed.some((j) => j.id === bad.id));
    const described = await herdJson<JobRecord>("jobs", "describe", bad.id);
    assert.equal(described.tasks[0]!.exitCode, 3);
    const table = await herd("jobs", "ls");
    assert.match(table.stdout, /JOB\s+NAME\s+STATE/);
    const rm = await herdJson<Array<{ id: string; action: string }>>("jobs", "rm", ok.id);
    assert.deepEqual(rm, [{ id: ok.id, action: "removed" }]);
    assert.equal((await api("GET", `/jobs/${ok.id}`)).status, 404);
  });

  it("keeps the queue across a control restart and starts nothing twice, even mid-placement", async () => {
    await clearJobs();
    await setScheduler({ paused: true, policy: "ff" });
    const queued = [];
    for (let i = 0; i < 3; i++) queued.push((await submit(`restart-${i}`, 0.5)).id);
    await cluster.restartControl();
    for (const id of queued) assert.equal((await job(id)).state, "queued", "still queued after the restart");
    // Resume and stop control right away: jobs are claimed (placing) or not yet; either way the
    // restarted control finishes the placement with the same command ids.
    await setScheduler({ paused: false });
    await cluster.stopControl();
    await cluster.startControl();
    for (const id of queued) {
      const j = await waitState(id, ["running"]);
      const copies = await copiesOf(info, j.tasks[0]!.container);
      assert.equal(copies.length, 1, `${j.tasks[0]!.container} exists once: ${JSON.stringify(copies)}`);
      const inspect = await engineOf(info, copies[0]!.node).getContainer(copies[0]!.id).inspect();
      assert.equal(inspect.RestartCount, 0);
      assert.equal(copies[0]!.node, j.tasks[0]!.nodeId);
    }
    const s = await scheduler();
    assert.equal(
      s.nodes.reduce((a, n) => a + n.reservedCpus, 0),
      1.5,
    );
  });

  it("a live-migrated job container keeps its reservation, now on the new node", async () => {
    await clearJobs();
    await setScheduler({ policy: "ff" });
    const j = await waitState((await submit("mover", 0.5)).id, ["running"]);
    assert.equal(j.tasks[0]!.nodeId, "n1");
    const before = await scheduler();
    assert.equal(before.nodes.find((n) => n.id === "n1")!.reservedCpus, 0.5);
    // The node's telemetry must have shown the container before control can migrate it.
    // (running there, not just created: a sample taken between create and start shows "created").
    await waitFor("control to see the job's container running", async () => {
      const r = await api("GET", `/containers/${j.tasks[0]!.container}`);
      return r.status === 200 && (r.data as { state?: string }).state === "running";
    });
    const m = await herd("migrate", j.tasks[0]!.container, "--to", "n2");
    assert.equal(m.code, 0, m.stderr);
    await waitFor("the reservation to be charged to n2", async () => {
      const s = await scheduler();
      return s.nodes.find((n) => n.id === "n2")!.reservedCpus === 0.5 && s.nodes.find((n) => n.id === "n1")!.reservedCpus === 0;
    });
    const moved = await waitFor("the job to show its container on n2", async () => {
      const x = await job(j.id);
      return x.tasks[0]!.nodeId === "n2" ? x : undefined;
    });
    assert.equal(moved.state, "running");
    const inspect = await engineOf(info, "n2").getContainer(j.tasks[0]!.container).inspect();
    assert.equal(inspect.HostConfig.NanoCpus, 0.5e9, "the cgroup limit moved with it");
    await clearJobs();
  });
});
