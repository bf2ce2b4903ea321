import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { diffFeed, sseFrame, toFeedMigration, type FeedContainer, type FeedMigration, type FeedState } from "./feed-frames.js";

const c = (id: string, over: Partial<FeedContainer> = {}): FeedContainer => ({
  id,
  name: `c-${id}`,
  nodeId: "n1",
  image: "img",
  state: "running",
  cpuPct: 1,
  memBytes: 100,
  memLimitBytes: null,
  updatedAt: 1000,
  ...over,
});
const mig = (over: Partial<FeedMigration> = {}): FeedMigration => ({
  id: "m1",
  containerId: "a",
  containerName: "c-a",
  source: "n1",
  destination: "n2",
  state: "running",
  step: "precopy",
  steps: [],
  createdAt: 1,
  updatedAt: 2,
  frozen: false,
  bytes: 0,
  ...over,
});
const state = (over: Partial<FeedState> = {}): FeedState => ({
  t: 5000,
  nodes: [{ id: "n1", status: "up", containers: 1, cpuPct: 10, memUsedBytes: 5, lastSeenAt: 1000 }],
  containers: [c("a")],
  migrations: [],
  ...over,
});

describe("diffFeed", () => {
  const cases: Array<{ name: string; next: Partial<FeedState>; expect: (f: ReturnType<typeof diffFeed>) => void }> = [
    { name: "nothing changed → no frame", next: {}, expect: (f) => assert.equal(f, undefined) },
    {
      name: "new usage point → a sample, no upsert",
      next: { containers: [c("a", { cpuPct: 50, updatedAt: 2000 })] },
      expect: (f) => {
        assert.deepEqual(f?.samples, { a: [2000, 50, 100] });
        assert.deepEqual(f?.upsert, []);
      },
    },
    {
      name: "state change → upsert",
      next: { containers: [c("a", { state: "exited" })] },
      expect: (f) => {
        assert.equal(f?.upsert[0]?.state, "exited");
        assert.deepEqual(f?.samples, {});
      },
    },
    {
      name: "moved to another node → upsert",
      next: { containers: [c("a", { nodeId: "n2" })] },
      expect: (f) => assert.equal(f?.upsert[0]?.nodeId, "n2"),
    },
    {
      name: "new container → upsert and sample; vanished one → removed",
      next: { containers: [c("b", { updatedAt: 3000 })] },
      expect: (f) => {
        assert.deepEqual(
          f?.upsert.map((x) => x.id),
          ["b"],
        );
        assert.deepEqual(f?.removed, ["a"]);
        assert.deepEqual(Object.keys(f?.samples ?? {}), ["b"]);
      },
    },
    {
      name: "node goes down → nodes in the frame, no samples",
      next: { nodes: [{ id: "n1", status: "down", containers: 1, cpuPct: 10, memUsedBytes: 5, lastSeenAt: 1000 }] },
      expect: (f) => {
        assert.equal(f?.nodes[0]?.status, "down");
        assert.deepEqual(f?.nodeSamples, {});
      },
    },
    {
      name: "node reported → a node sample",
      next: { nodes: [{ id: "n1", status: "up", containers: 1, cpuPct: 30, memUsedBytes: 6, lastSeenAt: 2000 }] },
      expect: (f) => assert.deepEqual(f?.nodeSamples, { n1: [2000, 30, 6] }),
    },
    {
      name: "migration appears → sent",
      next: { migrations: [mig()] },
      expect: (f) =>
        assert.deepEqual(
          f?.migrations.map((m) => m.id),
          ["m1"],
        ),
    },
  ];
  for (const tc of cases) it(tc.name, () => tc.expect(diffFeed(state(), state(tc.next))));

  it("sends a migration again only when its record or live progress moved", () => {
    const prev = state({ migrations: [mig()] });
    assert.equal(diffFeed(prev, state({ migrations: [mig()] })), undefined);
    assert.equal(diffFeed(prev, state({ migrations: [mig({ live: { step: "precopy", bytes: 10, at: 3 } })] }))?.migrations.length, 1);
    assert.equal(diffFeed(prev, state({ migrations: [mig({ updatedAt: 9, state: "committed" })] }))?.migrations[0]?.state, "committed");
  });
});

describe("toFeedMigration", () => {
  it("drops the container spec and keeps the rest", () => {
    const full = { ...mig(), spec: { id: "a", env: ["SECRET=1"] } };
    const m = toFeedMigration(full);
    assert.equal("spec" in m, false);
    assert.equal(m.containerName, "c-a");
  });
});

describe("sseFrame", () => {
  it("writes one event with its data on one line", () => {
    assert.equal(sseFrame("tick", { a: "x\ny" }), 'event: tick\ndata: {"a":"x\\ny"}\n\n');
  });
});
