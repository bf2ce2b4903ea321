import { z } from "zod";
import { ValidationError } from "./errors.js";
import { NodeId } from "./contracts/common.js";

/**
 * Every Herd setting, read from the environment and validated once at start-up. The README's
 * configuration table lists the same names. Each service picks the group it needs.
 */
const intFromEnv = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

export const commonSettings = {
  HERD_AMQP_URL: z
    .string()
    .regex(/^amqps?:\/\//, "must be an amqp:// or amqps:// URL")
    .default("amqp://127.0.0.1:5672/herd"),
  HERD_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .default("redis://127.0.0.1:6379"),
  HERD_STATE_DIR: z.string().min(1).default("/var/lib/herd"),
  HERD_LOG_LEVEL: z.enum(["error", "warn", "info", "debug"]).default("info"),
  HERD_LOG_FORMAT: z.enum(["text", "json"]).default("text"),
  /** Port of each node's transfer (rsync) daemon, on the node's own address. */
  HERD_TRANSFER_PORT: intFromEnv(8730, 1, 65535),
};

/** Node QoS (issue 15): the loop, its period, and the CPU it divides among fair-shared containers. */
function qosAgentSettings() {
  return {
    HERD_QOS: z.enum(["on", "off"]).default("on"),
    HERD_QOS_PERIOD_MS: intFromEnv(1000, 100, 60_000),
    /** CPU for fair-shared containers in thousandths of a core; 0 = every core of the node. */
    HERD_QOS_CPU_MILLICORES: intFromEnv(0, 0, 1_000_000),
  };
}

export const agentSettings = {
  ...commonSettings,
  HERD_NODE_ID: NodeId,
  HERD_DOCKER_HOST: z.string().default("unix:///var/run/docker.sock"),
  HERD_DOCKER_DATA_ROOT: z.string().default("/var/lib/docker"),
  /** The engine's --exec-root; runc's state for its containers is under it. */
  HERD_DOCKER_EXEC_ROOT: z.string().default("/run/docker"),
  /** How containers are checkpointed: runc directly (fast) or Docker's checkpoint API. */
  HERD_CHECKPOINTER: z.enum(["runc", "docker"]).default("runc"),
  HERD_NODE_ADDRESS: z.string().default("127.0.0.1"),
  HERD_TELEMETRY_INTERVAL_MS: intFromEnv(1000, 100, 60_000),
  HERD_HEARTBEAT_INTERVAL_MS: intFromEnv(2000, 200, 60_000),
  HERD_CGROUP_ROOT: z.string().default("/sys/fs/cgroup"),
  HERD_PROC_ROOT: z.string().default("/proc"),
  /** Shared secret that authenticates migration transfers between nodes. */
  HERD_TRANSFER_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  /** Bandwidth limit for migration transfers in KiB/s; 0 = unlimited. */
  HERD_TRANSFER_BWLIMIT_KBPS: intFromEnv(0, 0, 10_000_000),
  /** Networks allowed to send migration transfers to this node (comma-separated CIDRs). */
  /** CPUs this node offers for job reservations (default: its cores). */
  HERD_NODE_CPUS: z.coerce.number().positive().max(4096).optional(),
  /** Memory this node offers for job reservations, MiB (default: its RAM). */
  HERD_NODE_MEMORY_MB: z.coerce
    .number()
    .int()
    .positive()
    .max(1 << 30)
    .optional(),
  HERD_TRANSFER_ALLOW: z
    .string()
    .regex(/^\d+\.\d+\.\d+\.\d+\/\d+(,\d+\.\d+\.\d+\.\d+\/\d+)*$/, "must be comma-separated IPv4 CIDRs, e.g. 10.77.0.0/24")
    .default("127.0.0.0/8,10.77.0.0/24"),
  ...qosAgentSettings(),
};

export const controlSettings = {
  ...commonSettings,
  HERD_API_HOST: z.string().default("127.0.0.1"),
  HERD_API_PORT: intFromEnv(7070, 1, 65535),
  HERD_API_TOKEN: z.string().min(16, "must be at least 16 characters"),
  /**
   * Node join (POST /api/v1/nodes/{id}/join, `herd node join`): control creates the joining node's
   * own least-privilege broker user through RabbitMQ's management API. Off unless the management
   * URL, the administrator's password and the broker address the nodes use are all set (compose sets them).
   */
  HERD_JOIN_MANAGEMENT_URL: z.url({ protocol: /^https?$/, error: "must be an http(s):// URL, e.g. http://rabbitmq:15672" }).optional(),
  HERD_JOIN_ADMIN_USER: z.string().min(1).default("herd-admin"),
  HERD_JOIN_ADMIN_PASSWORD: z.string().min(1).optional(),
  HERD_JOIN_VHOST: z.string().min(1).default("herd"),
  /** Where the nodes reach AMQP: host or host:port (5672 when no port). */
  HERD_JOIN_BROKER_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host or host:port, e.g. 10.0.0.1:5672")
    .optional(),
  /** Handed to joining nodes: authenticates migration transfers between their rsync daemons. */
  HERD_TRANSFER_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  /**
   * Addresses control hands out on the cluster network ("<first>-<last>", e.g.
   * 10.77.0.128-10.77.0.254); unset = no cluster network, new containers get network none.
   */
  HERD_CLUSTER_RANGE: z
    .string()
    .regex(/^\d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+$/, "must be <first>-<last> IPv4 addresses, e.g. 10.77.0.128-10.77.0.254")
    .optional(),
  HERD_NODE_DOWN_AFTER_MS: intFromEnv(6000, 500, 600_000),
  /** Every migration is committed, rolled back or failed (with the container's whereabouts) within this bound. */
  HERD_MIGRATION_DEADLINE_MS: intFromEnv(120_000, 10_000, 3_600_000),
  HERD_HISTORY_LENGTH: intFromEnv(600, 10, 100_000),
  HERD_TRACES_DIR: z.string().default("../shared/traces"),
  /** Placement policy of `herd plan`, `herd rebalance` and the automatic loop. */
  HERD_POLICY: z.enum(["none", "threshold", "sandpiper", "forecast"]).default("forecast"),
  /** The policy's arguments as JSON, e.g. {"cpuThreshold":0.8}; validated at start-up. */
  HERD_POLICY_ARGS: z
    .string()
    .default("{}")
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON object" });
        return z.NEVER;
      }
    }),
  HERD_REBALANCE_AUTO: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  HERD_REBALANCE_INTERVAL_MS: intFromEnv(10_000, 1_000, 3_600_000),
  HERD_MAX_CONCURRENT_MIGRATIONS: intFromEnv(2, 0, 1000),
  HERD_MAX_MIGRATIONS_PER_NODE: intFromEnv(1, 0, 1000),
  HERD_MIGRATION_COOLDOWN_S: intFromEnv(300, 0, 86_400),
  HERD_FORECAST_RETRAIN_MS: intFromEnv(300_000, 1_000, 86_400_000),
  /** Bin-packing policy for jobs (changeable at run time: PUT /api/v1/scheduler). */
  HERD_JOBS_POLICY: z.enum(["ff", "bf", "ffd", "bfd"]).default("bf"),
  /** The agents' telemetry interval, to turn history points into planning intervals. */
  HERD_TELEMETRY_INTERVAL_MS: intFromEnv(1000, 100, 60_000),
  /** This control replica's name (unique among replicas); default: hostname and pid. */
  HERD_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "letters, digits, '.', '_' or '-' (at most 63)")
    .optional(),
  /** Per-container CPU/memory gauges on /metrics (two series per container); turn off at thousands of containers. */
  HERD_METRICS_PER_CONTAINER: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  /** How long the leader's lease lasts without renewal; a dead leader is replaced within about this. */
  HERD_LEADER_LEASE_MS: intFromEnv(5000, 1000, 60_000),
};

export const cliSettings = {
  HERD_API_URL: z.string().url().optional(),
  HERD_API_TOKEN: z.string().optional(),
  HERD_STATE_DIR: commonSettings.HERD_STATE_DIR,
};

type Shape = Record<string, z.ZodType>;
export type Settings<S extends Shape> = { [K in keyof S]: z.infer<S[K]> };

/** Validates `env` against `shape`; the error names the variable and what is wrong with it. */
export function loadSettings<S extends Shape>(shape: S, env: NodeJS.ProcessEnv = process.env): Settings<S> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const raw = env[name];
    const result = schema.safeParse(raw === "" ? undefined : raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const got = raw === undefined ? "it is not set" : /TOKEN|PASSWORD|SECRET/.test(name) ? "value hidden" : `got "${raw}"`;
      throw new ValidationError(name, `${issue?.message ?? "invalid"} (${got})`);
    }
    out[name] = result.data;
  }
  return out as Settings<S>;
}

/** For a service's entry point: the settings, or a message naming the bad variable and exit code 2. */
export function loadSettingsOrExit<S extends Shape>(shape: S, env: NodeJS.ProcessEnv = process.env): Settings<S> {
  try {
    return loadSettings(shape, env);
  } catch (err) {
    process.stderr.write(`Invalid configuration: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
