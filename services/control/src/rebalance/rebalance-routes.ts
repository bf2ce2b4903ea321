import express from "express";
import { z } from "zod";
import { parseOrThrow } from "../../../../shared/src/contracts/index.js";
import { NotFoundError, ValidationError } from "../../../../shared/src/errors.js";
import { route } from "../api/api-server.js";
import { forecastReport } from "../forecast/forecast-report.js";
import { choiceByHorizon, liveReportOptions } from "../forecast/forecast-setup.js";
import type { StateStore } from "../state/state-store.js";
import type { Rebalancer } from "./rebalancer.js";
import { downsample } from "./snapshot-builder.js";

export const PlanQuery = z.object({ policy: z.string().min(1).optional(), args: z.string().optional() });
export const AutoBody = z.object({ enabled: z.boolean(), policy: z.string().min(1).optional(), args: z.record(z.string(), z.unknown()).optional() });
export const ForecastQuery = z.object({
  horizon: z.coerce.number().int().min(1).max(48).default(6),
  /** Seconds per forecast step (history is averaged to this). */
  step: z.coerce.number().int().min(1).max(3600).default(10),
  points: z.coerce.number().int().min(10).max(100_000).default(600),
  /** Also rank the features (permutation importance of a random forest: a diagnostic, slower). */
  explain: z
    .enum(["true", "false"], { error: "must be true or false" })
    .default("false")
    .transform((v) => v === "true"),
});

function parseArgs(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ValidationError("args", 'must be a JSON object, e.g. {"cpuThreshold":0.8}');
  }
}

/** /plan (dry run), /rebalance (one round now), /rebalance/auto (the loop), /containers/:ref/forecast. */
export function rebalanceRoutes(rebalancer: Rebalancer, state: StateStore, sampleMs: number): express.Router {
  const r = express.Router();
  r.get(
    "/plan",
    route(async (req, res) => {
      const q = parseOrThrow(PlanQuery, req.query);
      const args = parseArgs(q.args);
      res.json(await rebalancer.plan({ ...(q.policy ? { policy: q.policy } : {}), ...(args !== undefined ? { args } : {}) }));
    }),
  );
  r.post(
    "/rebalance",
    route(async (_req, res) => {
      res.json(await rebalancer.rebalance());
    }),
  );
  r.get(
    "/rebalance/auto",
    route(async (_req, res) => {
      res.json(rebalancer.autoStatus());
    }),
  );
  r.put(
    "/rebalance/auto",
    route(async (req, res) => {
      const body = parseOrThrow(AutoBody, req.body ?? {});
      if (body.policy) rebalancer.setPolicy(body.policy, body.args ?? {});
      rebalancer.setAuto(body.enabled);
      res.json(rebalancer.autoStatus());
    }),
  );
  r.get(
    "/containers/:ref/forecast",
    route(async (req, res) => {
      const q = parseOrThrow(ForecastQuery, req.query);
      const c = await state.findContainer(String(req.params.ref));
      if (!c) throw new NotFoundError(`no container ${String(req.params.ref)}`);
      const raw = await state.containerHistory(c.id, q.points);
      const per = Math.max(1, Math.round((q.step * 1000) / sampleMs));
      const values = downsample(
        raw.map((p) => p.cpuPct),
        per,
      );
      const t = downsample(
        raw.map((p) => p.t),
        per,
      );
      // The control loop's candidates, folds and choice rule (FORECAST_SETUP), so this shows what the rebalancer runs.
      const live = liveReportOptions(rebalancer.pooledModel());
      const report = forecastReport({ metric: "cpu", values, t }, { ...live, horizon: q.horizon, rankFeatures: q.explain, forest: { nEstimators: 20 } });
      const perHorizon = choiceByHorizon(
        report,
        Array.from({ length: q.horizon }, (_, k) => k + 1),
        live.prefer,
      );
      res.json({ container: c.id, name: c.name, nodeId: c.nodeId, stepSec: q.step, ...report, perHorizon });
    }),
  );
  return r;
}
