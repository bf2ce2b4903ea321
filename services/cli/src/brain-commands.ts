import { Option, type Command } from "commander";
import { ValidationError } from "../../../shared/src/errors.js";
import type { ApiClient } from "./api-client.js";
import { formatPct, parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";

interface Move {
  containerId: string;
  from: string;
  to: string;
  reason: string;
}
export interface PlanView {
  policy: string;
  args: unknown;
  nodes: Array<{ id: string; up: boolean; cpuPct: number; memPct: number; containers: number }>;
  proposals: Move[];
  planned: { allowed: Move[]; rejected: Array<{ move: Move; why: string }> };
  forecastModels: Record<string, string>;
  /** Absent from controls before this field. */
  tookMs?: { listing: number; series: number; forecast: number; decide: number };
}
interface ForecastView {
  name: string;
  nodeId: string;
  stepSec: number;
  points: number;
  ranking: Array<{ feature: string; importance: number }>;
  models: Array<{ name: string; available: boolean; reason?: string; forecast: number[]; validation: { mae: number; rmse: number } }>;
  chosen: { name: string; reason: string };
  /** The model the control loop forecasts each step ahead with (index 0 = one step). */
  perHorizon: string[];
  forecast: number[];
  backtest: { horizon: number; points: Array<{ t?: number; actual: number; forecasts: Record<string, number> }>; mae: Record<string, number> };
}

const outputOption = () => new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat);
const num = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(2));

export function renderPlan(p: PlanView): string {
  const nodes = renderTable(
    ["NODE", "STATUS", "CPU", "MEMORY", "CONTAINERS"],
    p.nodes.map((n) => [n.id, n.up ? "up" : "down", formatPct(n.cpuPct), formatPct(n.memPct), n.containers]),
  );
  const allowed = p.planned.allowed.length
    ? renderTable(
        ["CONTAINER", "FROM", "TO", "WHY"],
        p.planned.allowed.map((m) => [m.containerId.slice(0, 12), m.from, m.to, m.reason]),
      )
    : "  (no moves: nothing the policy would change now)";
  const rejected = p.planned.rejected.length
    ? `\nHeld back by budgets:\n${renderTable(
        ["CONTAINER", "FROM", "TO", "WHY NOT"],
        p.planned.rejected.map((r) => [r.move.containerId.slice(0, 12), r.move.from, r.move.to, r.why]),
      )}`
    : "";
  const t = p.tookMs;
  const took = t
    ? `\n\nPlanned in ${((t.listing + t.series + t.forecast + t.decide) / 1000).toFixed(2)} s (reading nodes and containers ${t.listing} ms, CPU series ${t.series} ms, forecasting ${t.forecast} ms, deciding ${t.decide} ms)`
    : "";
  return `Policy ${p.policy} ${JSON.stringify(p.args)}\n\n${nodes}\n\nWould move:\n${allowed}${rejected}${took}`;
}

export function registerBrainCommands(program: Command, api: () => ApiClient): void {
  program
    .command("plan")
    .description("show what the placement policy would do now, and why (changes nothing)")
    .option("--policy <name>", "none, threshold, sandpiper or forecast (default: the control service's)")
    .option("--args <json>", "policy arguments as JSON, e.g. '{\"cpuThreshold\":0.8}'")
    .addOption(outputOption())
    .action(async (opts: { policy?: string; args?: string; output: OutputFormat }) => {
      const q = new URLSearchParams();
      if (opts.policy) q.set("policy", opts.policy);
      if (opts.args) q.set("args", opts.args);
      const p = await api().get<PlanView>(`/plan${q.size ? `?${q}` : ""}`);
      print(opts.output, p, () => renderPlan(p));
    });

  program
    .command("rebalance")
    .description("run one rebalancing round now, or switch the automatic loop on/off")
    .addOption(new Option("--auto <state>", "switch the automatic loop").choices(["on", "off", "status"]))
    .option("--policy <name>", "with --auto on: the policy the loop runs from now on")
    .option("--args <json>", "with --policy: its arguments as JSON")
    .addOption(outputOption())
    .action(async (opts: { auto?: "on" | "off" | "status"; policy?: string; args?: string; output: OutputFormat }) => {
      if (opts.auto) {
        const client = api();
        let args: unknown;
        if (opts.args) {
          try {
            args = JSON.parse(opts.args);
          } catch {
            throw new ValidationError("--args", "must be a JSON object");
          }
        }
        const s =
          opts.auto === "status"
            ? await client.get<{ enabled: boolean; policy: string; intervalMs: number }>("/rebalance/auto")
            : await client.request<{ enabled: boolean; policy: string; intervalMs: number }>("PUT", "/rebalance/auto", {
                enabled: opts.auto === "on",
                ...(opts.policy ? { policy: opts.policy, args: args ?? {} } : {}),
              });
        print(opts.output, s, () => `automatic rebalancing is ${s.enabled ? "on" : "off"} (policy ${s.policy}, every ${s.intervalMs / 1000} s)`);
        return;
      }
      const r = await api().post<{ started: Array<{ migrationId: string; container: string; from: string; to: string; reason: string }> }>("/rebalance", {});
      print(opts.output, r, () =>
        r.started.length
          ? `Started ${r.started.length} migration(s):\n${renderTable(
              ["MIGRATION", "CONTAINER", "FROM", "TO", "WHY"],
              r.started.map((s) => [s.migrationId, s.container, s.from, s.to, s.reason]),
            )}\nFollow with: herd migrations`
          : "Nothing to move.",
      );
    });

  program
    .command("forecast")
    .description("forecast a container's CPU with every model, next to what actually happened")
    .argument("<container>", "name or id")
    .option("--explain", "also show the feature ranking and why the model was chosen")
    .addOption(new Option("--horizon <n>", "steps ahead").default("6"))
    .addOption(new Option("--step <seconds>", "seconds per step (history is averaged)").default("10"))
    .addOption(outputOption())
    .action(async (ref: string, opts: { explain?: boolean; horizon: string; step: string; output: OutputFormat }) => {
      const f = await api().get<ForecastView>(
        `/containers/${encodeURIComponent(ref)}/forecast?horizon=${encodeURIComponent(opts.horizon)}&step=${encodeURIComponent(opts.step)}${opts.explain ? "&explain=true" : ""}`,
      );
      print(opts.output, f, () => {
        const names = f.models.map((m) => m.name);
        const models = renderTable(
          ["MODEL", "VALIDATION MAE", "RMSE", "BACKTEST MAE", "FORECAST (CPU %)", ""],
          f.models.map((m) => [
            m.name,
            num(m.validation.mae),
            num(m.validation.rmse),
            num(f.backtest.mae[m.name]),
            m.forecast.map((v) => v.toFixed(1)).join(" "),
            m.name === f.chosen.name ? "← chosen" : m.available ? "" : `(${m.reason ?? "unavailable"})`,
          ]),
        );
        const recent = f.backtest.points.slice(-8);
        const backtest = recent.length
          ? renderTable(
              ["TIME", "ACTUAL", ...names.map((n) => n.toUpperCase())],
              recent.map((p) => [p.t ? new Date(p.t).toISOString().slice(11, 19) : "", p.actual.toFixed(1), ...names.map((n) => num(p.forecasts[n]))]),
            )
          : "  (too little history for a backtest yet)";
        const lines = [
          `${f.name} on ${f.nodeId}: CPU % of one core, ${f.points} points of ${f.stepSec} s`,
          "",
          models,
          "",
          `Forecast vs what happened (${f.backtest.horizon} step ahead):`,
          backtest,
          "",
          `Chosen: ${f.chosen.name} — ${f.chosen.reason}`,
          `The control loop forecasts step by step with: ${f.perHorizon.map((n, k) => `h${k + 1} ${n}`).join(", ")}`,
        ];
        if (opts.explain) {
          lines.push("", "Feature ranking (permutation importance in a random forest; a diagnostic: the control loop's models use every feature):");
          lines.push(
            f.ranking.length
              ? renderTable(
                  ["FEATURE", "IMPORTANCE"],
                  f.ranking.slice(0, 15).map((r) => [r.feature, r.importance.toFixed(4)]),
                )
              : "  (too little history to rank features)",
          );
        }
        return lines.join("\n");
      });
    });
}
