import type { ContainerSample } from "../../../shared/src/contracts/index.js";
import type { TelemetrySampler } from "./agent.js";
import type { DiscoveredContainer } from "./discovery/container-discovery.js";
import type { MetricSource } from "./metrics/metric-source.js";
import { RateCalculator } from "./metrics/rate-calculator.js";

const ZERO_USAGE = {
  cpuPct: 0,
  cpuUsageNs: 0,
  memBytes: 0,
  blkReadBytes: 0,
  blkWriteBytes: 0,
  blkReadBps: 0,
  blkWriteBps: 0,
  netRxBytes: 0,
  netTxBytes: 0,
  netRxBps: 0,
  netTxBps: 0,
  pids: 0,
};

/** Joins discovery (who) with the metric source and rate calculator (how much). */
export class MetricSourceTelemetrySampler implements TelemetrySampler {
  private readonly rates = new RateCalculator();

  constructor(private readonly source: MetricSource) {}

  async sample(containers: readonly DiscoveredContainer[]) {
    const running = containers.filter((c) => c.pid > 0);
    const raw = await this.source.sample(running.map((c) => ({ id: c.id, pid: c.pid, cgroupParent: c.cgroupParent })));
    const { node, containers: usage } = this.rates.update(raw);
    const out: ContainerSample[] = containers.map((c) => {
      const u = usage.get(c.id);
      return {
        id: c.id,
        name: c.name,
        image: c.image,
        state: c.state,
        labels: c.labels,
        ...ZERO_USAGE,
        memLimitBytes: c.memoryLimitBytes,
        ...(u ?? {}),
      };
    });
    return { node, containers: out };
  }
}
