import { readFileSync } from "node:fs";
import { join } from "node:path";
import { errorMessage, HerdError, NotFoundError, ValidationError } from "../../../shared/src/errors.js";
import { CONTROL_ENTRY, clusterLogDir } from "./local-cluster/cluster-plan.js";
import { pidRuns } from "./local-cluster/detached-process.js";

export interface ApiTarget {
  url: string;
  token: string;
  /** Set when the target is the local cluster of `herd up`: where its state is, to say why it does not answer. */
  localCluster?: { stateDir: string; controlPid?: number; nodes: number };
}

/**
 * Where the control API is: HERD_API_URL/HERD_API_TOKEN, else the local cluster's state file
 * (written by `herd up`, readable by root only).
 */
export function resolveApiTarget(env: NodeJS.ProcessEnv = process.env): ApiTarget {
  if (env.HERD_API_URL && env.HERD_API_TOKEN) return { url: env.HERD_API_URL, token: env.HERD_API_TOKEN };
  const stateDir = env.HERD_STATE_DIR || "/var/lib/herd";
  try {
    const info = JSON.parse(readFileSync(join(stateDir, "cluster.json"), "utf8")) as {
      apiUrl?: string;
      apiToken?: string;
      controlPid?: number;
      nodes?: unknown[];
    };
    if (info.apiUrl && info.apiToken) {
      const local = env.HERD_API_URL ? undefined : { stateDir, nodes: Array.isArray(info.nodes) ? info.nodes.length : 0, controlPid: info.controlPid };
      return { url: env.HERD_API_URL ?? info.apiUrl, token: env.HERD_API_TOKEN ?? info.apiToken, ...(local ? { localCluster: local } : {}) };
    }
  } catch {
    // fall through to the error below
  }
  throw new HerdError(
    `no control API configured: set HERD_API_URL and HERD_API_TOKEN, or start a local cluster with 'herd up' (looked in ${stateDir}/cluster.json)`,
    { code: "NO_API" },
  );
}

/**
 * Why the local cluster's control API does not answer, when the reason is that its process is gone
 * (a crash, a reboot): where its log is and how to start it again. Empty while it runs.
 */
export function localControlGone(local: NonNullable<ApiTarget["localCluster"]>): string {
  if (local.controlPid === undefined || pidRuns(local.controlPid, CONTROL_ENTRY)) return "";
  const up = `herd up${local.nodes > 0 ? ` --nodes ${local.nodes}` : ""}`;
  return `; the local cluster's control service (pid ${local.controlPid}) is not running: its log is ${join(clusterLogDir(local.stateDir), "control.log")}, and '${up}' starts it again (state and migrations are kept in Redis)`;
}

/** A thin client of the control service's REST API; errors carry the server's message. */
export class ApiClient {
  constructor(
    private readonly target: ApiTarget,
    /** No request waits longer than this for the control service. */
    private readonly timeoutMs = 60_000,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    // A referenced timer, not AbortSignal.timeout (whose timer is unreferenced): when control goes
    // away mid-request, fetch can be left with nothing keeping the event loop alive, and Node then
    // exits with code 13 ("unsettled top-level await") instead of saying what happened.
    const deadline = new AbortController();
    const late = `no answer within ${this.timeoutMs} ms`;
    const timer = setTimeout(() => deadline.abort(new Error(late)), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(new URL(`/api/v1${path}`, this.target.url), {
        method,
        headers: { authorization: `Bearer ${this.target.token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: deadline.signal,
      });
      text = await res.text();
    } catch (err) {
      const reason = deadline.signal.aborted ? late : errorMessage(err);
      const why = this.target.localCluster ? localControlGone(this.target.localCluster) : "";
      throw new HerdError(`cannot reach the control API at ${this.target.url} (${method} ${path}): ${reason}${why}`, {
        cause: err,
        code: "UNREACHABLE",
        retryable: true,
      });
    } finally {
      clearTimeout(timer);
    }
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      data = { error: text };
    }
    if (!res.ok) {
      const e = data as { error?: string; field?: string };
      const message = e.error ?? `HTTP ${res.status}`;
      if (res.status === 400) throw new ValidationError(e.field ?? "request", message.replace(`${e.field}: `, ""));
      if (res.status === 404) throw new NotFoundError(message);
      throw new HerdError(message, { code: `HTTP_${res.status}` });
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }
}
