import type Dockerode from "dockerode";
import { cpus, totalmem } from "node:os";
import { qosRoutingKey } from "../../../../shared/src/contracts/qos-events.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MessageBus } from "../../../../shared/src/messaging/message-bus.js";
import { EXCHANGES } from "../../../../shared/src/topology.js";
import type { ContainerDiscovery } from "../discovery/container-discovery.js";
import { CgroupMetricSource } from "../metrics/cgroup-metric-source.js";
import { blockDeviceOf } from "./block-device.js";
import { CgroupFileLimiter } from "./cgroup-file-limiter.js";
import { detectCgroupVersion } from "./cgroup-limits.js";
import { VethPeerInterfaces } from "./container-interfaces.js";
import { DockerContainerAddresses } from "./docker-container-addresses.js";
import { FairShareController } from "./fair-share-controller.js";
import { TcpEchoProbe } from "./latency-probe.js";
import { PidGuardController } from "./pid-guard-controller.js";
import { QosLoop } from "./qos-loop.js";
import { TcHtbShaper } from "./tc-htb-shaper.js";

export interface QosSettings {
  HERD_NODE_ID: string;
  HERD_QOS: "on" | "off";
  HERD_QOS_PERIOD_MS: number;
  HERD_QOS_CPU_MILLICORES: number;
  HERD_CGROUP_ROOT: string;
  HERD_PROC_ROOT: string;
  HERD_DOCKER_DATA_ROOT: string;
}

/** The production wiring of the node QoS loop (tc in the agent's namespace, cgroup files, Docker). */
export function createQosLoop(s: QosSettings, docker: Dockerode, discovery: ContainerDiscovery, bus: MessageBus, log: Logger): QosLoop {
  const qlog = log.child({ component: "qos" });
  let device: string | undefined;
  const storageDevice = () => (device ??= blockDeviceOf(s.HERD_DOCKER_DATA_ROOT));
  return new QosLoop({
    nodeId: s.HERD_NODE_ID,
    periodMs: s.HERD_QOS_PERIOD_MS,
    enabled: s.HERD_QOS === "on",
    controllers: [
      new PidGuardController(new TcpEchoProbe(), new DockerContainerAddresses(docker), storageDevice),
      new FairShareController(() => ({ cpuMillicores: s.HERD_QOS_CPU_MILLICORES || cpus().length * 1000, memoryBytes: Math.round(totalmem() * 0.9) })),
    ],
    discovery,
    metrics: new CgroupMetricSource({ cgroupRoot: s.HERD_CGROUP_ROOT, procRoot: s.HERD_PROC_ROOT, maxOpenFiles: 0 }),
    limiter: new CgroupFileLimiter(detectCgroupVersion(s.HERD_CGROUP_ROOT), qlog, s.HERD_CGROUP_ROOT, s.HERD_PROC_ROOT),
    shaper: new TcHtbShaper(qlog),
    interfaces: new VethPeerInterfaces(s.HERD_PROC_ROOT),
    publish: (event) =>
      bus.publish(EXCHANGES.events, qosRoutingKey(s.HERD_NODE_ID), event, { timeoutMs: event.kind === "qos.status" ? 0 : 5_000, expirationMs: 60_000 }),
    log: qlog,
  });
}
