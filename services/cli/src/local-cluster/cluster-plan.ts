import { join } from "node:path";
import { CLUSTER_NETWORK_NAME, formatAddressRange, type AddressRange } from "../../../../shared/src/contracts/cluster-network.js";
import { ValidationError } from "../../../../shared/src/errors.js";
import { REDIS_USER, withRedisCredentials } from "../../../../shared/src/redis-credentials.js";

/** The control service's entry point, relative to the repository (how its processes are told apart from others). */
export const CONTROL_ENTRY = "dist/services/control/src/main.js";

/** Where a local cluster's process logs are (`herd down` moves them to `<stateDir>/last-logs`). */
export function clusterLogDir(stateDir: string): string {
  return join(stateDir, "logs");
}

/**
 * Where everything of a local cluster lives: names, addresses and paths, as a pure function of
 * the node count and the directories, so `up`, `down` and the tests agree on them.
 */
export interface NodePlan {
  id: string;
  /** 1-based position; the address is 10.77.0.<10+index>. */
  index: number;
  address: string;
  netns: string;
  /** Host end of the node's veth pair (the inside end is always `eth0`). */
  hostVeth: string;
  runDir: string;
  dockerSocket: string;
  dockerHost: string;
  dockerPidFile: string;
  execRoot: string;
  dataRoot: string;
  nodeDir: string;
  dockerLog: string;
  /** The node engine's own daemon.json, so the host's /etc/docker/daemon.json cannot conflict with our flags. */
  dockerConfig: string;
  agentStateDir: string;
  agentPidFile: string;
  agentLog: string;
}

/** The cluster network every node engine gets (see shared/src/contracts/cluster-network.ts). */
export interface ClusterNetworkPlan {
  /** Docker network name on every engine. */
  name: string;
  /** The whole /24 of the cluster bridge, e.g. 10.77.0.0/24: containers share it with the host and the nodes. */
  subnet: string;
  gateway: string;
  /** Docker's own pool (never used: every container gets control's address), kept off the nodes' addresses. */
  ipRange: string;
  /** What control hands out: above the nodes' addresses, at most .128-.254. */
  range: AddressRange;
  /** The node's interface on the cluster bridge, the macvlan parent. */
  parent: string;
}

export interface ClusterPlan {
  /** Prefix of every machine-wide name (bridge, netns, broker users, vhost); "herd" by default. */
  name: string;
  /** First three octets of the /24 the nodes live in. */
  subnet: string;
  redisUrl: string;
  /** Matches exactly this cluster's netns names; `down` deletes these and nothing else. */
  netnsPattern: RegExp;
  brokerUsers: { admin: string; control: string; nodePrefix: string };
  stateDir: string;
  runDir: string;
  stateFile: string;
  logDir: string;
  nodesDir: string;
  imageDir: string;
  bridge: string;
  bridgeAddress: string;
  /**
   * Where the nodes reach the broker: the host's broker address (infra/bootstrap.sh keeps it on
   * `lo` and RabbitMQ listens there and on 127.0.0.1 only), the same for every local cluster.
   */
  brokerAddress: string;
  prefixLength: number;
  controlPidFile: string;
  controlLog: string;
  apiPort: number;
  vhost: string;
  clusterNetwork: ClusterNetworkPlan;
  nodes: NodePlan[];
}

export const DEFAULT_NAME = "herd";
export const DEFAULT_SUBNET = "10.77.0";
export const MAX_NODES = 200; // addresses .11 … .210 stay inside the /24
/** Netns names a cluster called `name` owns. */
export function netnsPattern(name: string): RegExp {
  return new RegExp(`^${name}-n(\\d+)$`);
}

export function nodeId(index: number): string {
  return `n${index}`;
}

export interface PlanOptions {
  nodes: number;
  stateDir: string;
  runDir?: string;
  apiPort?: number;
  /** A second cluster on the same machine (e.g. a test's) needs its own name, subnet, port, Redis db. */
  name?: string;
  subnet?: string;
  redisUrl?: string;
  brokerAddress?: string;
}

/** The address infra/bootstrap.sh gives the broker (HERD_BROKER_ADDRESS there). */
export const DEFAULT_BROKER_ADDRESS = `${DEFAULT_SUBNET}.1`;

export function planCluster(opts: PlanOptions): ClusterPlan {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES) {
    throw new ValidationError("nodes", `must be an integer between 1 and ${MAX_NODES}, got ${opts.nodes}`);
  }
  const name = opts.name ?? DEFAULT_NAME;
  // "<name>-n200-h" must fit the kernel's 15-character interface names.
  if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) throw new ValidationError("name", `must be 1-8 lowercase letters/digits, got "${name}"`);
  const subnet = opts.subnet ?? DEFAULT_SUBNET;
  if (!/^10\.(\d{1,3})\.(\d{1,3})$/.test(subnet) || subnet.split(".").some((o) => Number(o) > 255)) {
    throw new ValidationError("subnet", `must be the first three octets of a 10.x.y.0/24, got "${subnet}"`);
  }
  const stateDir = opts.stateDir;
  const runDir = opts.runDir ?? "/run/herd";
  const logDir = clusterLogDir(stateDir);
  const nodesDir = join(stateDir, "nodes");
  const nodes: NodePlan[] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const id = nodeId(i);
    const nodeRun = join(runDir, id);
    const nodeDir = join(nodesDir, id);
    const dockerSocket = join(nodeRun, "docker.sock");
    // A unix socket path must fit in sun_path (108 bytes); containerd's socket sits deepest.
    const deepest = join(nodeRun, "docker", "containerd", "containerd.sock.ttrpc");
    if (Buffer.byteLength(deepest) >= 104) {
      throw new ValidationError("runDir", `too long for unix socket paths (${deepest})`);
    }
    nodes.push({
      id,
      index: i,
      address: `${subnet}.${10 + i}`,
      netns: `${name}-${id}`,
      hostVeth: `${name}-${id}-h`,
      runDir: nodeRun,
      dockerSocket,
      dockerHost: `unix://${dockerSocket}`,
      dockerPidFile: join(nodeRun, "docker.pid"),
      execRoot: join(nodeRun, "docker"),
      dataRoot: join(nodeDir, "docker"),
      nodeDir,
      dockerLog: join(nodeDir, "dockerd.log"),
      dockerConfig: join(nodeDir, "daemon.json"),
      agentStateDir: join(nodeDir, "agent"),
      agentPidFile: join(runDir, `agent-${id}.pid`),
      agentLog: join(logDir, `agent-${id}.log`),
    });
  }
  return {
    name,
    subnet,
    redisUrl: opts.redisUrl ?? "redis://127.0.0.1:6379",
    netnsPattern: netnsPattern(name),
    brokerUsers: { admin: `${name}-admin`, control: `${name}-control`, nodePrefix: `${name}-node-` },
    stateDir,
    runDir,
    stateFile: join(stateDir, "cluster.json"),
    logDir,
    nodesDir,
    imageDir: join(stateDir, "images"),
    bridge: `${name}0`,
    bridgeAddress: `${subnet}.1`,
    brokerAddress: opts.brokerAddress ?? DEFAULT_BROKER_ADDRESS,
    prefixLength: 24,
    controlPidFile: join(runDir, "control.pid"),
    controlLog: join(logDir, "control.log"),
    apiPort: opts.apiPort ?? 7070,
    vhost: name,
    clusterNetwork: {
      name: CLUSTER_NETWORK_NAME,
      subnet: `${subnet}.0/24`,
      gateway: `${subnet}.1`,
      ipRange: `${subnet}.128/25`,
      range: { first: `${subnet}.${Math.max(128, 11 + opts.nodes)}`, last: `${subnet}.254` },
      parent: "eth0",
    },
    nodes,
  };
}

/** dockerd's arguments for one node: its own data/exec roots and socket, no networking of its own. */
export function dockerdArgs(node: NodePlan): string[] {
  return [
    "--config-file",
    node.dockerConfig,
    "--data-root",
    node.dataRoot,
    "--exec-root",
    node.execRoot,
    "--host",
    node.dockerHost,
    "--pidfile",
    node.dockerPidFile,
    "--bridge",
    "none",
    "--iptables=false",
    "--ip-masq=false",
    "--experimental",
  ];
}

export interface Secrets {
  apiToken: string;
  adminPassword: string;
  controlPassword: string;
  nodePasswords: Record<string, string>;
  /** Authenticates migration transfers between the nodes' rsync daemons. */
  transferSecret: string;
  /** Herd's Redis ACL user's password (host-wide, from infra/bootstrap.sh); absent = Redis without ACL. */
  redisPassword?: string;
}

/** Environment of the control service (besides the inherited PATH etc.). */
export function controlEnv(plan: ClusterPlan, secrets: Secrets): Record<string, string> {
  return {
    HERD_AMQP_URL: `amqp://${plan.brokerUsers.control}:${encodeURIComponent(secrets.controlPassword)}@127.0.0.1:5672/${plan.vhost}`,
    HERD_REDIS_URL: secrets.redisPassword === undefined ? plan.redisUrl : withRedisCredentials(plan.redisUrl, REDIS_USER, secrets.redisPassword),
    HERD_API_TOKEN: secrets.apiToken,
    HERD_API_PORT: String(plan.apiPort),
    HERD_STATE_DIR: plan.stateDir,
    HERD_CLUSTER_RANGE: formatAddressRange(plan.clusterNetwork.range),
  };
}

/** Environment of one node's agent: it reaches the broker over the bridge, like a remote host. */
export function agentEnv(plan: ClusterPlan, node: NodePlan, secrets: Secrets): Record<string, string> {
  const password = secrets.nodePasswords[node.id];
  if (password === undefined) throw new ValidationError(`nodePasswords.${node.id}`, "missing");
  return {
    HERD_NODE_ID: node.id,
    HERD_AMQP_URL: `amqp://${plan.brokerUsers.nodePrefix}${node.id}:${encodeURIComponent(password)}@${plan.brokerAddress}:5672/${plan.vhost}`,
    HERD_DOCKER_HOST: node.dockerHost,
    HERD_DOCKER_DATA_ROOT: node.dataRoot,
    HERD_DOCKER_EXEC_ROOT: node.execRoot,
    HERD_NODE_ADDRESS: node.address,
    HERD_STATE_DIR: node.agentStateDir,
    HERD_TRANSFER_SECRET: secrets.transferSecret,
    HERD_TRANSFER_ALLOW: `${plan.subnet}.0/${plan.prefixLength}`,
  };
}
