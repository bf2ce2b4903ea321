import { legend, lineChart, sparkPath, type Series } from "./charts.js";
import { ago, clock, esc, fmtBytes, fmtPct } from "./format.js";
import { migrationCard, sizeBars } from "./migrations-view.js";
import type { FeedContainer, FeedNode } from "./types.js";
import { h, pill, type AppContext, type View } from "./view.js";

const SPARK_W = 96;
const SPARK_H = 22;

interface RowRefs {
  row: HTMLTableRowElement;
  cpu: HTMLElement;
  cpuPath: SVGPathElement;
  mem: HTMLElement;
  memPath: SVGPathElement;
}

/** Nodes (liveness, CPU and memory over five minutes) and every container per node with sparklines. */
export class ClusterView implements View {
  private el!: HTMLElement;
  private rows = new Map<string, RowRefs>();
  private filter = "";

  constructor(private readonly ctx: AppContext) {}

  mount(el: HTMLElement): void {
    this.el = el;
    el.innerHTML = `
      <section class="summary" id="summary"></section>
      <section class="nodes" id="nodes"></section>
      <section id="active"></section>
      <section class="panel">
        <div class="panel-head"><h2>Containers</h2><input id="filter" type="search" placeholder="Filter by name or image" aria-label="Filter containers"></div>
        <div id="containers" class="node-columns"></div>
      </section>`;
    const filter = el.querySelector<HTMLInputElement>("#filter")!;
    filter.value = this.filter;
    filter.addEventListener("input", () => {
      this.filter = filter.value.trim().toLowerCase();
      this.applyFilter();
    });
    el.querySelector("#containers")!.addEventListener("click", (e) => {
      const btn = (e.target as Element).closest<HTMLButtonElement>("button[data-move]");
      if (btn) this.ctx.go("migrations", { container: btn.dataset.move ?? "" });
    });
    this.update(true);
  }

  update(structural: boolean): void {
    const m = this.ctx.model;
    this.renderSummary();
    this.renderNodes();
    const active = m.running();
    const recent = m.migrationList().filter((x) => x.finishedAt && m.serverNow() - x.finishedAt < 60_000);
    const box = this.el.querySelector<HTMLElement>("#active")!;
    box.innerHTML = [...active, ...recent]
      .slice(0, 2)
      .map((x) => migrationCard(x, m.serverNow(), true))
      .join("");
    sizeBars(box);
    if (structural || this.rows.size !== m.containers.size) this.renderContainers();
    else this.updateRows();
  }

  private renderSummary(): void {
    const m = this.ctx.model;
    const nodes = [...m.nodes.values()];
    const up = nodes.filter((n) => n.status === "up").length;
    const cs = [...m.containers.values()];
    const running = cs.filter((c) => c.state === "running").length;
    const cpu = cs.reduce((a, c) => a + c.cpuPct, 0);
    const mem = cs.reduce((a, c) => a + c.memBytes, 0);
    const migrating = m.running().length;
    this.el.querySelector("#summary")!.innerHTML = [
      ["Nodes up", `${up} / ${nodes.length}`, up < nodes.length ? "bad" : ""],
      ["Containers", `${running} running${cs.length > running ? ` · ${cs.length - running} other` : ""}`, ""],
      ["Container CPU", fmtPct(cpu, 0), ""],
      ["Container memory", fmtBytes(mem), ""],
      ["Migrations running", String(migrating), migrating ? "live" : ""],
    ]
      .map(([k, v, cls]) => `<div class="stat ${cls}"><span>${esc(k)}</span><b>${esc(v)}</b></div>`)
      .join("");
  }

  private renderNodes(): void {
    const m = this.ctx.model;
    const now = m.serverNow();
    const html = [...m.nodes.values()]
      .map((n) => {
        const hist = m.nodeHist.get(n.id) ?? [];
        const memPct = (v: number) => (n.memTotalBytes ? (v / n.memTotalBytes) * 100 : 0);
        const series: Series[] = [
          { points: hist.map((s) => [s[0], s[1]] as const), cls: "cpu", label: "CPU %" },
          { points: hist.map((s) => [s[0], memPct(s[2])] as const), cls: "mem", label: "memory %" },
        ];
        return `<article class="node ${n.status}" data-node="${esc(n.id)}">
          <header><h3>${esc(n.id)}</h3>${pill(n.status)}<span class="sub">${esc(n.address ?? "")}${n.cpuCores ? ` · ${n.cpuCores} cores` : ""}</span></header>
          <div class="figures">
            <div><span>CPU</span><b>${fmtPct(n.cpuPct)}</b></div>
            <div><span>Memory</span><b>${fmtBytes(n.memUsedBytes)}</b><small> / ${fmtBytes(n.memTotalBytes)}</small></div>
            <div><span>Containers</span><b>${n.containers}</b></div>
            <div><span>Last report</span><b class="small">${esc(ago(n.lastSeenAt, now))}</b></div>
          </div>
          ${lineChart(series, { w: 720, h: 190, yMax: 100, yLabel: (v) => `${v.toFixed(0)}%`, xLabel: clock, xFrom: Math.max(now - 300_000, Math.min(now - 60_000, hist[0]?.[0] ?? now)), xTo: now })}
          ${legend(series)}
        </article>`;
      })
      .join("");
    this.el.querySelector("#nodes")!.innerHTML = html || `<p class="empty">No nodes have reported yet.</p>`;
  }

  private renderContainers(): void {
    const m = this.ctx.model;
    const box = this.el.querySelector<HTMLElement>("#containers")!;
    box.textContent = "";
    this.rows.clear();
    for (const n of m.nodes.values()) box.append(this.nodeTable(n, m.containersOn(n.id)));
    // Containers whose node is no longer listed still deserve a row.
    const orphans = [...m.containers.values()].filter((c) => !m.nodes.has(c.nodeId));
    if (orphans.length) box.append(this.nodeTable({ id: "unknown node", status: "down", containers: orphans.length }, orphans));
    this.applyFilter();
  }

  private nodeTable(n: FeedNode, cs: FeedContainer[]): HTMLElement {
    const sec = h("div", { class: "node-col", "data-node-containers": n.id });
    sec.innerHTML = `<h3>${esc(n.id)} ${pill(n.status)} <span class="sub">${cs.length} container${cs.length === 1 ? "" : "s"}</span></h3>`;
    const table = h(
      "table",
      { class: "containers" },
      `<thead><tr><th>Name</th><th>State</th><th class="num">CPU</th><th>last minute</th><th class="num">Memory</th><th>last minute</th><th></th></tr></thead>`,
    );
    const body = h("tbody");
    for (const c of cs) {
      const row = h("tr", { "data-container": c.name, "data-id": c.id });
      row.innerHTML = `<td class="name"><b>${esc(c.name)}</b><small>${esc(c.image)} · ${esc(c.id.slice(0, 12))}</small></td>
        <td>${pill(c.state)}</td><td class="num cpu"></td>
        <td><svg class="spark" viewBox="0 0 ${SPARK_W} ${SPARK_H}"><path class="cpu"/></svg></td>
        <td class="num mem"></td>
        <td><svg class="spark" viewBox="0 0 ${SPARK_W} ${SPARK_H}"><path class="mem"/></svg></td>
        <td><button class="ghost small" data-move="${esc(c.name)}" ${c.state === "running" ? "" : "disabled"} title="Live-migrate to another node">Move…</button></td>`;
      const refs: RowRefs = {
        row,
        cpu: row.querySelector<HTMLElement>("td.cpu")!,
        cpuPath: row.querySelector<SVGPathElement>("path.cpu")!,
        mem: row.querySelector<HTMLElement>("td.mem")!,
        memPath: row.querySelector<SVGPathElement>("path.mem")!,
      };
      this.rows.set(c.id, refs);
      this.fillRow(c, refs);
      body.append(row);
    }
    if (cs.length === 0) body.innerHTML = `<tr><td colspan="7" class="empty">no containers</td></tr>`;
    table.append(body);
    sec.append(table);
    return sec;
  }

  private fillRow(c: FeedContainer, r: RowRefs): void {
    const hist = this.ctx.model.contHist.get(c.id) ?? [];
    r.cpu.textContent = fmtPct(c.cpuPct);
    r.mem.textContent = fmtBytes(c.memBytes);
    r.cpuPath.setAttribute(
      "d",
      sparkPath(
        hist.map((s) => s[1]),
        SPARK_W,
        SPARK_H,
        5,
      ),
    );
    r.memPath.setAttribute(
      "d",
      sparkPath(
        hist.map((s) => s[2]),
        SPARK_W,
        SPARK_H,
      ),
    );
  }

  private updateRows(): void {
    for (const [id, r] of this.rows) {
      const c = this.ctx.model.containers.get(id);
      if (c) this.fillRow(c, r);
    }
  }

  private applyFilter(): void {
    for (const [id, r] of this.rows) {
      const c = this.ctx.model.containers.get(id);
      const show = !this.filter || (c !== undefined && (c.name.toLowerCase().includes(this.filter) || c.image.toLowerCase().includes(this.filter)));
      r.row.hidden = !show;
    }
  }
}
