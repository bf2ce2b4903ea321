export * from "./cluster-snapshot.js";
export * from "./placement-policy.js";
export * from "./policy-registry.js";
export * from "./move-planner.js";
export * from "./snapshot-index.js";
export { ThresholdArgs, proposeThreshold } from "./threshold-policy.js";
export { SandpiperArgs, proposeSandpiper, volume } from "./sandpiper-policy.js";
export { ForecastArgs, proposeForecast, overloadProbability, containerOutlook } from "./forecast-policy.js";
export { ConsolidationArgs, proposeConsolidation } from "./consolidation-policy.js";
