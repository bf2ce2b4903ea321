import Dockerode from "dockerode";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { agentSettings, loadSettingsOrExit } from "../../../shared/src/config.js";
import { errorMessage } from "../../../shared/src/errors.js";
import { createLogger } from "../../../shared/src/logger.js";
import { AmqpMessageBus } from "../../../shared/src/messaging/amqp-message-bus.js";
import { ComputeAgent } from "./agent.js";
import { MetricSourceTelemetrySampler } from "./cgroup-telemetry-sampler.js";
import { containerCommandHandlers } from "./commands/container-commands.js";
import { FileProcessedCommandStore } from "./commands/processed-command-store.js";
import { DockerContainerDiscovery } from "./discovery/docker-container-discovery.js";
import { CgroupMetricSource } from "./metrics/cgroup-metric-source.js";
import { DockerMigrationEngineOps, migrationCommandHandlers } from "./commands/migration-commands.js";
import { DestinationMigrationSteps } from "./runtime/destination-migration-steps.js";
import { DockerCheckpointer } from "./runtime/docker-checkpointer.js";
import { dumpKey, RuncCheckpointer } from "./runtime/runc-checkpointer.js";
import { ArpingAddressAnnouncer } from "./runtime/address-announcer.js";
import { containerProcesses, ownIdentity } from "./runtime/process-identity.js";
import { DockerContainerRuntime } from "./runtime/docker-container-runtime.js";
import { DockerImageCache } from "./runtime/docker-image-cache.js";
import { ProcessGroups } from "./runtime/process-groups.js";
import { RsyncDaemon } from "./runtime/rsync-daemon.js";
import { RsyncFileTransfer } from "./runtime/rsync-file-transfer.js";
import { SourceMigrationSteps } from "./runtime/source-migration-steps.js";
import { createQosLoop } from "./qos/create-qos-loop.js";
import { checkMemoryPreCopy, checkPostCopy, type MemoryPreCopySupport, type PostCopySupport } from "./runtime/criu-features.js";

const s = loadSettingsOrExit(agentSettings);
const log = createLogger({ level: s.HERD_LOG_LEVEL, format: s.HERD_LOG_FORMAT }).child({ component: "agent", nodeId: s.HERD_NODE_ID });

/** No engine call hangs: a request idle for this long is abandoned (long transfers stream, so they are never idle). */
const ENGINE_IDLE_TIMEOUT_MS = 120_000;

function dockerFromHost(host: string): Dockerode {
  if (host.startsWith("unix://")) return new Dockerode({ socketPath: host.slice("unix://".length), timeout: ENGINE_IDLE_TIMEOUT_MS });
  const url = new URL(host.replace(/^tcp:/, "http:"));
  return new Dockerode({ host: url.hostname, port: Number(url.port || 2375), timeout: ENGINE_IDLE_TIMEOUT_MS });
}

const docker = dockerFromHost(s.HERD_DOCKER_HOST);
// Every process the agent starts runs with a deadline in its own group, recorded so that a
// restarted agent ends what a killed one left behind (an orphaned CRIU holds its container).
const processGroups = new ProcessGroups(join(s.HERD_STATE_DIR, "process-groups.json"), log.child({ component: "processes" }), s.HERD_PROC_ROOT);
const run = processGroups.runner();
// A container that takes a cluster address (new, moved or resumed) says where it now lives.
const announcer = new ArpingAddressAnnouncer(log.child({ component: "network" }), { run, procRoot: s.HERD_PROC_ROOT });
/** Migration handlers and the transfer daemon, when a transfer secret is configured. */
function migrationSupport() {
  if (!s.HERD_TRANSFER_SECRET) {
    log.warn("HERD_TRANSFER_SECRET is not set: this node cannot take part in migrations");
    return undefined;
  }
  const runtimeLog = log.child({ component: "migration" });
  const runtime = new DockerContainerRuntime(docker, runtimeLog);
  const checkpointer =
    s.HERD_CHECKPOINTER === "runc"
      ? new RuncCheckpointer(docker, runtimeLog, {
          dataRoot: s.HERD_DOCKER_DATA_ROOT,
          runcRoot: join(s.HERD_DOCKER_EXEC_ROOT, "runtime-runc", "moby"),
          cgroupRoot: s.HERD_CGROUP_ROOT,
          procRoot: s.HERD_PROC_ROOT,
          run,
          awaitPreviousDump: (id) => processGroups.settled(dumpKey(id)),
        })
      : new DockerCheckpointer(docker, runtimeLog, { dataRoot: s.HERD_DOCKER_DATA_ROOT });
  const images = new DockerImageCache(docker, runtimeLog);
  // Inside the engine's data root: installing staged files into a container is then a rename
  // (dockerd bind-mounts its data root onto itself, so a rename from elsewhere would copy).
  const stagingDir = join(s.HERD_DOCKER_DATA_ROOT, "herd-staging");
  const transfer = new RsyncFileTransfer({ secret: s.HERD_TRANSFER_SECRET, wholeFile: true, run }, runtimeLog);
  const daemon = new RsyncDaemon(
    {
      stagingDir,
      configDir: join(s.HERD_STATE_DIR, "rsyncd"),
      address: s.HERD_NODE_ADDRESS,
      port: s.HERD_TRANSFER_PORT,
      secret: s.HERD_TRANSFER_SECRET,
      hostsAllow: s.HERD_TRANSFER_ALLOW.split(","),
    },
    runtimeLog,
  );
  const handlers = migrationCommandHandlers({
    source: new SourceMigrationSteps({
      runtime,
      checkpointer,
      transfer,
      images,
      imageCacheDir: join(s.HERD_STATE_DIR, "images"),
      log: runtimeLog,
      transferOptions: s.HERD_TRANSFER_BWLIMIT_KBPS ? { bandwidthLimitKiBps: s.HERD_TRANSFER_BWLIMIT_KBPS } : {},
      announcer,
      identities: { processes: (pid) => containerProcesses(pid, s.HERD_PROC_ROOT), self: () => ownIdentity() },
    }),
    destination: new DestinationMigrationSteps({ runtime, checkpointer, images, stagingDir, log: runtimeLog, run, announcer }),
    runtime,
    engine: new DockerMigrationEngineOps(docker),
    log: runtimeLog,
  });
  return { daemon, handlers };
}
const migration = migrationSupport();

const bus = new AmqpMessageBus({ url: s.HERD_AMQP_URL, logger: log.child({ component: "bus" }), connectionName: `herd-agent-${s.HERD_NODE_ID}` });
const discovery = new DockerContainerDiscovery(docker, log.child({ component: "discovery" }));
const qos = createQosLoop(s, docker, discovery, bus, log);
// Told to control in every heartbeat, so `herd migrate` can say why memory is not pre-copied.
let memoryPreCopy: MemoryPreCopySupport | undefined;
let postCopy: PostCopySupport | undefined;
const agent = new ComputeAgent({
  nodeId: s.HERD_NODE_ID,
  address: s.HERD_NODE_ADDRESS,
  telemetryIntervalMs: s.HERD_TELEMETRY_INTERVAL_MS,
  heartbeatIntervalMs: s.HERD_HEARTBEAT_INTERVAL_MS,
  bus,
  discovery,
  sampler: new MetricSourceTelemetrySampler(new CgroupMetricSource({ cgroupRoot: s.HERD_CGROUP_ROOT, procRoot: s.HERD_PROC_ROOT })),
  handlers: { ...containerCommandHandlers(docker, log.child({ component: "containers" }), announcer), ...(migration?.handlers ?? {}) },
  capacity: {
    cpus: s.HERD_NODE_CPUS ?? availableParallelism(),
    memoryBytes: s.HERD_NODE_MEMORY_MB !== undefined ? s.HERD_NODE_MEMORY_MB * 1_048_576 : totalmem(),
  },
  memoryPreCopy: () => memoryPreCopy,
  postCopy: () => postCopy,
  processedCommands: new FileProcessedCommandStore(join(s.HERD_STATE_DIR, "processed-commands.jsonl")),
  log,
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info("Stopping", { signal });
    void qos
      .stop()
      .catch(() => undefined)
      .finally(() => void Promise.allSettled([agent.stop(), migration?.daemon.stop()]).finally(() => process.exit(0)));
  });
}
(async () => {
  await processGroups.reapStale();
  if (migration) {
    const env = { ...process.env, PATH: `/usr/local/bin:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` };
    [memoryPreCopy, postCopy] = await Promise.all([checkMemoryPreCopy({ run, env }), checkPostCopy({ run, env })]);
    log.info("Memory pre-copy", { ...memoryPreCopy });
    log.info("Post-copy (lazy pages)", { ...postCopy });
  }
  if (migration) {
    await migration.daemon.start();
  }
  await agent.start();
  await bus.start();
  qos.start();
})().catch((err: unknown) => {
  log.error("Agent failed to start", { error: errorMessage(err) });
  process.exit(1);
});
