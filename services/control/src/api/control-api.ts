import type express from "express";
import { documentJobRoutes, jobRoutes } from "../jobs/job-routes.js";
import type { JobManager } from "../jobs/job-manager.js";
import { migrationRoutes } from "../migration/migration-routes.js";
import type { AddressClaims } from "../network/address-claims.js";
import { documentNetworkRoutes, networkRoutes } from "../network/network-routes.js";
import type { MigrationOrchestrator } from "../migration/migration-orchestrator.js";
import type { MigrationStore } from "../migration/migration-store.js";
import { rebalanceRoutes } from "../rebalance/rebalance-routes.js";
import type { Rebalancer } from "../rebalance/rebalancer.js";
import { documentLeaderRoutes, leaderRoutes } from "../leader/leader-routes.js";
import type { LeaderElection } from "../leader/leader-lease.js";
import { documentQosRoutes, type QosEventHandler } from "../qos/qos-event-handler.js";
import { documentDashboardRoutes } from "../ui/dashboard-openapi.js";
import { createApi, type ApiDeps } from "./api-server.js";
import { documentNodeJoinRoutes, nodeJoinRoutes } from "../join/node-join-routes.js";
import type { NodeJoin } from "../join/node-join.js";
import { buildOpenApi, documentCoreRoutes, documentMigrationRoutes, documentRebalanceRoutes, type RouteDocumenter } from "./openapi.js";

export interface ControlApiParts extends Omit<ApiDeps, "routers" | "openApiDocument" | "pages"> {
  migrations: MigrationOrchestrator;
  migrationStore: MigrationStore;
  rebalancer: Rebalancer;
  jobs: JobManager;
  sampleMs: number;
  /** With control replicas: GET /control/leader. */
  leader?: LeaderElection;
  /** Node QoS status and actuations (issue 15). */
  qos?: QosEventHandler;
  /** The cluster network's address claims (GET /network); absent without a cluster network. */
  addressClaims?: AddressClaims;
  /** The web dashboard: static pages at /ui and its live stream under /api/v1. */
  dashboard?: { pages: express.Router; stream: express.Router };
  /** POST /nodes/{id}/join (refused with 409 when control has no broker management access). */
  nodeJoin?: NodeJoin;
}

/** Every group of routes under /api/v1 with its documentation: a route is added here together with its doc. */
export function controlRouteGroups(p: ControlApiParts): { router: express.Router; document: RouteDocumenter }[] {
  return [
    { router: migrationRoutes(p.migrations, p.migrationStore), document: documentMigrationRoutes },
    { router: rebalanceRoutes(p.rebalancer, p.store, p.sampleMs), document: documentRebalanceRoutes },
    { router: jobRoutes(p.jobs), document: documentJobRoutes },
    ...(p.leader ? [{ router: leaderRoutes(p.leader, p.migrations), document: documentLeaderRoutes }] : []),
    ...(p.qos ? [{ router: p.qos.routes(), document: documentQosRoutes }] : []),
    { router: networkRoutes(p.addressClaims), document: documentNetworkRoutes },
    ...(p.dashboard ? [{ router: p.dashboard.stream, document: documentDashboardRoutes }] : []),
    ...(p.nodeJoin ? [{ router: nodeJoinRoutes(p.nodeJoin), document: documentNodeJoinRoutes }] : []),
  ];
}

/** The control service's REST API: core routes, every route group, /openapi.json and /docs. */
export function buildControlApi(p: ControlApiParts): express.Express {
  const groups = controlRouteGroups(p);
  let doc: unknown;
  return createApi({
    ...p,
    routers: groups.map((g) => g.router),
    pages: p.dashboard ? [p.dashboard.pages] : [],
    openApiDocument: () => (doc ??= buildOpenApi([documentCoreRoutes, ...groups.map((g) => g.document)])),
  });
}
