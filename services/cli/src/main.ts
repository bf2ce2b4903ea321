import { Command, InvalidArgumentError, Option } from "commander";
import { HerdError, ValidationError, errorMessage } from "../../../shared/src/errors.js";
import { nodeArg } from "./arguments.js";
import { ApiClient, resolveApiTarget } from "./api-client.js";
import { registerMigrationCommands } from "./migration-commands.js";
import { registerBrainCommands } from "./brain-commands.js";
import { registerSimulateCommand } from "./simulate-command.js";
import { registerJobsCommands } from "./jobs-commands.js";
import { registerStressCommand } from "./stress-command.js";
import { registerQosCommand } from "./qos-command.js";
import { registerNodeCommands } from "./node-commands.js";
import { formatAge, formatBytes, formatPct, parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";

interface NodeView {
  id: string;
  status: string;
  address?: string;
  cpuCores?: number;
  cpuPct?: number;
  memTotalBytes?: number;
  memUsedBytes?: number;
  containers: number;
  lastHeartbeatAt?: number;
  lastTelemetryAt?: number;
  agentVersion?: string;
}
interface ContainerView {
  id: string;
  name: string;
  image: string;
  state: string;
  nodeId: string;
  nodeStatus: string;
  cpuPct: number;
  memBytes: number;
  memLimitBytes: number | null;
  /** On the cluster network. */
  address?: string;
}

const networkOption = () =>
  new Option(
    "--network <network>",
    "cluster (an address on the cluster network that moves with the container; the default when control has one) or none",
  ).choices(["cluster", "none"]);
const ipArg = (v: string) => {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.split(".").some((o) => Number(o) > 255))
    throw new InvalidArgumentError(`--ip must be an IPv4 address, got "${v}"`);
  return v;
};
const stateDirOption = () => new Option("--state-dir <dir>", "where the local cluster keeps its state").default(process.env.HERD_STATE_DIR ?? "/var/lib/herd");
const outputOption = () => new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat);
const intArg = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
};

const capacityArg = (v: string) => {
  const m = /^(\d+(?:\.\d+)?):(\d+)$/.exec(v);
  if (!m || Number(m[1]) <= 0 || Number(m[2]) < 6) throw new InvalidArgumentError(`--capacity takes CPUS:MIB, e.g. 2:2048, got "${v}"`);
  return { cpus: Number(m[1]), memoryMb: Number(m[2]) };
};

const api = () => new ApiClient(resolveApiTarget());

export function buildProgram(): Command {
  const program = new Command("herd")
    .description("Herd: keeps a Docker cluster healthy by live-migrating running containers")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("up")
    .description("start a local multi-node cluster on this machine (RabbitMQ, Redis, control, one engine + agent per node)")
    .addOption(new Option("-n, --nodes <n>", "number of emulated nodes").default(2).argParser(intArg("--nodes", 1, 16)))
    .option("--demo", "also start a few workload containers")
    .addOption(
      new Option("--capacity <cpus:mib>", "what each node offers for jobs, e.g. 2:2048 (default: the machine's cores and memory)").argParser(capacityArg),
    )
    .addOption(new Option("--controls <n>", "control replicas (one leads; API on port 7070, 7071, …)").default(1).argParser(intArg("--controls", 1, 5)))
    .addOption(stateDirOption())
    .action(async (opts: { nodes: number; demo?: boolean; stateDir: string; capacity?: { cpus: number; memoryMb: number }; controls: number }) => {
      const { upCommand } = await import("./cluster-commands.js");
      await upCommand(opts);
    });

  program
    .command("down")
    .description("stop the local cluster and remove everything it created")
    .addOption(stateDirOption())
    .action(async (opts: { stateDir: string }) => {
      const { downCommand } = await import("./cluster-commands.js");
      await downCommand(opts);
    });

  program
    .command("demo")
    .description("start a few workload containers on the local cluster's nodes")
    .addOption(stateDirOption())
    .action(async (opts: { stateDir: string }) => {
      const { demoCommand } = await import("./cluster-commands.js");
      await demoCommand(opts);
    });

  program
    .command("nodes")
    .description("list nodes with liveness and load")
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }) => {
      const { nodes } = await api().get<{ nodes: NodeView[] }>("/nodes");
      print(opts.output, nodes, () =>
        renderTable(
          ["NODE", "STATUS", "ADDRESS", "CPU", "MEMORY", "CONTAINERS", "SEEN"],
          nodes.map((n) => [
            n.id,
            n.status,
            n.address ?? "-",
            n.cpuPct === undefined ? "-" : `${formatPct(n.cpuPct)} of ${n.cpuCores ?? "?"}`,
            n.memTotalBytes ? `${formatBytes(n.memUsedBytes)} / ${formatBytes(n.memTotalBytes)}` : "-",
            n.containers,
            // Telemetry proves the node alive as well as a heartbeat (the agent skips heartbeats while it flows).
            formatAge(Math.max(n.lastHeartbeatAt ?? 0, n.lastTelemetryAt ?? 0)),
          ]),
        ),
      );
    });

  program
    .command("ps")
    .description("list containers on every node with CPU and memory")
    .option("--node <id>", "only this node", nodeArg)
    .option("-a, --all", "include stopped containers")
    .addOption(outputOption())
    .action(async (opts: { node?: string; all?: boolean; output: OutputFormat }) => {
      const q = opts.node ? `?node=${encodeURIComponent(opts.node)}` : "";
      const { containers } = await api().get<{ containers: ContainerView[] }>(`/containers${q}`);
      const shown = opts.all ? containers : containers.filter((c) => c.state === "running" || c.state === "paused");
      print(opts.output, shown, () =>
        renderTable(
          ["CONTAINER", "NAME", "NODE", "ADDRESS", "IMAGE", "STATE", "CPU", "MEMORY"],
          shown.map((c) => [
            c.id.slice(0, 12),
            c.name,
            c.nodeStatus === "up" ? c.nodeId : `${c.nodeId} (down)`,
            c.address ?? "-",
            c.image,
            c.state,
            formatPct(c.cpuPct),
            c.memLimitBytes ? `${formatBytes(c.memBytes)} / ${formatBytes(c.memLimitBytes)}` : formatBytes(c.memBytes),
          ]),
        ),
      );
    });

  program
    .command("run")
    .description("start a container on a node (image must be on that node)")
    .requiredOption("--node <id>", "node to run on", nodeArg)
    .requiredOption("--name <name>", "container name")
    .option("-m, --memory <mb>", "memory limit in MiB", intArg("--memory", 4, 1_048_576))
    .addOption(networkOption())
    .option("--ip <address>", "a wanted address in the cluster network's range (default: the next free one)", ipArg)
    .addOption(outputOption())
    .argument("<image>", "image, e.g. herd/workload:latest")
    .argument("[cmd...]", "command and arguments")
    .action(
      async (image: string, cmd: string[], opts: { node: string; name: string; memory?: number; network?: string; ip?: string; output: OutputFormat }) => {
        const r = await api().post<{ id: string; created: boolean; network: string; address?: string }>("/containers", {
          node: opts.node,
          name: opts.name,
          image,
          cmd,
          ...(opts.memory ? { memoryBytes: opts.memory * 1024 * 1024 } : {}),
          ...(opts.network ? { network: opts.network } : {}),
          ...(opts.ip ? { ipv4Address: opts.ip } : {}),
        });
        print(
          opts.output,
          r,
          () =>
            `${r.created ? "started" : "already running"} ${opts.name} (${r.id.slice(0, 12)}) on ${opts.node}, network ${r.network}${r.address ? ` at ${r.address}` : ""}`,
        );
      },
    );

  program
    .command("rm")
    .description("remove a container from its node; its name and cluster address become free")
    .argument("<container>", "name or id")
    .addOption(outputOption())
    .action(async (ref: string, opts: { output: OutputFormat }) => {
      const r = await api().delete<{ name: string; id: string; nodeId: string; address?: string }>(`/containers/${encodeURIComponent(ref)}`);
      print(opts.output, r, () => `removed ${r.name} (${r.id.slice(0, 12)}) from ${r.nodeId}${r.address ? `; ${r.address} is free again` : ""}`);
    });

  program
    .command("metrics")
    .description("recent metrics of one container")
    .argument("<container>", "name or id")
    .addOption(new Option("-n, --limit <n>", "number of points").default(20).argParser(intArg("--limit", 1, 100_000)))
    .addOption(outputOption())
    .action(async (ref: string, opts: { limit: number; output: OutputFormat }) => {
      const r = await api().get<{ name: string; nodeId: string; points: Array<Record<string, number>> }>(
        `/containers/${encodeURIComponent(ref)}/metrics?limit=${opts.limit}`,
      );
      print(
        opts.output,
        r,
        () =>
          `${r.name} on ${r.nodeId}\n` +
          renderTable(
            ["TIME", "CPU", "MEMORY", "DISK R/W", "NET RX/TX"],
            r.points.map((p) => [
              new Date(p.t!).toISOString().slice(11, 19),
              formatPct(p.cpuPct),
              formatBytes(p.memBytes),
              `${formatBytes(p.blkReadBps)}/s ${formatBytes(p.blkWriteBps)}/s`,
              `${formatBytes(p.netRxBps)}/s ${formatBytes(p.netTxBps)}/s`,
            ]),
          ),
      );
    });

  registerMigrationCommands(program, api);
  registerBrainCommands(program, api);
  registerSimulateCommand(program);
  registerJobsCommands(program, api);
  registerStressCommand(program);
  registerQosCommand(program, api);
  registerNodeCommands(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // Commands that ran but did not achieve their aim (a rolled-back migration) set exitCode.
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help") return 0;
    if (typeof code === "string" && code.startsWith("commander.")) return 2; // commander printed the message
    const prefix = err instanceof ValidationError ? "invalid input: " : "";
    process.stderr.write(`herd: ${prefix}${errorMessage(err)}\n`);
    return err instanceof ValidationError ? 2 : err instanceof HerdError ? 1 : 1;
  }
}
