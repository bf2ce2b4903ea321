import { z } from "zod";
import {
  CommandEnvelope,
  type CommandEnvelope as CommandEnvelopeType,
  commandPayloads,
  commandResults,
  describeZodError,
  type CommandPayload,
  type CommandResultValue,
  type CommandType,
} from "../../../../shared/src/contracts/index.js";
import { EVENT_VERSION, type CommandResult } from "../../../../shared/src/contracts/events.js";
import { ExternalError, TimeoutError, UnrecoverableError, toWire } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { ProcessedCommandStore } from "./processed-command-store.js";

export interface CommandContext {
  commandId: string;
  /**
   * Aborted when the command's time is up (the `timeoutMs` control gave it): handlers pass it to
   * every process and remote call they make, which are then killed or abandoned.
   */
  signal: AbortSignal;
  /** Reports progress of a long command (lossy; for the user's eyes). */
  progress(step: string, detail?: { bytes?: number; totalBytes?: number; message?: string }): void;
}

export type CommandHandler<T extends CommandType> = (payload: CommandPayload<T>, ctx: CommandContext) => Promise<CommandResultValue<T>>;
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
    const timeout = envelope.timeoutMs;
    // Not AbortSignal.timeout(): its timer is unref'd, and a deadline must fire even when nothing else is pending.
    const abort = new AbortController();
    const timer = timeout ? setTimeout(() => abort.abort(new Error(`deadline of ${timeout} ms passed`)), timeout) : undefined;
    const signal = abort.signal;
    const ctx: CommandContext = {
      commandId: envelope.id,
      signal,
      progress: (step, detail = {}) => this.publishProgress(envelope.id, step, detail),
    };
    this.log.info("Running command", { commandId: envelope.id, type: envelope.type, timeoutMs: timeout });
    const startedAt = this.now();
    const base = { v: EVENT_VERSION, kind: "command.result" as const, nodeId: this.nodeId, commandId: envelope.id, commandType: envelope.type, startedAt };
    let result: CommandResult;
    try {
      const value = await handler(data, ctx);
      // The answer is checked against the protocol before it leaves: a handler bug is reported
      // as a failure here, not discovered by control as a malformed message.
      const checked = (commandResults[envelope.type] as z.ZodType).safeParse(value);
      if (!checked.success) {
        const { field, message } = describeZodError(checked.error, "result");
        throw new ExternalError(`${envelope.type} produced a result that breaks the protocol (${field}: ${message})`, { retryable: false });
      }
      result = { ...base, ok: true, result: checked.data, finishedAt: this.now() };
      this.log.info("Command succeeded", { commandId: envelope.id, type: envelope.type, durationMs: result.finishedAt - startedAt });
    } catch (err) {
      const error =
        signal.aborted && !(err instanceof TimeoutError)
          ? new TimeoutError(`${envelope.type} ran out of its ${timeout} ms: ${(err as Error).message}`, { retryable: false })
          : err;
      result = { ...base, ok: false, error: toWire(error), finishedAt: this.now() };
      this.log.warn("Command failed", { commandId: envelope.id, type: envelope.type, error: result.error?.message });
    } finally {
      clearTimeout(timer);
    }
    // Stored before publishing: if we crash in between, the redelivery republishes it.
    this.store.put(result);
    return result;
  }
}
