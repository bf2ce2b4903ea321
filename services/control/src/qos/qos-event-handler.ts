import express from "express";
import { describeZodError } from "../../../../shared/src/contracts/index.js";
import { z } from "zod";
import { QosActuation, QosEvent, QosStatus } from "../../../../shared/src/contracts/qos-events.js";
import { errorResponses, json } from "../api/openapi-support.js";
import type { RouteDocumenter } from "../api/openapi.js";
import { errorMessage, UnrecoverableError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { IncomingMessage } from "../../../../shared/src/messaging/message-bus.js";
import { route } from "../api/api-server.js";
import type { MigrationRecord } from "../migration/migration-record.js";
import { nodeStatus } from "../registry/node-liveness.js";
import type { NodeRecord, StateStore } from "../state/state-store.js";

/** GET /qos: every node's latest QoS status and the latest actuations. */
export const QosView = z.object({ nodes: z.array(QosStatus), actuations: z.array(QosActuation) }).meta({ id: "QosView" });

export const documentQosRoutes: RouteDocumenter = (reg, base) => {
  reg.registerPath({
    method: "get",
    path: `${base}/qos`,
    tags: ["qos"],
    summary: "Node QoS: per container target, measured latency or demand, controller output, limits, credits; latest actuations",
    responses: { 200: { description: "QoS status of every node", ...json(QosView) }, ...errorResponses(401) },
  });
};

/** The orchestrator's existing entry point, as much of it as QoS needs. */
export interface MigrationStarter {
  start(req: { container: string; to: string; reason?: string }): Promise<Pick<MigrationRecord, "id">>;
}

/** Pure: the up node (not the source) with the least CPU in use, then the fewest containers. */
export function pickDestination(nodes: readonly NodeRecord[], source: string, now: number, downAfterMs: number): string | undefined {
  return nodes
    .filter((n) => n.id !== source && nodeStatus(n, now, downAfterMs) === "up")
    .sort((a, b) => (a.cpuPct ?? 0) - (b.cpuPct ?? 0) || a.containers - b.containers || a.id.localeCompare(b.id))[0]?.id;
}

/**
 * Node QoS on the control side: keeps each node's latest QoS status and recent actuations (in
 * memory: they are refreshed every control period), and turns a node's migration request into a
 * migration through the orchestrator, with the node's reason on the record.
 */
export class QosEventHandler {
  private readonly statuses = new Map<string, QosStatus>();
  private readonly actuations: QosActuation[] = [];

  constructor(
    private readonly o: {
      state: Pick<StateStore, "listNodes">;
      migrations: MigrationStarter;
      downAfterMs: number;
      log: Logger;
      onRejected?: (reason: string) => void;
      now?: () => number;
    },
  ) {}

  async handle(msg: IncomingMessage): Promise<void> {
    const parsed = QosEvent.safeParse(msg.body);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      this.o.onRejected?.(field);
      throw new UnrecoverableError(`invalid qos event: ${field}: ${message}`);
    }
    const event = parsed.data;
    if (msg.routingKey !== `node.${event.nodeId}.qos`) {
      this.o.onRejected?.("nodeId");
      throw new UnrecoverableError(`invalid qos event: nodeId: does not match routing key ${msg.routingKey}`);
    }
    switch (event.kind) {
      case "qos.status":
        this.statuses.set(event.nodeId, event);
        break;
      case "qos.actuation":
        this.actuations.push(event);
        if (this.actuations.length > 500) this.actuations.splice(0, this.actuations.length - 500);
        break;
      case "qos.migration-request":
        await this.migrate(event.nodeId, event.container, event.reason);
        break;
    }
  }

  private async migrate(nodeId: string, container: string, reason: string): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    const to = pickDestination(await this.o.state.listNodes(), nodeId, now, this.o.downAfterMs);
    if (to === undefined) {
      this.o.log.warn("QoS migration request: no other node is up", { nodeId, container, reason });
      return;
    }
    try {
      const record = await this.o.migrations.start({ container, to, reason });
      this.o.log.info("QoS migration started", { migrationId: record.id, container, from: nodeId, to, reason });
    } catch (err) {
      // Refused (already migrating, unknown container…): the node asks again if it stays saturated.
      this.o.log.warn("QoS migration request refused", { nodeId, container, to, error: errorMessage(err) });
    }
  }

  view(): z.infer<typeof QosView> {
    return { nodes: [...this.statuses.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId)), actuations: this.actuations.slice(-50) };
  }

  routes(): express.Router {
    const r = express.Router();
    r.get(
      "/qos",
      route(async (_req, res) => {
        res.json(this.view());
      }),
    );
    return r;
  }
}
