import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { Router } from "express";
import { z } from "zod";
import { NodeId } from "../../../../shared/src/contracts/common.js";
import { ValidationError } from "../../../../shared/src/errors.js";
import { route } from "../api/api-server.js";
import { errorResponses, json } from "../api/openapi-support.js";
import type { NodeJoin } from "./node-join.js";

export const JoinAnswerView = z
  .object({
    nodeId: NodeId,
    amqpUrl: z.string(),
    brokerUser: z.string(),
    transferSecret: z.string(),
  })
  .meta({ id: "NodeJoin" });

/** POST /nodes/{id}/join: creates the node's own broker user and answers its agent's credentials. */
export function nodeJoinRoutes(join: NodeJoin): Router {
  const r = Router();
  r.post(
    "/nodes/:id/join",
    route(async (req, res) => {
      const id = NodeId.safeParse(req.params.id);
      if (!id.success) throw new ValidationError("id", id.error.issues[0]?.message ?? "invalid node id");
      const answer: z.infer<typeof JoinAnswerView> = await join.join(id.data);
      res.set("cache-control", "no-store").json(answer);
    }),
  );
  return r;
}

export function documentNodeJoinRoutes(reg: OpenAPIRegistry, base: string): void {
  reg.registerPath({
    method: "post",
    path: `${base}/nodes/{id}/join`,
    tags: ["nodes"],
    summary: "Join a compute node: creates its own least-privilege broker user (a new password each time) and returns what its agent needs",
    request: { params: z.object({ id: NodeId }) },
    responses: { 200: { description: "the node's credentials", ...json(JoinAnswerView) }, ...errorResponses(400, 401, 409, 503) },
  });
}
