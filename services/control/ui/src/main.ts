import { api, ApiError, openStream, setUnauthorizedHandler, tokenStore, type StreamStatus } from "./api.js";
import { ClusterView } from "./cluster-view.js";
import { ago, esc } from "./format.js";
import { ForecastView, PlanView } from "./insight-views.js";
import { JobsView } from "./jobs-view.js";
import { MigrationsView, sizeBars } from "./migrations-view.js";
import { Model } from "./model.js";
import type { HelloFrame, TickFrame } from "./types.js";
import type { AppContext, View } from "./view.js";

const TABS = [
  ["cluster", "Cluster"],
  ["migrations", "Migrations"],
  ["plan", "Plan"],
  ["forecast", "Forecast"],
  ["jobs", "Jobs"],
] as const;
type Tab = (typeof TABS)[number][0];

const root = document.getElementById("app")!;
let model = new Model();
let closeStream: (() => void) | undefined;
let view: View | undefined;
let tab: Tab = "cluster";
let params: Record<string, string> = {};
let clockTimer: number | undefined;

const ctx: AppContext = {
  get model() {
    return model;
  },
  go: (t, p = {}) => {
    params = p;
    location.hash = t;
    if (t === tab) show(t as Tab);
  },
};

function logout(message?: string): void {
  tokenStore.clear();
  closeStream?.();
  closeStream = undefined;
  if (clockTimer) clearInterval(clockTimer);
  model = new Model();
  view = undefined;
  showLogin(message);
}
setUnauthorizedHandler(() => logout("The token was refused (HTTP 401). Sign in again."));

function showLogin(message?: string): void {
  document.title = "Herd — sign in";
  root.innerHTML = `<main class="login">
    <form id="login" class="card" autocomplete="off">
      <h1><span class="logo">◆</span> Herd</h1>
      <p class="sub">Live view of the cluster. Sign in with the control API token.</p>
      <label>API token <input id="token" type="password" required autofocus spellcheck="false"></label>
      <button type="submit">Sign in</button>
      <p id="login-error" class="error" role="alert">${message ? esc(message) : ""}</p>
      <p class="hint">The token is <code>HERD_API_TOKEN</code>; for a local cluster it is <code>apiToken</code> in <code>/var/lib/herd/cluster.json</code>. It stays in this tab only.</p>
    </form></main>`;
  const form = root.querySelector<HTMLFormElement>("#login")!;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const token = root.querySelector<HTMLInputElement>("#token")!.value.trim();
    const error = root.querySelector<HTMLElement>("#login-error")!;
    error.textContent = "";
    // /health answers 200 or 503 to a good token; only 401 means the token is wrong.
    api("GET", "/health", undefined, 10_000, token)
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 503) return undefined;
        throw err;
      })
      .then(() => {
        tokenStore.set(token);
        showDashboard();
      })
      .catch((err: unknown) => {
        error.textContent = err instanceof ApiError && err.status === 401 ? "Invalid token." : err instanceof Error ? err.message : String(err);
      });
  });
}

function showDashboard(): void {
  document.title = "Herd";
  root.innerHTML = `<header class="top">
      <div class="brand"><span class="logo">◆</span> Herd</div>
      <nav>${TABS.map(([id, label]) => `<a href="#${id}" data-tab="${id}">${label}</a>`).join("")}</nav>
      <div class="status"><span id="live" class="live-dot connecting"></span><span id="live-text">connecting…</span><button id="logout" class="ghost small">Log out</button></div>
    </header>
    <main id="view"><p class="sub loading">Connecting to the live stream…</p></main>`;
  root.querySelector("#logout")!.addEventListener("click", () => logout());
  closeStream = openStream(onFrame, onStatus);
  clockTimer = window.setInterval(() => {
    // Clocks that move between frames: "updated Ns ago" and a running migration's frozen time.
    updateLiveText();
    if (view && model.running().length) view.update(false);
  }, 500);
}

let streamStatus: StreamStatus = "connecting";
function onStatus(s: StreamStatus, detail?: string): void {
  streamStatus = s;
  const dot = document.getElementById("live");
  if (dot) dot.className = `live-dot ${s}`;
  updateLiveText(detail);
}

function updateLiveText(detail?: string): void {
  const el = document.getElementById("live-text");
  if (!el) return;
  el.textContent =
    streamStatus === "live"
      ? `live · updated ${ago(model.lastFrameAt, Date.now())}`
      : streamStatus === "retrying"
        ? `reconnecting${detail ? ` (${detail})` : ""}…`
        : "connecting…";
}

function onFrame(event: string, data: unknown): void {
  if (event === "hello") {
    model.hello(data as HelloFrame);
    show(tab, true);
    if (!document.documentElement.dataset.ready) {
      requestAnimationFrame(() => {
        performance.mark("herd-data-painted");
        document.documentElement.dataset.ready = "1";
      });
    }
  } else if (event === "tick") {
    const { structural } = model.tick(data as TickFrame);
    view?.update(structural);
    sizeBars(document);
  } else if (event === "error") {
    onStatus("retrying", (data as { error?: string }).error);
  }
  updateLiveText();
}

function show(t: Tab, force = false): void {
  const target = document.getElementById("view");
  if (!target || !model.ready) return;
  if (t === tab && view && !force) return;
  tab = t;
  for (const a of document.querySelectorAll<HTMLElement>("nav a")) a.classList.toggle("active", a.dataset.tab === t);
  const p = () => params;
  view =
    t === "migrations"
      ? new MigrationsView(ctx, p)
      : t === "plan"
        ? new PlanView(ctx)
        : t === "forecast"
          ? new ForecastView(ctx, p)
          : t === "jobs"
            ? new JobsView(ctx)
            : new ClusterView(ctx);
  target.textContent = "";
  view.mount(target);
  sizeBars(target);
}

function tabFromHash(): Tab {
  const t = location.hash.slice(1);
  return (TABS.find(([id]) => id === t)?.[0] ?? "cluster") as Tab;
}

window.addEventListener("hashchange", () => show(tabFromHash(), true));
tab = tabFromHash();
if (tokenStore.get()) showDashboard();
else showLogin();
