import { join, resolve } from "node:path";
import { ValidationError } from "../../../../shared/src/errors.js";
import { readAlibabaMachineUsage } from "../traces/alibaba.js";
import { readPlanetLabDay } from "../traces/planetlab.js";
import { presetOrPolicy, validatePolicySpecs } from "./policy-presets.js";
import { runSimulation } from "./run-simulation.js";
import { ALIBABA_DEFAULTS, LIVE_CLUSTER_DEFAULTS, alibabaWorkload, liveClusterWorkload, planetLabWorkload } from "./scenarios.js";
import type { SimResult, SimWorkload } from "./sim-model.js";
import { writeSimulationReport } from "./simulation-report.js";

export interface SimulateOptions {
  /** "planetlab" (CloudSim preset), "live-cluster" (Herd defaults) or "alibaba". */
  scenario: "planetlab" | "live-cluster" | "alibaba";
  /** PlanetLab day folder, or the Alibaba machine_usage CSV. */
  input: string;
  /** Preset names (see POLICY_PRESETS) or plugin names. */
  policies: string[];
  /** JSON object laid over every policy's arguments (a preset's own, or a plugin's defaults). */
  args?: unknown;
  outDir: string;
  name?: string;
  /**
   * Order of a PlanetLab day's files, which decides each VM's type: "directory" (the file system's
   * own, as CloudSim's File.listFiles sees it; default, as in bench:placement) or "sorted".
   */
  order?: "sorted" | "directory";
}

/** `herd simulate`: runs the policies on one input and writes the markdown/JSON/SVG report. */
export async function simulate(o: SimulateOptions): Promise<{ results: SimResult[]; markdown: string; json: string }> {
  const specs = o.policies.map((p) => presetOrPolicy(p, o.args));
  validatePolicySpecs(specs);
  let workload: SimWorkload;
  let transferMBps = 62.5;
  const order = o.order ?? "directory";
  if (o.scenario === "planetlab") workload = planetLabWorkload(await readPlanetLabDay(o.input, { order }));
  else if (o.scenario === "live-cluster") {
    workload = liveClusterWorkload(await readPlanetLabDay(o.input, { order }));
    transferMBps = LIVE_CLUSTER_DEFAULTS.transferMBps;
  } else if (o.scenario === "alibaba") {
    workload = alibabaWorkload(await readAlibabaMachineUsage(o.input, { resampleSeconds: ALIBABA_DEFAULTS.stepSec }));
    transferMBps = LIVE_CLUSTER_DEFAULTS.transferMBps;
  } else throw new ValidationError("scenario", `must be planetlab, live-cluster or alibaba, got "${String(o.scenario)}"`);
  const results = specs.map((policy) => runSimulation({ workload, policy, transferMBps }));
  const r = await writeSimulationReport(o.outDir, o.name ?? `simulate-${workload.name}`, results);
  return { results, ...r };
}

/** Minimal argv parser so the lead's CLI (or `node dist/…/cli-entry.js`) can call straight in. */
export function parseSimulateArgs(argv: readonly string[]): SimulateOptions {
  const get = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const traces = process.env.HERD_TRACES_DIR ?? "../shared/traces";
  const scenario = (get("scenario") ?? "planetlab") as SimulateOptions["scenario"];
  const input =
    get("input") ??
    (scenario === "alibaba" ? join(traces, "alibaba2018_machine_usage/machine_usage_first100k.csv") : join(traces, "planetlab", get("day") ?? "20110303"));
  const policies = (get("policies") ?? (scenario === "planetlab" ? "THR-MMT-0.8,LR-MMT-1.2,forecast" : "threshold,forecast-live")).split(",");
  const raw = get("args");
  let args: unknown;
  if (raw) {
    try {
      args = JSON.parse(raw);
    } catch (err) {
      throw new ValidationError("args", "must be JSON", { cause: err });
    }
  }
  const order = get("order") ?? "directory";
  if (order !== "sorted" && order !== "directory") throw new ValidationError("order", `must be sorted or directory, got "${order}"`);
  return { scenario, input: resolve(input), policies, args, outDir: resolve(get("out") ?? "sim-results"), order };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  simulate(parseSimulateArgs(process.argv.slice(2)))
    .then((r) => {
      for (const x of r.results)
        console.log(
          `${x.policy}: ${x.energyKWh.toFixed(2)} kWh, ${x.migrations} migrations, SLAV ${x.slav.toExponential(2)}, ESV ${x.esv.toExponential(2)}, under-delivered CPU ${(x.overallUnderAllocation * 100).toFixed(2)} %, VM-time unmet ${(x.unmetVmTimeShare * 100).toFixed(2)} %, overload ${(x.overloadHostSeconds / 3600).toFixed(2)} host-h`,
        );
      console.log(`report: ${r.markdown}\njson: ${r.json}`);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
