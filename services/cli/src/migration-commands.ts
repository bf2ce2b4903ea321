import type { Command } from "commander";
import { Option } from "commander";
import { DryRunReport, MigrationList, MigrationRecord, TERMINAL_STATES, type StepRecord } from "../../../shared/src/contracts/migration-api.js";
import { POST_COPY_RISK } from "../../../shared/src/contracts/migration-protocol.js";
import { HerdError } from "../../../shared/src/errors.js";
import type { ApiClient } from "./api-client.js";
import { nodeArg } from "./arguments.js";
import { formatBytes, formatDuration, parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";

function stepLine(s: StepRecord, now: number): string {
  const mark = s.ok === undefined ? "…" : s.ok ? "✓" : "✗";
  const took = formatDuration((s.finishedAt ?? now) - s.startedAt);
  const bytes = s.bytes ? `  ${formatBytes(s.bytes)}` : "";
  const resent = s.resent ? `  (re-sent ${s.resent}×: no answer yet)` : "";
  const err = s.error ? `  ${s.error}` : "";
  return `  ${mark} ${s.name.padEnd(18)} ${s.node.padEnd(5)} ${took.padStart(9)}${bytes}${resent}${err}`;
}

export function summary(m: MigrationRecord): string {
  const outcome =
    m.state === "committed"
      ? `moved ${m.containerName} from ${m.source} to ${m.destination}`
      : m.state === "rolled-back"
        ? `rolled back: ${m.containerName} stays on ${m.source}`
        : `${m.state}: ${m.containerName} (${m.source} → ${m.destination})`;
  return [
    outcome,
    `  ${m.mode ?? "stop-and-copy"} · frozen ${m.frozenMs !== undefined ? formatDuration(m.frozenMs) : "-"} · total ${m.totalMs !== undefined ? formatDuration(m.totalMs) : "-"} · moved ${formatBytes(m.bytes)}`,
    ...(m.sourceReleasedAt !== undefined && m.frozenAt !== undefined
      ? [`  source released ${formatDuration(m.sourceReleasedAt - m.frozenAt)} after the freeze (every page on ${m.destination})`]
      : []),
    ...(m.reason ? [`  reason: ${m.reason}`] : []),
    ...(m.error && m.state !== "committed" ? [`  cause: ${m.error.message}`] : []),
    ...(m.whereabouts ? [`  where: ${m.whereabouts}`] : []),
  ].join("\n");
}

/** One migration in full: its steps, then the summary (or where it stands while running). */
export function describe(m: MigrationRecord, now = Date.now()): string {
  const bound =
    m.deadlineAt !== undefined && !TERMINAL_STATES.includes(m.state)
      ? ` · settles by ${new Date(m.deadlineAt).toISOString().slice(11, 19)} UTC at the latest`
      : "";
  return [
    `migration ${m.id}: ${m.containerName} ${m.source} → ${m.destination} · ${m.state}${TERMINAL_STATES.includes(m.state) ? "" : ` (step ${m.step})`}${bound}`,
    ...m.steps.map((s) => stepLine(s, now)),
    summary(m),
  ].join("\n");
}

const isUnreachable = (err: unknown) => err instanceof HerdError && err.code === "UNREACHABLE";

/**
 * Polls a migration, printing each step as it starts and ends, until it is terminal. While the
 * control service is away it says so and keeps asking: the migration goes on (the nodes hold
 * its commands) and a restarted control service settles it.
 */
async function follow(api: ApiClient, id: string, quiet: boolean): Promise<MigrationRecord> {
  let printed = 0;
  let lastLive = "";
  let away: number | undefined;
  let deadlineAt: number | undefined;
  for (;;) {
    let m: MigrationRecord;
    try {
      m = MigrationRecord.parse(await api.get<unknown>(`/migrations/${id}`));
      if (away !== undefined && !quiet) process.stderr.write(`\r\x1b[Kcontrol service is back after ${formatDuration(Date.now() - away)}\n`);
      away = undefined;
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      if (away === undefined) {
        away = Date.now();
        process.stderr.write(
          `\n${(err as Error).message}\nThe migration goes on: the nodes hold its commands, and the control service settles it when it is back. Waiting (Ctrl-C leaves it running; see it later with 'herd migrations ${id}').\n`,
        );
      }
      // Past the bound and a minute more without control: stop waiting, say what we know.
      if (deadlineAt !== undefined && Date.now() > deadlineAt + 60_000) {
        throw new HerdError(
          `the control service has been unreachable for ${formatDuration(Date.now() - away)}; migration ${id} is unsettled as far as this CLI knows`,
          {
            code: "UNREACHABLE",
          },
        );
      }
      await new Promise((r) => setTimeout(r, 1_000));
      continue;
    }
    deadlineAt = m.deadlineAt;
    const now = Date.now();
    if (!quiet) {
      // Completed steps are printed once; the running one is shown on a live line on a TTY.
      while (printed < m.steps.length && m.steps[printed]!.finishedAt !== undefined) {
        if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
        process.stderr.write(`${stepLine(m.steps[printed]!, now)}\n`);
        printed++;
        lastLive = "";
      }
      const running = m.steps[printed];
      if (running && process.stderr.isTTY) {
        const live = m.live?.bytes
          ? ` ${formatBytes(m.live.bytes)}${m.live.totalBytes ? ` / ${formatBytes(m.live.totalBytes)}` : ""}${m.live.step === "pages" && m.live.message ? ` (${m.live.message})` : ""}`
          : "";
        const line = `${stepLine(running, now)}${live}`;
        if (line !== lastLive) process.stderr.write(`\r\x1b[K${line}`);
        lastLive = line;
      }
    }
    if (TERMINAL_STATES.includes(m.state)) {
      if (process.stderr.isTTY && lastLive) process.stderr.write("\r\x1b[K");
      return m;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const durationArg = (v: string): number => {
  const m = /^(\d+)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`--deadline must be a duration such as 90s or 2m, got "${v}"`);
  const ms = Number(m[1]) * (m[2] === "m" ? 60_000 : m[2] === "ms" ? 1 : 1_000);
  if (ms < 10_000 || ms > 3_600_000) throw new Error(`--deadline must be between 10s and 60m, got "${v}"`);
  return ms;
};

export function registerMigrationCommands(program: Command, api: () => ApiClient): void {
  program
    .command("migrate")
    .description("live-migrate a running container to another node (checkpoint → rsync → restore)")
    .argument("<container>", "name or id")
    .requiredOption("--to <node>", "destination node", nodeArg)
    .option("--dry-run", "say what would happen and why it would be refused; change nothing")
    .option("--detach", "start it and return the migration id")
    .option("--deadline <duration>", "bound on the whole migration, rollback included (e.g. 90s, 5m; default: the control service's)", durationArg)
    .addOption(
      new Option(
        "--mode <mode>",
        "how memory moves: stop-and-copy (frozen while the whole memory is dumped and shipped), post-copy (runs on the destination at once and pulls its pages from the source; needs CRIU lazy pages on both nodes), or auto (post-copy when both nodes can and the container uses at least 64 MiB)",
      )
        .choices(["stop-and-copy", "post-copy", "auto"])
        .default("stop-and-copy"),
    )
    .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat))
    .addHelpText(
      "after",
      `\nPost-copy and failures:\n  ${POST_COPY_RISK}\n  The source is released (its container stopped) only once the destination has every page; progress shows the pages left.`,
    )
    .action(async (container: string, opts: { to: string; dryRun?: boolean; detach?: boolean; deadline?: number; mode: string; output: OutputFormat }) => {
      const client = api();
      if (opts.dryRun) {
        const r = DryRunReport.parse(await client.post<unknown>("/migrations", { container, to: opts.to, dryRun: true, mode: opts.mode }));
        print(opts.output, r, () =>
          [
            r.wouldMigrate ? `${container} would move from ${r.source} to ${r.destination}:` : `${container} would NOT be migrated:`,
            ...(r.wouldMigrate ? r.steps.map((s) => `  - ${s}`) : r.reasons.map((s) => `  - ${s}`)),
            ...r.notes.map((n) => `  note: ${n}`),
          ].join("\n"),
        );
        if (!r.wouldMigrate) process.exitCode = 1;
        return;
      }
      const started = MigrationRecord.parse(
        await client.post<unknown>("/migrations", { container, to: opts.to, mode: opts.mode, ...(opts.deadline ? { deadlineMs: opts.deadline } : {}) }),
      );
      if (opts.detach) {
        print(opts.output, started, () => started.id);
        return;
      }
      if (opts.output === "table") {
        process.stderr.write(`migration ${started.id}: ${started.containerName} ${started.source} → ${started.destination}\n`);
        for (const n of started.notes ?? []) process.stderr.write(`note: ${n}\n`);
      }
      const m = await follow(client, started.id, opts.output === "json");
      print(opts.output, m, () => summary(m));
      if (m.state !== "committed") process.exitCode = 1;
    });

  program
    .command("migrations")
    .description("list past and running migrations, or show one (with --watch: follow it until it ends)")
    .argument("[id]", "a migration id: show its steps, state, cause and the container's whereabouts")
    .option("-w, --watch", "with an id: follow a running migration until it is terminal")
    .addOption(
      new Option("-n, --limit <n>", "how many").default(20).argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`--limit must be an integer from 1 to 10000, got "${v}"`);
        return n;
      }),
    )
    .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat))
    .action(async (id: string | undefined, opts: { limit: number; watch?: boolean; output: OutputFormat }) => {
      const client = api();
      if (id !== undefined) {
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) throw new Error(`migration id must be 1-64 of [A-Za-z0-9_.-], got "${id}"`);
        const m = opts.watch ? await follow(client, id, opts.output === "json") : MigrationRecord.parse(await client.get<unknown>(`/migrations/${id}`));
        print(opts.output, m, () => (opts.watch ? summary(m) : describe(m)));
        return;
      }
      if (opts.watch) throw new Error("--watch needs a migration id");
      const { migrations } = MigrationList.parse(await client.get<unknown>(`/migrations?limit=${opts.limit}`));
      print(opts.output, migrations, () =>
        renderTable(
          ["ID", "CONTAINER", "FROM", "TO", "STATE", "STEP", "FROZEN", "TOTAL", "BYTES", "STARTED", "REASON / WHERE"],
          migrations.map((m) => [
            m.id,
            m.containerName,
            m.source,
            m.destination,
            m.state,
            m.step,
            m.frozenMs !== undefined ? formatDuration(m.frozenMs) : "-",
            m.totalMs !== undefined ? formatDuration(m.totalMs) : formatDuration(Date.now() - m.createdAt),
            formatBytes(m.bytes),
            new Date(m.createdAt).toISOString().replace("T", " ").slice(0, 19),
            (m.state === "failed" ? m.whereabouts : m.reason) ?? "",
          ]),
        ),
      );
    });
}
