import { api, ApiError } from "./api.js";
import { legend, lineChart, type Series } from "./charts.js";
import { clock, esc, fmtPct } from "./format.js";
import type { ForecastReport, PlanReport } from "./types.js";
import { pill, type AppContext, type View } from "./view.js";

/** JSON turns NaN into null: anything not a finite number shows as a dash. */
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const num = (v: unknown, digits: number) => (finite(v) ? v.toFixed(digits) : "–");

const failure = (err: unknown) => {
  const e = err instanceof ApiError ? err : new ApiError(0, String(err));
  return `<div class="note bad"><b>Error${e.status ? ` (HTTP ${e.status})` : ""}:</b> ${esc(e.message)}</div>`;
};

/** The rebalance plan as a dry run (GET /plan: changes nothing), each move with its reason. */
export class PlanView implements View {
  private el!: HTMLElement;
  constructor(private readonly ctx: AppContext) {}

  mount(el: HTMLElement): void {
    this.el = el;
    el.innerHTML = `<section class="panel">
      <div class="panel-head"><h2>Rebalance plan <span class="sub">dry run — changes nothing</span></h2></div>
      <form id="plan-form" class="row-form">
        <label>Policy <select id="p-policy"><option value="">control's current</option><option>none</option><option>threshold</option><option>sandpiper</option><option>forecast</option></select></label>
        <label class="wide">Arguments (JSON) <input id="p-args" placeholder='e.g. {"cpuThreshold":0.8}'></label>
        <button type="submit">Plan</button>
      </form>
      <div id="p-out"></div></section>`;
    el.querySelector("#plan-form")!.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.run();
    });
    void this.run();
  }

  update(): void {}

  private async run(): Promise<void> {
    const out = this.el.querySelector<HTMLElement>("#p-out")!;
    const policy = this.el.querySelector<HTMLSelectElement>("#p-policy")!.value;
    const args = this.el.querySelector<HTMLInputElement>("#p-args")!.value.trim();
    const q = new URLSearchParams();
    if (policy) q.set("policy", policy);
    if (args) q.set("args", args);
    out.innerHTML = `<p class="sub">Planning…</p>`;
    try {
      const [p, auto] = await Promise.all([
        api<PlanReport>("GET", `/plan${q.size ? `?${q}` : ""}`, undefined, 60_000),
        api<{ enabled: boolean }>("GET", "/rebalance/auto").catch(() => undefined),
      ]);
      const name = (id: string) => [...this.ctx.model.containers.values()].find((c) => c.id === id)?.name ?? id.slice(0, 12);
      const moves = p.planned.allowed;
      out.innerHTML = `
        <p>Policy <b>${esc(p.policy)}</b> <code>${esc(JSON.stringify(p.args))}</code> · planned ${clock(p.at)}${auto ? ` · automatic rebalancing <b>${auto.enabled ? "on" : "off"}</b>` : ""}</p>
        <table class="list"><thead><tr><th>Node</th><th>Status</th><th class="num">CPU</th><th class="num">Memory</th><th class="num">Containers</th></tr></thead><tbody>
        ${p.nodes.map((n) => `<tr><td>${esc(n.id)}</td><td>${pill(n.up ? "up" : "down")}</td><td class="num">${fmtPct(n.cpuPct)}</td><td class="num">${fmtPct(n.memPct)}</td><td class="num">${n.containers}</td></tr>`).join("")}
        </tbody></table>
        <h3>Would move</h3>
        ${
          moves.length
            ? `<table class="list" id="plan-moves"><thead><tr><th>Container</th><th>From → to</th><th>Why</th></tr></thead><tbody>${moves.map((m) => `<tr><td>${esc(name(m.containerId))}</td><td>${esc(m.from)} → ${esc(m.to)}</td><td>${esc(m.reason)}</td></tr>`).join("")}</tbody></table>`
            : `<p class="empty" id="plan-moves">No moves: nothing the policy would change now.</p>`
        }
        ${
          p.planned.rejected.length
            ? `<h3>Held back by budgets</h3><table class="list"><thead><tr><th>Container</th><th>From → to</th><th>Why not</th></tr></thead><tbody>${p.planned.rejected.map((r) => `<tr><td>${esc(name(r.move.containerId))}</td><td>${esc(r.move.from)} → ${esc(r.move.to)}</td><td>${esc(r.why)}</td></tr>`).join("")}</tbody></table>`
            : ""
        }
        ${
          Object.keys(p.forecastModels).length
            ? `<h3>Forecast model per container</h3><p class="chips">${Object.entries(p.forecastModels)
                .map(([id, model]) => `<span class="chip">${esc(name(id))}: <b>${esc(model)}</b></span>`)
                .join("")}</p>`
            : ""
        }`;
    } catch (err) {
      out.innerHTML = failure(err);
    }
  }
}

/** A container's CPU forecast from every model next to what happened, and the model chosen. */
export class ForecastView implements View {
  private el!: HTMLElement;
  constructor(
    private readonly ctx: AppContext,
    private readonly params: () => Record<string, string>,
  ) {}

  mount(el: HTMLElement): void {
    this.el = el;
    const names = [...new Set([...this.ctx.model.containers.values()].map((c) => c.name))].sort();
    el.innerHTML = `<section class="panel">
      <div class="panel-head"><h2>Forecast vs actual <span class="sub">CPU, every model validated on the container's own history</span></h2></div>
      <form id="f-form" class="row-form">
        <label>Container <select id="f-container">${names.map((n) => `<option>${esc(n)}</option>`).join("")}</select></label>
        <label>Horizon (steps) <input id="f-horizon" type="number" min="1" max="48" value="6"></label>
        <label>Step (s) <input id="f-step" type="number" min="1" max="3600" value="10"></label>
        <button type="submit">Forecast</button>
      </form>
      <div id="f-out"><p class="sub">Pick a container and press Forecast (models are trained on demand; it takes a moment).</p></div></section>`;
    const want = this.params().container;
    if (want && names.includes(want)) el.querySelector<HTMLSelectElement>("#f-container")!.value = want;
    el.querySelector("#f-form")!.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.run();
    });
  }

  update(): void {}

  private async run(): Promise<void> {
    const out = this.el.querySelector<HTMLElement>("#f-out")!;
    const c = this.el.querySelector<HTMLSelectElement>("#f-container")!.value;
    const horizon = this.el.querySelector<HTMLInputElement>("#f-horizon")!.value;
    const step = this.el.querySelector<HTMLInputElement>("#f-step")!.value;
    out.innerHTML = `<p class="sub">Training and validating models for ${esc(c)}…</p>`;
    try {
      const r = await api<ForecastReport>(
        "GET",
        `/containers/${encodeURIComponent(c)}/forecast?horizon=${encodeURIComponent(horizon)}&step=${encodeURIComponent(step)}`,
        undefined,
        120_000,
      );
      const pts = r.backtest.points;
      const stepMs = r.stepSec * 1000;
      const lastT = pts.length ? (pts[pts.length - 1]!.t ?? Date.now()) : Date.now();
      const x = (p: { t?: number }, i: number) => p.t ?? lastT - (pts.length - 1 - i) * stepMs;
      const series: Series[] = [
        { points: pts.map((p, i) => [x(p, i), p.actual] as const).filter((q) => finite(q[1])), cls: "actual", label: "actual" },
        {
          points: pts.map((p, i) => [x(p, i), p.forecasts[r.chosen.name]] as const).filter((q): q is readonly [number, number] => finite(q[1])),
          cls: "chosen",
          label: `${r.chosen.name}, ${r.backtest.horizon} steps ahead (back-test)`,
          dashed: true,
        },
        { points: r.forecast.map((v, i) => [lastT + (i + 1) * stepMs, v] as const).filter((q) => finite(q[1])), cls: "future", label: "forecast", dots: true },
      ];
      const best = Math.min(...r.models.filter((m) => m.available && finite(m.validation.mae)).map((m) => m.validation.mae));
      out.innerHTML = `
        <p>Chosen model for <b>${esc(r.name)}</b> (on ${esc(r.nodeId)}): <b class="chosen-model" id="f-chosen">${esc(r.chosen.name)}</b> — ${esc(r.chosen.reason)}</p>
        <p class="sub">The control loop forecasts step by step with: ${r.perHorizon.map((n, k) => `h${k + 1} ${esc(n)}`).join(", ")}</p>
        ${lineChart(series, { w: 1300, h: 300, yLabel: (v) => `${v.toFixed(v < 10 ? 1 : 0)}%`, xLabel: clock, marker: { x: lastT, label: "now" } })}
        ${legend(series)}
        <table class="list"><thead><tr><th>Model</th><th class="num">Validation MAE</th><th class="num">RMSE</th><th class="num">Back-test MAE</th><th>Next ${r.forecast.length} steps (CPU %)</th><th></th></tr></thead><tbody>
        ${r.models
          .map(
            (
              m,
            ) => `<tr class="${m.name === r.chosen.name ? "selected" : ""}"><td>${esc(m.name)}</td><td class="num">${m.available ? num(m.validation.mae, 2) : "–"}</td><td class="num">${m.available ? num(m.validation.rmse, 2) : "–"}</td>
              <td class="num">${num(r.backtest.mae[m.name], 2)}</td><td><code>${m.forecast.map((v) => num(v, 1)).join(" ")}</code></td>
              <td>${m.name === r.chosen.name ? pill("chosen") : !m.available ? `<span class="sub">${esc(m.reason ?? "unavailable")}</span>` : m.validation.mae === best ? "best MAE" : ""}</td></tr>`,
          )
          .join("")}</tbody></table>
        <p class="sub">${r.points} points at ${r.stepSec} s · features used: ${r.selected.map(esc).join(", ") || "–"}</p>`;
    } catch (err) {
      out.innerHTML = failure(err);
    }
  }
}
