import type { Model } from "./model.js";

/** A tab of the dashboard. `update` runs after every stream frame while the tab is shown. */
export interface View {
  mount(el: HTMLElement): void;
  update(structural: boolean): void;
}

export interface AppContext {
  model: Model;
  go(tab: string, params?: Record<string, string>): void;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, html = ""): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (html) el.innerHTML = html;
  return el;
}

export const stateClass = (s: string): string =>
  ({
    up: "ok",
    running: "ok",
    committed: "ok",
    down: "bad",
    failed: "bad",
    "rolled-back": "warn",
    "rolling-back": "warn",
    exited: "muted",
    created: "muted",
    succeeded: "ok",
    queued: "warn",
    placing: "warn",
  })[s] ?? "muted";

export const pill = (s: string): string => `<span class="pill ${stateClass(s)}">${s.replace(/[&<>"']/g, "")}</span>`;
