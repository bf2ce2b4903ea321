import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { Router } from "express";
import { z } from "zod";
import { route } from "../api/api-server.js";
import { errorResponses, json } from "../api/openapi-support.js";
import type { AddressClaims } from "./address-claims.js";

/** GET /network's answer: the cluster network's range (null without one) and who holds which address. */
export const NetworkView = z
  .object({
    cluster: z.object({ range: z.object({ first: z.ipv4(), last: z.ipv4() }) }).nullable(),
    claims: z.array(z.object({ address: z.string(), container: z.string(), claimedAt: z.number() })),
  })
  .meta({ id: "ClusterNetwork" });
export type NetworkView = z.infer<typeof NetworkView>;

/** GET /network: the cluster network's range and who holds which address. */
export function networkRoutes(claims: AddressClaims | undefined): Router {
  const r = Router();
  r.get(
    "/network",
    route(async (_req, res) => {
      const view: NetworkView = claims ? { cluster: { range: claims.range }, claims: await claims.list() } : { cluster: null, claims: [] };
      res.json(view);
    }),
  );
  return r;
}

export function documentNetworkRoutes(reg: OpenAPIRegistry, base: string): void {
  reg.registerPath({
    method: "get",
    path: `${base}/network`,
    tags: ["network"],
    summary: "The cluster network: the address range control hands out and which container holds which address",
    responses: { 200: { description: "range and claims", ...json(NetworkView) }, ...errorResponses(401) },
  });
}
