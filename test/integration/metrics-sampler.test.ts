// The compute agent's sampler against a real Docker engine (cgroup v1 on the dev machines): a CPU
// burner and an idle container, read by CgroupMetricSource and, as the reference, by Docker's own
// stats API through DockerStatsMetricSource. The same contract checks run against both.
import assert from "node:assert/strict";
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

/** Two samples `gapMs` apart through a RateCalculator; returns the second sample's rates. */
async function measure(source: MetricSource, gapMs: number): Promise<{ raw: RawSample; rates: Rates }> {
  const calc = new RateCalculator();
  calc.update(await source.sample([burner, idle]));
  await sleep(gapMs);
  const raw = await source.sample([burner, idle]);
  return { raw, rates: calc.update(raw) };
}

const sources: Array<[string, () => MetricSource]> = [
  ["CgroupMetricSource (cgroup files + /proc)", () => new CgroupMetricSource()],
  ["DockerStatsMetricSource (Docker stats API, reference)", () => new DockerStatsMetricSource(engine.docker)],
];

for (const [name, make] of sources) {
  describe(name, () => {
    it("sees the burner busy and the idle container idle, with memory, limits and pids", async () => {
      const { raw, rates } = await measure(make(), 2000);
      assert.deepEqual(raw.failures, []);
      const b = rates.containers.get(burner.id);
      const i = rates.containers.get(idle.id);
      assert.ok(b && i, "both containers sampled");
      assert.ok(b.cpuPct > 50, `burner cpuPct ${b.cpuPct} should be > 50`);
      assert.ok(i.cpuPct < 5, `idle cpuPct ${i.cpuPct} should be < 5`);
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
    assert.ok(cpu(before, burner.id) <= dockerCpu && dockerCpu <= cpu(afterwards, burner.id), `${cpu(before, burner.id)} ≤ ${dockerCpu} ≤ ${cpu(afterwards, burner.id)}`);
    const idleOf = (s: RawSample) => s.containers.find((c) => c.id === idle.id);
    const a = idleOf(afterwards);
    const d = idleOf(viaDocker);
    assert.ok(a && d);
    assert.ok(Math.abs(a.memBytes - d.memBytes) < 1024 * 1024, `memory ${a.memBytes} vs docker ${d.memBytes}`);
    assert.equal(a.memLimitBytes, d.memLimitBytes);
    assert.equal(a.pids, d.pids);
  });

  it("reports a killed container as a failure and keeps sampling the others", async () => {
    await engine.docker.getContainer(idle.id).kill();
    await engine.docker.getContainer(idle.id).wait();
    const sample = new CgroupMetricSource().sampleSync([burner, idle]);
    assert.deepEqual(sample.containers.map((c) => c.id), [burner.id]);
    assert.deepEqual(sample.failures.map((f) => f.id), [idle.id]);
  });
});
