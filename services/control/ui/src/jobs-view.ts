import { api, ApiError } from "./api.js";
import { clock, esc } from "./format.js";
import { pill, type AppContext, type View } from "./view.js";

interface JobTask {
  container: string;
  nodeId?: string;
  state: string;
  exitCode?: number;
}
interface Job {
  id: string;
  name: string;
  state: string;
  priority: number;
  submittedAt: number;
  runningAt?: number;
  finishedAt?: number;
  reason?: string;
  tasks: JobTask[];
}

const REFRESH_MS = 3000;

/**
 * Jobs (GET /jobs): one list request every few seconds while the tab is open — jobs are kept by
 * the job manager, not by the state the live stream reads.
 */
export class JobsView implements View {
  private el!: HTMLElement;
  private timer?: number;
  constructor(private readonly _ctx: AppContext) {}

  mount(el: HTMLElement): void {
    this.el = el;
    el.innerHTML = `<section class="panel"><div class="panel-head"><h2>Jobs <span class="sub">batch submissions placed by the job manager (herd jobs)</span></h2></div><div id="j-out"><p class="sub">Loading…</p></div></section>`;
    void this.refresh();
  }

  update(): void {}

  private async refresh(): Promise<void> {
    if (!this.el.isConnected) return;
    const out = this.el.querySelector<HTMLElement>("#j-out")!;
    try {
      const { jobs } = await api<{ jobs: Job[] }>("GET", "/jobs?limit=200");
      jobs.sort((a, b) => b.submittedAt - a.submittedAt);
      out.innerHTML = jobs.length
        ? `<table class="list" id="jobs"><thead><tr><th>ID</th><th>Name</th><th>State</th><th class="num">Priority</th><th>Tasks</th><th>Nodes</th><th>Submitted</th><th>Why</th></tr></thead><tbody>${jobs
            .map((j) => {
              const running = j.tasks.filter((t) => t.state === "running").length;
              const nodes = [...new Set(j.tasks.map((t) => t.nodeId).filter((n): n is string => !!n))].join(", ");
              return `<tr data-job="${esc(j.id)}"><td><code>${esc(j.id)}</code></td><td>${esc(j.name)}</td><td>${pill(j.state)}</td><td class="num">${j.priority}</td>
                <td>${running} / ${j.tasks.length} running</td><td>${esc(nodes || "–")}</td><td>${clock(j.submittedAt)}</td><td class="sub">${esc(j.reason ?? "")}</td></tr>`;
            })
            .join("")}</tbody></table>`
        : `<p class="empty">No jobs. Submit one with <code>herd jobs submit</code> or POST /api/v1/jobs.</p>`;
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, String(err));
      out.innerHTML = `<div class="note bad"><b>Error${e.status ? ` (HTTP ${e.status})` : ""}:</b> ${esc(e.message)}</div>`;
    }
    if (this.el.isConnected) this.timer = window.setTimeout(() => void this.refresh(), REFRESH_MS);
    else if (this.timer) clearTimeout(this.timer);
  }
}
