import express from "express";
import { z } from "zod";
import { StartMigrationBody, parseOrThrow } from "../../../../shared/src/contracts/index.js";
import { NotFoundError } from "../../../../shared/src/errors.js";
import { route } from "../api/api-server.js";
import type { MigrationOrchestrator } from "./migration-orchestrator.js";
import type { MigrationStore } from "./migration-store.js";

export const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(50) });

/** /migrations: start (or dry-run) a migration, list them, follow one. */
export function migrationRoutes(orchestrator: MigrationOrchestrator, store: MigrationStore): express.Router {
  const r = express.Router();
  r.post(
    "/migrations",
    route(async (req, res) => {
      const body = parseOrThrow(StartMigrationBody, req.body ?? {});
      if (body.dryRun) {
        res.json(await orchestrator.dryRun({ container: body.container, to: body.to, ...(body.mode ? { mode: body.mode } : {}) }));
        return;
      }
      const record = await orchestrator.start({
        container: body.container,
        to: body.to,
        deadlineMs: body.deadlineMs,
        reason: body.reason,
        ...(body.mode ? { mode: body.mode } : {}),
      });
      res.status(202).json(record);
    }),
  );
  r.get(
    "/migrations",
    route(async (req, res) => {
      const { limit } = parseOrThrow(ListQuery, req.query);
      res.json({ migrations: await store.list(limit) });
    }),
  );
  r.get(
    "/migrations/:id",
    route(async (req, res) => {
      const m = await store.get(String(req.params.id));
      if (!m) throw new NotFoundError(`no migration ${String(req.params.id)}`);
      res.json(m);
    }),
  );
  return r;
}
