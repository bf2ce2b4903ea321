import {
  EVENT_VERSION,
  TELEMETRY_VERSION,
  type CommandResult,
  type ContainerSample,
  type Heartbeat,
  type NodeSample,
  type TelemetryBatch,
} from "../../../shared/src/contracts/index.js";
import { errorMessage } from "../../../shared/src/errors.js";
import type { Logger } from "../../../shared/src/logger.js";
import type { MessageBus } from "../../../shared/src/messaging/message-bus.js";
import { EXCHANGES, QUEUES, ROUTING } from "../../../shared/src/topology.js";
import { CommandProcessor, type CommandHandlers } from "./commands/command-processor.js";
import type { ProcessedCommandStore } from "./commands/processed-command-store.js";
import type { ContainerDiscovery, DiscoveredContainer } from "./discovery/container-discovery.js";
import { HeartbeatSchedule } from "./heartbeat-schedule.js";

export const AGENT_VERSION = "0.1.0";

/** A heartbeat goes out at least this often even while telemetry proves the node alive (heartbeat-schedule.ts). */
export const HEARTBEAT_REFRESH_MS = 30_000;

/** Turns the discovered containers into one telemetry round (rates over the last interval). */
export interface TelemetrySampler {
  sample(containers: readonly DiscoveredContainer[]): Promise<{ node: NodeSample; containers: ContainerSample[] }>;
}

export interface ComputeAgentOptions {
  nodeId: string;
  address: string;
  telemetryIntervalMs: number;
  heartbeatIntervalMs: number;
  bus: MessageBus;
  discovery: ContainerDiscovery;
  sampler: TelemetrySampler;
  handlers: CommandHandlers;
  processedCommands: ProcessedCommandStore;
  log: Logger;
  now?: () => number;
  /** What this node offers for job reservations, reported in every heartbeat. */
  capacity?: { cpus: number; memoryBytes: number };
  /** Whether memory pre-copy is possible here (CRIU's dirty tracking); read at each heartbeat, unset until checked. */
  memoryPreCopy?: () => { available: boolean; detail: string } | undefined;
  /** Whether post-copy (lazy pages) can work here; read at each heartbeat, unset until checked. */
  postCopy?: () => { available: boolean; detail: string } | undefined;
}

/**
 * The compute agent: one telemetry batch per interval, heartbeats, and the node's command queue.
 * Telemetry is lossy (dropped while the broker is away); commands and results are not.
 */
export class ComputeAgent {
  private timers: NodeJS.Timeout[] = [];
  private seq = 0;
  private readonly startedAt: number;
  private lastContainerCount = 0;
  private sampling = false;
  private stopped = false;
  private readonly now: () => number;
  private readonly heartbeats: HeartbeatSchedule;

  constructor(private readonly o: ComputeAgentOptions) {
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
    this.heartbeats = new HeartbeatSchedule(o.heartbeatIntervalMs, Math.max(HEARTBEAT_REFRESH_MS, o.heartbeatIntervalMs));
  }

  async start(): Promise<void> {
    const { bus, nodeId, log } = this.o;
    const processor = new CommandProcessor(
      nodeId,
      this.o.handlers,
      this.o.processedCommands,
      (result: CommandResult) =>
        bus.publish(EXCHANGES.events, ROUTING.result(nodeId), result, {
          persistent: true,
          messageId: `result-${result.commandId}`,
          timeoutMs: 10 * 60_000,
        }),
      (commandId, step, detail) => {
        void bus
          .publish(
            EXCHANGES.events,
            ROUTING.progress(nodeId),
            { v: EVENT_VERSION, kind: "command.progress", nodeId, commandId, step, ...detail, at: this.now() },
            { timeoutMs: 0, expirationMs: 30_000 },
          )
          .catch(() => undefined);
      },
      log.child({ component: "commands" }),
      this.now,
    );
    await bus.consume(
      QUEUES.commandsFor(nodeId),
      async (msg) => {
        await processor.process(msg.body);
      },
      { prefetch: 4 },
    );

    this.timers.push(setInterval(() => void this.publishTelemetry(), this.o.telemetryIntervalMs));
    this.timers.push(setInterval(() => void this.publishHeartbeat(), this.o.heartbeatIntervalMs));
    await this.publishHeartbeat();
    log.info("Compute agent started", { telemetryIntervalMs: this.o.telemetryIntervalMs, address: this.o.address });
  }

  /** One telemetry round; skipped (not queued) if the previous one is still running. */
  async publishTelemetry(): Promise<void> {
    if (this.sampling || this.stopped) return;
    this.sampling = true;
    try {
      const containers = await this.o.discovery.list();
      this.lastContainerCount = containers.length;
      const sample = await this.o.sampler.sample(containers);
      const batch: TelemetryBatch = {
        v: TELEMETRY_VERSION,
        kind: "telemetry",
        nodeId: this.o.nodeId,
        seq: this.seq++,
        sentAt: this.now(),
        intervalMs: this.o.telemetryIntervalMs,
        node: { ...sample.node, address: this.o.address },
        containers: sample.containers,
      };
      if (this.o.bus.isConnected()) {
        await this.o.bus.publish(EXCHANGES.telemetry, ROUTING.telemetry(this.o.nodeId), batch, { timeoutMs: 0 });
        this.heartbeats.telemetryConfirmed(batch.sentAt);
      }
    } catch (err) {
      this.o.log.warn("Telemetry round failed", { error: errorMessage(err) });
    } finally {
      this.sampling = false;
    }
  }

  private async publishHeartbeat(): Promise<void> {
    if (this.stopped || !this.o.bus.isConnected()) return;
    const facts: Omit<Heartbeat, "v" | "kind" | "nodeId" | "sentAt" | "containers"> = {
      startedAt: this.startedAt,
      agentVersion: AGENT_VERSION,
      address: this.o.address,
      ...(this.o.capacity ? { capacity: this.o.capacity } : {}),
    };
    const preCopy = this.o.memoryPreCopy?.();
    if (preCopy) facts.memoryPreCopy = preCopy;
    const postCopy = this.o.postCopy?.();
    if (postCopy) facts.postCopy = postCopy;
    const factsText = JSON.stringify(facts);
    const sentAt = this.now();
    if (!this.heartbeats.due(sentAt, factsText)) return;
    const hb: Heartbeat = { v: EVENT_VERSION, kind: "heartbeat", nodeId: this.o.nodeId, sentAt, containers: this.lastContainerCount, ...facts };
    await this.o.bus
      .publish(EXCHANGES.events, ROUTING.heartbeat(this.o.nodeId), hb, {
        timeoutMs: 0,
        expirationMs: Math.max(5_000, this.o.heartbeatIntervalMs * 3),
      })
      .then(() => this.heartbeats.sent(sentAt, factsText))
      .catch((err: unknown) => this.o.log.debug("Heartbeat not sent", { error: errorMessage(err) }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.o.bus.close();
  }
}
