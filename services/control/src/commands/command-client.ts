import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  COMMAND_VERSION,
  commandPayloads,
  type Command,
  type CommandPayload,
  type CommandProgress,
  type CommandResult,
  type CommandResultValue,
  type CommandType,
  commandResults,
  describeZodError,
  parseOrThrow,
} from "../../../../shared/src/contracts/index.js";
import { ExternalError, toWire, type WireError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MessageBus } from "../../../../shared/src/messaging/message-bus.js";
import { EXCHANGES, ROUTING } from "../../../../shared/src/topology.js";

type ResultEnvelope = Omit<CommandResult, "ok" | "result" | "error">;
/** A node's answer, its value checked against the command type's result schema. */
export type TypedCommandResult<T extends CommandType> =
  (ResultEnvelope & { ok: true; result: CommandResultValue<T> }) | (ResultEnvelope & { ok: false; error: WireError });

export interface SendOptions {
  /** How long to wait for the node's result. The command itself stays queued for the node. */
  timeoutMs?: number;
  /** Reuse an id to resend the same command idempotently (e.g. a resumed migration step). */
  commandId?: string;
  /** How long the node may work on it before giving up (it aborts its processes then). */
  workTimeoutMs?: number;
  onProgress?: (p: CommandProgress) => void;
}

/**
 * What became of a result handed to {@link CommandClient.handleResult}: delivered to the waiting
 * sender, refused because it came from another node than the one the command was sent to, or
 * for no command waiting here (late, or sent before a restart; harmless).
 */
export type ResultDisposition = "accepted" | "foreign" | "unexpected";

/**
 * Sends commands to nodes over their durable queues and matches the results that come back on
 * the events exchange. Results are delivered by `handleResult`, called by the events consumer.
 */
export class CommandClient {
  private readonly results = new EventEmitter();
  private readonly progress = new EventEmitter();
  /** Command id → the node it was sent to, while its sender waits. */
  private readonly pending = new Map<string, string>();

  constructor(
    /** Only publishing is needed: results arrive through `handleResult`. */
    private readonly bus: Pick<MessageBus, "publish">,
    private readonly log: Logger,
  ) {
    this.results.setMaxListeners(0);
    this.progress.setMaxListeners(0);
  }

  async send<T extends CommandType>(nodeId: string, type: T, payload: CommandPayload<T>, options: SendOptions = {}): Promise<TypedCommandResult<T>> {
    const id = options.commandId ?? randomUUID();
    const command: Command<T> = {
      v: COMMAND_VERSION,
      id,
      type,
      nodeId,
      issuedAt: Date.now(),
      payload: parseOrThrow(commandPayloads[type], payload, "payload") as CommandPayload<T>,
      ...(options.workTimeoutMs !== undefined ? { timeoutMs: Math.max(1, Math.round(options.workTimeoutMs)) } : {}),
    };
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const settle: { resolve?: (r: CommandResult) => void } = {};
    const onResult = (r: CommandResult) => {
      clearTimeout(timer);
      settle.resolve?.(r);
    };
    const result = new Promise<CommandResult>((resolve, reject) => {
      settle.resolve = resolve;
      timer = setTimeout(() => {
        this.results.off(id, onResult);
        reject(new ExternalError(`node ${nodeId} did not answer ${type} command ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.results.once(id, onResult);
    });
    // Awaited only once the publish is confirmed, which may take as long as the answer's own timeout
    // (a broker restart): a rejection meanwhile is the send's failure, read below, not an unhandled one.
    result.catch(() => undefined);
    const onProgress = options.onProgress;
    if (onProgress) this.progress.on(id, onProgress);
    this.pending.set(id, nodeId);
    try {
      await this.bus.publish(EXCHANGES.commands, ROUTING.command(nodeId), command, {
        persistent: true,
        messageId: id,
        timeoutMs: Math.min(timeoutMs, 30_000),
      });
      this.log.debug("Sent command", { commandId: id, type, nodeId });
      return checkResult(type, await result);
    } finally {
      // When publishing failed (the broker is away), nobody awaits `result`: its timer is not needed.
      clearTimeout(timer);
      this.results.off(id, onResult);
      if (onProgress) this.progress.off(id, onProgress);
      this.pending.delete(id);
    }
  }

  /**
   * Delivers a result to its sender, but only from the node the command was sent to. The sender
   * is the result's `nodeId`, which the events consumer has already matched against the routing
   * key (and the broker lets each node publish only under its own keys).
   */
  handleResult(r: CommandResult): ResultDisposition {
    const target = this.pending.get(r.commandId);
    if (target === undefined) return "unexpected";
    if (target !== r.nodeId) {
      this.log.warn("Refused a command result from another node than the command's", { commandId: r.commandId, sentTo: target, from: r.nodeId });
      return "foreign";
    }
    this.results.emit(r.commandId, r);
    return "accepted";
  }

  /** Progress counts only from the node the command was sent to, like results. */
  handleProgress(p: CommandProgress): ResultDisposition {
    const target = this.pending.get(p.commandId);
    if (target === undefined) return "unexpected";
    if (target !== p.nodeId) return "foreign";
    this.progress.emit(p.commandId, p);
    return "accepted";
  }
}

/** Checks a node's answer against the result schema of its command type. */
export function checkResult<T extends CommandType>(type: T, r: CommandResult): TypedCommandResult<T> {
  const { ok: _ok, result: _result, error, ...envelope } = r;
  if (!r.ok) {
    return { ...envelope, ok: false, error: error ?? toWire(new ExternalError(`node ${r.nodeId} reported ${type} failed without saying why`)) };
  }
  const parsed = commandResults[type].safeParse(r.result);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error, "result");
    const err = new ExternalError(`node ${r.nodeId} answered ${type} with a malformed result (${field}: ${message})`, { retryable: false });
    return { ...envelope, ok: false, error: toWire(err) };
  }
  return { ...envelope, ok: true, result: parsed.data as CommandResultValue<T> };
}
