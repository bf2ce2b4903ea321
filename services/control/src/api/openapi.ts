import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { ContainerSample, DryRunReport, MigrationList, MigrationRecord, NodeId, StartMigrationBody } from "../../../../shared/src/contracts/index.js";
import { ListQuery as MigrationListQuery } from "../migration/migration-routes.js";
import { AutoBody, ForecastQuery, PlanQuery } from "../rebalance/rebalance-routes.js";
import { ContainersQuery, MetricsQuery, RunBody } from "./core-schemas.js";
import { errorResponses, json, untypedJson } from "./openapi-support.js";

/** Adds the paths of one group of routes to the document; `base` is where the group's router is mounted. */
export type RouteDocumenter = (reg: OpenAPIRegistry, base: string) => void;

export const API_BASE = "/api/v1";

const ContainerView = ContainerSample.extend({ nodeId: z.string(), updatedAt: z.number().int() }).meta({ id: "Container" });
const NodeParams = z.object({ id: NodeId });
const RefParams = z.object({ ref: z.string().min(1).meta({ description: "container id, unique id prefix (≥ 4 hex chars) or name" }) });
const IdParams = z.object({ id: z.string().min(1) });

/** Routes the API server itself mounts: service endpoints, documentation, nodes and containers. */
export const documentCoreRoutes: RouteDocumenter = (reg, base) => {
  const open: { security: [] } = { security: [] };
  reg.registerPath({
    method: "get",
    path: "/healthz",
    ...open,
    tags: ["service"],
    summary: "Process liveness (no token)",
    responses: { 200: { description: "alive", ...json(z.object({ ok: z.boolean() })) } },
  });
  reg.registerPath({
    method: "get",
    path: "/metrics",
    tags: ["service"],
    summary: "Prometheus metrics",
    responses: { 200: { description: "Prometheus text format", content: { "text/plain": { schema: z.string() } } }, ...errorResponses(401) },
  });
  reg.registerPath({
    method: "get",
    path: "/openapi.json",
    ...open,
    tags: ["service"],
    summary: "This document (no token: it describes, it holds no data)",
    responses: { 200: untypedJson("OpenAPI 3.1 document") },
  });
  reg.registerPath({
    method: "get",
    path: "/docs",
    ...open,
    tags: ["service"],
    summary: "Swagger UI (no token to load; calls made from it need the token)",
    responses: { 200: { description: "HTML", content: { "text/html": { schema: z.string() } } } },
  });
  reg.registerPath({
    method: "get",
    path: "/docs/{file}",
    ...open,
    tags: ["service"],
    summary: "Swagger UI's static files (from the swagger-ui-dist package)",
    request: { params: z.object({ file: z.string() }) },
    responses: { 200: { description: "file", content: { "*/*": { schema: z.string() } } }, 404: { description: "not one of Swagger UI's files" } },
  });

  const tags = ["cluster"];
  reg.registerPath({
    method: "get",
    path: `${base}/health`,
    tags,
    summary: "Broker and Redis connectivity",
    responses: { 200: untypedJson("healthy"), ...errorResponses(401, 503) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/nodes`,
    tags,
    summary: "Nodes with liveness and load",
    responses: { 200: untypedJson("{ nodes: [...] }"), ...errorResponses(401) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/nodes/{id}`,
    tags,
    summary: "One node",
    request: { params: NodeParams },
    responses: { 200: untypedJson("the node"), ...errorResponses(400, 401, 404) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/containers`,
    tags,
    summary: "Every container the nodes report (sorted by node, name, id); with `limit`, one page of them",
    description:
      "Without `limit` the whole listing. With `limit` at most that many, and `nextCursor` when more follow: pass it as `cursor` for the next page " +
      "(a page starts right after the previous page's last container, even if containers came or went in between). Above 2,000 containers the " +
      "listing is served from a snapshot at most a few seconds old. A bad `limit` (1–10,000) or `cursor` is a 400 naming it.",
    request: { query: ContainersQuery },
    responses: {
      200: {
        description: "containers",
        ...json(
          z.object({
            containers: z.array(ContainerView.extend({ nodeStatus: z.enum(["up", "down"]) })),
            nextCursor: z.string().optional().describe("present when `limit` was given and more containers follow"),
          }),
        ),
      },
      ...errorResponses(400, 401),
    },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/containers/{ref}`,
    tags,
    summary: "One container",
    request: { params: RefParams },
    responses: { 200: { description: "the container", ...json(ContainerView) }, ...errorResponses(401, 404) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/containers/{ref}/metrics`,
    tags,
    summary: "A container's metric history",
    request: { params: RefParams, query: MetricsQuery },
    responses: { 200: untypedJson("{ container, name, nodeId, points }"), ...errorResponses(400, 401, 404) },
  });
  reg.registerPath({
    method: "post",
    path: `${base}/containers`,
    tags,
    summary: "Start a container on a given node",
    request: { body: json(RunBody) },
    responses: { 201: untypedJson("{ id, created, network, address? }"), ...errorResponses(400, 401, 404, 409, 502) },
  });
  reg.registerPath({
    method: "delete",
    path: `${base}/containers/{ref}`,
    tags,
    summary: "Remove a container from its node; its name and cluster address are given back",
    request: { params: RefParams },
    responses: { 200: untypedJson("{ removed, name, id, nodeId, address? }"), ...errorResponses(401, 404, 409, 502) },
  });
};

/** /migrations (services/control/src/migration/migration-routes.ts). */
export const documentMigrationRoutes: RouteDocumenter = (reg, base) => {
  const tags = ["migrations"];
  reg.registerPath({
    method: "post",
    path: `${base}/migrations`,
    tags,
    summary: "Start a live migration (or check one with dryRun)",
    request: { body: json(StartMigrationBody) },
    responses: {
      200: { description: "dry-run verdict", ...json(DryRunReport) },
      202: { description: "started: the migration record", ...json(MigrationRecord) },
      ...errorResponses(400, 401, 404, 409),
    },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/migrations`,
    tags,
    summary: "Past and running migrations",
    request: { query: MigrationListQuery },
    responses: { 200: { description: "migrations, newest first", ...json(MigrationList) }, ...errorResponses(400, 401) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/migrations/{id}`,
    tags,
    summary: "One migration with its steps",
    request: { params: IdParams },
    responses: { 200: { description: "the migration record", ...json(MigrationRecord) }, ...errorResponses(401, 404) },
  });
};

/** /plan, /rebalance, /rebalance/auto, /containers/{ref}/forecast (services/control/src/rebalance/rebalance-routes.ts). */
export const documentRebalanceRoutes: RouteDocumenter = (reg, base) => {
  const tags = ["placement"];
  reg.registerPath({
    method: "get",
    path: `${base}/plan`,
    tags,
    summary: "What the placement policy would do now, and why (dry run)",
    request: { query: PlanQuery },
    responses: { 200: untypedJson("the plan"), ...errorResponses(400, 401) },
  });
  reg.registerPath({
    method: "post",
    path: `${base}/rebalance`,
    tags,
    summary: "One rebalancing round now",
    responses: { 200: untypedJson("moves started"), ...errorResponses(401) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/rebalance/auto`,
    tags,
    summary: "The automatic loop's state",
    responses: { 200: untypedJson("loop status"), ...errorResponses(401) },
  });
  reg.registerPath({
    method: "put",
    path: `${base}/rebalance/auto`,
    tags,
    summary: "Switch the automatic loop (and its policy)",
    request: { body: json(AutoBody) },
    responses: { 200: untypedJson("loop status"), ...errorResponses(400, 401) },
  });
  reg.registerPath({
    method: "get",
    path: `${base}/containers/{ref}/forecast`,
    tags,
    summary: "Each forecaster's view of a container's CPU",
    request: { params: RefParams, query: ForecastQuery },
    responses: { 200: untypedJson("forecast report"), ...errorResponses(400, 401, 404) },
  });
};

/** The OpenAPI 3.1 document of every route, generated from the schemas the routes validate with. */
export function buildOpenApi(documenters: readonly RouteDocumenter[]): ReturnType<OpenApiGeneratorV31["generateDocument"]> {
  const reg = new OpenAPIRegistry();
  reg.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", description: "HERD_API_TOKEN" });
  for (const d of documenters) d(reg, API_BASE);
  return new OpenApiGeneratorV31(reg.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Herd control API",
      version: "1",
      description:
        "Live migration, placement and jobs for a Docker cluster. Every route needs `Authorization: Bearer <HERD_API_TOKEN>` except /healthz, /openapi.json and /docs.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
  });
}
