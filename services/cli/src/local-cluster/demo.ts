import Dockerode from "dockerode";
import type { Logger } from "../../../../shared/src/logger.js";
import type { NodePlan } from "./cluster-plan.js";
import { WORKLOAD_REPO } from "./node-engine.js";

export interface DemoContainer {
  nodeId: string;
  name: string;
  containerId: string;
  cmd: string[];
}

interface DemoSpec {
  name: string;
  cmd: string[];
  /** Position of the node (0-based, wraps around on small clusters). */
  node: number;
}

export const DEMO_SPECS: readonly DemoSpec[] = [
  { name: "demo-counter", cmd: ["counter"], node: 0 },
  { name: "demo-cpuburn", cmd: ["cpuburn", "1", "0.3"], node: 0 },
  { name: "demo-memhold", cmd: ["memhold", "64"], node: 1 },
];

/**
 * A few workload containers to watch on a fresh cluster: a counter and a 30 % CPU burner on the
 * first node, 64 MB of verifiable memory on the second. Idempotent: a running demo container is
 * kept, a stopped one is replaced. `--network none`: workloads get no network unless asked.
 */
export async function startDemo(nodes: NodePlan[], log: Logger): Promise<DemoContainer[]> {
  const out: DemoContainer[] = [];
  for (const spec of DEMO_SPECS) {
    const node = nodes[spec.node % nodes.length];
    if (!node) continue;
    const docker = new Dockerode({ socketPath: node.dockerSocket });
    const existing = docker.getContainer(spec.name);
    try {
      const info = await existing.inspect();
      if (info.State.Running) {
        out.push({ nodeId: node.id, name: spec.name, containerId: info.Id, cmd: spec.cmd });
        continue;
      }
      await existing.remove({ force: true });
    } catch {
      // not there: create it below
    }
    log.debug("Starting demo container", { nodeId: node.id, name: spec.name });
    const container = await docker.createContainer({
      name: spec.name,
      Image: `${WORKLOAD_REPO}:latest`,
      Cmd: spec.cmd,
      Labels: { "herd.demo": "true" },
      HostConfig: { NetworkMode: "none" },
    });
    await container.start();
    log.debug("Started demo container", { nodeId: node.id, containerId: container.id });
    out.push({ nodeId: node.id, name: spec.name, containerId: container.id, cmd: spec.cmd });
  }
  return out;
}
