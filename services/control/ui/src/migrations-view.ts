import { api, ApiError } from "./api.js";
import { clock, esc, fmtBytes, fmtDuration } from "./format.js";
import type { DryRunReport, FeedMigration } from "./types.js";
import { pill, type AppContext, type View } from "./view.js";

const FORWARD = ["describe", "prepare", "precopy", "freeze", "restore", "verify", "finish", "commit"];
const isLive = (m: FeedMigration) => m.state === "running" || m.state === "rolling-back";

/** Time the container has been (or was) frozen: live while the freeze lasts. */
export function frozenFor(m: FeedMigration, now: number): number | undefined {
  if (m.frozenMs !== undefined) return m.frozenMs;
  if (m.frozenAt !== undefined && isLive(m)) return now - m.frozenAt;
  return undefined;
}

/** Bytes moved so far: finished steps plus the running step's live count. */
export const movedBytes = (m: FeedMigration): number => m.bytes + (isLive(m) && m.live?.bytes ? m.live.bytes : 0);

/** One migration with its steps, bytes and frozen time (used on the cluster tab too). */
export function migrationCard(m: FeedMigration, now: number, compact = false): string {
  const done = new Map(m.steps.map((s) => [s.name, s]));
  const names = [...FORWARD, ...m.steps.map((s) => s.name).filter((n) => !FORWARD.includes(n))];
  const steps = names
    .map((name) => {
      const s = done.get(name);
      const cls = !s ? "todo" : s.ok === undefined ? "doing" : s.ok ? "done" : "failed";
      const took = s ? fmtDuration((s.finishedAt ?? now) - s.startedAt) : "";
      const bytes = s?.bytes ? ` · ${fmtBytes(s.bytes)}` : "";
      const live =
        s && s.ok === undefined && m.live?.step === name && m.live.bytes
          ? ` · ${fmtBytes(m.live.bytes)}${m.live.totalBytes ? ` / ${fmtBytes(m.live.totalBytes)}` : ""}`
          : "";
      const err = s?.error ? `<em>${esc(s.error)}</em>` : "";
      return `<li class="step ${cls}" data-step="${esc(name)}"><i></i><b>${esc(name)}</b><span>${s ? esc(s.node) : ""}</span><span class="num">${took}${bytes}${live}</span>${err}</li>`;
    })
    .join("");
  const progress =
    m.live?.bytes && m.live.totalBytes && isLive(m)
      ? `<div class="bar"><div class="fill" data-pct="${Math.min(100, (m.live.bytes / m.live.totalBytes) * 100).toFixed(0)}"></div></div>`
      : "";
  const frozen = frozenFor(m, now);
  const total = m.totalMs ?? (isLive(m) ? now - m.createdAt : undefined);
  return `<article class="migration ${esc(m.state)}${compact ? " compact" : ""}" data-migration="${esc(m.id)}" data-state="${esc(m.state)}">
    <header><h3>${esc(m.containerName)} <span class="route">${esc(m.source)} → ${esc(m.destination)}</span></h3>${pill(m.state)}
      <span class="sub">${esc(m.id)} · started ${clock(m.createdAt)}</span></header>
    <div class="figures">
      <div><span>Frozen</span><b class="${m.frozen && isLive(m) ? "live" : ""}" data-frozen>${fmtDuration(frozen)}</b></div>
      <div><span>Total</span><b>${fmtDuration(total)}</b></div>
      <div><span>Moved</span><b>${fmtBytes(movedBytes(m))}</b></div>
      <div><span>Step</span><b>${esc(m.step)}</b></div>
    </div>
    ${progress}
    <ol class="steps">${steps}</ol>
    ${m.error && m.state !== "committed" ? `<p class="error">cause: ${esc(m.error.message)}</p>` : ""}
  </article>`;
}

/** Bars get their width through the CSSOM (the page's CSP allows no inline style attributes). */
export function sizeBars(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-pct]")) el.style.width = `${el.dataset.pct}%`;
}

/** Start a migration (same endpoint, checks and errors as `herd migrate`), list them, follow one live. */
export class MigrationsView implements View {
  private el!: HTMLElement;
  private selected?: string;
  private optionsKey = "";

  constructor(
    private readonly ctx: AppContext,
    private readonly params: () => Record<string, string>,
  ) {}

  mount(el: HTMLElement): void {
    this.el = el;
    el.innerHTML = `
      <section class="panel">
        <div class="panel-head"><h2>Start a migration</h2><span class="sub">live: checkpoint → rsync → restore; the same checks as <code>herd migrate</code></span></div>
        <form id="migrate-form" class="row-form" autocomplete="off">
          <label>Container <select id="m-container" name="container" required></select></label>
          <label>Destination <select id="m-to" name="to" required></select></label>
          <button type="button" id="m-check" class="ghost">Check (dry run)</button>
          <button type="submit" id="m-start">Migrate</button>
        </form>
        <div id="m-result" role="status"></div>
      </section>
      <section id="m-detail"></section>
      <section class="panel"><div class="panel-head"><h2>Migrations</h2></div><div id="m-list"></div></section>`;
    const form = el.querySelector<HTMLFormElement>("#migrate-form")!;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submit(false);
    });
    el.querySelector("#m-check")!.addEventListener("click", () => void this.submit(true));
    el.querySelector("#m-container")!.addEventListener("change", () => this.fillDestinations());
    el.querySelector("#m-list")!.addEventListener("click", (e) => {
      const row = (e.target as Element).closest<HTMLElement>("tr[data-id]");
      if (row?.dataset.id) {
        this.selected = row.dataset.id;
        this.update(false);
      }
    });
    this.fillOptions(true);
    this.update(true);
  }

  private fillOptions(initial: boolean): void {
    const m = this.ctx.model;
    const cs = [...m.containers.values()].filter((c) => c.state === "running").sort((a, b) => a.name.localeCompare(b.name));
    const key = cs.map((c) => `${c.name}@${c.nodeId}`).join() + [...m.nodes.values()].map((n) => n.id + n.status).join();
    if (key === this.optionsKey) return;
    this.optionsKey = key;
    const sel = this.el.querySelector<HTMLSelectElement>("#m-container")!;
    const want = initial ? (this.params().container ?? sel.value) : sel.value;
    sel.innerHTML = cs.map((c) => `<option value="${esc(c.name)}">${esc(c.name)} (on ${esc(c.nodeId)})</option>`).join("");
    if (want && cs.some((c) => c.name === want)) sel.value = want;
    this.fillDestinations();
  }

  private fillDestinations(): void {
    const m = this.ctx.model;
    const name = this.el.querySelector<HTMLSelectElement>("#m-container")!.value;
    const from = [...m.containers.values()].find((c) => c.name === name && c.state === "running")?.nodeId;
    const to = this.el.querySelector<HTMLSelectElement>("#m-to")!;
    const keep = to.value;
    // Every node is offered (as the CLI accepts any); the server refuses same-node and down nodes with its own message.
    const nodes = [...m.nodes.values()];
    to.innerHTML = nodes
      .map((n) => `<option value="${esc(n.id)}">${esc(n.id)}${n.id === from ? " (its node)" : ""}${n.status === "down" ? " — down" : ""}</option>`)
      .join("");
    const preferred = keep && keep !== from ? keep : nodes.find((n) => n.id !== from && n.status === "up")?.id;
    if (preferred) to.value = preferred;
  }

  private async submit(dryRun: boolean): Promise<void> {
    const container = this.el.querySelector<HTMLSelectElement>("#m-container")!.value;
    const to = this.el.querySelector<HTMLSelectElement>("#m-to")!.value;
    const out = this.el.querySelector<HTMLElement>("#m-result")!;
    const buttons = [...this.el.querySelectorAll<HTMLButtonElement>("#migrate-form button")];
    buttons.forEach((b) => (b.disabled = true));
    out.innerHTML = `<p class="sub">${dryRun ? "Checking" : "Starting"} ${esc(container)} → ${esc(to)}…</p>`;
    try {
      if (dryRun) {
        const r = await api<DryRunReport>("POST", "/migrations", { container, to, dryRun: true }, 60_000);
        out.innerHTML = r.wouldMigrate
          ? `<div class="note ok"><b>${esc(container)} would move from ${esc(r.source ?? "?")} to ${esc(r.destination)}:</b><ul>${r.steps.map((s) => `<li>${esc(s)}</li>`).join("")}</ul></div>`
          : `<div class="note bad"><b>${esc(container)} would NOT be migrated:</b><ul>${r.reasons.map((s) => `<li>${esc(s)}</li>`).join("")}</ul></div>`;
      } else {
        const r = await api<FeedMigration>("POST", "/migrations", { container, to }, 60_000);
        this.ctx.model.migrations.set(r.id, r);
        this.selected = r.id;
        out.innerHTML = `<div class="note ok">Migration <b>${esc(r.id)}</b> started: ${esc(r.containerName)} ${esc(r.source)} → ${esc(r.destination)}</div>`;
        this.update(false);
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, String(err));
      out.innerHTML = `<div class="note bad" data-error-status="${e.status}"><b>Refused${e.status ? ` (HTTP ${e.status})` : ""}:</b> ${esc(e.message)}</div>`;
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  update(_structural: boolean): void {
    const m = this.ctx.model;
    this.fillOptions(false);
    const list = m.migrationList();
    const now = m.serverNow();
    const shown = (this.selected && m.migrations.get(this.selected)) || m.running()[0] || list[0];
    const detail = this.el.querySelector<HTMLElement>("#m-detail")!;
    detail.innerHTML = shown ? migrationCard(shown, now) : "";
    sizeBars(detail);
    this.el.querySelector("#m-list")!.innerHTML = list.length
      ? `<table class="list"><thead><tr><th>ID</th><th>Container</th><th>From → to</th><th>State</th><th>Step</th><th class="num">Frozen</th><th class="num">Total</th><th class="num">Moved</th><th>Started</th></tr></thead><tbody>${list
          .map(
            (
              x,
            ) => `<tr data-id="${esc(x.id)}" class="${x.id === shown?.id ? "selected" : ""}"><td><code>${esc(x.id)}</code></td><td>${esc(x.containerName)}</td><td>${esc(x.source)} → ${esc(x.destination)}</td>
              <td>${pill(x.state)}</td><td>${esc(x.step)}</td><td class="num">${fmtDuration(frozenFor(x, now))}</td><td class="num">${fmtDuration(x.totalMs ?? now - x.createdAt)}</td>
              <td class="num">${fmtBytes(movedBytes(x))}</td><td>${clock(x.createdAt)}</td></tr>`,
          )
          .join("")}</tbody></table>`
      : `<p class="empty">No migrations yet.</p>`;
  }
}
