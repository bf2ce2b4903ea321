import type express from "express";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MigrationStore } from "../migration/migration-store.js";
import type { StateStore } from "../state/state-store.js";
import { LiveFeed } from "./live-feed.js";
import { DEFAULT_UI_DIR, loadUiAssets } from "./ui-assets.js";
import { streamRouter, uiRouter } from "./ui-routes.js";

/** The web dashboard's parts for the API server: static pages at /ui and the live stream. */
export async function dashboard(o: {
  state: StateStore;
  migrations: MigrationStore;
  downAfterMs: number;
  log: Logger;
  uiDir?: string;
}): Promise<{ pages: express.Router; stream: express.Router; feed: LiveFeed; close: () => void }> {
  const dir = o.uiDir ?? DEFAULT_UI_DIR;
  const assets = await loadUiAssets(dir);
  if (assets.size === 0) o.log.warn("Dashboard files not found; /ui answers 503 until they are built", { dir });
  const feed = new LiveFeed({ state: o.state, migrations: o.migrations, downAfterMs: o.downAfterMs, log: o.log });
  return { pages: uiRouter(assets), stream: streamRouter(feed, o.log), feed, close: () => feed.close() };
}
