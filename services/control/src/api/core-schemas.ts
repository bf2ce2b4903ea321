import { z } from "zod";
import { ContainerRunPayload, NetworkChoice, NodeId } from "../../../../shared/src/contracts/index.js";

/** Request schemas of the API server's own routes (shared with the OpenAPI document). */
export const MetricsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100_000).default(60) });
/** network: omitted = the cluster network when control has one; ipv4Address: a wanted address in its range. */
export const RunBody = ContainerRunPayload.extend({ node: NodeId, network: NetworkChoice.optional() });
