import type { ClusterPlan } from "./cluster-plan.js";

/**
 * The emulated hosts' network: one namespace per node on a host bridge. `ensure` creates what is
 * missing and leaves what exists; `remove` deletes Herd's namespaces, veths and bridge only.
 */
export interface NodeNetwork {
  ensure(plan: ClusterPlan): Promise<void>;
  remove(plan: ClusterPlan): Promise<void>;
  /** Path to enter a node's network namespace with `nsenter --net=<path>`. */
  netnsPath(netns: string): string;
  leftovers(plan: ClusterPlan): Promise<string[]>;
}
