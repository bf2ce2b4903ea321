import type { RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

/** The error body every route answers with on 4xx/5xx. */
export const ApiError = z
  .object({ error: z.string().meta({ description: "what is wrong" }), field: z.string().optional().meta({ description: "the offending field, for 400" }) })
  .meta({ id: "Error" });

const ERROR_TEXT: Record<number, string> = {
  400: "malformed request: `field` names what is wrong",
  401: "missing or wrong bearer token",
  404: "no such object",
  409: "conflicts with the current state",
  502: "the node refused or failed the command",
  503: "a backing service (broker, Redis) is unavailable",
};

/** A JSON body (request or response) with `schema`. */
export const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });

/** Error responses for the given statuses, all with the {@link ApiError} body. */
export function errorResponses(...statuses: number[]): RouteConfig["responses"] {
  return Object.fromEntries(statuses.map((s) => [s, { description: ERROR_TEXT[s] ?? "error", ...json(ApiError) }]));
}

/** A response whose body has no zod schema yet (its type lives in TypeScript only). */
export const untypedJson = (description: string) => ({ description, content: { "application/json": { schema: z.object({}).loose() } } });
