import { z } from "zod";
import { ContainerRunPayload, NetworkChoice, NodeId } from "../../../../shared/src/contracts/index.js";

/** Request schemas of the API server's own routes (shared with the OpenAPI document). */
export const MetricsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100_000).default(60) });
/** GET /containers: `limit` pages the listing (then `nextCursor` leads to the next page); `cursor` is a previous page's nextCursor. */
export const ContainersQuery = z.object({
  node: NodeId.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  cursor: z.string().min(1).max(2000).optional(),
});
/** network: omitted = the cluster network when control has one; ipv4Address: a wanted address in its range. */
export const RunBody = ContainerRunPayload.extend({ node: NodeId, network: NetworkChoice.optional() });
