import amqp from "amqplib";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConflictError, ExternalError, NotFoundError, errorMessage } from "../../../../shared/src/errors.js";
import { createLogger, type Logger } from "../../../../shared/src/logger.js";
import { declareControlTopology, declareNodeTopology } from "../../../../shared/src/topology.js";
import { BootstrapHostServices } from "./bootstrap-host-services.js";
import type { BrokerAdmin } from "./broker-admin.js";
import { brokerSpec } from "./broker-permissions.js";
import { CONTROL_ENTRY, agentEnv, controlEnv, planCluster, type ClusterPlan, type NodePlan, type Secrets } from "./cluster-plan.js";
import { logTail, runningPid, startDetached, stopByPidFile } from "./detached-process.js";
import { DockerdNodeEngine } from "./dockerd-node-engine.js";
import type { HostServices } from "./host-services.js";
import { IprouteNodeNetwork } from "./iproute-node-network.js";
import type { NodeEngine } from "./node-engine.js";
import type { NodeNetwork } from "./node-network.js";
import { findHerdProcesses, isAlive, mountsUnder, parseMountPoints, waitForExit } from "./process-table.js";
import { RabbitmqBrokerAdmin } from "./rabbitmq-broker-admin.js";
import { runCommand, type CommandRunner } from "./run-command.js";
import { startDemo, type DemoContainer } from "./demo.js";

export interface ClusterNodeInfo {
  id: string;
  address: string;
  netns: string;
  dockerHost: string;
  dataRoot: string;
  agentPid?: number;
  /** What the agent offers for job reservations (HERD_NODE_CPUS / HERD_NODE_MEMORY_MB); absent = the machine's. */
  capacity?: NodeCapacity;
}

export interface NodeCapacity {
  cpus: number;
  memoryMb: number;
}

export interface ClusterInfo {
  apiUrl: string;
  apiToken: string;
  amqp: { adminUser: string; adminPassword: string; managementUrl: string };
  nodes: ClusterNodeInfo[];
  controlPid?: number;
}

/** cluster.json: what `herd` commands read, plus the broker secrets only `up` needs again. */
interface ClusterState extends ClusterInfo {
  version: 1;
  stateDir: string;
  secrets: Secrets;
}

export interface LocalClusterOptions {
  repoRoot: string;
  /** Default /var/lib/herd. */
  stateDir?: string;
  /** Default /run/herd. */
  runDir?: string;
  /** One line per step for the person running `herd up` / `herd down`. */
  log?: (line: string) => void;
  logger?: Logger;
  network?: NodeNetwork;
  engine?: NodeEngine;
  host?: HostServices;
  broker?: (adminPassword: string | undefined) => BrokerAdmin;
  run?: CommandRunner;
  managementUrl?: string;
  /**
   * Identity of this cluster on the machine; the defaults are the one `herd up` makes. A test can
   * run a second cluster beside it with another name, subnet, API port and Redis database.
   */
  name?: string;
  subnet?: string;
  apiPort?: number;
  redisUrl?: string;
}

export interface UpOptions {
  nodes: number;
  /**
   * Start the control service and one agent per node. Default: when their compiled entry points
   * exist under dist/ (they are other components; the network, broker and engines do not need them).
   */
  startProcesses?: boolean;
  /** Capacity each node's agent offers for jobs, by node id (default: the machine's cores and memory). */
  capacity?: Record<string, NodeCapacity>;
  /** Control replicas to run (default 1); the extra ones listen on the API port + 1, + 2, … */
  controls?: number;
}

const AGENT_ENTRY = "dist/services/compute-agent/src/main.js";

/**
 * A Herd cluster on one machine: RabbitMQ and Redis on the host, one network namespace + Docker
 * engine + agent per emulated node, the control service on the host. `up` is idempotent;
 * `down` removes everything it (or an interrupted `up`) created, found by names, paths and an
 * environment mark rather than by trusting the state file.
 */
export class LocalCluster {
  private readonly repoRoot: string;
  private readonly stateDir: string;
  private readonly runDir: string;
  private readonly say: (line: string) => void;
  private readonly log: Logger;
  private readonly network: NodeNetwork;
  private readonly engine: NodeEngine;
  private readonly host: HostServices;
  private readonly brokerFor: (adminPassword: string | undefined) => BrokerAdmin;
  private readonly run: CommandRunner;
  private readonly managementUrl: string;
  private readonly identity: { name?: string; subnet?: string; apiPort?: number; redisUrl?: string };

  constructor(opts: LocalClusterOptions) {
    this.identity = { name: opts.name, subnet: opts.subnet, apiPort: opts.apiPort, redisUrl: opts.redisUrl };
    this.repoRoot = opts.repoRoot;
    this.stateDir = opts.stateDir ?? "/var/lib/herd";
    this.runDir = opts.runDir ?? "/run/herd";
    this.say = opts.log ?? (() => undefined);
    this.log = opts.logger ?? createLogger().child({ component: "local-cluster" });
    this.run = opts.run ?? runCommand;
    this.managementUrl = opts.managementUrl ?? "http://127.0.0.1:15672";
    this.network = opts.network ?? new IprouteNodeNetwork({ log: this.log, run: this.run });
    this.engine = opts.engine ?? new DockerdNodeEngine({ log: this.log });
    const plan = this.plan(1);
    this.host =
      opts.host ?? new BootstrapHostServices({ repoRoot: this.repoRoot, stateDir: this.stateDir, log: this.log, run: this.run, redisUrl: plan.redisUrl });
    this.brokerFor =
      opts.broker ??
      ((pw) =>
        new RabbitmqBrokerAdmin({
          managementUrl: this.managementUrl,
          adminUser: plan.brokerUsers.admin,
          userPrefix: `${plan.name}-`,
          adminPassword: pw,
          log: this.log,
          run: this.run,
        }));
  }

  /** The mark every process of this cluster carries in its environment (HERD_CLUSTER_MARK). */
  get mark(): string {
    return this.stateDir;
  }

  get stateFile(): string {
    return join(this.stateDir, "cluster.json");
  }

  info(): ClusterInfo | undefined {
    const state = this.readState();
    if (!state) return undefined;
    const { secrets: _secrets, version: _version, stateDir: _stateDir, ...info } = state;
    return info;
  }

  plan(nodes: number): ClusterPlan {
    return planCluster({ nodes, stateDir: this.stateDir, runDir: this.runDir, ...this.identity });
  }

  async up(opts: UpOptions): Promise<ClusterInfo> {
    const plan = this.plan(opts.nodes);
    const existing = this.readState();
    if (existing && existing.nodes.length !== opts.nodes) {
      throw new ConflictError(`a cluster with ${existing.nodes.length} node(s) is up; run 'herd down' first to change it to ${opts.nodes}`);
    }
    // Secrets of an existing cluster are kept; ones a newer version added are filled in.
    const secrets = { ...newSecrets(plan), ...existing?.secrets };
    mkdirSync(this.stateDir, { recursive: true });
    mkdirSync(plan.logDir, { recursive: true });
    mkdirSync(this.runDir, { recursive: true });

    await this.step("host services (RabbitMQ, Redis)", () => this.host.ensureRunning());
    // Host-wide and owned by bootstrap: always the current one, never a stale copy from cluster.json.
    const redisPassword = this.host.redisPassword();
    if (redisPassword === undefined) delete secrets.redisPassword;
    else secrets.redisPassword = redisPassword;
    const image = await this.step("workload image", () => this.host.buildWorkloadImage());
    await this.step("broker vhost and users", () =>
      this.brokerFor(secrets.adminPassword).provision(
        brokerSpec({
          vhost: plan.vhost,
          users: plan.brokerUsers,
          adminPassword: secrets.adminPassword,
          controlPassword: secrets.controlPassword,
          nodePasswords: secrets.nodePasswords,
        }),
      ),
    );
    await this.step("broker topology", () => this.declareTopology(plan, secrets));
    // Secrets are saved before anything long-lived starts, so a failed `up` can be resumed.
    let state = this.stateFrom(plan, secrets, existing, opts.capacity);
    this.writeState(state);
    await this.step(`network (${plan.bridge}, ${plan.nodes.map((n) => n.netns).join(", ")})`, () => this.network.ensure(plan));
    await this.step("node engines", async () => {
      await Promise.all(plan.nodes.map((node) => this.engine.start(node, this.network.netnsPath(node.netns), this.mark)));
      // One after the other: the first node imports the image, the others load its saved copy.
      for (const node of plan.nodes) {
        const imported = await this.engine.ensureImage(node, image);
        const network = await this.engine.ensureClusterNetwork(node, plan.clusterNetwork);
        this.log.debug("Engine ready", { nodeId: node.id, image: imported, network });
      }
    });
    const startProcesses = opts.startProcesses ?? this.processesBuilt();
    if (startProcesses) {
      await this.step("control service", () => this.startControl());
      for (let i = 2; i <= (opts.controls ?? 1); i++) await this.step(`control replica ${i}`, () => this.startControlReplica(i));
      await this.step("agents", async () => {
        for (const node of plan.nodes) await this.startAgent(node.id);
      });
    } else {
      this.say(
        this.processesBuilt()
          ? "  control and agents: not started (asked not to)"
          : `  control and agents: not started (${CONTROL_ENTRY} / ${AGENT_ENTRY} not built)`,
      );
    }
    state = this.readState() ?? state;
    const { secrets: _s, version: _v, stateDir: _d, ...info } = state;
    return info;
  }

  /** True when the control and agent entry points are compiled. */
  processesBuilt(): boolean {
    return existsSync(join(this.repoRoot, CONTROL_ENTRY)) && existsSync(join(this.repoRoot, AGENT_ENTRY));
  }

  async startControl(): Promise<number> {
    const { plan, state } = this.requireState();
    const running = runningPid(plan.controlPidFile, CONTROL_ENTRY);
    if (running !== undefined) return running;
    const pid = startDetached({
      command: process.execPath,
      args: ["--enable-source-maps", CONTROL_ENTRY],
      env: { ...controlEnv(plan, state.secrets), HERD_CLUSTER_MARK: this.mark },
      logFile: plan.controlLog,
      pidFile: plan.controlPidFile,
      cwd: this.repoRoot,
    });
    await this.waitForControl(plan, pid);
    this.updateState((s) => ({ ...s, controlPid: pid }));
    return pid;
  }

  /** Control replica `index` (≥ 2): the same settings as the first, its own API port, pid file and log. */
  async startControlReplica(index: number): Promise<number> {
    const { plan, state } = this.requireState();
    const r = replicaPaths(plan, this.runDir, index);
    const running = runningPid(r.pidFile, CONTROL_ENTRY);
    if (running !== undefined) return running;
    const pid = startDetached({
      command: process.execPath,
      args: ["--enable-source-maps", CONTROL_ENTRY],
      env: { ...controlEnv(plan, state.secrets), HERD_API_PORT: String(r.apiPort), HERD_CLUSTER_MARK: this.mark },
      logFile: r.logFile,
      pidFile: r.pidFile,
      cwd: this.repoRoot,
    });
    await this.waitForControl({ ...plan, apiPort: r.apiPort, controlLog: r.logFile }, pid);
    return pid;
  }

  /** Every control process of this cluster (the first and the replicas), with its pid while it runs. */
  controlReplicas(): Array<{ index: number; pid?: number; apiUrl: string; logFile: string }> {
    const { plan } = this.requireState();
    const out = [{ index: 1, pid: runningPid(plan.controlPidFile, CONTROL_ENTRY), apiUrl: `http://127.0.0.1:${plan.apiPort}`, logFile: plan.controlLog }];
    for (const name of existsSync(this.runDir) ? readdirSync(this.runDir) : []) {
      const m = /^control-(\d+)\.pid$/.exec(name);
      if (!m) continue;
      const r = replicaPaths(plan, this.runDir, Number(m[1]));
      out.push({ index: Number(m[1]), pid: runningPid(r.pidFile, CONTROL_ENTRY), apiUrl: `http://127.0.0.1:${r.apiPort}`, logFile: r.logFile });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  async stopControlReplicas(): Promise<void> {
    const files = existsSync(this.runDir) ? readdirSync(this.runDir).filter((n) => /^control-\d+\.pid$/.test(n)) : [];
    await Promise.all(files.map((f) => stopByPidFile(join(this.runDir, f), CONTROL_ENTRY)));
  }

  async stopControl(): Promise<void> {
    const plan = this.requireState().plan;
    await stopByPidFile(plan.controlPidFile, CONTROL_ENTRY);
    this.updateState((s) => ({ ...s, controlPid: undefined }));
  }

  async restartControl(): Promise<number> {
    await this.stopControl();
    return this.startControl();
  }

  async startAgent(nodeId: string): Promise<number> {
    const { plan, state } = this.requireState();
    const node = nodeOf(plan, nodeId);
    const running = runningPid(node.agentPidFile, AGENT_ENTRY);
    if (running !== undefined) return running;
    mkdirSync(node.agentStateDir, { recursive: true });
    const capacity = state.nodes.find((n) => n.id === nodeId)?.capacity;
    const pid = startDetached({
      command: process.execPath,
      args: ["--enable-source-maps", AGENT_ENTRY],
      env: {
        ...agentEnv(plan, node, state.secrets),
        HERD_CLUSTER_MARK: this.mark,
        ...(capacity ? { HERD_NODE_CPUS: String(capacity.cpus), HERD_NODE_MEMORY_MB: String(capacity.memoryMb) } : {}),
      },
      logFile: node.agentLog,
      pidFile: node.agentPidFile,
      cwd: this.repoRoot,
      netnsPath: this.network.netnsPath(node.netns),
    });
    await this.expectAlive(pid, 1_500, node.agentLog, `agent ${nodeId}`);
    this.updateState((s) => ({ ...s, nodes: s.nodes.map((n) => (n.id === nodeId ? { ...n, agentPid: pid } : n)) }));
    return pid;
  }

  /** Stops one agent (SIGTERM, SIGKILL after `graceMs`), e.g. to test recovery from a lost node. */
  async stopAgent(nodeId: string, graceMs = 10_000): Promise<void> {
    const node = nodeOf(this.requireState().plan, nodeId);
    await stopByPidFile(node.agentPidFile, AGENT_ENTRY, graceMs);
    this.updateState((s) => ({ ...s, nodes: s.nodes.map((n) => (n.id === nodeId ? { ...n, agentPid: undefined } : n)) }));
  }

  /** Starts a few workload containers so a fresh cluster has something to watch. */
  async demo(): Promise<DemoContainer[]> {
    const { plan } = this.requireState();
    return startDemo(plan.nodes, this.log);
  }

  async down(): Promise<void> {
    const plan = this.plan(Math.max(1, this.knownNodeCount()));
    const adminPassword = this.readState()?.secrets.adminPassword;
    const errors: string[] = [];
    // Every cleanup runs even when an earlier one fails; the errors are reported together.
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await this.step(what, fn);
      } catch (err) {
        errors.push(`${what}: ${errorMessage(err)}`);
      }
    };

    await attempt("agents and control", async () => {
      await Promise.all(plan.nodes.map((n) => stopByPidFile(n.agentPidFile, AGENT_ENTRY)));
      await stopByPidFile(plan.controlPidFile, CONTROL_ENTRY);
      await this.stopControlReplicas();
    });
    await attempt("containers and engines", () =>
      Promise.all(
        plan.nodes.map(async (node) => {
          await this.engine.removeAllContainers(node).catch((err: unknown) => {
            this.log.warn("Could not remove containers", { nodeId: node.id, error: errorMessage(err) });
          });
          await this.engine.stop(node);
        }),
      ),
    );
    await attempt("leftover processes", () => this.killLeftoverProcesses(plan));
    await attempt("mounts", () => this.unmountAll(plan));
    await attempt("network", () => this.network.remove(plan));
    await attempt("broker vhost and users", () => this.brokerFor(adminPassword).deprovision(plan.vhost));
    await attempt("redis keys herd:*", async () => {
      const n = await this.host.flushHerdKeys();
      this.log.debug("Flushed Redis keys", { count: n });
    });
    await attempt("files", async () => {
      rmSync(plan.nodesDir, { recursive: true, force: true });
      // Logs are kept, one generation, for looking into what happened before this `down`.
      if (existsSync(plan.logDir)) {
        rmSync(join(this.stateDir, "last-logs"), { recursive: true, force: true });
        renameSync(plan.logDir, join(this.stateDir, "last-logs"));
      }
      rmSync(plan.stateFile, { force: true });
      rmSync(this.runDir, { recursive: true, force: true });
    });
    const left = await this.leftovers(plan, adminPassword).catch((err: unknown) => [`leftover check failed: ${errorMessage(err)}`]);
    if (errors.length > 0 || left.length > 0) {
      throw new ExternalError(`down left things behind:\n  ${[...errors, ...left].join("\n  ")}`, { retryable: true });
    }
  }

  /** Everything of this cluster still present on the machine (empty after a clean `down`). */
  async leftovers(plan = this.plan(Math.max(1, this.knownNodeCount())), adminPassword?: string): Promise<string[]> {
    const out: string[] = [];
    out.push(...(await this.network.leftovers(plan)));
    for (const p of findHerdProcesses(this.mark, this.pathMarkers(plan))) out.push(`process ${p.pid} ${p.cmdline}`);
    for (const m of mountsUnder(parseMountPoints(readFileSync("/proc/self/mountinfo", "utf8")), [plan.nodesDir, this.runDir])) {
      out.push(`mount ${m}`);
    }
    for (const path of [plan.nodesDir, this.runDir, plan.stateFile]) if (existsSync(path)) out.push(`path ${path}`);
    out.push(...(await this.brokerFor(adminPassword).leftovers(plan.vhost)));
    return out;
  }

  // ------------------------------------------------------------------ internals

  private async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await fn();
      this.say(`  ${what}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return result;
    } catch (err) {
      this.say(`  ${what}: FAILED: ${errorMessage(err)}`);
      throw err;
    }
  }

  private async declareTopology(plan: ClusterPlan, secrets: Secrets): Promise<void> {
    const url = `amqp://${plan.brokerUsers.control}:${encodeURIComponent(secrets.controlPassword)}@127.0.0.1:5672/${plan.vhost}`;
    const conn = await amqp.connect(url);
    try {
      const ch = await conn.createChannel();
      await declareControlTopology(ch, conn);
      for (const node of plan.nodes) await declareNodeTopology(ch, node.id);
      await ch.close();
    } finally {
      await conn.close();
    }
  }

  private async waitForControl(plan: ClusterPlan, pid: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) throw new ExternalError(`control service exited right after start: ${logTail(plan.controlLog)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${plan.apiPort}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new ExternalError(`control service did not answer /healthz on port ${plan.apiPort}: ${logTail(plan.controlLog)}`);
  }

  private async expectAlive(pid: number, ms: number, logFile: string, what: string): Promise<void> {
    if (await waitForExit(pid, ms)) throw new ExternalError(`${what} exited right after start: ${logTail(logFile)}`);
  }

  private pathMarkers(plan: ClusterPlan): string[] {
    return [`${this.runDir}/`, `${plan.nodesDir}/`];
  }

  private async killLeftoverProcesses(plan: ClusterPlan): Promise<void> {
    // Containers whose engine died keep running under their shims and carry no mark: runc's own
    // state under the exec root still names them, and `runc delete --force` kills them.
    for (const node of plan.nodes) {
      const runcRoot = join(node.execRoot, "runtime-runc", "moby");
      let ids: string[] = [];
      try {
        ids = readdirSync(runcRoot);
      } catch {
        continue;
      }
      for (const id of ids) {
        this.log.warn("Killing orphaned container", { nodeId: node.id, containerId: id });
        await this.run("runc", ["--root", runcRoot, "delete", "--force", id], { check: false });
      }
    }
    const procs = findHerdProcesses(this.mark, this.pathMarkers(plan));
    if (procs.length === 0) return;
    this.log.warn("Stopping leftover processes", { pids: procs.map((p) => p.pid) });
    for (const p of procs) signal(p.pid, "SIGTERM");
    await Promise.all(procs.map((p) => waitForExit(p.pid, 5_000)));
    for (const p of findHerdProcesses(this.mark, this.pathMarkers(plan))) signal(p.pid, "SIGKILL");
    await Promise.all(procs.map((p) => waitForExit(p.pid, 5_000)));
  }

  private async unmountAll(plan: ClusterPlan): Promise<void> {
    const mounts = mountsUnder(parseMountPoints(readFileSync("/proc/self/mountinfo", "utf8")), [plan.nodesDir, this.runDir]);
    for (const m of mounts) {
      const res = await this.run("umount", [m], { check: false });
      // Busy (a process still holds it): detach it now, the kernel frees it when released.
      if (res.code !== 0) await this.run("umount", ["-l", m], { check: false });
    }
  }

  /** The highest node index anything on the machine still refers to (state, netns, dirs). */
  private knownNodeCount(): number {
    const indices = [this.readState()?.nodes.length ?? 0];
    const fromNames = (names: string[], re: RegExp) =>
      names
        .map((n) => re.exec(n)?.[1])
        .filter((x): x is string => x !== undefined)
        .map(Number);
    const ls = (dir: string) => {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    };
    const netns = this.plan(1).netnsPattern;
    indices.push(...fromNames(ls("/run/netns"), netns));
    indices.push(...fromNames(ls(this.runDir), /^n(\d+)$/));
    indices.push(...fromNames(ls(join(this.stateDir, "nodes")), /^n(\d+)$/));
    indices.push(...fromNames(ls(this.runDir), /^agent-n(\d+)\.pid$/));
    return Math.max(...indices);
  }

  private stateFrom(plan: ClusterPlan, secrets: Secrets, existing: ClusterState | undefined, capacity?: Record<string, NodeCapacity>): ClusterState {
    return {
      version: 1,
      stateDir: this.stateDir,
      apiUrl: `http://127.0.0.1:${plan.apiPort}`,
      apiToken: secrets.apiToken,
      amqp: { adminUser: plan.brokerUsers.admin, adminPassword: secrets.adminPassword, managementUrl: this.managementUrl },
      nodes: plan.nodes.map((n) => ({
        id: n.id,
        address: n.address,
        netns: n.netns,
        dockerHost: n.dockerHost,
        dataRoot: n.dataRoot,
        agentPid: existing?.nodes.find((e) => e.id === n.id)?.agentPid,
        ...((capacity?.[n.id] ?? existing?.nodes.find((e) => e.id === n.id)?.capacity)
          ? { capacity: capacity?.[n.id] ?? existing?.nodes.find((e) => e.id === n.id)?.capacity }
          : {}),
      })),
      controlPid: existing?.controlPid,
      secrets,
    };
  }

  private readState(): ClusterState | undefined {
    try {
      return JSON.parse(readFileSync(this.stateFile, "utf8")) as ClusterState;
    } catch {
      return undefined;
    }
  }

  private writeState(state: ClusterState): void {
    mkdirSync(this.stateDir, { recursive: true });
    const tmp = `${this.stateFile}.tmp`;
    // 0600: the file holds every password of the cluster.
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.stateFile);
  }

  private updateState(fn: (s: ClusterState) => ClusterState): void {
    const state = this.readState();
    if (state) this.writeState(fn(state));
  }

  private requireState(): { plan: ClusterPlan; state: ClusterState } {
    const state = this.readState();
    if (!state) throw new NotFoundError(`no local cluster (${this.stateFile} is missing): run 'herd up'`);
    return { plan: this.plan(state.nodes.length), state };
  }
}

function nodeOf(plan: ClusterPlan, nodeId: string): NodePlan {
  const node = plan.nodes.find((n) => n.id === nodeId);
  if (!node) throw new NotFoundError(`no node ${nodeId} in the local cluster (nodes: ${plan.nodes.map((n) => n.id).join(", ")})`);
  return node;
}

function newSecrets(plan: ClusterPlan): Secrets {
  const pw = () => randomBytes(24).toString("base64url");
  return {
    apiToken: randomBytes(16).toString("hex"),
    adminPassword: pw(),
    controlPassword: pw(),
    nodePasswords: Object.fromEntries(plan.nodes.map((n) => [n.id, pw()])),
    transferSecret: pw(),
  };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Where control replica `index` (≥ 2) keeps its pid and log, and its API port. */
function replicaPaths(plan: ClusterPlan, runDir: string, index: number): { pidFile: string; logFile: string; apiPort: number } {
  return { pidFile: join(runDir, `control-${index}.pid`), logFile: join(plan.logDir, `control-${index}.log`), apiPort: plan.apiPort + index - 1 };
}
