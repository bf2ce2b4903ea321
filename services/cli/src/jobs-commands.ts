import { readFileSync } from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import { parseOrThrow } from "../../../shared/src/contracts/common.js";
import {
  FINISHED_JOB_STATES,
  JobDeleted,
  JobList,
  JobPolicy,
  JobRecord,
  JobState,
  JobSubmission,
  SchedulerStatus,
} from "../../../shared/src/contracts/jobs.js";
import { ValidationError } from "../../../shared/src/errors.js";
import type { ApiClient } from "./api-client.js";
import { formatAge, formatBytes, formatDuration, parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";

const outputOption = () => new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat);
const MiB = 1_048_576;

const numArg =
  (name: string, min: number, max: number, integer = false) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got "${v}"`);
    }
    return n;
  };
const policyArg = (v: string) => {
  const r = JobPolicy.safeParse(v);
  if (!r.success) throw new InvalidArgumentError(`policy must be one of ff, bf, ffd, bfd, got "${v}"`);
  return r.data;
};
const stateArg = (v: string) => {
  const r = JobState.safeParse(v);
  if (!r.success) throw new InvalidArgumentError(`state must be one of ${JobState.options.join(", ")}, got "${v}"`);
  return r.data;
};
const envArg = (v: string, prev: Record<string, string> = {}) => {
  const i = v.indexOf("=");
  if (i <= 0) throw new InvalidArgumentError(`--env takes NAME=VALUE, got "${v}"`);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
};

export function jobNodes(j: JobRecord): string {
  const nodes = [...new Set(j.tasks.map((t) => t.nodeId).filter((n): n is string => n !== undefined))];
  return nodes.length ? nodes.join(",") : "-";
}

function waited(j: JobRecord, now: number): string {
  const end = j.placedAt ?? (j.state === "queued" ? now : j.finishedAt);
  return end === undefined ? "-" : formatDuration(end - j.submittedAt);
}

function ran(j: JobRecord, now: number): string {
  if (j.runningAt === undefined) return "-";
  return formatDuration((j.finishedAt ?? now) - j.runningAt);
}

export function jobsTable(jobs: readonly JobRecord[], now = Date.now()): string {
  return renderTable(
    ["JOB", "NAME", "STATE", "PRIO", "CONTAINERS", "CPUS", "MEMORY", "NODES", "QUEUED FOR", "RAN FOR", "SUBMITTED"],
    jobs.map((j) => [
      j.id,
      j.name,
      j.state,
      j.priority,
      j.tasks.length,
      Math.round(j.tasks.reduce((s, t) => s + t.cpus, 0) * 100) / 100,
      formatBytes(j.tasks.reduce((s, t) => s + t.memoryMb, 0) * MiB),
      jobNodes(j),
      waited(j, now),
      ran(j, now),
      formatAge(j.submittedAt, now),
    ]),
  );
}

function describeJob(j: JobRecord, now = Date.now()): string {
  const t = (ms: number | undefined) => (ms === undefined ? "-" : new Date(ms).toISOString());
  return [
    `job ${j.id} (${j.name}): ${j.state}${j.reason ? ` — ${j.reason}` : ""}`,
    `  priority ${j.priority} · policy ${j.policy ?? "cluster's"}`,
    `  submitted ${t(j.submittedAt)} · placed ${t(j.placedAt)} · running ${t(j.runningAt)} · finished ${t(j.finishedAt)}`,
    `  queued for ${waited(j, now)} · ran for ${ran(j, now)}`,
    renderTable(
      ["#", "CONTAINER", "NODE", "STATE", "EXIT", "CPUS", "MEMORY", "IMAGE", "COMMAND"],
      j.tasks.map((k, i) => [
        i,
        k.container,
        k.nodeId ?? "-",
        k.state,
        k.exitCode ?? "-",
        k.cpus,
        formatBytes(k.memoryMb * MiB),
        k.image,
        k.cmd.join(" ") || "-",
      ]),
    ),
  ].join("\n");
}

function schedulerText(s: SchedulerStatus): string {
  return [
    `policy ${s.policy} · placement ${s.paused ? "PAUSED" : "on"} · ${s.queued} job${s.queued === 1 ? "" : "s"} waiting`,
    renderTable(
      ["NODE", "STATUS", "CPUS RESERVED", "MEMORY RESERVED", "CAPACITY FROM"],
      s.nodes.map((n) => [n.id, n.status, `${n.reservedCpus} / ${n.cpus}`, `${formatBytes(n.reservedMemoryBytes)} / ${formatBytes(n.memoryBytes)}`, n.source]),
    ),
  ].join("\n");
}

interface SubmitFlags {
  file?: string;
  name?: string;
  image?: string;
  cpus?: number;
  memory?: number;
  env?: Record<string, string>;
  priority?: number;
  policy?: JobPolicy;
  wait?: boolean;
  output: OutputFormat;
}

/** The submission from -f (JSON file, "-" = stdin) or from flags; validated here with the API's own schema. */
export function submissionFrom(
  opts: SubmitFlags,
  cmd: string[],
  readFile: (p: string) => string = (p) => readFileSync(p === "-" ? 0 : p, "utf8"),
): JobSubmission {
  if (opts.file) {
    if (opts.image || cmd.length) throw new ValidationError("-f", "takes the whole job; do not also give an image or a command");
    let raw: unknown;
    try {
      raw = JSON.parse(readFile(opts.file));
    } catch (err) {
      throw new ValidationError("-f", `${opts.file} is not readable JSON: ${(err as Error).message}`);
    }
    const overrides = {
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...(opts.name ? { name: opts.name } : {}),
    };
    return parseOrThrow(JobSubmission, typeof raw === "object" && raw !== null ? { ...raw, ...overrides } : raw, "job");
  }
  if (!opts.image) throw new ValidationError("image", "give -f job.json, or an image with --cpus and --memory");
  if (opts.cpus === undefined) throw new ValidationError("--cpus", "is required: the CPUs the job reserves");
  if (opts.memory === undefined) throw new ValidationError("--memory", "is required: the memory (MiB) the job reserves");
  return parseOrThrow(JobSubmission, {
    name:
      opts.name ??
      (opts.image
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .replace(/^[^A-Za-z0-9]+/, "")
        .slice(0, 63) ||
        "job"),
    containers: [{ image: opts.image, cmd, cpus: opts.cpus, memoryMb: opts.memory, env: opts.env ?? {} }],
    ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
    ...(opts.policy ? { policy: opts.policy } : {}),
  });
}

export function registerJobsCommands(program: Command, api: () => ApiClient): void {
  // Options after the image belong to the job's command (herd jobs submit … IMAGE sh -c "exit 3").
  const jobs = program
    .command("jobs")
    .description("submit jobs and let the cluster place them (bin packing on reserved CPU and memory)")
    .enablePositionalOptions();

  jobs
    .command("submit")
    .description("submit a job: -f job.json, or one container from flags (herd jobs submit --cpus 0.5 --memory 64 IMAGE CMD...)")
    .option("-f, --file <path>", 'job as JSON ({"name", "containers": [{image, cmd, cpus, memoryMb, env}], "priority", "policy"}); "-" reads stdin')
    .option("--name <name>", "job name")
    .addOption(new Option("--cpus <n>", "CPUs to reserve").argParser(numArg("--cpus", 0.01, 64)))
    .addOption(new Option("-m, --memory <mb>", "memory to reserve, MiB").argParser(numArg("--memory", 6, 4_194_304, true)))
    .addOption(new Option("-e, --env <NAME=VALUE>", "environment variable (repeatable)").argParser(envArg))
    .addOption(new Option("--priority <n>", "0-100, higher is placed first").argParser(numArg("--priority", 0, 100, true)))
    .addOption(new Option("--policy <policy>", "ff, bf, ffd or bfd for this job (default: the cluster's)").argParser(policyArg))
    .option("--wait", "wait until the job has finished")
    .addOption(outputOption())
    .argument("[image]", "image, e.g. herd/workload:latest")
    .argument("[cmd...]", "command and arguments")
    .passThroughOptions()
    .action(async (image: string | undefined, cmd: string[], opts: SubmitFlags) => {
      const sub = submissionFrom({ ...opts, ...(image ? { image } : {}) }, cmd);
      let job = parseOrThrow(JobRecord, await api().post<unknown>("/jobs", sub), "response");
      if (opts.wait) {
        while (!FINISHED_JOB_STATES.includes(job.state)) {
          await new Promise((r) => setTimeout(r, 500));
          job = parseOrThrow(JobRecord, await api().get<unknown>(`/jobs/${job.id}`), "response");
        }
        if (job.state !== "succeeded") process.exitCode = 1;
      }
      print(opts.output, job, () =>
        opts.wait ? describeJob(job) : `${job.id} ${job.state} (${job.name}, ${job.tasks.length} container${job.tasks.length === 1 ? "" : "s"})`,
      );
    });

  jobs
    .command("ls")
    .description("list jobs, newest first")
    .addOption(new Option("--state <state>", "only jobs in this state").argParser(stateArg))
    .addOption(new Option("-n, --limit <n>", "at most this many").default(100).argParser(numArg("--limit", 1, 100_000, true)))
    .addOption(outputOption())
    .action(async (opts: { state?: JobState; limit: number; output: OutputFormat }) => {
      const q = new URLSearchParams({ limit: String(opts.limit), ...(opts.state ? { state: opts.state } : {}) });
      const { jobs: list } = parseOrThrow(JobList, await api().get<unknown>(`/jobs?${q}`), "response");
      print(opts.output, list, () => (list.length ? jobsTable(list) : "no jobs"));
    });

  jobs
    .command("describe")
    .description("one job: state, times, where each container runs, exit codes")
    .argument("<id>", "job id, e.g. j-42")
    .addOption(outputOption())
    .action(async (id: string, opts: { output: OutputFormat }) => {
      const job = parseOrThrow(JobRecord, await api().get<unknown>(`/jobs/${encodeURIComponent(id)}`), "response");
      print(opts.output, job, () => describeJob(job));
    });

  jobs
    .command("rm")
    .description("cancel waiting or running jobs (their containers are removed); delete finished jobs' records")
    .argument("<ids...>", "job ids")
    .addOption(outputOption())
    .action(async (ids: string[], opts: { output: OutputFormat }) => {
      const out: JobDeleted[] = [];
      for (const id of ids) out.push(parseOrThrow(JobDeleted, await api().request<unknown>("DELETE", `/jobs/${encodeURIComponent(id)}`), "response"));
      print(opts.output, out, () => out.map((d) => `${d.id} ${d.action}`).join("\n"));
    });

  jobs
    .command("scheduler")
    .description("the placement policy, the pause switch, and each node's capacity and reservations")
    .addOption(new Option("--policy <policy>", "set the cluster's policy: ff, bf, ffd or bfd").argParser(policyArg))
    .option("--pause", "stop placing jobs (they keep queueing)")
    .option("--resume", "place jobs again")
    .addOption(outputOption())
    .action(async (opts: { policy?: JobPolicy; pause?: boolean; resume?: boolean; output: OutputFormat }) => {
      if (opts.pause && opts.resume) throw new ValidationError("--pause/--resume", "give one, not both");
      const change = { ...(opts.policy ? { policy: opts.policy } : {}), ...(opts.pause ? { paused: true } : {}), ...(opts.resume ? { paused: false } : {}) };
      const raw = Object.keys(change).length ? await api().request<unknown>("PUT", "/scheduler", change) : await api().get<unknown>("/scheduler");
      const s = parseOrThrow(SchedulerStatus, raw, "response");
      print(opts.output, s, () => schedulerText(s));
    });
}
