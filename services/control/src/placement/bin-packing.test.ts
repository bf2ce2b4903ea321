import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { neverFits, packBatch, type PackingJob, type PackingNode, type PackingPolicy } from "./bin-packing.js";

const GiB = 1024 ** 3;
/** A node with `cpus` cores and `memGiB` GiB, all free unless `usedCpus`/`usedGiB` are given. */
const node = (id: string, cpus: number, memGiB = 100, usedCpus = 0, usedGiB = 0): PackingNode => ({
  id,
  cpus,
  memoryBytes: memGiB * GiB,
  freeCpus: cpus - usedCpus,
  freeMemoryBytes: (memGiB - usedGiB) * GiB,
});
/** A one-container job asking `cpus` cores (and `memGiB`, 0 by default so CPU alone decides). */
const job = (id: string, cpus: number, memGiB = 0, extra: Partial<PackingJob> = {}): PackingJob => ({
  id,
  priority: 0,
  items: [{ cpus, memoryBytes: memGiB * GiB }],
  ...extra,
});

interface Case {
  name: string;
  policy: PackingPolicy;
  nodes: PackingNode[];
  jobs: PackingJob[];
  /** job id → node id per container; jobs not listed must wait. */
  expect: Record<string, string[]>;
  waiting?: string[];
}

// Every expectation below was packed by hand.
const cases: Case[] = [
  {
    name: "FF: first node that fits, in node order",
    policy: "ff",
    nodes: [node("x", 5), node("y", 3)],
    jobs: [job("a", 3), job("b", 5)],
    expect: { a: ["x"] },
    waiting: ["b"],
  },
  {
    name: "BF: the node left with the least room, so the big job still fits",
    policy: "bf",
    nodes: [node("x", 5), node("y", 3)],
    jobs: [job("a", 3), job("b", 5)],
    expect: { a: ["y"], b: ["x"] },
  },
  {
    name: "FF in submission order strands the last 3-core job",
    policy: "ff",
    nodes: [node("x", 5), node("y", 5)],
    jobs: [job("a", 2), job("b", 2), job("c", 3), job("d", 3)],
    expect: { a: ["x"], b: ["x"], c: ["y"] },
    waiting: ["d"],
  },
  {
    name: "FFD sorts the batch largest first and places all four",
    policy: "ffd",
    nodes: [node("x", 5), node("y", 5)],
    jobs: [job("a", 2), job("b", 2), job("c", 3), job("d", 3)],
    expect: { c: ["x"], d: ["y"], a: ["x"], b: ["y"] },
  },
  {
    name: "FFD: largest first onto the first node strands one 3-core job",
    policy: "ffd",
    nodes: [node("x", 6), node("y", 4)],
    jobs: [job("a", 3), job("b", 4), job("c", 3)],
    expect: { b: ["x"], a: ["y"] },
    waiting: ["c"],
  },
  {
    name: "BFD: largest first onto the tightest node places all three",
    policy: "bfd",
    nodes: [node("x", 6), node("y", 4)],
    jobs: [job("a", 3), job("b", 4), job("c", 3)],
    expect: { b: ["y"], a: ["x"], c: ["x"] },
  },
  {
    name: "reservations already on a node count, not its size",
    policy: "ff",
    nodes: [node("x", 4, 100, 3.5), node("y", 4, 100, 1)],
    jobs: [job("a", 1)],
    expect: { a: ["y"] },
  },
  {
    name: "memory decides when CPU would fit",
    policy: "ff",
    nodes: [node("x", 8, 2), node("y", 8, 8)],
    jobs: [job("a", 1, 4)],
    expect: { a: ["y"] },
  },
  {
    name: "BF ranks both dimensions: the node with less memory left wins at equal CPU",
    policy: "bf",
    nodes: [node("x", 4, 8), node("y", 4, 4)],
    jobs: [job("a", 2, 2)],
    expect: { a: ["y"] },
  },
  {
    name: "a gang job waits whole and gives back what its first container took",
    policy: "ff",
    nodes: [node("x", 4), node("y", 2)],
    jobs: [
      {
        id: "gang",
        priority: 0,
        items: [
          { cpus: 3, memoryBytes: 0 },
          { cpus: 3, memoryBytes: 0 },
        ],
      },
      job("small", 4),
    ],
    expect: { small: ["x"] },
    waiting: ["gang"],
  },
  {
    name: "a job's containers may land on different nodes",
    policy: "ff",
    nodes: [node("x", 4), node("y", 4)],
    jobs: [
      {
        id: "pair",
        priority: 0,
        items: [
          { cpus: 3, memoryBytes: 0 },
          { cpus: 3, memoryBytes: 0 },
        ],
      },
    ],
    expect: { pair: ["x", "y"] },
  },
  {
    name: "FFD also sorts a job's own containers largest first",
    policy: "ffd",
    nodes: [node("x", 4), node("y", 3)],
    jobs: [
      {
        id: "p",
        priority: 0,
        items: [
          { cpus: 1, memoryBytes: 0 },
          { cpus: 3, memoryBytes: 0 },
          { cpus: 3, memoryBytes: 0 },
        ],
      },
    ],
    expect: { p: ["x", "x", "y"] },
  },
  {
    name: "priority goes before size and submission order",
    policy: "ffd",
    nodes: [node("x", 4)],
    jobs: [job("big", 4), job("urgent", 1, 0, { priority: 10 })],
    expect: { urgent: ["x"] },
    waiting: ["big"],
  },
  {
    name: "a job's own policy overrides the round's fit rule",
    policy: "ff",
    nodes: [node("x", 5), node("y", 3)],
    jobs: [job("a", 3, 0, { policy: "bf" }), job("b", 5)],
    expect: { a: ["y"], b: ["x"] },
  },
  {
    name: "fractional CPUs add up exactly",
    policy: "ff",
    nodes: [node("x", 0.3)],
    jobs: [job("a", 0.1), job("b", 0.2)],
    expect: { a: ["x"], b: ["x"] },
  },
  { name: "no nodes: everything waits", policy: "bfd", nodes: [], jobs: [job("a", 1)], expect: {}, waiting: ["a"] },
];

describe("bin packing policies (hand-packed tables)", () => {
  for (const c of cases) {
    it(c.name, () => {
      const before = JSON.stringify(c.nodes);
      const r = packBatch(c.policy, c.nodes, c.jobs);
      assert.deepEqual(Object.fromEntries(r.placed), c.expect);
      assert.deepEqual([...r.waiting].sort(), [...(c.waiting ?? [])].sort());
      assert.equal(r.decisions, c.jobs.length);
      assert.equal(JSON.stringify(c.nodes), before, "input nodes are not modified");
    });
  }

  it("never over-reserves a node, whatever the policy (random batches)", () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const policy of ["ff", "bf", "ffd", "bfd"] as const) {
      for (let round = 0; round < 50; round++) {
        const nodes = Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) => node(`n${i}`, 1 + Math.floor(rnd() * 8), 1 + Math.floor(rnd() * 16)));
        const jobs = Array.from({ length: 1 + Math.floor(rnd() * 20) }, (_, i) => ({
          id: `j${i}`,
          priority: Math.floor(rnd() * 3),
          items: Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({
            cpus: Math.round(rnd() * 40) / 10 + 0.1,
            memoryBytes: Math.floor(rnd() * 4 * GiB) + 1,
          })),
        }));
        const r = packBatch(policy, nodes, jobs);
        const used = new Map<string, { cpu: number; mem: number }>();
        for (const [id, where] of r.placed) {
          const j = jobs.find((x) => x.id === id)!;
          where.forEach((n, i) => {
            const u = used.get(n) ?? { cpu: 0, mem: 0 };
            u.cpu += j.items[i]!.cpus;
            u.mem += j.items[i]!.memoryBytes;
            used.set(n, u);
          });
        }
        for (const n of nodes) {
          const u = used.get(n.id) ?? { cpu: 0, mem: 0 };
          assert.ok(u.cpu <= n.freeCpus + 1e-6 && u.mem <= n.freeMemoryBytes, `${policy}: ${n.id} over-reserved`);
        }
        assert.equal(r.placed.size + r.waiting.length, jobs.length);
      }
    }
  });
});

describe("neverFits", () => {
  const nodes = [node("x", 4, 8), node("y", 2, 16)];
  it("accepts a job each of whose containers fits some empty node", () => {
    assert.equal(
      neverFits(
        [
          { cpus: 4, memoryBytes: 8 * GiB },
          { cpus: 2, memoryBytes: 16 * GiB },
        ],
        nodes,
      ),
      undefined,
    );
  });
  it("refuses a container no single node can hold, naming it and the largest node", () => {
    assert.match(
      neverFits(
        [
          { cpus: 1, memoryBytes: GiB },
          { cpus: 4, memoryBytes: 16 * GiB },
        ],
        nodes,
      ) ?? "",
      /container 1 asks for 4 CPUs and 16384 MiB.*largest: 4 CPUs, 16384 MiB/,
    );
    assert.match(neverFits([{ cpus: 5, memoryBytes: GiB }], nodes) ?? "", /container 0 asks for 5 CPUs/);
  });
  it("cannot judge without nodes", () => {
    assert.equal(neverFits([{ cpus: 100, memoryBytes: GiB }], []), undefined);
  });
});
