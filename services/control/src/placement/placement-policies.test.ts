import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../../shared/src/errors.js";
import type { ClusterSnapshot } from "./cluster-snapshot.js";
import { createPolicy } from "./policy-registry.js";
import { LINEAR_POWER, ctr, node, snap } from "./test-fixtures.js";

interface Case {
  name: string;
  policy: string;
  args?: unknown;
  snapshot: ClusterSnapshot;
  /** Expected moves as "container:from->to", in order. */
  expected: string[];
}

const moves = (c: Case) =>
  createPolicy(c.policy, c.args ?? {})
    .propose(c.snapshot)
    .map((m) => `${m.containerId}:${m.from}->${m.via ? `${m.via}->` : ""}${m.to}`);

const cases: Case[] = [
  { name: "none never moves", policy: "none", snapshot: snap([node("a", 1), node("b")], [ctr("x", "a", 2000)]), expected: [] },

  // threshold: reactive, current load only
  {
    name: "threshold: cool cluster stays put",
    policy: "threshold",
    snapshot: snap([node("a"), node("b")], [ctr("x", "a", 1000), ctr("y", "b", 1000)]),
    expected: [],
  },
  {
    name: "threshold: hot node sheds its largest container to the least-loaded node that fits",
    policy: "threshold",
    snapshot: snap(
      [node("a"), node("b"), node("c")],
      [ctr("small", "a", 900), ctr("big", "a", 1000), ctr("m1", "a", 900), ctr("m2", "a", 900), ctr("y", "b", 2000), ctr("z", "c", 500)],
    ),
    expected: ["big:a->c"],
  },
  {
    name: "threshold: never onto a down node",
    policy: "threshold",
    snapshot: snap(
      [node("a"), node("b", 4, { up: false }), node("c")],
      [ctr("big", "a", 1000), ctr("m1", "a", 1000), ctr("m2", "a", 1000), ctr("m3", "a", 900), ctr("z", "c", 3000)],
    ),
    expected: [],
  },
  {
    name: "threshold: memory hotspot sheds the largest memory user",
    policy: "threshold",
    snapshot: snap(
      [node("a", 4, { memMb: 1000 }), node("b", 4, { memMb: 1000 })],
      [ctr("fat", "a", 100, { memMb: 600 }), ctr("lean", "a", 500, { memMb: 350 })],
    ),
    expected: ["fat:a->b"],
  },
  {
    name: "threshold: a down hot node is not a source",
    policy: "threshold",
    snapshot: snap([node("a", 1, { up: false }), node("b")], [ctr("x", "a", 950)]),
    expected: [],
  },

  // sandpiper: volume / size order
  { name: "sandpiper: nothing hot, nothing moves", policy: "sandpiper", snapshot: snap([node("a"), node("b")], [ctr("x", "a", 2000)]), expected: [] },
  {
    name: "sandpiper: hotspot moves the highest volume-to-size container first, to the least-volume node",
    policy: "sandpiper",
    args: { maxMovesPerNode: 1 },
    snapshot: snap(
      [node("a"), node("b"), node("c")],
      [
        ctr("heavy-big", "a", 1000, { sizeMb: 4000 }),
        ctr("heavy-small", "a", 1000, { sizeMb: 200 }),
        ctr("rest", "a", 1200),
        ctr("y", "b", 2500),
        ctr("z", "c", 1000),
      ],
    ),
    expected: ["heavy-small:a->c"],
  },

  // forecast: proactive, cost-aware
  {
    name: "forecast: moves before the overload the forecast predicts (current load is fine)",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [ctr("x", "a", 600, { forecast: [1100, 1100] }), ctr("y", "a", 600, { forecast: [1000, 1000] }), ctr("z", "b", 200, { forecast: [200, 200] })],
    ),
    expected: ["y:a->b"],
  },
  {
    name: "forecast: a hot node predicted to calm down is left alone",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [ctr("x", "a", 1000, { forecast: [300, 300] }), ctr("y", "a", 1000, { forecast: [300, 300] }), ctr("z", "b", 200, { forecast: [200, 200] })],
    ),
    expected: [],
  },
  {
    name: "forecast: a small expected overload does not justify a very slow migration",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [
        ctr("x", "a", 1000, { forecast: [1000, 1000], sizeMb: 100_000 }),
        ctr("y", "a", 1000, { forecast: [1010, 1010], sizeMb: 100_000 }),
        ctr("z", "b", 200, { forecast: [200, 200] }),
      ],
      { transferRateBps: 1e6 },
    ),
    expected: [],
  },
  {
    name: "forecast: drains a node predicted to stay light when everything fits elsewhere",
    policy: "forecast",
    args: { drainBelow: 0.3 },
    snapshot: snap(
      [node("a", 4, { power: LINEAR_POWER }), node("b", 4, { power: LINEAR_POWER })],
      [ctr("x", "a", 300, { forecast: [300] }), ctr("y", "b", 1500, { forecast: [1500] })],
    ),
    expected: ["x:a->b"],
  },
  {
    name: "forecast: hysteresis, a node that just received a container is not drained",
    policy: "forecast",
    args: { drainBelow: 0.3, holdSec: 600 },
    snapshot: snap(
      [node("a", 4), node("b", 4)],
      [ctr("x", "a", 300, { forecast: [300], lastMigratedAt: 10_000_000 - 60_000 }), ctr("y", "b", 1500, { forecast: [1500] })],
    ),
    expected: [],
  },
  {
    name: "forecast: never onto a down node",
    policy: "forecast",
    snapshot: snap([node("a", 2), node("b", 2, { up: false })], [ctr("x", "a", 600, { forecast: [1100] }), ctr("y", "a", 600, { forecast: [1000] })]),
    expected: [],
  },

  {
    name: "forecast: a node overloaded now sheds the container that ends the overload at the least migration cost, even if a drop is forecast",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [
        ctr("x", "a", 800, { forecast: [300], sizeMb: 2000 }),
        ctr("y", "a", 800, { forecast: [300], sizeMb: 2000 }),
        ctr("w", "a", 600, { forecast: [300], sizeMb: 256 }),
        ctr("z", "b", 200, { forecast: [200] }),
      ],
    ),
    expected: ["w:a->b"],
  },
  {
    name: "forecast: a spike forecast to pass is left alone when the migration would outlast most of the interval",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [
        ctr("x", "a", 1000, { sizeMb: 200, forecast: [300] }),
        ctr("y", "a", 1000, { sizeMb: 200, forecast: [300] }),
        ctr("w", "a", 100, { sizeMb: 200 }),
        ctr("z", "b", 200),
      ],
      { transferRateBps: 1e6 },
    ),
    expected: [],
  },
  {
    name: "forecast: a one-interval spike in the forecast of steady containers does not pay for a move",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [
        ctr("x", "a", 700, { history: [700, 700, 700, 700], forecast: [1000, 500, 500] }),
        ctr("y", "a", 700, { history: [700, 700, 700, 700], forecast: [1000, 500, 500] }),
        ctr("z", "b", 200),
      ],
    ),
    expected: [],
  },
  {
    name: "forecast: a lasting predicted overload moves a container before it happens",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [
        ctr("x", "a", 950, { history: [800, 900, 850, 950], forecast: [1000, 1000, 1000] }),
        ctr("y", "a", 950, { history: [800, 900, 850, 950], forecast: [1000, 1000, 1000] }),
        ctr("z", "b", 200),
      ],
    ),
    expected: ["x:a->b"],
  },
  {
    name: "forecast: the destination is the node with the most predicted headroom, not the one cool now but forecast to heat up",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 4), node("c", 4)],
      [
        ctr("x", "a", 1000),
        ctr("y", "a", 1000),
        ctr("w", "a", 300, { sizeMb: 100 }),
        ...["b1", "b2", "b3"].map((id) => ctr(id, "b", 100, { forecast: [1000, 1000] })),
        ctr("c1", "c", 1000, { forecast: [1000, 1000] }),
      ],
    ),
    expected: ["w:a->c"],
  },
  {
    name: "forecast: no move for a predicted overload when every destination would become a hotspot",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [
        ctr("x", "a", 950, { history: [800, 900, 850, 950], forecast: [1000, 1000, 1000] }),
        ctr("y", "a", 950, { history: [800, 900, 850, 950], forecast: [1000, 1000, 1000] }),
        ctr("z", "b", 1200),
      ],
    ),
    expected: [],
  },
  {
    name: "forecast: a container moved recently is not moved again for a predicted overload (no ping-pong)",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [
        ctr("x", "a", 950, { history: [800, 900, 850, 950], forecast: [1000, 1000, 1000], lastMigratedAt: 10_000_000 - 60_000 }),
        ctr("y", "a", 950, { history: [800, 900, 850, 950], forecast: [1000, 1000, 1000], lastMigratedAt: 10_000_000 - 60_000 }),
        ctr("z", "b", 200),
      ],
    ),
    expected: [],
  },
  {
    name: "forecast: lossWeight prefers moving a small container over a busy one with a shorter migration",
    policy: "forecast",
    args: { lossWeight: 10 },
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [ctr("big", "a", 900, { sizeMb: 256 }), ctr("small", "a", 300, { sizeMb: 512 }), ctr("big2", "a", 900, { sizeMb: 256 }), ctr("z", "b", 200)],
    ),
    expected: ["small:a->b"],
  },
  {
    name: "forecast: without lossWeight the shorter migration wins",
    policy: "forecast",
    snapshot: snap(
      [node("a", 2), node("b", 2)],
      [ctr("big", "a", 900, { sizeMb: 256 }), ctr("small", "a", 300, { sizeMb: 512 }), ctr("big2", "a", 900, { sizeMb: 256 }), ctr("z", "b", 200)],
    ),
    expected: ["big:a->b"],
  },
  {
    name: "forecast: switching a node on picks the one that serves CPU with the fewest watts when full",
    policy: "forecast",
    args: { drainBelow: 0.1 },
    snapshot: snap(
      [
        node("a", 2),
        node("g4", 2, { power: [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117] }),
        node("g5", 2, { power: [50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100] }),
      ],
      [ctr("x", "a", 1000), ctr("y", "a", 900), ctr("w", "a", 300, { sizeMb: 100 })],
    ),
    expected: ["w:a->g5"],
  },
  {
    name: "forecast: drains first the node whose emptying saves the most watts per migration second",
    policy: "forecast",
    args: { drainBelow: 0.5, target: 0.9 },
    snapshot: snap(
      [node("busy", 4, { power: LINEAR_POWER }), node("cheap", 4, { power: LINEAR_POWER }), node("slow", 4, { power: LINEAR_POWER })],
      [ctr("b1", "busy", 1000), ctr("b2", "busy", 1000), ctr("c1", "cheap", 400, { sizeMb: 100 }), ctr("s1", "slow", 400, { sizeMb: 4000 })],
    ),
    expected: ["c1:cheap->busy", "s1:slow->busy"],
  },

  // consolidation (Beloglazov-Buyya, CloudSim semantics)
  {
    name: "consolidation THR: overloaded host sheds its smallest-memory container (MMT)",
    policy: "consolidation",
    args: { detector: "thr", parameter: 0.8, consolidate: false },
    snapshot: snap(
      [node("a", 2, { power: LINEAR_POWER }), node("b", 2, { power: LINEAR_POWER })],
      [ctr("big-mem", "a", 900, { sizeMb: 2000 }), ctr("small-mem", "a", 900, { sizeMb: 300 }), ctr("y", "b", 500)],
    ),
    expected: ["small-mem:a->b"],
  },
  {
    name: "consolidation THR: the least-utilized host is emptied when all its containers fit",
    policy: "consolidation",
    args: { detector: "thr", parameter: 0.8 },
    snapshot: snap([node("a", 2, { power: LINEAR_POWER }), node("b", 2, { power: LINEAR_POWER })], [ctr("x", "a", 200), ctr("y", "b", 900)]),
    expected: ["x:a->b"],
  },
  {
    // CloudSim's findHostForVm prices a VM against getUtilizationOfCpuMips(host), which includes
    // VMs placed on that host earlier in the same round; only the subtrahend (host.getPower()) is
    // the measured utilization. So equal hosts share the shed VMs instead of one taking both.
    name: "consolidation THR: a host's power increase counts VMs already placed on it this round",
    policy: "consolidation",
    args: { detector: "thr", parameter: 0.5, consolidate: false },
    snapshot: snap(
      [node("a", 4, { power: LINEAR_POWER }), node("b", 8, { power: LINEAR_POWER }), node("c", 8, { power: LINEAR_POWER })],
      [
        ctr("x", "a", 1000, { sizeMb: 2000 }),
        ctr("q", "a", 1000, { sizeMb: 500 }),
        ctr("y", "a", 1000, { sizeMb: 300 }),
        ctr("w", "a", 1000, { sizeMb: 400 }),
        ctr("bb", "b", 100),
        ctr("cc", "c", 100),
      ],
    ),
    expected: ["y:a->b", "w:a->c"],
  },
  ...[false, true].map((cloudsimDoubleMoves) => ({
    // d leaves the overloaded a for b (the first of the equally cheap hosts); b is then the least
    // utilized host and is drained to c. CloudSim keeps both entries of its migration map (its
    // underload phase never excludes the overload phase's targets): d travels a->b->c.
    name: `consolidation THR: a host that just received a container is drained in the same round (cloudsimDoubleMoves ${cloudsimDoubleMoves})`,
    policy: "consolidation",
    args: { detector: "thr", parameter: 0.8, cloudsimDoubleMoves },
    snapshot: snap(
      [node("a", 1, { power: LINEAR_POWER }), node("b", 1, { power: LINEAR_POWER }), node("c", 1, { power: LINEAR_POWER })],
      [ctr("x", "a", 600, { sizeMb: 500 }), ctr("d", "a", 300, { sizeMb: 100 }), ctr("e", "b", 50), ctr("f", "c", 450)],
    ),
    expected: cloudsimDoubleMoves ? ["d:a->b->c", "e:b->c"] : ["d:a->c", "e:b->c"],
  })),
  ...[false, true].map((cloudsimDoubleMoves) => ({
    // d leaves a for b; draining b then places e (larger) before d. CloudSim appends d's second
    // hop to its migration map after e's entry, so d lands on c after e: c's container order, which
    // decides which of two equal-memory containers MMT sheds later, follows the map's order.
    name: `consolidation THR: a doubly moved container comes after the moves made between its two hops (cloudsimDoubleMoves ${cloudsimDoubleMoves})`,
    policy: "consolidation",
    args: { detector: "thr", parameter: 0.8, cloudsimDoubleMoves },
    snapshot: snap(
      [node("a", 1, { power: LINEAR_POWER }), node("b", 1, { power: LINEAR_POWER }), node("c", 1, { power: LINEAR_POWER })],
      [ctr("x", "a", 750, { sizeMb: 500 }), ctr("d", "a", 100, { sizeMb: 100 }), ctr("e", "b", 150), ctr("f", "c", 200)],
    ),
    expected: cloudsimDoubleMoves ? ["e:b->c", "d:a->b->c"] : ["d:a->c", "e:b->c"],
  })),
  {
    name: "consolidation LR: with less than 10 samples the 0.7 static fallback decides",
    policy: "consolidation",
    args: { detector: "lr", parameter: 1.2, consolidate: false },
    snapshot: snap(
      [node("a", 2, { power: LINEAR_POWER }), node("b", 2, { power: LINEAR_POWER })],
      [ctr("x", "a", 750, { history: [750, 750] }), ctr("y", "a", 750, { history: [750, 750], sizeMb: 100 }), ctr("z", "b", 100)],
    ),
    expected: ["y:a->b"],
  },
  {
    name: "consolidation LR: a rising trend is an overload before it happens",
    policy: "consolidation",
    args: { detector: "lr", parameter: 1.2, consolidate: false },
    snapshot: snap(
      [node("a", 2, { power: LINEAR_POWER }), node("b", 2, { power: LINEAR_POWER })],
      [
        ctr("x", "a", 900, { history: [100, 190, 280, 370, 460, 550, 640, 730, 820, 900] }),
        ctr("y", "a", 900, { history: [100, 190, 280, 370, 460, 550, 640, 730, 820, 900], sizeMb: 100 }),
        ctr("z", "b", 100, { history: Array(10).fill(100) }),
      ],
    ),
    expected: ["y:a->b"],
  },
];

describe("placement policies (table-driven)", () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(moves(c), c.expected));
  }

  it("every proposal carries a human-readable reason", () => {
    const s = cases.find((c) => c.name.startsWith("forecast: moves before"))!;
    const [m] = createPolicy(s.policy).propose(s.snapshot);
    assert.match(m!.reason, /predicted .* CPU/);
  });

  it("does not mutate the snapshot", () => {
    const s = cases.find((c) => c.name.startsWith("threshold: hot node"))!.snapshot;
    const before = JSON.stringify(s);
    for (const p of ["threshold", "sandpiper", "forecast", "consolidation"]) createPolicy(p).propose(s);
    assert.equal(JSON.stringify(s), before);
  });
});

describe("policy argument validation", () => {
  const bad: { name: string; policy: string; args: unknown; field: RegExp; message: RegExp }[] = [
    { name: "unknown policy", policy: "magic", args: {}, field: /^policy$/, message: /unknown placement policy "magic".*threshold/ },
    {
      name: "threshold out of range",
      policy: "threshold",
      args: { cpuThreshold: 1.5 },
      field: /policy\.threshold\.cpuThreshold/,
      message: /between 0\.1 and 1/,
    },
    { name: "wrong type", policy: "forecast", args: { horizon: "soon" }, field: /policy\.forecast\.horizon/, message: /integer between 1 and 288/ },
    { name: "non-integer", policy: "sandpiper", args: { maxMovesPerNode: 1.5 }, field: /maxMovesPerNode/, message: /integer/ },
    { name: "unknown argument", policy: "forecast", args: { horizn: 2 }, field: /policy\.forecast/, message: /unknown argument.*horizn/ },
    { name: "bad detector", policy: "consolidation", args: { detector: "xyz" }, field: /detector/, message: /"thr", "mad", "iqr", "lr"/ },
  ];
  for (const b of bad) {
    it(`rejects: ${b.name}`, () => {
      assert.throws(
        () => createPolicy(b.policy, b.args),
        (err: unknown) => err instanceof ValidationError && b.field.test(err.field) && b.message.test(err.message),
      );
    });
  }
  it("fills in defaults", () => {
    assert.doesNotThrow(() => createPolicy("forecast", {}));
    assert.doesNotThrow(() => createPolicy("consolidation", { detector: "mad", parameter: 2.5 }));
  });
});
