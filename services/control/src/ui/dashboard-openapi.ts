import { z } from "zod";
import type { RouteDocumenter } from "../api/openapi.js";
import { errorResponses } from "../api/openapi-support.js";

/** The dashboard's routes in the OpenAPI document: its static files and its live stream. */
export const documentDashboardRoutes: RouteDocumenter = (reg, base) => {
  const open: { security: [] } = { security: [] };
  const tags = ["dashboard"];
  reg.registerPath({
    method: "get",
    path: "/ui",
    ...open,
    tags,
    summary: "The web dashboard (no token: the page holds no data; it signs in with the API token)",
    responses: { 200: { description: "the page", content: { "text/html": { schema: z.string() } } }, ...errorResponses(503) },
  });
  reg.registerPath({
    method: "get",
    path: "/ui/{file}",
    ...open,
    tags,
    summary: "The dashboard's scripts, stylesheet and icon (gzip when accepted, ETag)",
    request: { params: z.object({ file: z.string().min(1) }) },
    responses: {
      200: { description: "the file", content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } } },
      ...errorResponses(404, 503),
    },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/stream`,
    tags,
    summary: "Live cluster state as server-sent events: `hello` (everything plus recent history), then `tick` frames with what changed",
    responses: {
      200: { description: "text/event-stream (gzip when accepted)", content: { "text/event-stream": { schema: z.string() } } },
      ...errorResponses(401),
    },
  });
};
