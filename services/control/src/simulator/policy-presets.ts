import { ValidationError } from "../../../../shared/src/errors.js";
import { createPolicy } from "../placement/policy-registry.js";
import type { SimPolicySpec } from "./sim-model.js";

/**
 * Named policy set-ups for the simulator: the published study's policies (as CloudSim names
 * them) and Herd's own plugins with the arguments used on each scenario.
 */
export const POLICY_PRESETS: Readonly<Record<string, SimPolicySpec>> = {
  // CloudSim 3.0.3's policies, with its double migrations (see consolidation's cloudsimDoubleMoves).
  "THR-MMT-1.0": { name: "consolidation", args: { detector: "thr", parameter: 1.0, cloudsimDoubleMoves: true }, label: "THR-MMT-1.0" },
  "THR-MMT-0.8": { name: "consolidation", args: { detector: "thr", parameter: 0.8, cloudsimDoubleMoves: true }, label: "THR-MMT-0.8" },
  "IQR-MMT-1.5": { name: "consolidation", args: { detector: "iqr", parameter: 1.5, cloudsimDoubleMoves: true }, label: "IQR-MMT-1.5" },
  "MAD-MMT-2.5": { name: "consolidation", args: { detector: "mad", parameter: 2.5, cloudsimDoubleMoves: true }, label: "MAD-MMT-2.5" },
  "LR-MMT-1.2": { name: "consolidation", args: { detector: "lr", parameter: 1.2, cloudsimDoubleMoves: true }, label: "LR-MMT-1.2" },
  none: { name: "none", label: "none" },
  threshold: { name: "threshold", label: "threshold" },
  sandpiper: { name: "sandpiper", label: "sandpiper" },
  // Chosen by bench:placement on PlanetLab days 20110303, 20110306 and 20110309 only (lowest energy
  // among the grid settings that beat CloudSim's LR-MMT-1.2 on SLAV, ESV and migrations and deliver
  // no less CPU than our LR-MMT-1.2 on each of them); 20110322 and 20110325 are held out. Pack to
  // 85 % of current and predicted + 1σ load, drain nodes under 70 %, price the CPU a VM loses while
  // migrating (PDM) at 60 host-seconds per core-second. (Target 0.9 was the choice until the
  // simulator reproduced CloudSim exactly; with that change it missed 20110303 on under-delivered CPU.)
  forecast: { name: "forecast", args: { target: 0.85, drainBelow: 0.7, z: 1, holdSec: 300, lossWeight: 60 }, label: "forecast" },
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

/**
 * A preset or a plugin by name, with `args` (a JSON object) laid over the preset's own arguments,
 * so `herd simulate --policies forecast --args '{"z":1}'` runs the forecast preset with z = 1.
 * The label names the overrides, so every row of a report says what ran.
 */
export function presetOrPolicy(nameOrPreset: string, args?: unknown): SimPolicySpec {
  const p = POLICY_PRESETS[nameOrPreset];
  if (args === undefined) return p ?? { name: nameOrPreset, args: {}, label: nameOrPreset };
  if (args === null || typeof args !== "object" || Array.isArray(args)) throw new ValidationError("args", "must be a JSON object");
  const base = p?.args && typeof p.args === "object" ? p.args : {};
  return { name: p?.name ?? nameOrPreset, args: { ...base, ...args }, label: `${nameOrPreset} ${JSON.stringify(args)}` };
}

/** Fails fast (before any trace is read) on an unknown policy or a bad argument. */
export function validatePolicySpecs(specs: readonly SimPolicySpec[]): void {
  for (const s of specs) createPolicy(s.name, s.args ?? {});
}
