import { ZERO_CONTAINER_USAGE, type ContainerSample } from "../../../shared/src/contracts/index.js";
import type { TelemetrySampler } from "./agent.js";
import type { DiscoveredContainer } from "./discovery/container-discovery.js";
import type { MetricSource } from "./metrics/metric-source.js";
import { RateCalculator } from "./metrics/rate-calculator.js";

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
        ...(c.address ? { address: c.address } : {}),
        ...ZERO_CONTAINER_USAGE,
        memLimitBytes: c.memoryLimitBytes,
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
        ...(u ?? {}),
      };
    });
    return { node, containers: out };
  }
}
