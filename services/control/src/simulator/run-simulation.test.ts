import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runSimulation } from "./run-simulation.js";
import { linearPower, planetLabWorkload } from "./scenarios.js";
import type { SimHostSpec, SimVmSpec, SimWorkload } from "./sim-model.js";
import { barChart, lineChart, logTicks, niceTicks, scatterChart, tickLabel } from "./svg-chart.js";

const host = (id: string): SimHostSpec => ({ id, cores: 1, mipsPerCore: 1000, ramMb: 4096, bwKbps: 1e6, powerWatts: linearPower(100, 200) });
const vm = (id: string, pct: number, ramMb = 500): SimVmSpec => ({ id, mips: 1000, ramMb, bwKbps: 0, cpuPct: new Array(20).fill(pct) });
const workload = (vms: SimVmSpec[], hosts = 2): SimWorkload => ({
  name: "unit",
  stepSec: 300,
  durationSec: 3000,
  hosts: Array.from({ length: hosts }, (_, i) => host(`h${i}`)),
  vms,
  initialPlacement: "round-robin",
});

describe("runSimulation", () => {
  it("integrates energy as ½(P(u_prev)+P(u_now))·Δt from the first update on", () => {
    // Two hosts at 50 % all along: 150 W each from 300.1 s to the last round at 2700.1 s.
    const r = runSimulation({ workload: workload([vm("a", 50), vm("b", 50)]), policy: { name: "none" } });
    assert.ok(Math.abs(r.energyKWh - (2 * 150 * 2400) / 3.6e6) < 1e-9, String(r.energyKWh));
    assert.equal(r.migrations, 0);
    assert.equal(r.slatah, 0);
    assert.equal(r.timeline.activeHosts[0], 2);
  });

  it("counts overload time when demand exceeds capacity", () => {
    const r = runSimulation({ workload: workload([vm("a", 80), vm("b", 10), vm("c", 80)], 2), policy: { name: "none" } });
    // h0 holds a and c (1600 > 1000 MIPS) all the time, h1 holds b: half of the active host-time violates.
    assert.ok(Math.abs(r.slatah - 0.5) < 1e-9, String(r.slatah));
    // a and c get floor(800 × 1000/1600) = 500 of their 800 MIPS all the time, b all of its 100.
    assert.ok(Math.abs(r.overallUnderAllocation - (1700 - 1100) / 1700) < 1e-9, String(r.overallUnderAllocation));
    assert.ok(Math.abs(r.unmetVmTimeShare - 2 / 3) < 1e-9, String(r.unmetVmTimeShare));
  });

  it("executes and counts CloudSim's double migration (A→B then B→C in one round) only when asked", () => {
    // h0: a 60 % + d 30 % (THR 0.8 overloaded, d has the smallest memory); h1: b 5 %; h2: c 45 %.
    // d goes to h1 (first of the equally cheap hosts), then h1 is the least utilized host and is
    // drained to h2: CloudSim migrates d twice.
    const vms = [vm("a", 60, 500), vm("b", 5, 100), vm("c", 45, 100), vm("d", 30, 100)];
    const w: SimWorkload = { ...workload(vms, 3), durationSec: 900 };
    const run = (cloudsimDoubleMoves: boolean) =>
      runSimulation({ workload: w, policy: { name: "consolidation", args: { detector: "thr", parameter: 0.8, cloudsimDoubleMoves } } });
    assert.equal(run(false).migrations, 2);
    assert.equal(run(true).migrations, 3);
    assert.equal(run(true).timeline.activeHosts.at(-1), 2);
  });

  it("a migration costs RAM/bandwidth seconds of 10 % degradation and relieves the overload", () => {
    const w = workload([vm("a", 80, 625), vm("b", 10), vm("c", 80, 625)], 2);
    const none = runSimulation({ workload: w, policy: { name: "none" } });
    const thr = runSimulation({ workload: w, policy: { name: "threshold" }, transferMBps: 62.5 });
    assert.equal(thr.migrations, 1);
    assert.ok(thr.overloadHostSeconds < none.overloadHostSeconds / 2);
    // 625 MB at 62.5 MB/s = 10 s during which the migrating VM gets, on its over-subscribed
    // source, floor(800 × 1000/1600 × 0.9) = 450 of its 800 MIPS (CloudSim counts all of that
    // shortfall as migration degradation), over all requested MIPS·s.
    const requested = (800 + 800 + 100) * 2400;
    assert.ok(Math.abs(thr.pdm - ((800 - 450) * 10) / requested) < 1e-9, String(thr.pdm));
  });

  it("reproduces CloudSim's PlanetLab set-up: host types by id, VM types by index block", () => {
    const day = { day: "d", vms: Array.from({ length: 10 }, (_, i) => ({ name: `v${i}`, cpuPct: new Array(288).fill(10) })) };
    const w = planetLabWorkload(day, 4);
    assert.deepEqual(
      w.hosts.map((h) => h.mipsPerCore),
      [1860, 2660, 1860, 2660],
    );
    // ceil(10/4) = 3 VMs per type block.
    assert.deepEqual(
      w.vms.map((v) => v.mips),
      [2500, 2500, 2500, 2000, 2000, 2000, 1000, 1000, 1000, 500],
    );
    const r = runSimulation({ workload: { ...w, durationSec: 3600 }, policy: { name: "consolidation", args: { detector: "thr", parameter: 0.8 } } });
    // 2500s fit only G5 cores (2660 MIPS); G4 cores (1860) cannot take a 2000-MIPS VM either, and
    // the G5 hosts are full by then: two 2000-MIPS VMs find no host.
    assert.equal(r.unplacedVms, 2);
  });
});

describe("svg charts", () => {
  it("draws lines and bars", () => {
    const l = lineChart("t", "x", "y", [{ name: "s", x: [0, 1, 2], y: [1, 3, 2] }]);
    assert.match(l, /^<svg/);
    assert.match(l, /<path d="M/);
    const b = barChart("t", "y", [
      { label: "a", value: 2 },
      { label: "b", value: 1 },
    ]);
    assert.equal((b.match(/<rect x=/g) ?? []).length, 2);
  });

  it("draws scatter points on a log scale, leaving out what a log axis cannot show", () => {
    const svg = scatterChart(
      "t",
      "x",
      "y",
      [
        { name: "frontier", x: [90, 95, 100], y: [1e-4, 1e-5, 0] },
        { name: "one", x: [88], y: [2e-5] },
      ],
      { logY: true },
    );
    assert.equal((svg.match(/<circle /g) ?? []).length, 3); // the y = 0 point is dropped
    assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 1); // only the series with several points is joined
    // Log ticks at 1, 2, 5 × 10^k between the smallest positive value and the largest, not from 0.
    assert.match(svg, />1\.0e-5</);
    assert.match(svg, />1\.0e-4</);
    assert.doesNotMatch(svg, />6\.7e-6</);
  });
  it("puts linear ticks on round values and widens the range to whole steps", () => {
    assert.deepEqual(niceTicks(0, 87.3), { lo: 0, hi: 100, step: 20, ticks: [0, 20, 40, 60, 80, 100] });
    assert.deepEqual(niceTicks(0, 24), { lo: 0, hi: 25, step: 5, ticks: [0, 5, 10, 15, 20, 25] });
    assert.deepEqual(
      [0, 5, 800].map((v) => tickLabel(v, 5)),
      ["0", "5", "800"],
    );
    assert.deepEqual(
      [0.25, 0.5, 0.002, 2e-5].map((v, i) => tickLabel(v, [0.25, 0.1, 0.001, 1e-5][i]!)),
      ["0.25", "0.5", "0.002", "2.0e-5"],
    );
    assert.deepEqual(niceTicks(0.0013, 0.0041).ticks, [0.001, 0.002, 0.003, 0.004, 0.005]);
    assert.deepEqual(logTicks(6.7e-6, 1.5e-4), [1e-5, 2e-5, 5e-5, 1e-4]);
  });
  it("makes room for long legend names instead of clipping them", () => {
    const long = "forecast (target 1, z 0.5, drain < 0.9) on planetlab-20110303";
    const svg = lineChart("t", "x", "y", [{ name: long, x: [0, 1], y: [1, 2] }]);
    const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]);
    const legendX = Number(/<rect x="([\d.]+)" y="[\d.]+" width="10"/.exec(svg)![1]);
    assert.ok(legendX + 14 + long.length * 6.5 <= width, `legend at ${legendX} with ${long.length} chars overflows width ${width}`);
  });
});
