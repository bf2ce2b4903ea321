import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  COMMAND_VERSION,
  commandPayloads,
  type Command,
  type CommandPayload,
  type CommandProgress,
  type CommandResult,
  type CommandType,
  parseOrThrow,
} from "../../../../shared/src/contracts/index.js";
import { ExternalError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MessageBus } from "../../../../shared/src/messaging/message-bus.js";
import { EXCHANGES, ROUTING } from "../../../../shared/src/topology.js";

export interface SendOptions {
  /** How long to wait for the node's result. The command itself stays queued for the node. */
  timeoutMs?: number;
  /** Reuse an id to resend the same command idempotently (e.g. a resumed migration step). */
  commandId?: string;
  onProgress?: (p: CommandProgress) => void;
}

/**
 * Sends commands to nodes over their durable queues and matches the results that come back on
 * the events exchange. Results are delivered by `handleResult`, called by the events consumer.
 */
export class CommandClient {
  private readonly results = new EventEmitter();
  private readonly progress = new EventEmitter();

  constructor(
    private readonly bus: MessageBus,
    private readonly log: Logger,
  ) {
    this.results.setMaxListeners(0);
    this.progress.setMaxListeners(0);
  }

  async send<T extends CommandType>(nodeId: string, type: T, payload: CommandPayload<T>, options: SendOptions = {}): Promise<CommandResult> {
    const id = options.commandId ?? randomUUID();
    const command: Command<T> = {
      v: COMMAND_VERSION,
      id,
      type,
      nodeId,
      issuedAt: Date.now(),
      payload: parseOrThrow(commandPayloads[type], payload, "payload") as CommandPayload<T>,
    };
    const timeoutMs = options.timeoutMs ?? 60_000;
    const result = new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.results.off(id, onResult);
        reject(new ExternalError(`node ${nodeId} did not answer ${type} command ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onResult = (r: CommandResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.results.once(id, onResult);
    });
    const onProgress = options.onProgress;
    if (onProgress) this.progress.on(id, onProgress);
    try {
      await this.bus.publish(EXCHANGES.commands, ROUTING.command(nodeId), command, {
        persistent: true,
        messageId: id,
        timeoutMs: Math.min(timeoutMs, 30_000),
      });
      this.log.debug("Sent command", { commandId: id, type, nodeId });
      return await result;
    } finally {
      if (onProgress) this.progress.off(id, onProgress);
    }
  }

  handleResult(r: CommandResult): void {
    this.results.emit(r.commandId, r);
  }

  handleProgress(p: CommandProgress): void {
    this.progress.emit(p.commandId, p);
  }
}
