import type { Channel, Options } from "amqplib";

/**
 * The broker topology, in one place for every service (see DESIGN.md "Messaging").
 *
 * - `herd.telemetry` (topic, key `node.<id>`): lossy by design; the control's ingest queue is
 *   bounded (max-length, drop-head) and not persisted. It has no dead-letter exchange: RabbitMQ
 *   would dead-letter every batch dropped at the cap too, doubling the broker's work per batch
 *   exactly when it is overloaded (bench:scale); the control dead-letters malformed telemetry itself.
 * - `herd.commands` (direct, key `<id>`): one durable queue per node, persistent messages,
 *   dead-lettered to `herd.dead` when a message can never be handled.
 * - `herd.events` (topic, keys `node.<id>.<kind>`): heartbeats, command results and progress,
 *   container events. The control's queue is durable so results survive a control restart.
 * - `herd.dead` (fanout) → queue `herd.dead`: every unhandleable message, kept for inspection.
 */
export const EXCHANGES = {
  telemetry: "herd.telemetry",
  commands: "herd.commands",
  events: "herd.events",
  dead: "herd.dead",
} as const;

export const QUEUES = {
  telemetryIngest: "herd.telemetry.ingest",
  controlEvents: "herd.events.control",
  dead: "herd.dead",
  commandsFor: (nodeId: string) => `herd.commands.${nodeId}`,
  /** One control replica's own (exclusive) queue of command results and progress. */
  replicaResults: (replicaId: string) => `herd.events.control.${replicaId}.results`,
} as const;

export const ROUTING = {
  telemetry: (nodeId: string) => `node.${nodeId}`,
  heartbeat: (nodeId: string) => `node.${nodeId}.heartbeat`,
  result: (nodeId: string) => `node.${nodeId}.result`,
  progress: (nodeId: string) => `node.${nodeId}.progress`,
  container: (nodeId: string) => `node.${nodeId}.container`,
  command: (nodeId: string) => nodeId,
} as const;

/**
 * The telemetry queue's cap (drop-head beyond it): 2,000 batches, ~2 s of telemetry at 1,000 nodes, so what the control
 * stores is never more than a few seconds old. A 10,000 cap was tried (bench:scale, fourth pass in bench/results/scale.md):
 * under the sustained overload a shared 2-core machine gives, it lost as much (11.1 % vs 4.4 % at 2,000, at a higher load)
 * and stored batches ~10 s late (p99 12.4–15.9 s against 2.96–3.5 s): a buffer helps only with stalls shorter than itself.
 */
export const TELEMETRY_QUEUE_MAX_LENGTH = 2_000;

/** Arguments are part of a queue's identity: every declarer must use exactly these. */
export const queueOptions = {
  telemetryIngest: {
    durable: false,
    arguments: {
      "x-max-length": TELEMETRY_QUEUE_MAX_LENGTH,
      "x-overflow": "drop-head",
    },
  } satisfies Options.AssertQueue,
  controlEvents: {
    durable: true,
    arguments: { "x-dead-letter-exchange": EXCHANGES.dead },
  } satisfies Options.AssertQueue,
  dead: { durable: true, arguments: { "x-max-length": 100_000 } } satisfies Options.AssertQueue,
  commands: {
    durable: true,
    arguments: { "x-dead-letter-exchange": EXCHANGES.dead, "x-queue-type": "classic" },
  } satisfies Options.AssertQueue,
};

/** What declaring needs of a connection: scratch channels, which the broker may close on a refused declaration. */
export interface ChannelSource {
  createChannel(): Promise<Channel>;
}

/**
 * Declares the telemetry queue on scratch channels. A broker declared by an earlier version holds
 * it with other arguments (a dead-letter exchange): the declaration is refused with 406
 * PRECONDITION_FAILED, so the queue is deleted and declared again. It is transient and lossy by
 * design; at most its queued batches (≤ TELEMETRY_QUEUE_MAX_LENGTH) are lost once.
 */
export async function declareTelemetryQueue(conn: ChannelSource): Promise<void> {
  const attempt = async (deleteFirst: boolean): Promise<void> => {
    const ch = await conn.createChannel();
    ch.on("error", () => undefined); // a refused declaration closes the channel; the rejection below says why
    try {
      if (deleteFirst) await ch.deleteQueue(QUEUES.telemetryIngest);
      await ch.assertQueue(QUEUES.telemetryIngest, queueOptions.telemetryIngest);
      await ch.bindQueue(QUEUES.telemetryIngest, EXCHANGES.telemetry, "node.*");
    } finally {
      await ch.close().catch(() => undefined);
    }
  };
  try {
    await attempt(false);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 406) throw err;
    await attempt(true);
  }
}

/** Declares everything the control service uses (needs the control user's configure rights). */
export async function declareControlTopology(ch: Channel, conn: ChannelSource): Promise<void> {
  await ch.assertExchange(EXCHANGES.telemetry, "topic", { durable: true });
  await ch.assertExchange(EXCHANGES.commands, "direct", { durable: true });
  await ch.assertExchange(EXCHANGES.events, "topic", { durable: true });
  await ch.assertExchange(EXCHANGES.dead, "fanout", { durable: true });
  await ch.assertQueue(QUEUES.dead, queueOptions.dead);
  await ch.bindQueue(QUEUES.dead, EXCHANGES.dead, "");
  await declareTelemetryQueue(conn);
  await ch.assertQueue(QUEUES.controlEvents, queueOptions.controlEvents);
  await ch.bindQueue(QUEUES.controlEvents, EXCHANGES.events, "node.#");
}

/**
 * Declares a node's durable command queue and binds it. Run by the control user when a node is
 * provisioned, so the node's own user never needs rights on exchanges.
 */
export async function declareNodeTopology(ch: Channel, nodeId: string): Promise<void> {
  const queue = QUEUES.commandsFor(nodeId);
  await ch.assertQueue(queue, queueOptions.commands);
  await ch.bindQueue(queue, EXCHANGES.commands, ROUTING.command(nodeId));
}

/**
 * A control replica's exclusive, auto-deleted queue bound to every node's command results and
 * progress: replicas compete for the shared events queue, but each must see the results of the
 * commands it sent. Gone with the replica's connection; a successor re-sends the same command ids
 * and the agents answer from their journals.
 */
export async function declareReplicaResultsQueue(ch: Channel, replicaId: string): Promise<string> {
  const queue = QUEUES.replicaResults(replicaId);
  await ch.assertQueue(queue, { durable: false, exclusive: true, autoDelete: true, arguments: { "x-dead-letter-exchange": EXCHANGES.dead } });
  await ch.bindQueue(queue, EXCHANGES.events, "node.*.result");
  await ch.bindQueue(queue, EXCHANGES.events, "node.*.progress");
  return queue;
}

/** Routing keys of command results and progress (handled by each replica's own queue). */
export function isResultKey(routingKey: string): boolean {
  return routingKey.endsWith(".result") || routingKey.endsWith(".progress");
}
