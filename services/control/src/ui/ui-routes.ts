import type { Writable } from "node:stream";
import { constants as zlibConstants, createGzip } from "node:zlib";
import express, { type Request, type Response } from "express";
import type { Logger } from "../../../../shared/src/logger.js";
import { errorMessage } from "../../../../shared/src/errors.js";
import { sseFrame } from "./feed-frames.js";
import { FeedFullError, type LiveFeed } from "./live-feed.js";
import type { UiAsset } from "./ui-assets.js";

/** The page may talk only to its own origin and load nothing from elsewhere (no CDN, no fonts). */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * `/ui`: the dashboard's static files, public (they hold no data; every figure comes from the
 * token-protected API). Served with ETags and pre-compressed gzip.
 */
export function uiRouter(assets: Map<string, UiAsset>): express.Router {
  const r = express.Router();
  // The page refers to its files by absolute path, so /ui and /ui/ can both serve it.
  const serve = (req: Request, res: Response) => {
    const file = typeof req.params.file === "string" ? req.params.file : "index.html";
    const asset = assets.get(file);
    if (!asset) {
      if (assets.size === 0) res.status(503).json({ error: "the dashboard is not built: run 'npm run build'" });
      else res.status(404).json({ error: `no such file: /ui/${file}` });
      return;
    }
    res.set({
      "content-type": asset.type,
      etag: asset.etag,
      "cache-control": "no-cache",
      vary: "accept-encoding",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      ...(file === "index.html" ? { "content-security-policy": CSP, "x-frame-options": "DENY" } : {}),
    });
    if (req.get("if-none-match") === asset.etag) {
      res.status(304).end();
      return;
    }
    const gzip = /\bgzip\b/.test(req.get("accept-encoding") ?? "");
    if (gzip) res.set("content-encoding", "gzip");
    res.send(gzip ? asset.gzip : asset.body);
  };
  r.get("/ui", serve);
  r.get("/ui/:file", serve);
  return r;
}

/**
 * `/api/v1/stream` (behind the API token, sent as a header — the page reads it with fetch, not
 * EventSource, so the token never goes into a URL): server-sent events from the shared LiveFeed.
 */
export function streamRouter(feed: LiveFeed, log: Logger, maxBufferedBytes = 4 * 1024 * 1024): express.Router {
  const r = express.Router();
  r.get("/stream", (req: Request, res: Response) => {
    // Compressed with one gzip context for the whole stream, flushed after every frame: the
    // first frame (all containers with a minute of history) shrinks several-fold, and each tick
    // repeats the previous one's keys, which the shared dictionary makes almost free.
    const gzip = /\bgzip\b/.test(req.get("accept-encoding") ?? "");
    res.status(200).set({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      connection: "keep-alive",
      ...(gzip ? { "content-encoding": "gzip", vary: "accept-encoding" } : {}),
    });
    res.flushHeaders();
    const gz = gzip ? createGzip({ flush: zlibConstants.Z_SYNC_FLUSH, level: 6 }) : undefined;
    gz?.pipe(res);
    const out: Writable = gz ?? res;
    let closed = false;
    let unsubscribe: (() => void) | undefined;
    const end = () => {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      unsubscribe = undefined;
      clearInterval(keepAlive);
      gz?.destroy();
    };
    req.on("close", end);
    res.on("close", end);
    // A listener that stops reading is cut off rather than buffered without bound.
    const send = (event: string, data: unknown) => {
      if (closed) return;
      const buffered = res.writableLength + (gz?.writableLength ?? 0);
      if (buffered > maxBufferedBytes) {
        log.warn("Live-stream client too slow; closing its stream", { buffered });
        res.destroy();
        return;
      }
      out.write(sseFrame(event, data));
    };
    const keepAlive = setInterval(() => {
      if (!closed) out.write(": keep-alive\n\n");
    }, 15_000);
    out.write("retry: 2000\n\n");
    feed.subscribe(send).then(
      (u) => {
        if (closed) u();
        else unsubscribe = u;
      },
      (err: unknown) => {
        if (err instanceof FeedFullError) send("error", { error: err.message, status: 503 });
        else {
          log.warn("Live stream could not start", { error: errorMessage(err) });
          send("error", { error: `live stream failed: ${errorMessage(err)}`, status: 503 });
        }
        out.end();
      },
    );
  });
  return r;
}
