export { LocalCluster, type ClusterInfo, type ClusterNodeInfo, type LocalClusterOptions, type UpOptions } from "./local-cluster.js";
export { planCluster, type ClusterPlan, type NodePlan } from "./cluster-plan.js";
export { DEMO_SPECS, type DemoContainer } from "./demo.js";
