import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ContainerSample } from "../../../../shared/src/contracts/telemetry.js";
import type { RawContainerCounters, RawNodeCounters } from "./metric-source.js";
import { containerUsage, nodeUsage, RateCalculator } from "./rate-calculator.js";

const ID = "0123456789ab".repeat(4) + "0123456789abcdef";

function raw(over: Partial<RawContainerCounters> = {}): RawContainerCounters {
  return {
    id: ID,
    pid: 10,
    atMs: 0,
    cpuUsageNs: 0,
    memBytes: 1000,
    memLimitBytes: null,
    blkReadBytes: 0,
    blkWriteBytes: 0,
    netRxBytes: 0,
    netTxBytes: 0,
    pids: 1,
    ...over,
  };
}

describe("containerUsage", () => {
  const cases: Array<{ name: string; prev: RawContainerCounters | undefined; cur: RawContainerCounters; want: Partial<ReturnType<typeof containerUsage>> }> = [
    {
      name: "first sample: all rates 0, counters passed through",
      prev: undefined,
      cur: raw({ atMs: 1000, cpuUsageNs: 5e9, blkReadBytes: 100, netTxBytes: 7 }),
      want: { cpuPct: 0, blkReadBps: 0, netTxBps: 0, cpuUsageNs: 5e9, blkReadBytes: 100, netTxBytes: 7 },
    },
    {
      name: "one second, half a core, 1 MB/s read, 2 kB/s sent",
      prev: raw({ atMs: 1000, cpuUsageNs: 1e9, blkReadBytes: 0, netTxBytes: 0 }),
      cur: raw({ atMs: 2000, cpuUsageNs: 1.5e9, blkReadBytes: 1e6, netTxBytes: 2000 }),
      want: { cpuPct: 50, blkReadBps: 1e6, netTxBps: 2000 },
    },
    {
      name: "two busy cores over 500 ms is 200 %",
      prev: raw({ atMs: 0, cpuUsageNs: 0 }),
      cur: raw({ atMs: 500, cpuUsageNs: 1e9 }),
      want: { cpuPct: 200 },
    },
    {
      name: "restart (new pid): treated as a first sample even though counters grew",
      prev: raw({ atMs: 0, cpuUsageNs: 1e9, pid: 10 }),
      cur: raw({ atMs: 1000, cpuUsageNs: 9e9, pid: 11 }),
      want: { cpuPct: 0 },
    },
    {
      name: "counter reset with the same pid: that rate is 0, not negative",
      prev: raw({ atMs: 0, cpuUsageNs: 2e9, netRxBytes: 5000 }),
      cur: raw({ atMs: 1000, cpuUsageNs: 3e9, netRxBytes: 10 }),
      want: { cpuPct: 100, netRxBps: 0 },
    },
    {
      name: "no time passed: rates 0 instead of infinity",
      prev: raw({ atMs: 1000, cpuUsageNs: 0 }),
      cur: raw({ atMs: 1000, cpuUsageNs: 1e9 }),
      want: { cpuPct: 0 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = containerUsage(c.prev, c.cur);
      for (const [key, value] of Object.entries(c.want)) assert.equal(got[key as keyof typeof got], value, key);
      // Whatever the case, the result is a valid wire sample once discovery adds its fields.
      ContainerSample.parse({ id: ID, name: "c", image: "i", state: "running", ...got });
    });
  }
});

describe("nodeUsage", () => {
  const n = (over: Partial<RawNodeCounters>): RawNodeCounters => ({
    atMs: 0,
    cpuCores: 2,
    cpuBusyTicks: 0,
    cpuTotalTicks: 0,
    memTotalBytes: 8000,
    memAvailableBytes: 6000,
    ...over,
  });
  it("busy share of all cores between two readings, memory used = total − available", () => {
    const got = nodeUsage(n({ cpuBusyTicks: 100, cpuTotalTicks: 1000 }), n({ cpuBusyTicks: 150, cpuTotalTicks: 1200 }));
    assert.deepEqual(got, { cpuCores: 2, cpuPct: 25, memTotalBytes: 8000, memUsedBytes: 2000 });
  });
  it("first reading: cpu 0", () => assert.equal(nodeUsage(undefined, n({ cpuBusyTicks: 5, cpuTotalTicks: 10 })).cpuPct, 0));
});

describe("RateCalculator", () => {
  const nodeRaw: RawNodeCounters = { atMs: 0, cpuCores: 2, cpuBusyTicks: 0, cpuTotalTicks: 0, memTotalBytes: 1, memAvailableBytes: 1 };
  it("remembers the previous sample per container and forgets containers that went away", () => {
    const calc = new RateCalculator();
    calc.update({ node: nodeRaw, containers: [raw({ atMs: 0, cpuUsageNs: 0 })], failures: [] });
    const second = calc.update({ node: nodeRaw, containers: [raw({ atMs: 1000, cpuUsageNs: 2.5e8 })], failures: [] });
    assert.equal(second.containers.get(ID)?.cpuPct, 25);
    // Missing for one round (e.g. it failed to read): it starts from scratch afterwards.
    calc.update({ node: nodeRaw, containers: [], failures: [{ id: ID, reason: "gone" }] });
    const back = calc.update({ node: nodeRaw, containers: [raw({ atMs: 3000, cpuUsageNs: 9e9 })], failures: [] });
    assert.equal(back.containers.get(ID)?.cpuPct, 0);
  });
});
