import { CommandEnvelope, type CommandProgress, type CommandResult, type CommandType } from "../../../../shared/src/contracts/index.js";
import { EVENT_VERSION } from "../../../../shared/src/contracts/events.js";
import { ExternalError, UnrecoverableError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MessageBus, PublishOptions } from "../../../../shared/src/messaging/message-bus.js";
import { EXCHANGES } from "../../../../shared/src/topology.js";
import { CommandProcessor, type CommandContext, type CommandHandler, type CommandHandlers } from "./command-processor.js";
import { InMemoryProcessedCommandStore, type ProcessedCommandStore } from "./processed-command-store.js";

/**
 * Agents in this process, reached the way the control service reaches real ones: a command
 * published to a node's queue is delivered to that node's real CommandProcessor, stays queued
 * (unacknowledged) until the processor is done with it and is delivered again after an agent
 * "crash"; results and progress come back to every connected control. The handlers are whatever
 * the test gives (the agent's real migration handlers over real or in-memory runtimes).
 *
 * Faults are injected per node and command type, at the points where real agents fail: the work
 * fails, hangs until the command's own deadline, takes long, is done but never answered or
 * answered late, or the agent process dies (before or after doing the work; its durable journal
 * survives, its in-flight work and unpublished answers do not).
 */

export type Fault =
  /** The step fails (as an engine or CRIU error would), before doing anything. */
  | { kind: "fail"; retryable: boolean; message?: string }
  /** The work never finishes on its own: it runs until the command's deadline aborts it (like a hung CRIU killed at its deadline). */
  | { kind: "hang" }
  /** The work takes this long before it starts. */
  | { kind: "slow"; ms: number }
  /** The work is done, but no answer ever reaches control (also not for re-sent copies). */
  | { kind: "silent" }
  /** The work is done, the answer arrives this late. */
  | { kind: "late-answer"; ms: number }
  /** The agent process dies on receipt, or after doing the work but before recording and answering; restarts after `restartAfterMs` (never if null). */
  | { kind: "crash"; when: "on-receipt" | "after-work"; restartAfterMs?: number | null };

export interface FaultRule {
  node?: string;
  type: CommandType;
  fault: Fault;
  /** How many deliveries (or answers, for silent/late-answer) it affects; default: all. */
  times?: number;
}

/** What a control service holds: a publish-only bus for its CommandClient, and a way to stop hearing results. */
export interface ControlLink {
  bus: Pick<MessageBus, "publish">;
  /** Results and progress for this control go here (its CommandClient's handleResult/handleProgress). */
  onResult(fn: (r: CommandResult) => void, progress?: (p: CommandProgress) => void): void;
  /** The control process dies: its publishes never complete, it hears nothing more. */
  kill(): void;
}

interface Queued {
  body: unknown;
  delivering: boolean;
  redelivered: boolean;
}

interface Incarnation {
  life: { alive: boolean };
  processor: CommandProcessor;
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    });
  });

class LoopbackAgent {
  /** Durable across crashes, like the agent's journal file. */
  readonly journal: ProcessedCommandStore = new InMemoryProcessedCommandStore();
  private readonly queue: Queued[] = [];
  private incarnation: Incarnation;
  up = true;
  crashes = 0;
  readonly deadLettered: string[] = [];

  constructor(
    readonly nodeId: string,
    private readonly handlers: CommandHandlers,
    private readonly owner: LoopbackAgents,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.incarnation = this.incarnate();
  }

  private incarnate(): Incarnation {
    const life = { alive: true };
    const journal: ProcessedCommandStore = {
      get: (id) => this.journal.get(id),
      // A dead process writes nothing.
      put: (r) => {
        if (life.alive) this.journal.put(r);
      },
    };
    const wrapped: CommandHandlers = {};
    for (const type of Object.keys(this.handlers) as CommandType[]) {
      const real = this.handlers[type] as CommandHandler<CommandType> | undefined;
      if (real) (wrapped as Record<string, CommandHandler<CommandType>>)[type] = (payload, ctx) => this.runWithFaults(life, type, real, payload, ctx);
    }
    const processor = new CommandProcessor(
      this.nodeId,
      wrapped,
      journal,
      (r) => this.publishResult(life, r),
      (commandId, step, detail) => {
        if (life.alive)
          this.owner.deliverProgress({ v: EVENT_VERSION, kind: "command.progress", nodeId: this.nodeId, commandId, step, ...detail, at: this.now() });
      },
      this.log.child({ component: "commands", nodeId: this.nodeId }),
      this.now,
    );
    return { life, processor };
  }

  private async runWithFaults(
    inc: { alive: boolean },
    type: CommandType,
    real: CommandHandler<CommandType>,
    payload: Parameters<CommandHandler<CommandType>>[0],
    ctx: CommandContext,
  ): ReturnType<CommandHandler<CommandType>> {
    const fault = this.owner.take(this.nodeId, type, ["fail", "hang", "slow", "crash"]);
    if (fault?.kind === "fail") throw new ExternalError(fault.message ?? `injected ${type} failure`, { retryable: fault.retryable });
    if (fault?.kind === "hang") {
      await sleep(2 ** 31 - 1, ctx.signal);
    }
    if (fault?.kind === "slow") await sleep(fault.ms, ctx.signal);
    if (fault?.kind === "crash" && fault.when === "on-receipt") {
      this.crash(fault.restartAfterMs);
      return never();
    }
    const value = await real(payload, ctx);
    if (fault?.kind === "crash" && fault.when === "after-work") {
      this.crash(fault.restartAfterMs);
      return never();
    }
    if (!inc.alive) return never();
    return value;
  }

  private async publishResult(inc: { alive: boolean }, r: CommandResult): Promise<void> {
    if (!inc.alive) return never();
    const fault = this.owner.take(this.nodeId, r.commandType as CommandType, ["silent", "late-answer"]);
    if (fault?.kind === "silent") return;
    const copy = structuredClone(r);
    if (fault?.kind === "late-answer") {
      setTimeout(() => this.owner.deliverResult(copy), fault.ms);
      return;
    }
    this.owner.deliverResult(copy);
  }

  enqueue(body: unknown): void {
    const q: Queued = { body: structuredClone(body), delivering: false, redelivered: false };
    this.queue.push(q);
    this.deliver(q);
  }

  private deliver(q: Queued): void {
    if (!this.up || q.delivering) return;
    q.delivering = true;
    const { life, processor } = this.incarnation;
    processor.process(q.body).then(
      () => {
        if (life.alive) this.ack(q);
      },
      (err: unknown) => {
        if (!life.alive) return;
        if (err instanceof UnrecoverableError) {
          this.deadLettered.push(err.message);
          this.ack(q);
          return;
        }
        q.delivering = false;
        q.redelivered = true;
        setTimeout(() => this.deliver(q), 50);
      },
    );
  }

  private ack(q: Queued): void {
    const i = this.queue.indexOf(q);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** The agent process dies: in-flight work and unpublished answers are lost; queued commands stay. */
  crash(restartAfterMs: number | null = 50): void {
    if (!this.up) return;
    this.log.info("Agent crashed", { nodeId: this.nodeId });
    this.crashes++;
    this.incarnation.life.alive = false;
    this.up = false;
    for (const q of this.queue) {
      q.delivering = false;
      q.redelivered = true;
    }
    if (restartAfterMs !== null) setTimeout(() => this.restart(), restartAfterMs);
  }

  /** A new agent process: same journal, every unacknowledged command delivered again. */
  restart(): void {
    if (this.up) return;
    this.incarnation = this.incarnate();
    this.up = true;
    for (const q of [...this.queue]) this.deliver(q);
  }

  pending(): number {
    return this.queue.length;
  }
}

export interface LoopbackAgentsOptions {
  log: Logger;
  now?: () => number;
}

export class LoopbackAgents {
  private readonly agents = new Map<string, LoopbackAgent>();
  private readonly rules: FaultRule[] = [];
  private readonly listeners = new Set<{ result: (r: CommandResult) => void; progress?: (p: CommandProgress) => void }>();
  /** Every command published, in order (type and node): what control asked for. */
  readonly sent: Array<{ node: string; type: string; id: string }> = [];
  /** Hooks run when control publishes a command (e.g. to kill the control right after a given step is sent). */
  onPublish?: (node: string, type: CommandType, id: string) => void;

  constructor(private readonly o: LoopbackAgentsOptions) {}

  /** An agent for `nodeId`; `now` is its clock (the result's startedAt/finishedAt). */
  add(nodeId: string, handlers: CommandHandlers, now: () => number = this.o.now ?? Date.now): void {
    this.agents.set(nodeId, new LoopbackAgent(nodeId, handlers, this, this.o.log, now));
  }

  agent(nodeId: string): LoopbackAgent {
    const a = this.agents.get(nodeId);
    if (!a) throw new Error(`no agent ${nodeId}`);
    return a;
  }

  inject(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clearFaults(): void {
    this.rules.length = 0;
  }

  /** The first matching fault rule of one of `kinds`, used up by one. */
  take(node: string, type: CommandType, kinds: Array<Fault["kind"]>): Fault | undefined {
    const rule = this.rules.find(
      (r) => r.type === type && (r.node === undefined || r.node === node) && kinds.includes(r.fault.kind) && (r.times ?? Infinity) > 0,
    );
    if (!rule) return undefined;
    if (rule.times !== undefined) rule.times--;
    return rule.fault;
  }

  connect(): ControlLink {
    let alive = true;
    const listener: { result: (r: CommandResult) => void; progress?: (p: CommandProgress) => void } = { result: () => undefined };
    this.listeners.add(listener);
    return {
      bus: {
        publish: async (exchange: string, routingKey: string, body: unknown, _opts?: PublishOptions) => {
          if (!alive) return never();
          if (exchange !== EXCHANGES.commands) throw new ExternalError(`loopback agents only carry commands, not ${exchange}`, { retryable: false });
          const agent = this.agents.get(routingKey);
          if (!agent) throw new ExternalError(`no queue for node ${routingKey}`, { retryable: true });
          const envelope = CommandEnvelope.safeParse(body);
          agent.enqueue(body);
          if (envelope.success) {
            this.sent.push({ node: routingKey, type: envelope.data.type, id: envelope.data.id });
            this.onPublish?.(routingKey, envelope.data.type, envelope.data.id);
          }
        },
      },
      onResult: (fn, progress) => {
        listener.result = fn;
        if (progress) listener.progress = progress;
      },
      kill: () => {
        alive = false;
        this.listeners.delete(listener);
      },
    };
  }

  deliverResult(r: CommandResult): void {
    for (const l of [...this.listeners]) l.result(r);
  }

  deliverProgress(p: CommandProgress): void {
    for (const l of [...this.listeners]) l.progress?.(p);
  }
}
