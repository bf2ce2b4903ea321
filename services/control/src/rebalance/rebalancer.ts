import { setImmediate as yieldToLoop } from "node:timers/promises";
import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MigrationOrchestrator } from "../migration/migration-orchestrator.js";
import type { MigrationStore } from "../migration/migration-store.js";
import type { ClusterSnapshot } from "../placement/cluster-snapshot.js";
import { planMoves, type MoveBudget, type PlannedMoves } from "../placement/move-planner.js";
import { createPolicy, resolvePolicyArgs } from "../placement/policy-registry.js";
import { nodeStatus } from "../registry/node-liveness.js";
import type { StateStore } from "../state/state-store.js";
import type { ForecastCache } from "./forecast-cache.js";
import { buildSnapshot, containerLineage, downsample, joinHistories, type LiveContainer } from "./snapshot-builder.js";

export interface RebalancerOptions {
  /** With several control replicas: automatic rounds run only while this says so (the leader). */
  mayRun?: () => boolean;
  state: StateStore;
  migrations: MigrationStore;
  orchestrator: MigrationOrchestrator;
  forecasts: ForecastCache;
  log: Logger;
  policy: string;
  policyArgs: unknown;
  budget: MoveBudget;
  intervalMs: number;
  /** Telemetry interval: history points per planning interval = intervalMs / sampleMs. */
  sampleMs: number;
  /** Telemetry points of history read per container (the state store's configured history length). */
  historyPoints?: number;
  downAfterMs: number;
  /**
   * Above this many running containers the snapshot reads the planning series kept at ingest (one
   * mean per planning interval) instead of every container's full telemetry history: at 20,000
   * containers the full read was 12 million points and took longer than a round (bench:scale).
   * Default 2,000; at or below it the snapshot reads full histories as before.
   */
  seriesAbove?: number;
  /** Used until a committed migration has been measured. */
  defaultTransferRateBps?: number;
  now?: () => number;
}

export interface PlanReport {
  policy: string;
  args: unknown;
  at: number;
  nodes: Array<{ id: string; up: boolean; cpuPct: number; memPct: number; containers: number }>;
  proposals: PlannedMoves["allowed"];
  planned: PlannedMoves;
  forecastModels: Record<string, string>;
  /** Where the round's time went (ms). */
  tookMs: RoundTimings;
}

export interface RoundTimings {
  /** Reading nodes, containers and recent migrations. */
  listing: number;
  /** Reading the containers' CPU series (planning series or histories). */
  series: number;
  forecast: number;
  /** The policy's proposals and the move budgets. */
  decide: number;
}

/**
 * The control loop's one place that acts on placement: it takes a snapshot, asks the active
 * policy (pure) for moves, passes them through the move planner's budgets (pure) and starts
 * exactly the moves the planner allows. `plan` does all but the last step.
 */
export class Rebalancer {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private readonly now: () => number;
  private lastRound?: { at: number; started: string[]; error?: string };
  private policy: string;
  private policyArgs: unknown;

  constructor(private readonly o: RebalancerOptions) {
    this.now = o.now ?? Date.now;
    // Validates the policy and its arguments at start-up (throws naming the argument and range).
    createPolicy(o.policy, o.policyArgs);
    this.policy = o.policy;
    this.policyArgs = o.policyArgs;
  }

  /** Switches the active policy (validated first: a bad name or argument changes nothing). */
  setPolicy(name: string, args: unknown = {}): void {
    createPolicy(name, args);
    this.policy = name;
    this.policyArgs = args;
    this.o.log.info("Placement policy set", { policy: name, args });
  }

  async snapshot(): Promise<{ snapshot: ClusterSnapshot; models: Record<string, string>; tookMs: Omit<RoundTimings, "decide"> }> {
    const now = this.now();
    const started = performance.now();
    const intervalSec = this.o.intervalMs / 1000;
    const per = Math.max(1, Math.round(this.o.intervalMs / this.o.sampleMs));
    // Independent reads at once: under ingest load each waits behind Redis' queue of scripts, so one after another
    // they added up (bench:scale at 1,000 nodes: reading state was 1.7 s of a 2.3 s round).
    const [nodeRecords, records, recent] = await Promise.all([this.o.state.listNodes(), this.o.state.listContainers(), this.o.migrations.list(200)]);
    const listingMs = performance.now() - started;
    const nodes = nodeRecords.map((n) => ({ ...n, status: nodeStatus(n, now, this.o.downAfterMs) }));
    const models: Record<string, string> = {};
    const containers: LiveContainer[] = [];
    this.o.forecasts.beginRound();
    const histories: Array<{ record: (typeof records)[number]; cpuHistory: number[] }> = [];
    const points = this.o.historyPoints ?? 600;
    // Histories are read 500 containers at a time (concurrently, one pipelined write with auto-pipelining), not one by one:
    // at 20,000 containers the sequential reads alone took many seconds (bench:scale).
    const live = records.filter((r) => r.state === "running");
    const usePlanSeries = live.length > (this.o.seriesAbove ?? 2_000) && this.o.state.planIntervalMs === this.o.intervalMs;
    if (usePlanSeries) {
      const lineages = live.map((record) => containerLineage(record.id, recent));
      const [series, inProgress] = await Promise.all([
        this.o.state.cpuPlanSeries([...new Set(lineages.flat())]),
        this.o.state.cpuPlanCurrent([...new Set(live.map((r) => r.nodeId))]),
      ]);
      const maxPoints = Math.max(1, Math.ceil(points / per));
      live.forEach((record, k) => {
        const parts = lineages[k]!.map((id) => series.get(id) ?? []);
        const now = inProgress.get(record.id);
        const joined = joinHistories([...parts, now ? [now] : []], maxPoints);
        histories.push({ record, cpuHistory: joined.map((p) => p.cpuPct) });
      });
    }
    for (let i = 0; i < (usePlanSeries ? 0 : live.length); i += 500) {
      const chunk = live.slice(i, i + 500);
      const raws = await Promise.all(
        chunk.map(async (record) => {
          // Keyed by the container's identity, not its current id: a migrated container keeps its past.
          const ids = containerLineage(record.id, recent);
          return joinHistories(await Promise.all(ids.map((id) => this.o.state.containerHistory(id, points))), points);
        }),
      );
      chunk.forEach((record, k) =>
        histories.push({
          record,
          cpuHistory: downsample(
            raws[k]!.map((p) => p.cpuPct),
            per,
          ),
        }),
      );
    }
    const readMs = performance.now() - started;
    this.o.forecasts.refreshPooledInBackground(histories.map((h) => h.cpuHistory));
    // 5,000 forecasts at a time: a series without a model in memory looks for a saved one in Redis, and one
    // awaited look-up after another took minutes at 20,000 containers while ingest kept Redis busy; 500 at a time
    // still made 40 waits for Redis per round (bench:scale). A turn of the event loop between chunks: forecasts from
    // models in memory never wait, and 20,000 of them in one piece held ingest on this replica for ~0.3 s.
    for (let i = 0; i < histories.length; i += 5_000) {
      if (i > 0) await yieldToLoop();
      const chunk = histories.slice(i, i + 5_000);
      const forecasts = await Promise.all(chunk.map(({ record, cpuHistory }) => this.o.forecasts.forecast(`container:${record.name}:cpu`, cpuHistory)));
      chunk.forEach(({ record, cpuHistory }, k) => {
        const f = forecasts[k]!;
        models[record.name] = f.model;
        containers.push({ record, cpuHistory, cpuForecast: f.values });
      });
    }
    this.o.forecasts.forget(new Set(records.map((r) => `container:${r.name}:cpu`)));
    const lastMigratedAt = new Map<string, number>();
    const rates: number[] = [];
    for (const m of recent) {
      if (m.state === "committed" && m.finishedAt) {
        lastMigratedAt.set(m.containerName, Math.max(lastMigratedAt.get(m.containerName) ?? 0, m.finishedAt));
        if (m.totalMs && m.bytes > 0) rates.push((m.bytes / m.totalMs) * 1000);
      }
    }
    const transferRateBps = rates.length ? rates.slice(0, 10).reduce((a, b) => a + b, 0) / Math.min(10, rates.length) : (this.o.defaultTransferRateBps ?? 50e6);
    const running = recent.filter((m) => m.state === "running" || m.state === "rolling-back");
    const snapshot = buildSnapshot({ now, intervalSec, nodes, containers, running, lastMigratedAt, transferRateBps });
    const tookMs = { listing: Math.round(listingMs), series: Math.round(readMs - listingMs), forecast: Math.round(performance.now() - started - readMs) };
    return { snapshot, models, tookMs };
  }

  /** What the policy would do now and why (dry run). */
  async plan(override?: { policy?: string; args?: unknown }): Promise<PlanReport> {
    const policyName = override?.policy ?? this.policy;
    const rawArgs = override?.policy ? (override.args ?? {}) : (override?.args ?? this.policyArgs);
    const policy = createPolicy(policyName, rawArgs);
    const { snapshot, models, tookMs } = await this.snapshot();
    const deciding = performance.now();
    const proposals = policy.propose(snapshot);
    const planned = planMoves(snapshot, proposals, { ...this.o.budget, dryRun: true });
    const decide = Math.round(performance.now() - deciding);
    const counts = new Map<string, number>();
    for (const c of snapshot.containers) counts.set(c.nodeId, (counts.get(c.nodeId) ?? 0) + 1);
    return {
      policy: policyName,
      args: resolvePolicyArgs(policyName, rawArgs),
      at: snapshot.now,
      nodes: snapshot.nodes.map((n) => ({
        id: n.id,
        up: n.up,
        cpuPct: n.capacity.cpu ? (100 * n.usage.cpu) / n.capacity.cpu : 0,
        memPct: n.capacity.memoryBytes ? (100 * n.usage.memoryBytes) / n.capacity.memoryBytes : 0,
        containers: counts.get(n.id) ?? 0,
      })),
      proposals,
      planned,
      forecastModels: models,
      tookMs: { ...tookMs, decide },
    };
  }

  /** One round: plan with the budgets and start exactly the moves they allow. */
  async rebalance(): Promise<{ started: Array<{ migrationId: string; container: string; from: string; to: string; reason: string }>; plan: PlanReport }> {
    const policy = createPolicy(this.policy, this.policyArgs);
    const { snapshot, models, tookMs } = await this.snapshot();
    const deciding = performance.now();
    const proposals = policy.propose(snapshot);
    const planned = planMoves(snapshot, proposals, { ...this.o.budget, dryRun: false });
    const decide = Math.round(performance.now() - deciding);
    if (proposals.length) {
      this.o.log.info("Rebalance round", {
        proposed: proposals.length,
        starting: planned.start.length,
        held: planned.rejected.map((r) => `${r.move.containerId.slice(0, 12)} ${r.move.from}→${r.move.to}: ${r.why}`),
      });
    }
    const started = [];
    for (const move of planned.start) {
      try {
        const record = await this.o.orchestrator.start({ container: move.containerId, to: move.to });
        this.o.log.info("Rebalance started a migration", {
          migrationId: record.id,
          container: record.containerName,
          from: move.from,
          to: move.to,
          reason: move.reason,
        });
        started.push({ migrationId: record.id, container: record.containerName, from: move.from, to: move.to, reason: move.reason });
      } catch (err) {
        this.o.log.warn("Rebalance move refused", { container: move.containerId, to: move.to, error: errorMessage(err) });
      }
    }
    const plan: PlanReport = {
      policy: this.policy,
      args: resolvePolicyArgs(this.policy, this.policyArgs),
      at: snapshot.now,
      nodes: [],
      proposals,
      planned,
      forecastModels: models,
      tookMs: { ...tookMs, decide },
    };
    return { started, plan };
  }

  setAuto(enabled: boolean): void {
    if (enabled && !this.timer) {
      this.timer = setInterval(() => void this.round(), this.o.intervalMs);
      this.o.log.info("Automatic rebalancing on", { policy: this.policy, intervalMs: this.o.intervalMs });
    } else if (!enabled && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.o.log.info("Automatic rebalancing off");
    }
  }

  autoStatus() {
    return {
      enabled: this.timer !== undefined,
      policy: this.policy,
      args: resolvePolicyArgs(this.policy, this.policyArgs),
      intervalMs: this.o.intervalMs,
      budget: this.o.budget,
      lastRound: this.lastRound,
    };
  }

  private async round(): Promise<void> {
    if (this.busy || (this.o.mayRun && !this.o.mayRun())) return;
    this.busy = true;
    try {
      const { started } = await this.rebalance();
      this.lastRound = { at: this.now(), started: started.map((s) => s.migrationId) };
    } catch (err) {
      this.lastRound = { at: this.now(), started: [], error: errorMessage(err) };
      this.o.log.warn("Rebalance round failed", { error: errorMessage(err) });
    } finally {
      this.busy = false;
    }
  }

  /** The fleet-wide pooled forecasting model, once a round has fitted one. */
  pooledModel() {
    return this.o.forecasts.pooledModel();
  }

  stop(): void {
    this.setAuto(false);
  }
}
