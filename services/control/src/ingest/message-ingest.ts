import { HerdEvent, TelemetryBatch, describeZodError } from "../../../../shared/src/contracts/index.js";
import { UnrecoverableError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { IncomingMessage } from "../../../../shared/src/messaging/message-bus.js";
import type { CommandClient } from "../commands/command-client.js";
import type { ControlMetrics } from "../control-metrics.js";
import type { StateStore } from "../state/state-store.js";

/**
 * Validates and stores what the nodes send. A bad payload throws UnrecoverableError (→ dead
 * letter) and is counted in herd_messages_rejected_total{queue, reason}; so is a result or
 * progress report from another node than the one its command was sent to.
 */
export class MessageIngest {
  private readonly knownContainers = new Map<string, Set<string>>();

  constructor(
    private readonly store: StateStore,
    private readonly commands: CommandClient,
    private readonly metrics: ControlMetrics,
    private readonly log: Logger,
    /** Per-container gauges on /metrics (2 series per container): off at thousands of containers, where they dominate the scrape. */
    private readonly perContainerMetrics = true,
    /** Node QoS events (`node.<id>.qos`, their own schema in qos-events.ts). */
    private readonly qos?: (msg: IncomingMessage) => Promise<void>,
  ) {}

  /** Stores a node's batch and returns it (validated) for other listeners. */
  async onTelemetry(msg: IncomingMessage): Promise<TelemetryBatch> {
    const parsed = TelemetryBatch.safeParse(msg.body);
    if (!parsed.success) throw this.reject("telemetry", describeZodError(parsed.error));
    const batch = parsed.data;
    if (msg.routingKey !== `node.${batch.nodeId}`) {
      throw this.reject("telemetry", { field: "nodeId", message: `does not match routing key ${msg.routingKey}` });
    }
    await this.store.recordTelemetry(batch);
    this.metrics.telemetryBatches.inc({ node: batch.nodeId });
    this.metrics.nodeCpu.set({ node: batch.nodeId }, batch.node.cpuPct);
    this.metrics.nodeMemUsed.set({ node: batch.nodeId }, batch.node.memUsedBytes);
    if (this.perContainerMetrics) this.containerGauges(batch);
    return batch;
  }

  private containerGauges(batch: TelemetryBatch): void {
    const now = new Set<string>();
    for (const c of batch.containers) {
      now.add(c.name);
      this.metrics.containerCpu.set({ node: batch.nodeId, container: c.name }, c.cpuPct);
      this.metrics.containerMem.set({ node: batch.nodeId, container: c.name }, c.memBytes);
    }
    for (const gone of this.knownContainers.get(batch.nodeId) ?? []) {
      if (now.has(gone)) continue;
      this.metrics.containerCpu.remove({ node: batch.nodeId, container: gone });
      this.metrics.containerMem.remove({ node: batch.nodeId, container: gone });
    }
    this.knownContainers.set(batch.nodeId, now);
  }

  async onEvent(msg: IncomingMessage): Promise<void> {
    if (this.qos && msg.routingKey.endsWith(".qos")) return this.qos(msg);
    const parsed = HerdEvent.safeParse(msg.body);
    if (!parsed.success) throw this.reject("events", describeZodError(parsed.error));
    const event = parsed.data;
    if (!msg.routingKey.startsWith(`node.${event.nodeId}.`)) {
      throw this.reject("events", { field: "nodeId", message: `does not match routing key ${msg.routingKey}` });
    }
    switch (event.kind) {
      case "heartbeat":
        await this.store.recordHeartbeat(event);
        this.metrics.heartbeats.inc({ node: event.nodeId });
        break;
      case "command.result":
        if (this.commands.handleResult(event) === "foreign") {
          throw this.reject("events", {
            field: "foreign-result",
            message: `result for command ${event.commandId} came from ${event.nodeId}, not the node it was sent to`,
          });
        }
        break;
      case "command.progress":
        if (this.commands.handleProgress(event) === "foreign") {
          throw this.reject("events", {
            field: "foreign-progress",
            message: `progress for command ${event.commandId} came from ${event.nodeId}, not the node it was sent to`,
          });
        }
        break;
      case "container":
        this.log.info("Container event", { nodeId: event.nodeId, container: event.name, action: event.action });
        break;
    }
  }

  private reject(queue: string, { field, message }: { field: string; message: string }): UnrecoverableError {
    this.metrics.rejected.inc({ queue, reason: field });
    return new UnrecoverableError(`invalid ${queue} message: ${field}: ${message}`);
  }
}
