import { SseParser } from "./sse.js";

const KEY = "herd.token";

/** The API token lives in sessionStorage (gone when the tab closes) and travels only as a header. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (t: string): void => sessionStorage.setItem(KEY, t),
  clear: (): void => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let onUnauthorized: () => void = () => undefined;
export const setUnauthorizedHandler = (fn: () => void): void => {
  onUnauthorized = fn;
};

const authHeader = (token: string | null) => ({ authorization: `Bearer ${token ?? ""}` });

/** One REST call with the stored token; errors carry the server's message (and field, for 400s). */
/** `token` given explicitly (sign-in) means a 401 is the caller's to report, not a sign-out. */
export async function api<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000, token?: string): Promise<T> {
  const explicit = token !== undefined;
  token ??= tokenStore.get() ?? "";
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: { ...authHeader(token), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ApiError(
      0,
      err instanceof DOMException && err.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : "cannot reach the control service",
    );
  }
  const text = await res.text();
  let data: unknown = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: text };
  }
  if (!res.ok) {
    const e = (data ?? {}) as { error?: string; field?: string };
    if (res.status === 401 && !explicit) onUnauthorized();
    throw new ApiError(res.status, e.error ?? `HTTP ${res.status}`, e.field);
  }
  return data as T;
}

export type StreamStatus = "connecting" | "live" | "retrying";

/**
 * The live stream (server-sent events) read with fetch so the token goes in a header, never in
 * a URL. Reconnects with back-off; a new connection starts with a fresh `hello`.
 */
export function openStream(onEvent: (event: string, data: unknown) => void, onStatus: (s: StreamStatus, detail?: string) => void): () => void {
  const stop = new AbortController();
  let delay = 1000;
  void (async () => {
    while (!stop.signal.aborted) {
      onStatus("connecting");
      try {
        const res = await fetch("/api/v1/stream", { headers: { ...authHeader(tokenStore.get()), accept: "text/event-stream" }, signal: stop.signal });
        if (res.status === 401) {
          onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const ev of parser.push(value)) {
            if (ev.event === "hello") {
              delay = 1000;
              onStatus("live");
            }
            onEvent(ev.event, JSON.parse(ev.data));
          }
        }
        onStatus("retrying", "stream ended");
      } catch (err) {
        if (stop.signal.aborted) return;
        onStatus("retrying", err instanceof Error ? err.message : String(err));
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  })();
  return () => stop.abort();
}
