import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalCluster } from "./local-cluster/local-cluster.js";
import { ApiClient, resolveApiTarget } from "./api-client.js";
import { startNetworkedDemo, type NetworkedDemo } from "./networked-demo.js";
import { formatDuration, renderTable } from "./output.js";

/** The repository root, found from this compiled file (dist/services/cli/src/…). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export async function upCommand(opts: {
  nodes: number;
  demo?: boolean;
  stateDir: string;
  capacity?: { cpus: number; memoryMb: number };
  controls?: number;
}): Promise<void> {
  const started = Date.now();
  const cluster = new LocalCluster({ stateDir: opts.stateDir, repoRoot, log: (line: string) => process.stderr.write(`${line}\n`) });
  const capacity = opts.capacity;
  const info = await cluster.up({
    nodes: opts.nodes,
    controls: opts.controls,
    ...(capacity ? { capacity: Object.fromEntries(cluster.plan(opts.nodes).nodes.map((n) => [n.id, capacity])) } : {}),
  });
  let networked: NetworkedDemo | undefined;
  if (opts.demo) {
    await cluster.demo();
    networked = await startNetworkedDemo(
      demoApi(opts.stateDir),
      info.nodes.map((n) => n.id),
    );
  }
  process.stdout.write(
    `Herd is up with ${info.nodes.length} node(s) in ${formatDuration(Date.now() - started)}.\n\n` +
      renderTable(
        ["NODE", "ADDRESS", "ENGINE"],
        info.nodes.map((n) => [n.id, n.address, n.dockerHost]),
      ) +
      `\n\nAPI:        ${info.apiUrl} (token in ${opts.stateDir}/cluster.json)\n` +
      `RabbitMQ UI: ${info.amqp.managementUrl} (user ${info.amqp.adminUser}; password in ${opts.stateDir}/cluster.json)\n\n` +
      `Try: herd nodes · herd ps · herd run --node n2 --name burn herd/workload:latest cpuburn 1 · herd down\n` +
      (networked ? networkedHint(networked) : ""),
  );
}

export async function downCommand(opts: { stateDir: string }): Promise<void> {
  const cluster = new LocalCluster({ stateDir: opts.stateDir, repoRoot, log: (line: string) => process.stderr.write(`${line}\n`) });
  await cluster.down();
  process.stdout.write("Herd is down; nothing left behind.\n");
}

export async function demoCommand(opts: { stateDir: string }): Promise<void> {
  const cluster = new LocalCluster({ stateDir: opts.stateDir, repoRoot, log: (line: string) => process.stderr.write(`${line}\n`) });
  const info = await cluster.demo();
  const nodes = cluster.info()?.nodes.map((n) => n.id) ?? [...new Set(info.map((c) => c.nodeId))];
  const networked = await startNetworkedDemo(demoApi(opts.stateDir), nodes);
  process.stdout.write(`Demo containers started: see 'herd ps'.\n${networkedHint(networked)}`);
}

function demoApi(stateDir: string): ApiClient {
  return new ApiClient(resolveApiTarget({ ...process.env, HERD_STATE_DIR: stateDir }));
}

function networkedHint(d: NetworkedDemo): string {
  return (
    `\nNetworked demo: ${d.server.name} (TCP echo) at ${d.server.address}:7000 on ${d.server.node}, ${d.client.name} on ${d.client.node} talks to it every 100 ms.\n` +
    `  Move it while the client keeps going: herd migrate ${d.server.name} --to ${d.client.node}\n` +
    `  Client's count: docker -H unix:///run/herd/${d.client.node}/docker.sock logs --tail 1 ${d.client.name}\n`
  );
}
