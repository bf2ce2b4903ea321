import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import express from "express";
import { z } from "zod";
import { route } from "../api/api-server.js";
import { errorResponses, json } from "../api/openapi-support.js";
import type { MigrationOrchestrator } from "../migration/migration-orchestrator.js";
import type { LeaderElection } from "./leader-lease.js";

export const LeaderView = z
  .object({
    replicaId: z.string().meta({ description: "the replica that answered" }),
    isLeader: z.boolean(),
    leader: z.object({ replicaId: z.string(), epoch: z.number().int(), apiUrl: z.string().optional() }).nullable(),
    driving: z.array(z.string()).meta({ description: "ids of the migrations this replica drives now" }),
  })
  .meta({ id: "LeaderView" });

/** GET /control/leader: which replica leads (and under which epoch), and what this replica drives. */
export function leaderRoutes(election: LeaderElection, orchestrator: MigrationOrchestrator): express.Router {
  const r = express.Router();
  r.get(
    "/control/leader",
    route(async (_req, res) => {
      const leader = await election.current();
      res.json({ replicaId: election.replicaId, isLeader: election.isLeader(), leader: leader ?? null, driving: orchestrator.driving() });
    }),
  );
  return r;
}

export function documentLeaderRoutes(reg: OpenAPIRegistry, base: string): void {
  reg.registerPath({
    method: "get",
    path: `${base}/control/leader`,
    tags: ["control"],
    summary: "Which control replica leads (lease holder and epoch), and what the answering replica drives",
    responses: { 200: { description: "leadership as this replica sees it", ...json(LeaderView) }, ...errorResponses(401) },
  });
}
