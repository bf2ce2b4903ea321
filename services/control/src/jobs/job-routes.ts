import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import express from "express";
import { z } from "zod";
import { parseOrThrow } from "../../../../shared/src/contracts/index.js";
import {
  JobDeleted,
  JobId,
  JobList,
  JobListQuery,
  JobRecord,
  JobRefused,
  JobSubmission,
  SchedulerSettingsBody,
  SchedulerStatus,
} from "../../../../shared/src/contracts/jobs.js";
import { route } from "../api/api-server.js";
import { errorResponses, json } from "../api/openapi-support.js";
import { JobRefusedError, type JobManager } from "./job-manager.js";

const IdParams = z.object({ id: JobId });

/** /jobs (submit, list, describe, cancel/remove) and /scheduler (policy, pause, capacity per node). */
export function jobRoutes(jobs: JobManager): express.Router {
  const r = express.Router();
  r.post(
    "/jobs",
    route(async (req, res) => {
      const body = parseOrThrow(JobSubmission, req.body ?? {});
      try {
        res.status(202).json(await jobs.submit(body));
      } catch (err) {
        if (!(err instanceof JobRefusedError)) throw err;
        res.status(422).json({ error: err.message, reason: err.reason });
      }
    }),
  );
  r.get(
    "/jobs",
    route(async (req, res) => {
      const q = parseOrThrow(JobListQuery, req.query);
      res.json({ jobs: await jobs.list(q.limit, q.state) });
    }),
  );
  r.get(
    "/jobs/:id",
    route(async (req, res) => {
      const { id } = parseOrThrow(IdParams, req.params);
      res.json(await jobs.get(id));
    }),
  );
  r.delete(
    "/jobs/:id",
    route(async (req, res) => {
      const { id } = parseOrThrow(IdParams, req.params);
      res.json(await jobs.cancel(id));
    }),
  );
  r.get(
    "/scheduler",
    route(async (_req, res) => {
      res.json(await jobs.status());
    }),
  );
  r.put(
    "/scheduler",
    route(async (req, res) => {
      const body = parseOrThrow(SchedulerSettingsBody, req.body ?? {});
      res.json(await jobs.updateSettings({ ...(body.policy ? { policy: body.policy } : {}), ...(body.paused !== undefined ? { paused: body.paused } : {}) }));
    }),
  );
  return r;
}

/** The same schemas, documented (paths relative to /api/v1). */
export function documentJobRoutes(reg: OpenAPIRegistry, base: string): void {
  const tags = ["jobs"];
  reg.registerPath({
    method: "post",
    path: `${base}/jobs`,
    tags,
    summary: "Submit a job; it is queued and placed by bin packing",
    request: { body: json(JobSubmission) },
    responses: {
      202: { description: "accepted and queued", ...json(JobRecord) },
      422: { description: "refused: a container is larger than every node", ...json(JobRefused) },
      ...errorResponses(400, 401),
    },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/jobs`,
    tags,
    summary: "List jobs, newest first",
    request: { query: JobListQuery },
    responses: { 200: { description: "jobs", ...json(JobList) }, ...errorResponses(400, 401) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/jobs/{id}`,
    tags,
    summary: "One job with its containers, nodes and times",
    request: { params: IdParams },
    responses: { 200: { description: "the job", ...json(JobRecord) }, ...errorResponses(400, 401, 404) },
  });
  reg.registerPath({
    method: "delete",
    path: `${base}/jobs/{id}`,
    tags,
    summary: "Cancel a waiting or running job (its containers are removed), or delete a finished job's record",
    request: { params: IdParams },
    responses: { 200: { description: "cancelled or removed", ...json(JobDeleted) }, ...errorResponses(400, 401, 404, 409) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/scheduler`,
    tags,
    summary: "Placement policy, pause switch, queue length and each node's capacity and reservations",
    responses: { 200: { description: "status", ...json(SchedulerStatus) }, ...errorResponses(401) },
  });
  reg.registerPath({
    method: "put",
    path: `${base}/scheduler`,
    tags,
    summary: "Set the cluster's placement policy or pause placement (jobs keep queueing)",
    request: { body: json(SchedulerSettingsBody) },
    responses: { 200: { description: "status", ...json(SchedulerStatus) }, ...errorResponses(400, 401) },
  });
}
