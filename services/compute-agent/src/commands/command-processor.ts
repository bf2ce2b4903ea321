import { z } from "zod";
import {
  CommandEnvelope,
  type CommandEnvelope as CommandEnvelopeType,
  commandPayloads,
  describeZodError,
  type CommandPayload,
  type CommandType,
} from "../../../../shared/src/contracts/index.js";
import { EVENT_VERSION, type CommandResult } from "../../../../shared/src/contracts/events.js";
import { UnrecoverableError, toWire } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { ProcessedCommandStore } from "./processed-command-store.js";

export interface CommandContext {
  commandId: string;
  /** Reports progress of a long command (lossy; for the user's eyes). */
  progress(step: string, detail?: { bytes?: number; totalBytes?: number; message?: string }): void;
}

export type CommandHandler<T extends CommandType> = (payload: CommandPayload<T>, ctx: CommandContext) => Promise<unknown>;
export type CommandHandlers = { [T in CommandType]?: CommandHandler<T> };

/**
 * Turns one raw command message into exactly one result. Malformed envelopes or payloads,
 * commands for another node and unknown types throw UnrecoverableError (the bus dead-letters
 * them). A command seen before is answered from the store without running again. A handler's
 * failure is a result with ok=false, not a dead letter: the command was understood.
 */
export class CommandProcessor {
  /** Commands running now: a duplicate delivered meanwhile waits for the same outcome. */
  private readonly inFlight = new Map<string, Promise<CommandResult>>();

  constructor(
    private readonly nodeId: string,
    private readonly handlers: CommandHandlers,
    private readonly store: ProcessedCommandStore,
    private readonly publishResult: (result: CommandResult) => Promise<void>,
    private readonly publishProgress: (commandId: string, step: string, detail: object) => void,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async process(body: unknown): Promise<CommandResult> {
    const parsed = CommandEnvelope.safeParse(body);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      throw new UnrecoverableError(`malformed command: ${field}: ${message}`);
    }
    const envelope = parsed.data;
    if (envelope.nodeId !== this.nodeId) {
      throw new UnrecoverableError(`command ${envelope.id} is for node ${envelope.nodeId}, not ${this.nodeId}`);
    }
    const running = this.inFlight.get(envelope.id);
    if (running) {
      this.log.info("Command already running, waiting for it", { commandId: envelope.id, type: envelope.type });
      const r = await running;
      await this.publishResult(r);
      return r;
    }
    const previous = this.store.get(envelope.id);
    if (previous) {
      this.log.info("Command already handled, answering again", { commandId: envelope.id, type: envelope.type });
      await this.publishResult(previous);
      return previous;
    }
    const schema = commandPayloads[envelope.type] as z.ZodType;
    const payload = schema.safeParse(envelope.payload ?? {});
    if (!payload.success) {
      const { field, message } = describeZodError(payload.error, "payload");
      throw new UnrecoverableError(`malformed ${envelope.type} command: ${field}: ${message}`);
    }
    const handler = this.handlers[envelope.type] as CommandHandler<CommandType> | undefined;
    if (!handler) throw new UnrecoverableError(`this agent cannot handle ${envelope.type} commands`);
    const run = this.run(envelope, handler, payload.data as CommandPayload<CommandType>);
    this.inFlight.set(envelope.id, run);
    try {
      const result = await run;
      await this.publishResult(result);
      return result;
    } finally {
      this.inFlight.delete(envelope.id);
    }
  }

  private async run(envelope: CommandEnvelopeType, handler: CommandHandler<CommandType>, data: CommandPayload<CommandType>): Promise<CommandResult> {
    const ctx: CommandContext = {
      commandId: envelope.id,
      progress: (step, detail = {}) => this.publishProgress(envelope.id, step, detail),
    };
    this.log.info("Running command", { commandId: envelope.id, type: envelope.type });
    const base = { v: EVENT_VERSION, kind: "command.result" as const, nodeId: this.nodeId, commandId: envelope.id, commandType: envelope.type };
    let result: CommandResult;
    try {
      const value = await handler(data, ctx);
      result = { ...base, ok: true, result: value ?? null, finishedAt: this.now() };
      this.log.info("Command succeeded", { commandId: envelope.id, type: envelope.type });
    } catch (err) {
      result = { ...base, ok: false, error: toWire(err), finishedAt: this.now() };
      this.log.warn("Command failed", { commandId: envelope.id, type: envelope.type, error: result.error?.message });
    }
    // Stored before publishing: if we crash in between, the redelivery republishes it.
    this.store.put(result);
    return result;
  }
}
