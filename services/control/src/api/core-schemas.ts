import { z } from "zod";
import { ContainerRunPayload, NodeId } from "../../../../shared/src/contracts/index.js";

/** Request schemas of the API server's own routes (shared with the OpenAPI document). */
export const MetricsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100_000).default(60) });
export const RunBody = ContainerRunPayload.extend({ node: NodeId });
