// The migration saga driven against the in-memory agent (the agents' real command processor and
// migration handlers over in-memory engines; the same agent-protocol contract runs against real
// engines in test/integration/agent-protocol.test.ts). Table-driven: every step failing, every
// step timing out, the agent crashing and the control service restarting at every step, a
// rollback that cannot finish, and frozen time from the agents' clocks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ZERO_CONTAINER_USAGE, type CommandType } from "../../../../shared/src/contracts/index.js";
import { createLogger } from "../../../../shared/src/logger.js";
import { InMemoryAgents } from "../../../compute-agent/src/commands/in-memory-agents.js";
import type { Fault } from "../../../compute-agent/src/commands/loopback-agents.js";
import { loopbackCommandClient } from "../commands/loopback-command-client.js";
import type { ContainerRecord, NodeRecord, StateStore } from "../state/state-store.js";
import { MigrationOrchestrator, type MigrationOrchestratorOptions } from "./migration-orchestrator.js";
import { TERMINAL_STATES, type MigrationRecord } from "./migration-record.js";
import { InMemoryMigrationStore, type MigrationStore } from "./migration-store.js";

const log = createLogger({ level: process.env.HERD_TEST_LOG_LEVEL ?? "error" });
const NAME = "web";
/** The workload's counter when the migration starts: carried by a checkpoint, 0 after a fresh start. */
const COUNT = 42;
/** Small bounds so that timeouts run in about a second. */
const BOUND = { deadlineMs: 5_000, rollbackReserveMs: 1_500, resendAfterMs: 150 };
/** Scheduling slack on a busy machine. */
const SLACK_MS = 600;

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** What the control service knows of the cluster, read from the in-memory engines (as telemetry would report it). */
function clusterView(cluster: InMemoryAgents, nodes: string[]): Pick<StateStore, "findContainer" | "getNode"> {
  return {
    async getNode(id): Promise<NodeRecord | undefined> {
      if (!nodes.includes(id)) return undefined;
      const n = cluster.node(id);
      // n1 reports what this machine's kernel says: no dirty-page tracking (n2 reports nothing, like an older agent).
      const memoryPreCopy = id === "n1" ? { memoryPreCopy: { available: false, detail: "Dirty tracking is OFF. Memory snapshot will not work." } } : {};
      return { id, address: n.address, lastHeartbeatAt: Date.now(), containers: n.runtime.containers.size, ...memoryPreCopy };
    },
    async findContainer(ref): Promise<ContainerRecord | undefined> {
      for (const id of nodes) {
        const c = cluster.node(id).runtime.find(ref);
        if (c && c.status === "running") {
          return {
            ...ZERO_CONTAINER_USAGE,
            id: c.spec.id,
            name: c.spec.name,
            image: c.spec.image,
            state: "running",
            labels: c.spec.labels,
            memLimitBytes: null,
            memBytes: 1 << 20,
            nodeId: id,
            updatedAt: Date.now(),
          };
        }
      }
      return undefined;
    },
  };
}

/** A store as one control process sees it: after `kill`, nothing it asks for ever completes. */
function killableStore(store: MigrationStore): { store: MigrationStore; kill: () => void } {
  let dead = false;
  const guard =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      dead ? never() : f(...a);
  return {
    store: {
      save: guard((r) => store.save(r)),
      get: guard((id) => store.get(id)),
      list: guard((n) => store.list(n)),
      unfinished: guard(() => store.unfinished()),
      lock: guard((c, m) => store.lock(c, m)),
      lockHolder: guard((c) => store.lockHolder(c)),
      unlock: guard((c, m) => store.unlock(c, m)),
    },
    kill: () => {
      dead = true;
    },
  };
}

interface Control {
  orchestrator: MigrationOrchestrator;
  kill(): void;
}

interface World {
  cluster: InMemoryAgents;
  store: InMemoryMigrationStore;
  startControl(overrides?: Partial<MigrationOrchestratorOptions>): Control;
  dispose(): Promise<void>;
}

async function world(clocks: Record<string, () => number> = {}): Promise<World> {
  const cluster = await InMemoryAgents.start(["n1", "n2"], log, clocks);
  const source = cluster.node("n1");
  await source.runContainer(NAME, { memory: COUNT });
  const store = new InMemoryMigrationStore();
  const view = clusterView(cluster, ["n1", "n2"]);
  return {
    cluster,
    store,
    startControl(overrides = {}) {
      const commands = loopbackCommandClient(cluster.agents, log);
      const migrations = killableStore(store);
      let dead = false;
      const orchestrator = new MigrationOrchestrator({
        state: view,
        migrations: migrations.store,
        commands: commands.client,
        log,
        downAfterMs: 60_000,
        transferPort: source.port,
        verifySettleMs: 20,
        ...BOUND,
        sleep: (ms) => (dead ? never() : new Promise((r) => setTimeout(r, Math.min(ms, 100)))),
        ...overrides,
      });
      return {
        orchestrator,
        kill() {
          dead = true;
          migrations.kill();
          commands.kill();
        },
      };
    },
    dispose: () => cluster.dispose(),
  };
}

/** The invariants every settled migration must satisfy, whatever happened on the way. */
async function assertSettled(w: World, r: MigrationRecord | undefined, expected: MigrationRecord["state"], where: "n1" | "n2"): Promise<MigrationRecord> {
  assert.ok(r, "the migration is recorded");
  const stored = await w.store.get(r.id);
  assert.ok(stored);
  assert.ok(TERMINAL_STATES.includes(stored.state), `terminal, not ${stored.state}`);
  assert.equal(stored.state, expected, `state (error: ${stored.error?.message ?? "none"}; whereabouts: ${stored.whereabouts})`);
  assert.ok(stored.whereabouts, "a terminal migration says where the container is");
  assert.ok(stored.finishedAt !== undefined && stored.deadlineAt !== undefined);
  assert.ok(stored.finishedAt <= stored.deadlineAt + SLACK_MS, `terminal within the bound (${stored.finishedAt - stored.deadlineAt} ms past it)`);
  const running = w.cluster.running(NAME);
  assert.equal(running.length, 1, `exactly one running copy: ${JSON.stringify(w.cluster.copies(NAME))}`);
  assert.equal(running[0]?.node, where, `runs on ${where}`);
  assert.match(stored.whereabouts, new RegExp(`runs on ${where}`));
  return stored;
}

const FORWARD: Array<{ type: CommandType; step: string; after: "before-restore" | "after-restore" | "after-finish" }> = [
  { type: "migration.describe", step: "describe", after: "before-restore" },
  { type: "migration.prepare", step: "prepare", after: "before-restore" },
  { type: "migration.ship-image", step: "ship-image", after: "before-restore" },
  { type: "migration.precopy", step: "precopy", after: "before-restore" },
  { type: "migration.freeze", step: "freeze", after: "before-restore" },
  { type: "migration.restore", step: "restore", after: "before-restore" },
  { type: "migration.verify", step: "verify", after: "after-restore" },
  { type: "migration.finish-destination", step: "finish", after: "after-restore" },
  { type: "migration.remove-source", step: "commit", after: "after-finish" },
];

/** Runs one migration of `web` from n1 to n2 with `setup` applied, and returns its settled record. */
async function migrate(setup: (w: World) => void, check: (w: World, r: MigrationRecord | undefined) => Promise<void>): Promise<void> {
  const w = await world();
  try {
    setup(w);
    const control = w.startControl();
    const started = await control.orchestrator.start({ container: NAME, to: "n2" });
    await check(w, await control.orchestrator.wait(started.id));
  } finally {
    await w.dispose();
  }
}

/** After a rollback the source runs again with its memory state, unless no checkpoint was ever taken. */
function assertStateKept(w: World): void {
  const [copy] = w.cluster.running(NAME);
  assert.equal(copy?.memory, COUNT, "the counter is where it was (resumed from the checkpoint, or never stopped)");
}

describe("migration orchestrator over the in-memory agent", { concurrency: 8, timeout: 180_000 }, () => {
  test("a clean migration commits: one copy, on the destination, with its state; staging cleaned; lock released", async () => {
    await migrate(
      () => undefined,
      async (w, r) => {
        const s = await assertSettled(w, r, "committed", "n2");
        assertStateKept(w);
        assert.deepEqual(
          s.steps.map((x) => x.name),
          ["describe", "prepare", "ship-image", "prepare", "precopy", "freeze", "restore", "verify", "finish", "commit"],
        );
        assert.ok(s.steps.every((x) => x.ok === true));
        assert.equal(await w.store.lockHolder(NAME), undefined);
        assert.deepEqual(await w.cluster.node("n2").stagedMigrations(), [], "no staging left on the destination");
        assert.equal(w.cluster.node("n2").runtime.get(NAME).spec.restartPolicy.name, "unless-stopped", "the real restart policy applied at finish");
      },
    );
  });

  for (const retryable of [false, true]) {
    for (const s of FORWARD) {
      test(`${s.step} fails (${retryable ? "retryable" : "not retryable"}, every time)`, async () => {
        await migrate(
          (w) => w.cluster.agents.inject({ type: s.type, fault: { kind: "fail", retryable } }),
          async (w, r) => {
            if (s.after === "after-finish") {
              // The destination runs and was checked twice: never rolled back; the stopped source copy is reported.
              const settled = await assertSettled(w, r, "failed", "n2");
              assert.match(settled.whereabouts ?? "", /stopped source copy on n1 is not removed/);
              assert.equal(await w.store.lockHolder(NAME), undefined, "no second copy can run: the lock is released");
              return;
            }
            const settled = await assertSettled(w, r, "rolled-back", "n1");
            assertStateKept(w);
            assert.equal(settled.error?.message.includes(`injected ${s.type} failure`), true, `the cause is kept: ${settled.error?.message}`);
            assert.equal(await w.store.lockHolder(NAME), undefined);
            assert.deepEqual(await w.cluster.node("n2").stagedMigrations(), [], "no staging left on the destination");
            assert.deepEqual(
              w.cluster.copies(NAME).map((c) => c.node),
              ["n1"],
              "no copy left on the destination",
            );
          },
        );
      });
    }
  }

  test("commit fails once (retryable): retried, committed", async () => {
    await migrate(
      (w) => w.cluster.agents.inject({ type: "migration.remove-source", fault: { kind: "fail", retryable: true }, times: 1 }),
      async (w, r) => {
        await assertSettled(w, r, "committed", "n2");
        assert.deepEqual(
          w.cluster.copies(NAME).map((c) => c.node),
          ["n2"],
        );
      },
    );
  });

  const timeouts: Array<{ label: string; fault: Fault }> = [
    { label: "hangs until its deadline", fault: { kind: "hang" } },
    { label: "never answers", fault: { kind: "silent" } },
  ];
  for (const { label, fault } of timeouts) {
    for (const s of FORWARD) {
      test(`${s.step} ${label}`, async () => {
        await migrate(
          (w) => w.cluster.agents.inject({ type: s.type, fault }),
          async (w, r) => {
            if (s.after === "after-finish") {
              await assertSettled(w, r, "failed", "n2");
              return;
            }
            if (s.step === "restore" && fault.kind === "silent") {
              // The restore happened, only its answer was lost: the destination is asked, its
              // copy runs, and the migration goes forward instead of throwing that copy away.
              await assertSettled(w, r, "committed", "n2");
              assertStateKept(w);
              return;
            }
            await assertSettled(w, r, "rolled-back", "n1");
            assertStateKept(w);
            assert.deepEqual(
              w.cluster.copies(NAME).map((c) => c.node),
              ["n1"],
              "no copy left on the destination",
            );
          },
        );
      });
    }
  }

  for (const when of ["on-receipt", "after-work"] as const) {
    for (const s of FORWARD) {
      test(`the agent crashes ${when} of ${s.step} and restarts: the redelivered command finishes the migration`, async () => {
        await migrate(
          (w) => w.cluster.agents.inject({ type: s.type, fault: { kind: "crash", when, restartAfterMs: 50 }, times: 1 }),
          async (w, r) => {
            await assertSettled(w, r, "committed", "n2");
            assertStateKept(w);
            assert.deepEqual(
              w.cluster.copies(NAME).map((c) => c.node),
              ["n2"],
            );
          },
        );
      });
    }
  }

  const restartAt: Array<{ type: CommandType; rollback?: boolean }> = [
    ...FORWARD.map((s) => ({ type: s.type })),
    { type: "migration.abort-destination", rollback: true },
    { type: "migration.resume-source", rollback: true },
  ];
  for (const { type, rollback } of restartAt) {
    test(`the control service dies right after sending ${type}${rollback ? " (rolling back)" : ""}; a new one recovers it`, async () => {
      const w = await world();
      try {
        // A rollback is forced by a verify failure that happens once.
        if (rollback) w.cluster.agents.inject({ type: "migration.verify", fault: { kind: "fail", retryable: false }, times: 1 });
        const first = w.startControl();
        let killed = false;
        w.cluster.agents.onPublish = (_node, t) => {
          if (t === type && !killed) {
            killed = true;
            first.kill();
          }
        };
        const started = await first.orchestrator.start({ container: NAME, to: "n2" });
        const deadline = Date.now() + 10_000;
        while (!killed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        if (!killed) {
          const r = await w.store.get(started.id);
          assert.fail(`the control service did not get as far as ${type}: ${r?.state} at ${r?.step} (${r?.error?.message ?? ""})`);
        }
        // Whatever the old process had in flight is lost; the new one sees the store only.
        const second = w.startControl();
        await second.orchestrator.recover();
        const settled = await second.orchestrator.wait(started.id);
        const frozenBefore = FORWARD.findIndex((s) => s.type === type) >= FORWARD.findIndex((s) => s.type === "migration.freeze");
        const expected = rollback ? "rolled-back" : frozenBefore ? "committed" : "rolled-back";
        await assertSettled(w, settled, expected, expected === "committed" ? "n2" : "n1");
        assertStateKept(w);
        assert.equal(await w.store.lockHolder(NAME), undefined);
      } finally {
        await w.dispose();
      }
    });
  }

  const rollbackFaults: Array<{ type: CommandType; fault: Fault; times?: number; expected: "rolled-back" | "failed" }> = [
    { type: "migration.abort-destination", fault: { kind: "fail", retryable: true }, times: 2, expected: "rolled-back" },
    { type: "migration.resume-source", fault: { kind: "fail", retryable: true }, times: 2, expected: "rolled-back" },
    { type: "migration.abort-destination", fault: { kind: "crash", when: "after-work", restartAfterMs: 50 }, times: 1, expected: "rolled-back" },
    { type: "migration.resume-source", fault: { kind: "crash", when: "on-receipt", restartAfterMs: 50 }, times: 1, expected: "rolled-back" },
    { type: "migration.resume-source", fault: { kind: "hang" }, expected: "failed" },
    { type: "migration.resume-source", fault: { kind: "fail", retryable: false }, expected: "failed" },
  ];
  for (const { type, fault, times, expected } of rollbackFaults) {
    test(`rolling back after restore, ${type} meets ${fault.kind}${times ? ` ${times}×` : " every time"}: ${expected}`, async () => {
      const w = await world();
      try {
        w.cluster.agents.inject({ type: "migration.verify", fault: { kind: "fail", retryable: false }, times: 1 });
        w.cluster.agents.inject({ type, fault, ...(times ? { times } : {}) });
        const control = w.startControl();
        const started = await control.orchestrator.start({ container: NAME, to: "n2" });
        const r = await control.orchestrator.wait(started.id);
        if (expected === "rolled-back") {
          await assertSettled(w, r, "rolled-back", "n1");
          assertStateKept(w);
          assert.equal(await w.store.lockHolder(NAME), undefined);
          return;
        }
        // The destination copy is confirmed gone and the source could not be resumed: nothing
        // runs, and the record says so (and where the checkpoint is).
        assert.equal(r?.state, "failed");
        assert.deepEqual(w.cluster.running(NAME), []);
        assert.match(r?.whereabouts ?? "", /web is stopped on n1 \(checkpoint herd-/, r?.whereabouts);
        assert.match(r?.whereabouts ?? "", /the copy on n2 was removed/, r?.whereabouts);
        assert.equal(await w.store.lockHolder(NAME), undefined, "no second copy can exist: the lock is released");
      } finally {
        await w.dispose();
      }
    });
  }

  test("the source agent dies for good on receipt of freeze: the migration fails within the bound and says the container may still run there", async () => {
    const w = await world();
    try {
      w.cluster.agents.inject({ node: "n1", type: "migration.freeze", fault: { kind: "crash", when: "on-receipt", restartAfterMs: null } });
      const control = w.startControl();
      const started = await control.orchestrator.start({ container: NAME, to: "n2" });
      const r = await control.orchestrator.wait(started.id);
      assert.equal(r?.state, "failed");
      assert.ok(r?.finishedAt !== undefined && r.deadlineAt !== undefined && r.finishedAt <= r.deadlineAt + SLACK_MS, "terminal within the bound");
      // The dump never started: the source still runs, and the destination copy was removed.
      assert.deepEqual(
        w.cluster.running(NAME).map((c) => c.node),
        ["n1"],
      );
      assert.match(r?.whereabouts ?? "", /web may be stopped on n1/, `no claim the freeze happened: ${r?.whereabouts}`);
      assert.match(r?.whereabouts ?? "", /n1/);
    } finally {
      await w.dispose();
    }
  });

  test("steps slower than the re-send interval: re-sent copies are answered once, the migration commits", async () => {
    await migrate(
      (w) => {
        for (const type of ["migration.freeze", "migration.restore", "migration.remove-source"] as const)
          w.cluster.agents.inject({ type, fault: { kind: "slow", ms: 250 } });
      },
      async (w, r) => {
        const s = await assertSettled(w, r, "committed", "n2");
        assertStateKept(w);
        assert.ok(
          s.steps.some((x) => (x.resent ?? 0) > 0),
          "commands were re-sent while the agent worked",
        );
      },
    );
  });

  for (const type of ["migration.freeze", "migration.restore", "migration.verify"] as const) {
    test(`the control service dies after sending ${type} and comes back after the bound passed: it finishes forward, the count never goes back`, async () => {
      const w = await world();
      try {
        const first = w.startControl();
        let killed = false;
        w.cluster.agents.onPublish = (_node, t) => {
          if (t === type && !killed) {
            killed = true;
            first.kill();
          }
        };
        const started = await first.orchestrator.start({ container: NAME, to: "n2" });
        const giveUp = Date.now() + 20_000;
        let stored: MigrationRecord | undefined;
        while (Date.now() < giveUp) {
          const r = await w.store.get(started.id);
          if (killed && r?.deadlineAt !== undefined && Date.now() > r.deadlineAt) {
            stored = r;
            break;
          }
          await new Promise((res) => setTimeout(res, 50));
        }
        assert.ok(killed, `the control service got as far as ${type}`);
        assert.equal(stored?.state, "running");
        // Meanwhile the workload runs wherever it runs (on the destination once restored).
        for (let i = 0; i < 5; i++) for (const n of ["n1", "n2"]) w.cluster.node(n).tick();
        const before = Math.max(...w.cluster.running(NAME).map((c) => c.memory), COUNT);
        const second = w.startControl();
        await second.orchestrator.recover();
        const settled = await second.orchestrator.wait(started.id);
        const s = await assertSettled(w, settled, "committed", "n2");
        const [copy] = w.cluster.running(NAME);
        assert.ok((copy?.memory ?? 0) >= before, `the count did not go back (${copy?.memory} < ${before})`);
        assert.ok(s.steps.length > 0);
      } finally {
        await w.dispose();
      }
    });
  }

  test("the shortest bound the API accepts (10 s) with the default rollback reserve still leaves time to migrate", async () => {
    const w = await world();
    try {
      const control = w.startControl({ rollbackReserveMs: undefined, deadlineMs: 120_000 });
      const started = await control.orchestrator.start({ container: NAME, to: "n2", deadlineMs: 10_000 });
      await assertSettled(w, await control.orchestrator.wait(started.id), "committed", "n2");
    } finally {
      await w.dispose();
    }
  });

  test("a rollback that cannot finish (the destination engine stops answering after the restore) fails with whereabouts and keeps the lock", async () => {
    const w = await world();
    try {
      w.cluster.agents.onPublish = (_node, t) => {
        if (t === "migration.verify") w.cluster.node("n2").runtime.engineUp = false;
      };
      const control = w.startControl();
      const started = await control.orchestrator.start({ container: NAME, to: "n2" });
      const r = await control.orchestrator.wait(started.id);
      assert.ok(r);
      assert.equal(r.state, "failed", `state: ${r.state}`);
      assert.ok(r.finishedAt !== undefined && r.deadlineAt !== undefined && r.finishedAt <= r.deadlineAt + SLACK_MS, "terminal within the bound");
      assert.match(r.whereabouts ?? "", /stopped on n1/, r.whereabouts);
      assert.match(r.whereabouts ?? "", /a copy may exist on n2/, r.whereabouts);
      assert.equal(await w.store.lockHolder(NAME), r.id, "a second copy cannot be ruled out: the lock is kept");
      // The source was not resumed beside a copy that may still run.
      assert.deepEqual(
        w.cluster.copies(NAME).map((c) => `${c.node}:${c.status}`),
        ["n1:exited", "n2:running"],
      );
    } finally {
      await w.dispose();
    }
  });

  test("frozen time is the agents' own: dump start on the source to running on the destination, however late control hears", async () => {
    // Each node's clock stands still at its own value; control's clock runs normally.
    const T0 = 1_800_000_000_000;
    const w = await world({ n1: () => T0, n2: () => T0 + 350 });
    try {
      // Control hears of the restore long after it happened.
      w.cluster.agents.inject({ type: "migration.restore", fault: { kind: "late-answer", ms: 400 } });
      const control = w.startControl();
      const started = await control.orchestrator.start({ container: NAME, to: "n2" });
      const r = await control.orchestrator.wait(started.id);
      const s = await assertSettled(w, r, "committed", "n2");
      assert.equal(s.frozenAt, T0);
      assert.equal(s.runningAt, T0 + 350);
      assert.equal(s.frozenMs, 350);
      const freeze = s.steps.find((x) => x.name === "freeze");
      assert.equal(freeze?.startedAt, T0, "step times are the agent's");
    } finally {
      await w.dispose();
    }
  });

  test("dry run and start say that memory is stop-and-copy, and why, from the source's heartbeat", async () => {
    const w = await world();
    try {
      const control = w.startControl();
      const dry = await control.orchestrator.dryRun({ container: NAME, to: "n2" });
      assert.equal(dry.wouldMigrate, true, dry.reasons.join("; "));
      assert.equal(dry.notes.length, 2);
      assert.match(dry.notes[0] ?? "", /pre-copy is unavailable on n1 .*Dirty tracking is OFF/);
      assert.equal(dry.notes[1], "mode: stop-and-copy");
      const started = await control.orchestrator.start({ container: NAME, to: "n2" });
      assert.match(started.notes?.[0] ?? "", /^stop-and-copy: memory pre-copy is unavailable on n1/);
      const r = await control.orchestrator.wait(started.id);
      const s = await assertSettled(w, r, "committed", "n2");
      assert.deepEqual(s.notes, started.notes, "the note is kept in the record");
      assert.equal(s.mode, "stop-and-copy");
    } finally {
      await w.dispose();
    }
  });

  test("post-copy asked of nodes that have not reported lazy-pages support: refused before anything moves, naming them", async () => {
    const w = await world();
    try {
      const control = w.startControl();
      await assert.rejects(control.orchestrator.start({ container: NAME, to: "n2", mode: "post-copy" }), (err: Error) => {
        assert.equal(err.name, "ConflictError");
        assert.match(err.message, /--mode post-copy is not possible: n1: its agent has not reported .*; n2: its agent has not reported/);
        return true;
      });
      const dry = await control.orchestrator.dryRun({ container: NAME, to: "n2", mode: "post-copy" });
      assert.equal(dry.wouldMigrate, false);
      assert.match(dry.reasons.join("; "), /post-copy is not possible/);
      const auto = await control.orchestrator.start({ container: NAME, to: "n2", mode: "auto" });
      assert.equal(auto.mode, "stop-and-copy");
      assert.match(auto.notes?.join(" | ") ?? "", /auto chose stop-and-copy: post-copy is not possible/);
      await assertSettled(w, await control.orchestrator.wait(auto.id), "committed", "n2");
    } finally {
      await w.dispose();
    }
  });
});
