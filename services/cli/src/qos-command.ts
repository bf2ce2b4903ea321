import { Option, type Command } from "commander";
import type { QosActuation, QosContainerStatus, QosStatus } from "../../../shared/src/contracts/qos-events.js";
import type { ApiClient } from "./api-client.js";
import { formatAge, formatBytes, parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";

interface QosView {
  nodes: QosStatus[];
  actuations: QosActuation[];
}

const dash = (v: string | number | undefined) => (v === undefined ? "-" : String(v));

export function formatLimits(c: QosContainerStatus): string {
  const l = c.limits;
  const parts: string[] = [];
  if (l.rateKbit !== undefined) parts.push(`tc ${(l.rateKbit / 1000).toFixed(1)} Mbit/s${l.iface ? ` on ${l.iface}` : ""}`);
  if (l.writeBps !== undefined) parts.push(`write ${formatBytes(l.writeBps)}/s`);
  if (l.cpuMillicores !== undefined) parts.push(`cpu ${(l.cpuMillicores / 1000).toFixed(2)} cores`);
  if (l.memorySoftBytes !== undefined) parts.push(`mem soft ${formatBytes(l.memorySoftBytes)}`);
  return parts.join(", ") || "-";
}

export function renderQos(view: QosView): string {
  const rows = view.nodes.flatMap((n) =>
    n.containers.map((c) => [
      n.nodeId,
      c.name,
      `${c.controller}/${c.qosClass}`,
      c.targetMs !== undefined ? `${c.targetMs} ms` : "-",
      c.measuredMs !== undefined ? `${c.measuredMs.toFixed(1)} ms` : c.demand !== undefined ? `${(c.demand / 1000).toFixed(2)} cores` : "-",
      c.output !== undefined
        ? `${c.output.toFixed(1)}${c.saturatedRounds ? ` (sat ${c.saturatedRounds})` : ""}`
        : c.allocation !== undefined
          ? `${(c.allocation / 1000).toFixed(2)} cores`
          : "-",
      formatLimits(c),
      dash(c.credits),
      c.error ?? "",
    ]),
  );
  const off = view.nodes.filter((n) => !n.enabled).map((n) => n.nodeId);
  const table = rows.length
    ? renderTable(["NODE", "CONTAINER", "CONTROLLER", "TARGET", "MEASURED/DEMAND", "OUTPUT/ALLOC", "LIMITS", "CREDITS", "ERROR"], rows)
    : "no container has opted into QoS (labels herd.qos.class, herd.qos.target-latency-ms, herd.share=fair)";
  const ages = view.nodes.map((n) => `${n.nodeId}: ${formatAge(n.at)}`).join(", ");
  return `${table}${off.length ? `\nQoS turned off on: ${off.join(", ")}` : ""}${ages ? `\nlast status ${ages}` : ""}`;
}

export function registerQosCommand(program: Command, api: () => ApiClient): void {
  program
    .command("qos")
    .description("per container: QoS target, measured latency or demand, controller output, limits applied, credits")
    .option("--actuations", "list the latest actuations (tc rates and cgroup writes) instead")
    .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat))
    .action(async (opts: { actuations?: boolean; output: OutputFormat }) => {
      const view = await api().get<QosView>("/qos");
      if (opts.actuations) {
        print(opts.output, view.actuations, () =>
          renderTable(
            ["AT", "NODE", "CONTAINER", "CONTROLLER", "ACTUATOR", "ACTION", "LIMITS", "REASON"],
            view.actuations.map((a) => [
              new Date(a.at).toISOString().slice(11, 23),
              a.nodeId,
              a.containerName,
              a.controller,
              a.actuator,
              a.action,
              JSON.stringify(a.limits),
              a.reason,
            ]),
          ),
        );
        return;
      }
      print(opts.output, view.nodes, () => renderQos(view));
    });
}
