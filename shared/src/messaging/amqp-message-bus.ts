import amqp from "amqplib";
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { EventEmitter } from "node:events";
import { ExternalError, UnrecoverableError, errorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import { AckPlan } from "./ack-plan.js";
import type { ConsumeOptions, IncomingMessage, MessageBus, PublishOptions } from "./message-bus.js";

interface Consumer {
  queue: string;
  handler: (msg: IncomingMessage) => Promise<void>;
  options: ConsumeOptions;
}

export interface AmqpMessageBusOptions {
  url: string;
  logger: Logger;
  /** Run on every (re)connect before consumers start, e.g. to declare topology (`connection` for scratch channels). */
  setup?: (channel: ConfirmChannel, connection: ChannelModel) => Promise<void>;
  /** Connection name shown in RabbitMQ's management UI. */
  connectionName?: string;
  heartbeatSeconds?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** RabbitMQ through amqplib, with confirms, dead-lettering and automatic reconnection. */
export class AmqpMessageBus implements MessageBus {
  private connection?: ChannelModel;
  private channel?: ConfirmChannel;
  private readonly consumers: Consumer[] = [];
  private readonly events = new EventEmitter();
  private closed = false;
  private connecting?: Promise<void>;
  private backoffMs: number;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly counters = { deadLettered: 0, reconnects: 0, published: 0, consumed: 0 };
  private connectedOnce = false;
  /** Per channel: the deliveries not yet settled, and the acks held for coalescing (consumers with `ackEveryMs`). */
  private readonly ackPlans = new WeakMap<ConfirmChannel, { plan: AckPlan<ConsumeMessage>; timer?: NodeJS.Timeout }>();

  constructor(private readonly options: AmqpMessageBusOptions) {
    this.backoffMs = options.minBackoffMs ?? 250;
    this.events.setMaxListeners(0);
  }

  /** Connects, retrying with backoff until connected or closed. Resolves on the first success. */
  start(): Promise<void> {
    this.connectLoop();
    return this.ready(Number.MAX_SAFE_INTEGER);
  }

  isConnected(): boolean {
    return this.channel !== undefined;
  }

  stats() {
    return { ...this.counters };
  }

  ready(timeoutMs = 30_000): Promise<void> {
    if (this.channel) return Promise.resolve();
    if (this.closed) return Promise.reject(new ExternalError("message bus is closed", { retryable: false }));
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs < Number.MAX_SAFE_INTEGER
          ? setTimeout(() => {
              this.events.off("connected", onConnected);
              reject(new ExternalError(`broker not reachable within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      const onConnected = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.events.once("connected", onConnected);
    });
  }

  private connectLoop(): void {
    if (this.closed || this.connecting || this.channel) return;
    this.connecting = this.connectOnce()
      .then(() => {
        this.backoffMs = this.options.minBackoffMs ?? 250;
      })
      .catch((err: unknown) => {
        this.options.logger.warn("Broker connection failed, retrying", {
          error: errorMessage(err),
          retryInMs: this.backoffMs,
        });
        this.scheduleReconnect();
      })
      .finally(() => {
        this.connecting = undefined;
      });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectLoop();
    }, delay);
  }

  private async connectOnce(): Promise<void> {
    const { logger } = this.options;
    const url = new URL(this.options.url);
    if (!url.searchParams.has("heartbeat")) url.searchParams.set("heartbeat", String(this.options.heartbeatSeconds ?? 5));
    const connection = await amqp.connect(url.toString(), {
      clientProperties: { connection_name: this.options.connectionName ?? "herd" },
    });
    connection.on("error", (err: Error) => logger.warn("Broker connection error", { error: err.message }));
    connection.on("close", () => this.onLost(connection));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on("error", (err: Error) => logger.warn("Broker channel error", { error: err.message }));
      // A channel closed by the broker (e.g. a 404 on a queue) takes the connection down with
      // it, so the whole thing is rebuilt rather than left half-working.
      channel.on("close", () => {
        if (this.connection === connection) void connection.close().catch(() => undefined);
      });
      if (this.options.setup) await this.options.setup(channel, connection);
      for (const consumer of this.consumers) await this.startConsumer(channel, consumer);
      this.connection = connection;
      this.channel = channel;
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
    if (this.connectedOnce) this.counters.reconnects++;
    this.connectedOnce = true;
    logger.info("Connected to broker", { consumers: this.consumers.length });
    this.events.emit("connected");
  }

  private onLost(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.channel = undefined;
    if (this.closed) return;
    this.options.logger.warn("Lost broker connection, reconnecting");
    this.scheduleReconnect();
  }

  async publish(exchange: string, routingKey: string, body: unknown, options: PublishOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const content = Buffer.from(JSON.stringify(body));
    let lastError: unknown;
    for (;;) {
      const channel = this.channel;
      if (channel) {
        try {
          await new Promise<void>((resolve, reject) => {
            channel.publish(
              exchange,
              routingKey,
              content,
              {
                persistent: options.persistent ?? false,
                expiration: options.expirationMs !== undefined ? String(options.expirationMs) : undefined,
                messageId: options.messageId,
                contentType: "application/json",
                timestamp: Math.floor(Date.now() / 1000),
              },
              (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
            );
          });
          this.counters.published++;
          return;
        } catch (err) {
          lastError = err;
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) {
        throw new ExternalError(`publish to ${exchange}/${routingKey} not confirmed${lastError ? `: ${errorMessage(lastError)}` : ": broker unavailable"}`, {
          cause: lastError,
        });
      }
      await this.ready(remaining).catch(() => undefined);
      if (!this.channel) await delay(Math.min(100, Math.max(0, deadline - Date.now())));
    }
  }

  async consume(queue: string, handler: (msg: IncomingMessage) => Promise<void>, options: ConsumeOptions = {}): Promise<void> {
    const consumer: Consumer = { queue, handler, options };
    this.consumers.push(consumer);
    if (this.channel) await this.startConsumer(this.channel, consumer);
  }

  private async startConsumer(channel: ConfirmChannel, consumer: Consumer): Promise<void> {
    const { logger } = this.options;
    if (consumer.options.prefetch) await channel.prefetch(consumer.options.prefetch);
    let acks = this.ackPlans.get(channel);
    if (!acks) this.ackPlans.set(channel, (acks = { plan: new AckPlan<ConsumeMessage>() }));
    const { plan } = acks;
    await channel.consume(consumer.queue, (raw: ConsumeMessage | null) => {
      if (raw) plan.delivered(raw.fields.deliveryTag);
      if (!raw) {
        // Cancelled by the broker (its queue was deleted, e.g. redeclared with new arguments): rebuild the connection, which
        // declares the topology again and restarts every consumer.
        logger.warn("Consumer cancelled by the broker, reconnecting", { queue: consumer.queue });
        void channel.close().catch(() => undefined);
        return;
      }
      void this.handle(channel, consumer, raw).catch((err: unknown) =>
        logger.error("Message handling failed unexpectedly", { queue: consumer.queue, error: errorMessage(err) }),
      );
    });
  }

  private async handle(channel: ConfirmChannel, consumer: Consumer, raw: ConsumeMessage): Promise<void> {
    const { logger } = this.options;
    const meta = { queue: consumer.queue, routingKey: raw.fields.routingKey, messageId: raw.properties.messageId as string | undefined };
    let body: unknown;
    try {
      body = JSON.parse(raw.content.toString("utf8"));
    } catch (err) {
      this.deadLetter(channel, consumer, raw, `malformed JSON: ${errorMessage(err)}`, meta);
      safe(() => consumer.options.onRejected?.("malformed-json"));
      return;
    }
    try {
      await consumer.handler({
        body,
        routingKey: raw.fields.routingKey,
        exchange: raw.fields.exchange,
        redelivered: raw.fields.redelivered,
        messageId: meta.messageId,
      });
      this.counters.consumed++;
      this.ack(channel, consumer, raw);
    } catch (err) {
      if (err instanceof UnrecoverableError || (err instanceof Error && "retryable" in err && err.retryable === false)) {
        this.deadLetter(channel, consumer, raw, errorMessage(err), meta);
        return;
      }
      logger.warn("Handler failed, requeueing", { ...meta, error: errorMessage(err) });
      await delay(consumer.options.retryDelayMs ?? 1_000);
      this.settle(channel, raw, () => channel.nack(raw, false, true));
    }
  }

  /** Acks at once, or (with `ackEveryMs`) within that many ms, coalesced with the channel's other finished deliveries. */
  private ack(channel: ConfirmChannel, consumer: Consumer, raw: ConsumeMessage): void {
    const acks = this.ackPlans.get(channel);
    const every = consumer.options.ackEveryMs ?? 0;
    if (!acks || every <= 0) {
      this.settle(channel, raw, () => channel.ack(raw));
      return;
    }
    acks.plan.handled(raw.fields.deliveryTag, raw);
    acks.timer ??= setTimeout(() => {
      acks.timer = undefined;
      const { upTo, singles } = acks.plan.flush();
      if (upTo) safe(() => channel.ack(upTo, true));
      for (const m of singles) safe(() => channel.ack(m));
    }, every);
  }

  /** Sends this delivery's own ack or nack, so that it no longer holds back the channel's coalesced acks. */
  private settle(channel: ConfirmChannel, raw: ConsumeMessage, send: () => void): void {
    this.ackPlans.get(channel)?.plan.settled(raw.fields.deliveryTag);
    safe(send);
  }

  private deadLetter(channel: ConfirmChannel, consumer: Consumer, raw: ConsumeMessage, reason: string, meta: object): void {
    this.counters.deadLettered++;
    this.options.logger.warn("Rejected message, dead-lettered", { ...meta, reason });
    const exchange = consumer.options.deadLetterExchange;
    if (!exchange) {
      this.settle(channel, raw, () => channel.nack(raw, false, false));
      return;
    }
    // Ours to dead-letter (the queue has no DLX): acked once the broker confirmed the copy; without a confirm it is requeued.
    try {
      channel.publish(
        exchange,
        raw.fields.routingKey,
        raw.content,
        {
          persistent: true,
          contentType: raw.properties.contentType as string | undefined,
          messageId: raw.properties.messageId as string | undefined,
          timestamp: raw.properties.timestamp as number | undefined,
          headers: { ...raw.properties.headers, "x-herd-rejected-from": consumer.queue, "x-herd-reason": reason.slice(0, 500) },
        },
        (err) => this.settle(channel, raw, () => (err ? channel.nack(raw, false, true) : channel.ack(raw))),
      );
    } catch {
      /* channel already closed: the message will be redelivered */
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    this.events.emit("closed");
    if (connection) await connection.close().catch(() => undefined);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Acking on a channel that just died throws; the broker redelivers anyway, so ignore it. */
function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    /* channel already closed: the message will be redelivered */
  }
}
