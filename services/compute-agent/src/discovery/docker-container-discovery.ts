import type Dockerode from "dockerode";
import { CLUSTER_NETWORK_NAME } from "../../../../shared/src/contracts/cluster-network.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { ExternalError } from "../../../../shared/src/errors.js";
import type { ContainerDiscovery, DiscoveredContainer } from "./container-discovery.js";

const STATES = new Set<DiscoveredContainer["state"]>(["created", "running", "paused", "restarting", "removing", "exited", "dead"]);

interface InspectFacts {
  pid: number;
  cgroupParent: string;
  memoryLimitBytes: number | null;
  startedAt: string;
  exitCode: number;
}

/** Discovery through the engine's list endpoint, with one inspect per container start (cached). */
export class DockerContainerDiscovery implements ContainerDiscovery {
  private readonly facts = new Map<string, { key: string; facts: InspectFacts }>();

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
  ) {}

  async list(): Promise<DiscoveredContainer[]> {
    let summaries: Dockerode.ContainerInfo[];
    try {
      summaries = await this.docker.listContainers({ all: true });
    } catch (err) {
      throw new ExternalError("cannot list containers from the Docker engine", { cause: err });
    }
    const seen = new Set<string>();
    const out: DiscoveredContainer[] = [];
    for (const s of summaries) {
      seen.add(s.Id);
      const state = STATES.has(s.State as DiscoveredContainer["state"]) ? (s.State as DiscoveredContainer["state"]) : "dead";
      // The summary's Status string changes when the container (re)starts, so it keys the cache.
      const key = `${state}|${s.Status.startsWith("Up") ? "up" : s.Status}`;
      let cached = this.facts.get(s.Id);
      if (!cached || cached.key !== key) {
        const facts = await this.inspect(s.Id);
        if (!facts) continue; // removed between list and inspect
        cached = { key, facts };
        this.facts.set(s.Id, cached);
      }
      out.push({
        id: s.Id,
        name: (s.Names[0] ?? s.Id).replace(/^\//, ""),
        image: s.Image,
        state,
        labels: s.Labels ?? {},
        pid: state === "running" || state === "paused" ? cached.facts.pid : 0,
        cgroupParent: cached.facts.cgroupParent,
        memoryLimitBytes: cached.facts.memoryLimitBytes,
        ...(state === "exited" || state === "dead" ? { exitCode: cached.facts.exitCode } : {}),
        ...clusterAddress(s),
      });
    }
    for (const id of this.facts.keys()) if (!seen.has(id)) this.facts.delete(id);
    return out;
  }

  private async inspect(id: string): Promise<InspectFacts | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      return {
        pid: info.State.Pid ?? 0,
        cgroupParent: info.HostConfig.CgroupParent || "",
        memoryLimitBytes: info.HostConfig.Memory ? info.HostConfig.Memory : null,
        startedAt: info.State.StartedAt,
        exitCode: info.State.ExitCode ?? 0,
      };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      this.log.warn("Inspect failed", { containerId: id, error: (err as Error).message });
      throw new ExternalError(`cannot inspect container ${id}`, { cause: err });
    }
  }
}

/** The address on the cluster network: the static one control gave (kept while stopped), else the live one. */
function clusterAddress(s: Dockerode.ContainerInfo): { address?: string } {
  const ep = s.NetworkSettings?.Networks?.[CLUSTER_NETWORK_NAME];
  const ip = ep?.IPAMConfig?.IPv4Address || ep?.IPAddress;
  return ip ? { address: ip } : {};
}
