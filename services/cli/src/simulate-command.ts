import { Option, type Command } from "commander";
import { join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { ValidationError } from "../../../shared/src/errors.js";
import { POLICY_PLUGINS } from "../../control/src/placement/policy-registry.js";
import { POLICY_PRESETS } from "../../control/src/simulator/policy-presets.js";
import { formatDuration, parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";

const SCENARIOS = ["planetlab", "live-cluster", "alibaba"] as const;

/** `herd simulate`: replays real traces through the placement policies; no cluster needed. */
export function registerSimulateCommand(program: Command): void {
  program
    .command("simulate")
    .description("replay real utilization traces through the placement policies (no Docker needed)")
    .addOption(
      new Option("--scenario <name>", "planetlab (CloudSim's 800-host setup), live-cluster (Herd's defaults) or alibaba")
        .choices(SCENARIOS)
        .default("planetlab"),
    )
    .option("--day <YYYYMMDD>", "PlanetLab day folder", "20110303")
    .option("--input <path>", "trace input (a PlanetLab day folder or the Alibaba machine_usage CSV) instead of --day")
    .option(
      "--policies <list>",
      `comma-separated presets (${Object.keys(POLICY_PRESETS).join(", ")}) or policy plugins (${[...POLICY_PLUGINS.keys()].join(", ")})`,
    )
    .option("--args <json>", "JSON object laid over every policy's arguments (a preset's own or the plugin's defaults)")
    .option("--traces <dir>", "traces root", process.env.HERD_TRACES_DIR ?? "../shared/traces")
    .addOption(
      new Option("--order <order>", "PlanetLab file order (decides VM types): directory (as CloudSim's File.listFiles, as bench:placement) or sorted")
        .choices(["directory", "sorted"])
        .default("directory"),
    )
    .option("--out <dir>", "where the report (markdown, JSON, SVG plots) goes", "sim-results")
    .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat))
    .action(
      async (opts: {
        scenario: (typeof SCENARIOS)[number];
        day: string;
        input?: string;
        policies?: string;
        args?: string;
        traces: string;
        order: string;
        out: string;
        output: OutputFormat;
      }) => {
        if (!/^\d{8}$/.test(opts.day)) throw new ValidationError("--day", `must be YYYYMMDD, got "${opts.day}"`);
        const { simulate, parseSimulateArgs } = await import("../../control/src/simulator/cli-entry.js");
        const input =
          opts.input ??
          (opts.scenario === "alibaba" ? join(opts.traces, "alibaba2018_machine_usage/machine_usage_first100k.csv") : join(opts.traces, "planetlab", opts.day));
        if (!existsSync(input)) throw new ValidationError(opts.input ? "--input" : "--traces", `${resolve(input)} does not exist`);
        const argv = [
          "--scenario",
          opts.scenario,
          "--input",
          input,
          "--out",
          opts.out,
          "--order",
          opts.order,
          ...(opts.policies ? ["--policies", opts.policies] : []),
          ...(opts.args ? ["--args", opts.args] : []),
        ];
        const started = Date.now();
        process.stderr.write(`simulating ${opts.scenario} on ${input}…\n`);
        const r = await simulate(parseSimulateArgs(argv));
        print(
          opts.output,
          { results: r.results.map(({ timeline: _t, ...rest }) => rest), report: r.markdown, json: r.json },
          () =>
            renderTable(
              ["POLICY", "ENERGY kWh", "MIGRATIONS", "SLATAH", "PDM", "SLAV", "ESV", "UNDER-DELIVERED CPU", "VM-TIME UNMET", "OVERLOAD host-h"],
              r.results.map((x) => [
                x.policy,
                x.energyKWh.toFixed(2),
                x.migrations,
                `${(x.slatah * 100).toFixed(2)}%`,
                `${(x.pdm * 100).toFixed(3)}%`,
                x.slav.toExponential(2),
                x.esv.toExponential(2),
                `${(x.overallUnderAllocation * 100).toFixed(2)}%`,
                `${(x.unmetVmTimeShare * 100).toFixed(2)}%`,
                (x.overloadHostSeconds / 3600).toFixed(2),
              ]),
            ) + `\n\nReport with plots: ${r.markdown}\nJSON: ${r.json}\n(${formatDuration(Date.now() - started)})`,
        );
      },
    );
}
