import type Dockerode from "dockerode";
import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MetricSource, RawContainerCounters, RawSample, SampleFailure, SampleTarget } from "./metric-source.js";
import { ProcNodeCounters } from "./proc-node-counters.js";

/** The part of Docker's stats JSON (`GET /containers/<id>/stats`) that Herd reads. */
export interface DockerStatsJson {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  pids_stats?: { current?: number };
}

/**
 * Maps one stats answer to Herd's raw counters, with the same meaning as CgroupMetricSource's:
 * memory without inactive file cache (v1 `total_inactive_file`, v2 `inactive_file`), and no limit
 * (null) when Docker reports the node's whole memory as the limit, which is what it does for an
 * unlimited container.
 */
export function mapDockerStats(json: DockerStatsJson, target: Pick<SampleTarget, "id" | "pid">, atMs: number, nodeMemTotalBytes: number): RawContainerCounters {
  const mem = json.memory_stats ?? {};
  const stats = mem.stats ?? {};
  const usage = mem.usage ?? 0;
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const limit = mem.limit ?? 0;
  let blkReadBytes = 0;
  let blkWriteBytes = 0;
  for (const entry of json.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (entry.op ?? "").toLowerCase();
    if (op === "read") blkReadBytes += entry.value ?? 0;
    else if (op === "write") blkWriteBytes += entry.value ?? 0;
  }
  let netRxBytes = 0;
  let netTxBytes = 0;
  for (const [name, net] of Object.entries(json.networks ?? {})) {
    if (name === "lo") continue;
    netRxBytes += net.rx_bytes ?? 0;
    netTxBytes += net.tx_bytes ?? 0;
  }
  return {
    id: target.id,
    pid: target.pid,
    atMs,
    cpuUsageNs: json.cpu_stats?.cpu_usage?.total_usage ?? 0,
    memBytes: inactive < usage ? usage - inactive : usage,
    memLimitBytes: limit <= 0 || limit >= nodeMemTotalBytes ? null : limit,
    blkReadBytes,
    blkWriteBytes,
    netRxBytes,
    netTxBytes,
    pids: json.pids_stats?.current ?? 0,
  };
}

export interface DockerStatsMetricSourceOptions {
  /** How many stats requests are in flight at once. */
  concurrency?: number;
  /** Ask for one reading instead of two (`one-shot=true`, API ≥ 1.41); the daemon answers sooner. */
  oneShot?: boolean;
  procRoot?: string;
  clock?: () => number;
  logger?: Logger;
}

/**
 * MetricSource through Docker's stats API, what `docker stats` uses. Kept as the reference the
 * cgroup sampler is checked and benchmarked against: it costs the daemon milliseconds of CPU per
 * container and waits for the daemon's 1 s collection tick, so the agent does not use it.
 */
export class DockerStatsMetricSource implements MetricSource {
  private readonly node: ProcNodeCounters;
  private readonly clock: () => number;
  private readonly concurrency: number;
  private readonly oneShot: boolean;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly docker: Dockerode,
    options: DockerStatsMetricSourceOptions = {},
  ) {
    this.clock = options.clock ?? (() => performance.now());
    this.node = new ProcNodeCounters(options.procRoot, this.clock);
    this.concurrency = options.concurrency ?? 256;
    this.oneShot = options.oneShot ?? false;
    this.logger = options.logger;
  }

  async sample(targets: readonly SampleTarget[]): Promise<RawSample> {
    const node = this.node.read();
    const containers: RawContainerCounters[] = [];
    const failures: SampleFailure[] = [];
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const target = targets[next++] as SampleTarget;
        try {
          const query: Record<string, unknown> = { stream: false };
          if (this.oneShot) query["one-shot"] = true;
          const json = (await this.docker.getContainer(target.id).stats(query as { stream: false })) as DockerStatsJson;
          containers.push(mapDockerStats(json, target, this.clock(), node.memTotalBytes));
        } catch (err) {
          this.logger?.debug("Docker stats failed", { containerId: target.id, error: errorMessage(err) });
          failures.push({ id: target.id, reason: errorMessage(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, targets.length) }, worker));
    return { node, containers, failures };
  }
}
