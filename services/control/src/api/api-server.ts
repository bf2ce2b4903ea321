import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import { NodeId, parseOrThrow } from "../../../../shared/src/contracts/index.js";
import { ConflictError, HerdError, NotFoundError, ValidationError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { CommandClient } from "../commands/command-client.js";
import type { ControlMetrics } from "../control-metrics.js";
import type { ContainerNameGuard } from "../names/name-guard.js";
import { NetworkAttachments } from "../network/network-attachment.js";
import { nodeStatus } from "../registry/node-liveness.js";
import type { MigrationStore } from "../migration/migration-store.js";
import type { StateStore } from "../state/state-store.js";
import { requireToken } from "./auth.js";
import { clientErrorResponse } from "./client-errors.js";
import { buildListing, decodeCursor, pageBody } from "./container-pages.js";
import { ContainersQuery, MetricsQuery, RunBody } from "./core-schemas.js";
import { SnapshotCache } from "./snapshot-cache.js";
import { docsRoutes } from "./docs-routes.js";

/** Largest JSON body the API reads; bigger ones get 413 before anything is parsed. */
export const API_BODY_LIMIT = "1mb";

export interface ApiDeps {
  store: StateStore;
  commands: CommandClient;
  metrics: ControlMetrics;
  token: string;
  downAfterMs: number;
  log: Logger;
  now?: () => number;
  /** Extra routers mounted under /api/v1 (migrations, placement…), added by later features. */
  routers?: express.Router[];
  health?: () => { broker: boolean; redis: boolean };
  /** Cluster-wide unique names for `POST /containers` (409 naming the node that holds one). */
  names?: ContainerNameGuard;
  /** The OpenAPI document, served at /openapi.json with Swagger UI at /docs. */
  openApiDocument?: () => unknown;
  /** The cluster network's addresses; without it new containers get no network. */
  network?: NetworkAttachments;
  /** Routers mounted at the root, outside /api/v1 and its token check (the dashboard's static files). */
  pages?: express.Router[];
  /**
   * Listings longer than these are served from a snapshot at most `maxAgeMs` old (see SnapshotCache). Default 2,000 containers,
   * 100 nodes, 1 s; `warmEveryMs` (default 10 s, 0 = never) reloads both in the background when no call did for that long.
   */
  listingCache?: { containersAbove: number; nodesAbove: number; maxAgeMs: number; warmEveryMs?: number };
  /** Which migration holds a container (DELETE /containers/{ref} refuses one being moved). */
  migrationStore?: Pick<MigrationStore, "lockHolder">;
}

/** How long DELETE /containers waits for the node's telemetry to stop reporting a removed container. */
const REMOVAL_SEEN_WITHIN_MS = 10_000;

async function waitUntil(done: () => Promise<boolean>, withinMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const RunResult = z.object({ id: z.string().min(1) });

/** Wraps an async handler so a thrown error reaches the error middleware. */
export const route =
  (fn: (req: Request, res: Response) => Promise<unknown>) =>
  (req: Request, res: Response, next: NextFunction): void => {
    fn(req, res).catch(next);
  };

export function createApi(deps: ApiDeps): express.Express {
  const now = deps.now ?? Date.now;
  const app = express();
  app.disable("x-powered-by");

  // Liveness for process supervisors; says nothing about the cluster.
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  if (deps.openApiDocument) app.use(docsRoutes(deps.openApiDocument));

  for (const r of deps.pages ?? []) app.use(r);

  const auth = requireToken(deps.token);
  // The token is checked before a body is read: without it nothing is parsed (401), and an
  // authenticated body is parsed only up to the limit (413 beyond it).
  app.use("/api/v1", auth);
  app.use(express.json({ limit: API_BODY_LIMIT }));
  app.get(
    "/metrics",
    auth,
    route(async (_req, res) => {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    }),
  );

  const api = express.Router();

  // GET /nodes and /containers at thousands of nodes/containers: served from memory (snapshot-cache.ts).
  const cacheOpts = deps.listingCache ?? { containersAbove: 2_000, nodesAbove: 100, maxAgeMs: 1_000 };
  // Kept warm every 10 s (below), so a listing is at most ~10 s old when nobody asked for a while and never waits for a full load;
  // a full load at 20,000 containers costs the control ~0.2–0.3 s of CPU, so warming every second would cost a quarter of a core.
  const staleMs = Math.max(30_000, cacheOpts.maxAgeMs * 10);
  const nodesCache = new SnapshotCache({
    load: async () => {
      const t = now();
      const nodes = (await deps.store.listNodes()).map((n) => ({ ...n, status: nodeStatus(n, t, deps.downAfterMs) }));
      return { nodes, body: JSON.stringify({ nodes }) };
    },
    size: (v) => v.nodes.length,
    cacheAbove: cacheOpts.nodesAbove,
    maxAgeMs: cacheOpts.maxAgeMs,
    staleMs,
    now,
  });
  let listingBuilds = 0;
  const containersCache = new SnapshotCache({
    load: async () => {
      const t = now();
      const [nodeList, records] = await Promise.all([deps.store.listNodes(), deps.store.listContainers()]);
      const nodes = new Map(nodeList.map((n) => [n.id, nodeStatus(n, t, deps.downAfterMs)]));
      // Sorted by (node, name, id) by code point (the order pages follow); serialised once here, a chunk at a time.
      return buildListing(records, (c) => ({ ...c, nodeStatus: nodes.get(c.nodeId) ?? "down" }), `${t.toString(36)}-${(listingBuilds++).toString(36)}`);
    },
    size: (v) => v.entries.length,
    cacheAbove: cacheOpts.containersAbove,
    maxAgeMs: cacheOpts.maxAgeMs,
    staleMs,
    now,
  });

  const warmEveryMs = cacheOpts.warmEveryMs ?? 10_000;
  if (warmEveryMs > 0) {
    nodesCache.keepWarm(warmEveryMs);
    containersCache.keepWarm(warmEveryMs);
  }

  api.get(
    "/health",
    route(async (_req, res) => {
      const h = deps.health?.() ?? { broker: true, redis: true };
      res.status(h.broker && h.redis ? 200 : 503).json({ ok: h.broker && h.redis, ...h });
    }),
  );

  api.get(
    "/nodes",
    route(async (_req, res) => {
      res.type("application/json").send((await nodesCache.get()).body);
    }),
  );

  api.get(
    "/nodes/:id",
    route(async (req, res) => {
      const id = parseOrThrow(NodeId, req.params.id, "id");
      const node = await deps.store.getNode(id);
      if (!node) throw new NotFoundError(`no node ${id}`);
      res.json({ ...node, status: nodeStatus(node, now(), deps.downAfterMs) });
    }),
  );

  api.get(
    "/containers",
    route(async (req, res) => {
      const q = parseOrThrow(ContainersQuery, req.query);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const listing = await containersCache.get();
      res.type("application/json");
      if (q.node === undefined && q.limit === undefined && after === undefined) {
        // The snapshot's own ETag: express would otherwise hash the whole body on every call.
        res.set("ETag", listing.etag).send(listing.body);
        return;
      }
      res.send(pageBody(listing, q.limit, after, q.node));
    }),
  );

  api.get(
    "/containers/:ref",
    route(async (req, res) => {
      const c = await deps.store.findContainer(String(req.params.ref));
      if (!c) throw new NotFoundError(`no container ${String(req.params.ref)}`);
      res.json(c);
    }),
  );

  api.get(
    "/containers/:ref/metrics",
    route(async (req, res) => {
      const { limit } = parseOrThrow(MetricsQuery, req.query);
      const c = await deps.store.findContainer(String(req.params.ref));
      if (!c) throw new NotFoundError(`no container ${String(req.params.ref)}`);
      res.json({ container: c.id, name: c.name, nodeId: c.nodeId, points: await deps.store.containerHistory(c.id, limit) });
    }),
  );

  /** Starts a container on a node through its command queue; answers with the node's result. */
  api.post(
    "/containers",
    route(async (req, res) => {
      const body = parseOrThrow(RunBody, req.body ?? {});
      const node = await deps.store.getNode(body.node);
      if (!node) throw new NotFoundError(`no node ${body.node}`);
      if (nodeStatus(node, now(), deps.downAfterMs) !== "up") throw new ConflictError(`node ${body.node} is down`);
      const { node: nodeId, network, ipv4Address, ...rest } = body;
      const claim = await deps.names?.claim(rest.name, nodeId);
      const networks = deps.network ?? new NetworkAttachments(undefined);
      let attachment;
      try {
        attachment = await networks.attach(rest.name, network, ipv4Address);
      } catch (err) {
        if (claim) await deps.names?.release(claim);
        throw err;
      }
      const payload = { ...rest, ...attachment };
      // Without an answer the node may still create it later: the claims then stay (the name's until it is stale).
      const result = await deps.commands.send(nodeId, "container.run", payload, { timeoutMs: 60_000 });
      if (!result.ok) {
        if (claim) await deps.names?.release(claim);
        await networks.detach(rest.name, attachment);
        res.status(result.error?.code === "VALIDATION" ? 400 : 502).json({ error: result.error?.message, code: result.error?.code });
        return;
      }
      const created = RunResult.safeParse(result.result);
      if (claim && created.success) await deps.names?.confirm(claim, created.data.id);
      res.status(201).json({ ...result.result, network: attachment.network, ...(attachment.ipv4Address ? { address: attachment.ipv4Address } : {}) });
    }),
  );

  /**
   * Removes a container from its node and gives back what it held cluster-wide: its name and its
   * cluster address. Refused while a migration moves it (its copies are the saga's to clean up).
   */
  api.delete(
    "/containers/:ref",
    route(async (req, res) => {
      const ref = String(req.params.ref);
      const c = await deps.store.findContainer(ref);
      if (!c) throw new NotFoundError(`no container ${ref}`);
      const moving = await deps.migrationStore?.lockHolder(c.name);
      if (moving) throw new ConflictError(`${c.name} is being migrated (migration ${moving}); remove it when the migration has ended`);
      const result = await deps.commands.send(c.nodeId, "container.remove", { container: c.id, force: true }, { timeoutMs: 30_000 });
      if (!result.ok) {
        res.status(502).json({ error: `node ${c.nodeId} could not remove ${c.name}: ${result.error?.message ?? "no reason given"}`, code: result.error?.code });
        return;
      }
      await deps.names?.forget(c.name);
      await deps.network?.detach(c.name, { network: "cluster" });
      // Answer once the node's telemetry no longer shows it, so a `run` under the same name right after succeeds.
      const gone = await waitUntil(async () => (await deps.store.findContainer(c.id)) === undefined, REMOVAL_SEEN_WITHIN_MS);
      res.json({
        removed: true,
        name: c.name,
        id: c.id,
        nodeId: c.nodeId,
        ...(c.address ? { address: c.address } : {}),
        ...(gone ? {} : { note: `removed, but ${c.nodeId} still reported it ${REMOVAL_SEEN_WITHIN_MS / 1000} s later` }),
      });
    }),
  );

  for (const r of deps.routers ?? []) api.use(r);
  app.use("/api/v1", api);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: "no such endpoint" });
  });
  // Express needs the 4-argument signature to recognise an error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const client = clientErrorResponse(err, API_BODY_LIMIT);
    if (client) {
      res.status(client.status).json(client.body);
      return;
    }
    if (err instanceof ValidationError) {
      res.status(400).json({ error: err.message, field: err.field });
      return;
    }
    if (err instanceof NotFoundError) {
      res.status(404).json({ error: err.message });
      return;
    }
    if (err instanceof ConflictError) {
      res.status(409).json({ error: err.message });
      return;
    }
    const status = err instanceof HerdError && err.retryable ? 503 : 500;
    deps.log.error("API request failed", { error: errorMessage(err) });
    res.status(status).json({ error: errorMessage(err) });
  });
  return app;
}
