// The compute agent's sampler against a real Docker engine (cgroup v1 on the dev machines): a CPU
// burner and an idle container, read by CgroupMetricSource and, as the reference, by Docker's own
// stats API through DockerStatsMetricSource. The same contract checks run against both.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import { ContainerSample } from "../../shared/src/contracts/telemetry.js";
import { CgroupMetricSource } from "../../services/compute-agent/src/metrics/cgroup-metric-source.js";
import { DockerStatsMetricSource } from "../../services/compute-agent/src/metrics/docker-stats-metric-source.js";
import type { MetricSource, RawSample, SampleTarget } from "../../services/compute-agent/src/metrics/metric-source.js";
import { RateCalculator, type Rates } from "../../services/compute-agent/src/metrics/rate-calculator.js";
import { PrivateDockerEngine } from "./metrics-private-engine.js";

const IDLE_LIMIT = 64 * 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const engine = new PrivateDockerEngine({ name: "herd-tel-test" });
let burner: SampleTarget;
let idle: SampleTarget;

before(async () => {
  await engine.start();
  const image = await engine.ensureImage();
  burner = await engine.run("burner", image.image, image.burnerCmd);
  idle = await engine.run("idle", image.image, image.idleCmd, IDLE_LIMIT);
});

after(async () => {
  await engine.stop();
});

/** CPU seconds of a process and its threads from /proc/<pid>/stat: ground truth independent of cgroups. */
function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Two samples `gapMs` apart through a RateCalculator; returns the second sample's rates and the
 * burner's CPU share over the same window measured from /proc/<pid>/stat.
 */
async function measure(source: MetricSource, gapMs: number): Promise<{ raw: RawSample; rates: Rates; burnerProcPct: number }> {
  const calc = new RateCalculator();
  const first = await source.sample([burner, idle]);
  const cpu0 = procCpuSeconds(burner.pid);
  const t0 = performance.now();
  calc.update(first);
  await sleep(gapMs);
  const cpu1 = procCpuSeconds(burner.pid);
  const t1 = performance.now();
  const raw = await source.sample([burner, idle]);
  return { raw, rates: calc.update(raw), burnerProcPct: ((cpu1 - cpu0) / ((t1 - t0) / 1000)) * 100 };
}

// The machine is shared with other work, so the burner may get well under one core: the checks
// compare it with the idle container and with what the kernel's per-process accounting says.
const sources: Array<[string, () => MetricSource, number]> = [
  // Read at the same instants as /proc: must agree within a few points.
  ["CgroupMetricSource (cgroup files + /proc)", () => new CgroupMetricSource(), 10],
  // The daemon read its counters up to a tick before answering, so its window is offset.
  ["DockerStatsMetricSource (Docker stats API, reference)", () => new DockerStatsMetricSource(engine.docker), 30],
];

for (const [name, make, tolerance] of sources) {
  describe(name, () => {
    it("sees the burner busy and the idle container idle, with memory, limits and pids", async () => {
      const { raw, rates, burnerProcPct } = await measure(make(), 3000);
      assert.deepEqual(raw.failures, []);
      const b = rates.containers.get(burner.id);
      const i = rates.containers.get(idle.id);
      assert.ok(b && i, "both containers sampled");
      assert.ok(i.cpuPct < 5, `idle cpuPct ${i.cpuPct} should be < 5`);
      assert.ok(b.cpuPct > 15 && b.cpuPct > 10 * i.cpuPct, `burner cpuPct ${b.cpuPct} should be > 15 and > 10 × idle (${i.cpuPct})`);
      assert.ok(Math.abs(b.cpuPct - burnerProcPct) < tolerance, `burner cpuPct ${b.cpuPct} vs /proc ${burnerProcPct}`);
      assert.ok(b.memBytes > 0 && i.memBytes > 0, `memory ${b.memBytes} / ${i.memBytes} should be > 0`);
      assert.equal(i.memLimitBytes, IDLE_LIMIT);
      assert.equal(b.memLimitBytes, null);
      assert.ok(b.pids >= 1 && i.pids >= 1);
      // --network none: only loopback, which is not counted.
      assert.equal(b.netRxBytes + b.netTxBytes + i.netRxBytes + i.netTxBytes, 0);
      assert.ok(rates.node.cpuCores >= 1 && rates.node.memTotalBytes > rates.node.memUsedBytes);
      ContainerSample.parse({ id: burner.id, name: "burner", image: "x", state: "running", ...b });
    });
  });
}

describe("CgroupMetricSource against Docker's own numbers", () => {
  it("agrees with the stats API on cumulative CPU, memory and pids", async () => {
    const cgroup = new CgroupMetricSource();
    const docker = new DockerStatsMetricSource(engine.docker);
    // The stats API answers after the daemon's next collection tick (up to ~1 s later), so read
    // the cgroup files before and after it and expect Docker's CPU counter in between.
    const before = cgroup.sampleSync([burner, idle]);
    const viaDocker = await docker.sample([burner, idle]);
    const afterwards = cgroup.sampleSync([burner, idle]);
    const cpu = (s: RawSample, id: string) => s.containers.find((c) => c.id === id)?.cpuUsageNs ?? NaN;
    const dockerCpu = cpu(viaDocker, burner.id);
    assert.ok(
      cpu(before, burner.id) <= dockerCpu && dockerCpu <= cpu(afterwards, burner.id),
      `${cpu(before, burner.id)} ≤ ${dockerCpu} ≤ ${cpu(afterwards, burner.id)}`,
    );
    const idleOf = (s: RawSample) => s.containers.find((c) => c.id === idle.id);
    const a = idleOf(afterwards);
    const d = idleOf(viaDocker);
    assert.ok(a && d);
    assert.ok(Math.abs(a.memBytes - d.memBytes) < 1024 * 1024, `memory ${a.memBytes} vs docker ${d.memBytes}`);
    assert.equal(a.memLimitBytes, d.memLimitBytes);
    assert.equal(a.pids, d.pids);
  });

  it("reports a killed container as a failure, closes its kept files and keeps sampling the others", async () => {
    const source = new CgroupMetricSource();
    assert.equal(source.sampleSync([burner, idle]).containers.length, 2);
    const openBefore = source.openFiles;
    await engine.docker.getContainer(idle.id).kill();
    await engine.docker.getContainer(idle.id).wait();
    // Files kept open from the first round now point at a removed cgroup (ENODEV) or dead process.
    const sample = source.sampleSync([burner, idle]);
    assert.deepEqual(
      sample.containers.map((c) => c.id),
      [burner.id],
    );
    assert.deepEqual(
      sample.failures.map((f) => f.id),
      [idle.id],
    );
    assert.ok(source.openFiles < openBefore, `open files ${source.openFiles} < ${openBefore}`);
    // A fresh source that never saw it fails the same way (its /proc/<pid> is gone).
    assert.deepEqual(
      new CgroupMetricSource().sampleSync([idle]).failures.map((f) => f.id),
      [idle.id],
    );
    source.close();
  });
});
