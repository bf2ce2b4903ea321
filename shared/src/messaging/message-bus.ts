/** A message delivered to a consumer. `body` is the parsed JSON; malformed JSON never reaches a handler. */
export interface IncomingMessage {
  body: unknown;
  routingKey: string;
  exchange: string;
  redelivered: boolean;
  messageId?: string;
}

export interface PublishOptions {
  /** Written to disk by the broker (commands, results). Default false. */
  persistent?: boolean;
  /** Per-message TTL: the broker drops it after this long (heartbeats). */
  expirationMs?: number;
  messageId?: string;
  /**
   * How long to keep trying (across reconnects) before giving up. Default 30 s. Lossy traffic
   * (telemetry) passes 0: if the broker is away right now, drop and move on.
   */
  timeoutMs?: number;
}

export interface ConsumeOptions {
  prefetch?: number;
  /** Delay before a message whose handler failed with a retryable error is requeued. */
  retryDelayMs?: number;
  /**
   * Told of each message dead-lettered before it reached the handler (today: malformed JSON,
   * reason "malformed-json"), so the consumer can count every rejected message.
   */
  onRejected?: (reason: string) => void;
  /**
   * For a queue without a broker-side dead-letter exchange (the telemetry queue: its overflow must
   * not be dead-lettered): a rejected message is published here by the consumer itself (headers
   * `x-herd-rejected-from`, `x-herd-reason`) and then acked.
   */
  deadLetterExchange?: string;
  /**
   * Ack within this many ms instead of at once, coalesced with the channel's other finished deliveries into
   * `multiple` acks (ack-plan.ts). For high-rate queues: a crash redelivers at most this window's messages more.
   */
  ackEveryMs?: number;
}

/**
 * What every service needs from the broker. Contract:
 * - `publish` resolves only after the broker confirmed the message (publisher confirms);
 *   it rejects after `timeoutMs` without a confirm, never silently drops a message it resolved.
 * - `consume` acks after the handler resolves. A handler that throws `UnrecoverableError`
 *   (or gets malformed JSON) has its message dead-lettered; any other error requeues it after
 *   `retryDelayMs`. Consumers are re-established after a reconnect.
 * - The connection recovers by itself with backoff after a broker restart.
 * - `close` is idempotent.
 */
export interface MessageBus {
  publish(exchange: string, routingKey: string, body: unknown, options?: PublishOptions): Promise<void>;
  consume(queue: string, handler: (msg: IncomingMessage) => Promise<void>, options?: ConsumeOptions): Promise<void>;
  /** Resolves when connected (immediately if connected now). */
  ready(timeoutMs?: number): Promise<void>;
  isConnected(): boolean;
  /** Counts since start: messages dead-lettered by this process's consumers, reconnects. */
  stats(): { deadLettered: number; reconnects: number; published: number; consumed: number };
  close(): Promise<void>;
}
