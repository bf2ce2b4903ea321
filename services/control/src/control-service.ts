import type { Server } from "node:http";
import { hostname } from "node:os";
import { Redis } from "ioredis";
import { controlSettings, type Settings } from "../../../shared/src/config.js";
import { errorMessage } from "../../../shared/src/errors.js";
import type { Logger } from "../../../shared/src/logger.js";
import { AmqpMessageBus } from "../../../shared/src/messaging/amqp-message-bus.js";
import type { MessageBus } from "../../../shared/src/messaging/message-bus.js";
import { EXCHANGES, QUEUES, declareControlTopology, declareNodeTopology, declareReplicaResultsQueue, isResultKey } from "../../../shared/src/topology.js";
import { buildControlApi } from "./api/control-api.js";
import { NodeJoin } from "./join/node-join.js";
import { RabbitmqNodeUsers } from "./join/rabbitmq-node-users.js";
import { CommandClient } from "./commands/command-client.js";
import { ControlMetrics } from "./control-metrics.js";
import { MessageIngest } from "./ingest/message-ingest.js";
import { QosEventHandler } from "./qos/qos-event-handler.js";
import { MigrationOrchestrator } from "./migration/migration-orchestrator.js";
import { RedisMigrationStore } from "./migration/migration-store.js";
import { RedisModelStore } from "./forecast/redis-model-store.js";
import { parseMoveBudget } from "./placement/move-planner.js";
import { ForecastCache } from "./rebalance/forecast-cache.js";
import { JobManager } from "./jobs/job-manager.js";
import { RedisJobStore } from "./jobs/redis-job-store.js";
import { Rebalancer } from "./rebalance/rebalancer.js";
import { RedisLeaderLease } from "./leader/leader-lease.js";
import { AddressSweeper } from "./network/address-sweeper.js";
import { LivenessTracker, nodeStatus } from "./registry/node-liveness.js";
import { RedisStateStore } from "./state/redis-state-store.js";
import { ContainerNameGuard } from "./names/name-guard.js";
import { RedisContainerNames } from "./names/redis-container-names.js";
import { dashboard } from "./ui/dashboard.js";
import type { StateStore } from "./state/state-store.js";
import { parseAddressRange } from "../../../shared/src/contracts/cluster-network.js";
import { NetworkAttachments } from "./network/network-attachment.js";
import { RedisAddressClaims } from "./network/redis-address-claims.js";

export type ControlSettings = Settings<typeof controlSettings>;

/** Wires the control service: broker, Redis, ingest, liveness, REST API. */
export class ControlService {
  readonly metrics = new ControlMetrics();
  private redis?: Redis;
  private bus?: AmqpMessageBus;
  private server?: Server;
  private livenessTimer?: NodeJS.Timeout;
  private adoptTimer?: NodeJS.Timeout;
  private adopting = false;
  lease!: RedisLeaderLease;
  private addressSweeper: AddressSweeper | undefined;
  private closeDashboard?: () => void;
  store!: StateStore;
  commands!: CommandClient;
  migrations!: MigrationOrchestrator;
  rebalancer!: Rebalancer;
  jobs!: JobManager;

  constructor(
    private readonly settings: ControlSettings,
    private readonly log: Logger,
  ) {}

  /** Node join is on when control can reach the broker's management API as its administrator. */
  private nodeJoin(s: ControlSettings): NodeJoin {
    const missing = [
      ...(s.HERD_JOIN_MANAGEMENT_URL ? [] : ["HERD_JOIN_MANAGEMENT_URL"]),
      ...(s.HERD_JOIN_ADMIN_PASSWORD ? [] : ["HERD_JOIN_ADMIN_PASSWORD"]),
      ...(s.HERD_JOIN_BROKER_ADDRESS ? [] : ["HERD_JOIN_BROKER_ADDRESS"]),
      ...(s.HERD_TRANSFER_SECRET ? [] : ["HERD_TRANSFER_SECRET"]),
    ];
    if (!s.HERD_JOIN_MANAGEMENT_URL || !s.HERD_JOIN_ADMIN_PASSWORD || !s.HERD_JOIN_BROKER_ADDRESS || !s.HERD_TRANSFER_SECRET) {
      return new NodeJoin(undefined, undefined, missing);
    }
    const users = new RabbitmqNodeUsers({
      managementUrl: s.HERD_JOIN_MANAGEMENT_URL,
      adminUser: s.HERD_JOIN_ADMIN_USER,
      adminPassword: s.HERD_JOIN_ADMIN_PASSWORD,
      vhost: s.HERD_JOIN_VHOST,
      log: this.log.child({ component: "join" }),
    });
    return new NodeJoin(users, { brokerAddress: s.HERD_JOIN_BROKER_ADDRESS, vhost: s.HERD_JOIN_VHOST, transferSecret: s.HERD_TRANSFER_SECRET });
  }

  async start(): Promise<void> {
    const s = this.settings;
    // No Redis call waits forever: during an outage a command fails after 10 s and its caller retries or gives up within its own bound.
    // Auto-pipelining: the commands of concurrent handlers (up to the prefetch of each queue) leave in one write (bench:scale).
    const redis = new Redis(s.HERD_REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false, commandTimeout: 10_000, enableAutoPipelining: true });
    redis.on("error", (err: Error) => this.log.warn("Redis error", { error: err.message }));
    this.redis = redis;
    // The planning series kept at ingest has one point per rebalance interval, as long a past as the raw history.
    // Bulk reads (listings, rebalance rounds) on a second connection, so they do not queue behind ingest's scripts.
    const reader = redis.duplicate();
    reader.on("error", (err: Error) => this.log.warn("Redis error (reads)", { error: err.message }));
    const store = new RedisStateStore(
      redis,
      s.HERD_HISTORY_LENGTH,
      "herd:",
      {
        intervalMs: s.HERD_REBALANCE_INTERVAL_MS,
        points: Math.max(1, Math.ceil((s.HERD_HISTORY_LENGTH * s.HERD_TELEMETRY_INTERVAL_MS) / s.HERD_REBALANCE_INTERVAL_MS)),
      },
      reader,
    );
    this.store = store;

    const replicaId = s.HERD_REPLICA_ID ?? `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, "-");
    const resultsQueue = QUEUES.replicaResults(replicaId);
    const bus = new AmqpMessageBus({
      url: s.HERD_AMQP_URL,
      logger: this.log.child({ component: "bus" }),
      connectionName: `herd-control-${replicaId}`,
      setup: async (ch, conn) => {
        await declareControlTopology(ch, conn);
        await declareReplicaResultsQueue(ch, replicaId);
        // Re-declaring known nodes' queues makes a broker that lost its definitions whole again.
        for (const n of await store.listNodes().catch(() => [])) await declareNodeTopology(ch, n.id);
      },
    });
    this.bus = bus;
    this.commands = new CommandClient(bus, this.log.child({ component: "commands" }));
    // The orchestrator is created below; QoS migration requests only arrive once it exists.
    const qos = new QosEventHandler({
      state: store,
      migrations: { start: (req) => this.migrations.start(req) },
      downAfterMs: s.HERD_NODE_DOWN_AFTER_MS,
      log: this.log.child({ component: "qos" }),
      onRejected: (reason) => this.metrics.rejected.inc({ queue: "events", reason }),
    });
    const ingest = new MessageIngest(store, this.commands, this.metrics, this.log.child({ component: "ingest" }), s.HERD_METRICS_PER_CONTAINER, (m) =>
      qos.handle(m),
    );
    // Messages the bus refuses before a handler sees them (malformed JSON) are counted too.
    const rejectedOn = (queue: string) => (reason: string) => this.metrics.rejected.inc({ queue, reason });
    const migrationStore = new RedisMigrationStore(redis);
    this.jobs = new JobManager({
      jobs: new RedisJobStore(redis),
      state: store,
      commands: this.commands,
      log: this.log.child({ component: "jobs" }),
      defaults: { policy: s.HERD_JOBS_POLICY, paused: false },
      downAfterMs: s.HERD_NODE_DOWN_AFTER_MS,
      isMigrating: async (name) => (await migrationStore.lockHolder(name)) !== undefined,
      mayPlace: () => this.lease?.isLeader() ?? false,
    });
    const jobs = this.jobs;
    const jobsLog = this.log.child({ component: "jobs" });
    // 200 batches in flight: at 1,000 nodes a batch spends tens of ms in Redis round trips, so 50 capped ingest below 1,000/s (bench:scale).
    await bus.consume(
      QUEUES.telemetryIngest,
      async (m) => {
        const batch = await ingest.onTelemetry(m);
        // Jobs follow their containers in telemetry; that bookkeeping never holds up or fails ingest.
        void jobs.observe(batch).catch((err: unknown) => jobsLog.warn("Job bookkeeping failed", { error: errorMessage(err) }));
      },
      // No DLX on the telemetry queue (topology.ts): a rejected batch is dead-lettered by the bus itself.
      // Acks coalesced over 20 ms: one `multiple` ack for ~20 batches at 1,000 nodes instead of 20 frames for the broker.
      // Prefetch 200: with 64 (tried, bench:scale at 1,000 nodes) two replicas could just keep up and never drained a
      // backlog (1,411 batches lost in 150 s); the window of batches in flight has to cover acks coalesced over 20 ms
      // and the script's round trip.
      { prefetch: 200, onRejected: rejectedOn("telemetry"), deadLetterExchange: EXCHANGES.dead, ackEveryMs: 20 },
    );
    // Replicas compete for the shared events queue; results and progress reach every replica through its own queue instead.
    await bus.consume(QUEUES.controlEvents, (m) => (isResultKey(m.routingKey) ? Promise.resolve() : ingest.onEvent(m)), {
      prefetch: 100,
      onRejected: rejectedOn("events"),
    });
    await bus.consume(resultsQueue, (m) => ingest.onEvent(m), { prefetch: 100, onRejected: rejectedOn("events") });
    await bus.start();

    this.startLivenessLoop(store);

    // Only the leader drives migrations and runs automatic rebalancing; its migration writes are fenced by the lease.
    const lease = new RedisLeaderLease({
      redis,
      replicaId,
      log: this.log.child({ component: "leader" }),
      leaseMs: s.HERD_LEADER_LEASE_MS,
      apiUrl: `http://${s.HERD_API_HOST}:${s.HERD_API_PORT}`,
      onElected: () => this.adoptSoon(),
    });
    this.lease = lease;
    const fencedStore = new RedisMigrationStore(redis, "herd:", { leaseKey: lease.leaseKey, token: () => lease.token() });
    this.migrations = new MigrationOrchestrator({
      leadership: lease,
      submissions: migrationStore,
      migrations: fencedStore,
      state: store,
      commands: this.commands,
      log: this.log.child({ component: "migrations" }),
      downAfterMs: s.HERD_NODE_DOWN_AFTER_MS,
      transferPort: s.HERD_TRANSFER_PORT,
      deadlineMs: s.HERD_MIGRATION_DEADLINE_MS,
    });
    lease.start();
    // The leader adopts migrations recorded by other replicas (and unfinished ones of a dead leader).
    this.adoptTimer = setInterval(() => this.adoptSoon(), 1_000);

    this.rebalancer = new Rebalancer({
      state: store,
      migrations: migrationStore,
      orchestrator: this.migrations,
      forecasts: new ForecastCache({
        store: new RedisModelStore(reader),
        log: this.log.child({ component: "forecast" }),
        retrainMs: s.HERD_FORECAST_RETRAIN_MS,
        horizon: 6,
        maxHistory: s.HERD_HISTORY_LENGTH,
      }),
      log: this.log.child({ component: "rebalance" }),
      mayRun: () => lease.isLeader(),
      policy: s.HERD_POLICY,
      policyArgs: s.HERD_POLICY_ARGS,
      budget: parseMoveBudget({
        maxConcurrent: s.HERD_MAX_CONCURRENT_MIGRATIONS,
        maxPerNode: s.HERD_MAX_MIGRATIONS_PER_NODE,
        cooldownSec: s.HERD_MIGRATION_COOLDOWN_S,
      }),
      intervalMs: s.HERD_REBALANCE_INTERVAL_MS,
      sampleMs: s.HERD_TELEMETRY_INTERVAL_MS,
      historyPoints: s.HERD_HISTORY_LENGTH,
      downAfterMs: s.HERD_NODE_DOWN_AFTER_MS,
    });
    if (s.HERD_REBALANCE_AUTO) this.rebalancer.setAuto(true);

    await this.jobs.start();

    const claims = s.HERD_CLUSTER_RANGE ? new RedisAddressClaims(redis, parseAddressRange(s.HERD_CLUSTER_RANGE, "HERD_CLUSTER_RANGE")) : undefined;
    if (claims) {
      this.addressSweeper = new AddressSweeper({
        claims,
        state: store,
        migrations: migrationStore,
        log: this.log.child({ component: "network" }),
        mayRun: () => lease.isLeader(),
      });
      this.addressSweeper.start();
    }
    const ui = await dashboard({ state: store, migrations: migrationStore, downAfterMs: s.HERD_NODE_DOWN_AFTER_MS, log: this.log.child({ component: "ui" }) });
    this.closeDashboard = ui.close;
    const app = buildControlApi({
      store,
      commands: this.commands,
      metrics: this.metrics,
      token: s.HERD_API_TOKEN,
      downAfterMs: s.HERD_NODE_DOWN_AFTER_MS,
      log: this.log.child({ component: "api" }),
      health: () => ({ broker: bus.isConnected(), redis: redis.status === "ready" }),
      names: new ContainerNameGuard({ names: new RedisContainerNames(redis), state: store, log: this.log.child({ component: "names" }) }),
      migrations: this.migrations,
      migrationStore,
      rebalancer: this.rebalancer,
      jobs: this.jobs,
      sampleMs: s.HERD_TELEMETRY_INTERVAL_MS,
      leader: lease,
      qos,
      network: new NetworkAttachments(claims),
      addressClaims: claims,
      dashboard: ui,
      nodeJoin: this.nodeJoin(s),
    });
    await new Promise<void>((resolve, reject) => {
      const server = app.listen(s.HERD_API_PORT, s.HERD_API_HOST, () => resolve());
      server.once("error", reject);
      this.server = server;
    });
    this.log.info("Control service started", {
      replicaId,
      api: `http://${s.HERD_API_HOST}:${s.HERD_API_PORT}`,
    });
  }

  get messageBus(): MessageBus | undefined {
    return this.bus;
  }

  private adoptSoon(): void {
    if (this.adopting || !this.lease.isLeader()) return;
    this.adopting = true;
    this.migrations
      .recover()
      .catch((err: unknown) => this.log.warn("Adopting unfinished migrations failed", { error: errorMessage(err) }))
      .finally(() => {
        this.adopting = false;
      });
  }

  private startLivenessLoop(store: StateStore): void {
    const tracker = new LivenessTracker();
    const downAfter = this.settings.HERD_NODE_DOWN_AFTER_MS;
    this.livenessTimer = setInterval(() => {
      void (async () => {
        const nodes = await store.listNodes();
        const now = Date.now();
        for (const change of tracker.observe(nodes, now, downAfter)) {
          this.log[change.status === "up" ? "info" : "warn"](`Node is ${change.status}`, { nodeId: change.nodeId });
        }
        for (const n of nodes) this.metrics.nodeUp.set({ node: n.id }, nodeStatus(n, now, downAfter) === "up" ? 1 : 0);
        this.metrics.brokerReconnects.set(this.bus?.stats().reconnects ?? 0);
      })().catch((err: unknown) => this.log.warn("Liveness check failed", { error: errorMessage(err) }));
    }, 1_000);
  }

  /** Idempotent; runs every cleanup even if one fails. */
  async stop(): Promise<void> {
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.adoptTimer) clearInterval(this.adoptTimer);
    this.adoptTimer = undefined;
    await this.lease?.stop().catch(() => undefined);
    this.rebalancer?.stop();
    this.jobs?.stop();
    this.addressSweeper?.stop();
    this.livenessTimer = undefined;
    const server = this.server;
    this.server = undefined;
    this.closeDashboard?.();
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    // Open dashboard streams never end by themselves and would keep close() waiting.
    server?.closeAllConnections();
    await Promise.allSettled([closed, this.bus?.close(), this.store?.close()]);
  }
}
