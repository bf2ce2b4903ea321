import type { ClusterNetworkPlan, NodePlan } from "./cluster-plan.js";

/** The workload image every node engine must hold (built by infra/workloads/build-image.sh). */
export interface WorkloadImage {
  tarball: string;
  /** Hash of the image's inputs; engines are tagged with it so a re-import is skipped. */
  hash: string;
}

export const WORKLOAD_REPO = "herd/workload";

/**
 * One container engine per emulated node, running inside the node's network namespace.
 * `start` is idempotent (an engine that answers is left alone); `stop` removes every container
 * first so nothing keeps running once the engine is gone.
 */
export interface NodeEngine {
  start(node: NodePlan, netnsPath: string, mark: string): Promise<void>;
  ping(node: NodePlan): Promise<boolean>;
  ensureImage(node: NodePlan, image: WorkloadImage): Promise<"ok" | "imported">;
  /** The cluster network (a macvlan over the node's interface) on the node's engine. */
  ensureClusterNetwork(node: NodePlan, net: ClusterNetworkPlan): Promise<"ok" | "created">;
  /** Returns the number of containers removed. */
  removeAllContainers(node: NodePlan): Promise<number>;
  stop(node: NodePlan): Promise<void>;
}
