// The durable job queue against a real Redis (127.0.0.1:6379 or HERD_REDIS_URL), under a random
// prefix: queue order, all-or-nothing transitions, reservations, and a JobManager restarted
// mid-placement re-sending the very same command ids (so a node answers from its journal instead
// of starting the job twice).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";
import type { CommandResult, CommandType, CommandPayload } from "../../shared/src/contracts/index.js";
import type { JobRecord } from "../../shared/src/contracts/jobs.js";
import { createLogger } from "../../shared/src/logger.js";
import { JobManager, type JobCommandSender } from "../../services/control/src/jobs/job-manager.js";
import { RedisJobStore } from "../../services/control/src/jobs/redis-job-store.js";
import { RedisStateStore } from "../../services/control/src/state/redis-state-store.js";

const prefix = `herd-test-${randomBytes(4).toString("hex")}:`;
let redis: Redis;
const log = createLogger({ level: "error" });

before(() => {
  redis = new Redis(hostRedisUrl());
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const record = (id: string, priority = 0, state: JobRecord["state"] = "queued"): JobRecord => ({
  id,
  name: id,
  state,
  priority,
  submittedAt: 1000,
  tasks: [{ image: "img", cmd: [], env: {}, cpus: 1, memoryMb: 64, container: `${id}-0`, state: "pending" }],
});

/** Records every command; answers none until `release` (a node that is slow or away). */
class RecordingSender implements JobCommandSender {
  readonly sent: { nodeId: string; type: string; commandId?: string }[] = [];
  private waiting: (() => void)[] = [];
  constructor(private readonly answer: boolean) {}
  async send<T extends CommandType>(nodeId: string, type: T, _payload: CommandPayload<T>, o: { commandId?: string }): Promise<CommandResult> {
    this.sent.push({ nodeId, type, ...(o.commandId ? { commandId: o.commandId } : {}) });
    if (!this.answer) await new Promise<void>((r) => this.waiting.push(r));
    return {
      v: 1,
      kind: "command.result",
      nodeId,
      commandId: o.commandId ?? "x",
      commandType: type,
      ok: true,
      result: { id: "c".repeat(64), created: true },
      finishedAt: Date.now(),
    };
  }
}

describe("RedisJobStore", () => {
  it("orders the queue by priority, then submission — also within one millisecond", async () => {
    const s = new RedisJobStore(redis, `${prefix}q:`);
    for (const [id, prio] of [
      ["j-9", 0],
      ["j-10", 0],
      ["j-11", 5],
      ["j-12", 0],
    ] as const)
      await s.enqueue(record(id, prio));
    assert.deepEqual(
      (await s.queued(10)).map((j) => j.id),
      ["j-11", "j-9", "j-10", "j-12"],
    );
    assert.equal(await s.queueLength(), 4);
    assert.deepEqual(
      (await s.list(10)).map((j) => j.id),
      ["j-12", "j-11", "j-10", "j-9"],
    );
  });

  it("applies a transition whole and only from the expected state (a cancel racing a claim)", async () => {
    const s = new RedisJobStore(redis, `${prefix}t:`);
    await s.enqueue(record("j-1"));
    const cancelled = { ...record("j-1"), state: "cancelled" as const };
    assert.equal(await s.transition({ from: ["queued"], job: cancelled, dequeue: true }), true);
    const placing = { ...record("j-1"), state: "placing" as const };
    const claim = {
      from: ["queued"] as const,
      job: placing,
      dequeue: true,
      active: "add" as const,
      reserve: [{ container: "j-1-0", jobId: "j-1", nodeId: "n1", cpus: 1, memoryBytes: 64 }],
    };
    assert.equal(await s.transition(claim), false, "the claim loses: the job is no longer queued");
    assert.equal((await s.get("j-1"))?.state, "cancelled");
    assert.deepEqual(await s.reservations(), [], "nothing of the lost claim was written");
    assert.deepEqual(await s.active(), []);
    assert.equal(await s.queueLength(), 0);
  });

  it("keeps reservations by container name; a move changes the node only; release drops them", async () => {
    const s = new RedisJobStore(redis, `${prefix}r:`);
    await s.enqueue(record("j-2"));
    const placing = { ...record("j-2"), state: "placing" as const };
    assert.ok(
      await s.transition({
        from: ["queued"],
        job: placing,
        dequeue: true,
        active: "add",
        reserve: [{ container: "j-2-0", jobId: "j-2", nodeId: "n1", cpus: 1, memoryBytes: 64 }],
      }),
    );
    await s.moveReservation("j-2-0", "n3");
    assert.deepEqual(await s.reservations(), [{ container: "j-2-0", jobId: "j-2", nodeId: "n3", cpus: 1, memoryBytes: 64 }]);
    // Read back by a second store (a restarted control service).
    assert.deepEqual(
      (await new RedisJobStore(redis, `${prefix}r:`).active()).map((j) => j.id),
      ["j-2"],
    );
    assert.ok(await s.transition({ from: ["placing"], job: { ...placing, state: "succeeded" }, active: "remove", release: ["j-2-0"] }));
    assert.deepEqual(await s.reservations(), []);
    assert.equal(await s.remove("j-2"), true);
    assert.equal(await s.get("j-2"), undefined);
  });
});

/** A JobManager's parts on the real Redis under `p`, with one 2-CPU node n1 that just sent its heartbeat. */
async function managerDeps(p: string, roundIntervalMs: number) {
  const state = new RedisStateStore(redis, 10, p);
  const now = Date.now();
  await state.recordHeartbeat({
    v: 1,
    kind: "heartbeat",
    nodeId: "n1",
    sentAt: now,
    startedAt: now,
    agentVersion: "t",
    containers: 0,
    capacity: { cpus: 2, memoryBytes: 1024 * 1_048_576 },
  });
  return {
    jobs: new RedisJobStore(redis, p),
    state,
    log,
    defaults: { policy: "ff" as const, paused: false },
    downAfterMs: 60_000,
    isMigrating: async () => false,
    roundIntervalMs,
  };
}

describe("JobManager across a restart", () => {
  it("a job claimed before the restart is started with the same command ids after it, nothing new placed", async () => {
    const deps = await managerDeps(`${prefix}m:`, 60_000);
    const first = new RecordingSender(false);
    const a = new JobManager({ ...deps, commands: first });
    await a.start();
    const job = await a.submit({ name: "x", priority: 0, containers: [{ image: "img", cmd: [], env: {}, cpus: 1.5, memoryMb: 64 }] });
    const deadline = Date.now() + 10_000;
    while (first.sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(first.sent, [{ nodeId: "n1", type: "container.run", commandId: `${job.id}-t0-run` }]);
    assert.equal((await deps.jobs.get(job.id))?.state, "placing", "claimed (reserved) before the command went out");
    a.stop(); // control dies before the node answered

    const second = new RecordingSender(true);
    const b = new JobManager({ ...deps, commands: second });
    await b.start();
    const until = Date.now() + 10_000;
    let j = await deps.jobs.get(job.id);
    while (j?.state !== "running" && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
      j = await deps.jobs.get(job.id);
    }
    assert.equal(j?.state, "running");
    assert.deepEqual(second.sent, [{ nodeId: "n1", type: "container.run", commandId: `${job.id}-t0-run` }], "the same id: the node's journal answers it");
    // The reservation was not taken twice: 1.5 of 2 CPUs, so a second 1.5 CPU job must wait.
    const other = await b.submit({ name: "y", priority: 0, containers: [{ image: "img", cmd: [], env: {}, cpus: 1.5, memoryMb: 64 }] });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await deps.jobs.get(other.id))?.state, "queued");
    assert.equal((await b.status()).nodes[0]!.reservedCpus, 1.5);
    b.stop();
  });

  it("a follower takes submissions but places nothing; once it leads it places and re-sends interrupted placements", async () => {
    const deps = await managerDeps(`${prefix}f:`, 50);
    const leaderSender = new RecordingSender(false);
    const leader = new JobManager({ ...deps, commands: leaderSender, mayPlace: () => true });
    await leader.start();
    const interrupted = await leader.submit({ name: "a", priority: 0, containers: [{ image: "img", cmd: [], env: {}, cpus: 0.5, memoryMb: 64 }] });
    const deadline = Date.now() + 10_000;
    while (leaderSender.sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    leader.stop(); // the leader dies before the node answered: the job stays "placing"

    let leads = false;
    const followerSender = new RecordingSender(true);
    const follower = new JobManager({ ...deps, commands: followerSender, mayPlace: () => leads });
    await follower.start();
    const queued = await follower.submit({ name: "b", priority: 0, containers: [{ image: "img", cmd: [], env: {}, cpus: 0.5, memoryMb: 64 }] });
    await new Promise((r) => setTimeout(r, 400)); // several rounds
    assert.equal(followerSender.sent.length, 0, "a follower sends nothing");
    assert.equal((await deps.jobs.get(queued.id))?.state, "queued");
    assert.equal((await deps.jobs.get(interrupted.id))?.state, "placing");

    leads = true;
    const until = Date.now() + 10_000;
    while (followerSender.sent.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      followerSender.sent.map((s) => s.commandId).sort(),
      [`${interrupted.id}-t0-run`, `${queued.id}-t0-run`].sort(),
      "the interrupted placement re-sent with its own id, the queued job placed",
    );
    follower.stop();
  });
});
