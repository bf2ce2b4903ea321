import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** The control service's Prometheus metrics, on their own registry (no module singletons). */
export class ControlMetrics {
  readonly registry = new Registry();
  readonly telemetryBatches = new Counter({
    name: "herd_telemetry_batches_total",
    help: "Telemetry batches ingested",
    labelNames: ["node"],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: "herd_messages_rejected_total",
    help: "Messages rejected and dead-lettered",
    labelNames: ["queue", "reason"],
    registers: [this.registry],
  });
  readonly heartbeats = new Counter({ name: "herd_heartbeats_total", help: "Heartbeats received", labelNames: ["node"], registers: [this.registry] });
  readonly nodeUp = new Gauge({ name: "herd_node_up", help: "1 if the node's agent is alive", labelNames: ["node"], registers: [this.registry] });
  readonly nodeCpu = new Gauge({ name: "herd_node_cpu_percent", help: "Node CPU busy, % of all cores", labelNames: ["node"], registers: [this.registry] });
  readonly nodeMemUsed = new Gauge({ name: "herd_node_memory_used_bytes", help: "Node memory in use", labelNames: ["node"], registers: [this.registry] });
  readonly containerCpu = new Gauge({
    name: "herd_container_cpu_percent",
    help: "Container CPU, % of one core",
    labelNames: ["node", "container"],
    registers: [this.registry],
  });
  readonly containerMem = new Gauge({
    name: "herd_container_memory_bytes",
    help: "Container memory in use",
    labelNames: ["node", "container"],
    registers: [this.registry],
  });
  readonly brokerReconnects = new Gauge({ name: "herd_broker_reconnects", help: "Broker reconnects since start", registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "herd_control_" });
  }
}
