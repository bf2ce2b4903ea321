import type { SimPolicySpec } from "./sim-model.js";

/**
 * Named policy set-ups for the simulator: the published study's policies (as CloudSim names
 * them) and Herd's own plugins with the arguments used on each scenario.
 */
export const POLICY_PRESETS: Readonly<Record<string, SimPolicySpec>> = {
  "THR-MMT-1.0": { name: "consolidation", args: { detector: "thr", parameter: 1.0 }, label: "THR-MMT-1.0" },
  "THR-MMT-0.8": { name: "consolidation", args: { detector: "thr", parameter: 0.8 }, label: "THR-MMT-0.8" },
  "IQR-MMT-1.5": { name: "consolidation", args: { detector: "iqr", parameter: 1.5 }, label: "IQR-MMT-1.5" },
  "MAD-MMT-2.5": { name: "consolidation", args: { detector: "mad", parameter: 2.5 }, label: "MAD-MMT-2.5" },
  "LR-MMT-1.2": { name: "consolidation", args: { detector: "lr", parameter: 1.2 }, label: "LR-MMT-1.2" },
  none: { name: "none", label: "none" },
  threshold: { name: "threshold", label: "threshold" },
  sandpiper: { name: "sandpiper", label: "sandpiper" },
  // Tuned on the 5 PlanetLab days together: pack to 95 % of current/predicted load, drain nodes
  // under 70 %, price the CPU a VM loses while migrating (PDM) at 60 host-seconds per core-second.
  forecast: { name: "forecast", args: { target: 0.95, drainBelow: 0.7, z: 0, holdSec: 300, lossWeight: 60 }, label: "forecast" },
  "forecast-live": { name: "forecast", label: "forecast" },
};

export const PLANETLAB_POLICIES = [
  "THR-MMT-1.0",
  "THR-MMT-0.8",
  "IQR-MMT-1.5",
  "MAD-MMT-2.5",
  "LR-MMT-1.2",
  "none",
  "threshold",
  "sandpiper",
  "forecast",
] as const;
export const LIVE_CLUSTER_POLICIES = ["none", "threshold", "sandpiper", "forecast-live", "LR-MMT-1.2"] as const;

export function presetOrPolicy(nameOrPreset: string, args?: unknown): SimPolicySpec {
  const p = POLICY_PRESETS[nameOrPreset];
  if (p && args === undefined) return p;
  return { name: p?.name ?? nameOrPreset, args: args ?? p?.args ?? {}, label: nameOrPreset };
}
