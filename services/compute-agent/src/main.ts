import Dockerode from "dockerode";
import { join } from "node:path";
import { agentSettings, loadSettings } from "../../../shared/src/config.js";
import { errorMessage } from "../../../shared/src/errors.js";
import { createLogger } from "../../../shared/src/logger.js";
import { AmqpMessageBus } from "../../../shared/src/messaging/amqp-message-bus.js";
import { ComputeAgent } from "./agent.js";
import { MetricSourceTelemetrySampler } from "./cgroup-telemetry-sampler.js";
import { containerCommandHandlers } from "./commands/container-commands.js";
import { FileProcessedCommandStore } from "./commands/processed-command-store.js";
import { DockerContainerDiscovery } from "./discovery/docker-container-discovery.js";
import { CgroupMetricSource } from "./metrics/cgroup-metric-source.js";

const boot = createLogger();
let settings;
try {
  settings = loadSettings(agentSettings);
} catch (err) {
  boot.error(`Invalid configuration: ${errorMessage(err)}`);
  process.exit(2);
}
const s = settings;
const log = createLogger({ level: s.HERD_LOG_LEVEL, format: s.HERD_LOG_FORMAT }).child({ component: "agent", nodeId: s.HERD_NODE_ID });

function dockerFromHost(host: string): Dockerode {
  if (host.startsWith("unix://")) return new Dockerode({ socketPath: host.slice("unix://".length) });
  const url = new URL(host.replace(/^tcp:/, "http:"));
  return new Dockerode({ host: url.hostname, port: Number(url.port || 2375) });
}

const docker = dockerFromHost(s.HERD_DOCKER_HOST);
const bus = new AmqpMessageBus({ url: s.HERD_AMQP_URL, logger: log.child({ component: "bus" }), connectionName: `herd-agent-${s.HERD_NODE_ID}` });
const agent = new ComputeAgent({
  nodeId: s.HERD_NODE_ID,
  address: s.HERD_NODE_ADDRESS,
  telemetryIntervalMs: s.HERD_TELEMETRY_INTERVAL_MS,
  heartbeatIntervalMs: s.HERD_HEARTBEAT_INTERVAL_MS,
  bus,
  discovery: new DockerContainerDiscovery(docker, log.child({ component: "discovery" })),
  sampler: new MetricSourceTelemetrySampler(new CgroupMetricSource({ cgroupRoot: s.HERD_CGROUP_ROOT, procRoot: s.HERD_PROC_ROOT })),
  handlers: { ...containerCommandHandlers(docker, log.child({ component: "containers" })) },
  processedCommands: new FileProcessedCommandStore(join(s.HERD_STATE_DIR, "processed-commands.jsonl")),
  log,
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info("Stopping", { signal });
    void agent.stop().finally(() => process.exit(0));
  });
}
(async () => {
  await agent.start();
  await bus.start();
})().catch((err: unknown) => {
  log.error("Agent failed to start", { error: errorMessage(err) });
  process.exit(1);
});
