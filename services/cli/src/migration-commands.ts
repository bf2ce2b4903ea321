import type { Command } from "commander";
import { Option } from "commander";
import type { ApiClient } from "./api-client.js";
import { nodeArg } from "./arguments.js";
import type { MigrationRecord, StepRecord } from "../../control/src/migration/migration-record.js";
import type { DryRunReport } from "../../control/src/migration/migration-orchestrator.js";
import { formatBytes, formatDuration, parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";

// The API returns the control service's own records as JSON: the CLI reads them with the same types.
type StepView = StepRecord;
type MigrationView = MigrationRecord;
type DryRunView = DryRunReport;

const FINAL = new Set(["committed", "rolled-back", "failed"]);

function stepLine(s: StepView, now: number): string {
  const mark = s.ok === undefined ? "…" : s.ok ? "✓" : "✗";
  const took = formatDuration((s.finishedAt ?? now) - s.startedAt);
  const bytes = s.bytes ? `  ${formatBytes(s.bytes)}` : "";
  const err = s.error ? `  ${s.error}` : "";
  return `  ${mark} ${s.name.padEnd(18)} ${s.node.padEnd(5)} ${took.padStart(9)}${bytes}${err}`;
}

export function summary(m: MigrationView): string {
  const outcome =
    m.state === "committed" ? `moved ${m.containerName} from ${m.source} to ${m.destination}` : `${m.state}: ${m.containerName} stays on ${m.source}`;
  return [
    `${outcome}`,
    `  frozen ${m.frozenMs !== undefined ? formatDuration(m.frozenMs) : "-"} · total ${m.totalMs !== undefined ? formatDuration(m.totalMs) : "-"} · moved ${formatBytes(m.bytes)}`,
    ...(m.error && m.state !== "committed" ? [`  cause: ${m.error.message}`] : []),
  ].join("\n");
}

/** Polls a migration, printing each step as it starts and ends, until it settles. */
async function follow(api: ApiClient, id: string, quiet: boolean): Promise<MigrationView> {
  let printed = 0;
  let lastLive = "";
  for (;;) {
    const m = await api.get<MigrationView>(`/migrations/${id}`);
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
        const live = m.live?.bytes ? ` ${formatBytes(m.live.bytes)}${m.live.totalBytes ? ` / ${formatBytes(m.live.totalBytes)}` : ""}` : "";
        const line = `${stepLine(running, now)}${live}`;
        if (line !== lastLive) process.stderr.write(`\r\x1b[K${line}`);
        lastLive = line;
      }
    }
    if (FINAL.has(m.state)) {
      if (process.stderr.isTTY && lastLive) process.stderr.write("\r\x1b[K");
      return m;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function registerMigrationCommands(program: Command, api: () => ApiClient): void {
  program
    .command("migrate")
    .description("live-migrate a running container to another node (checkpoint → rsync → restore)")
    .argument("<container>", "name or id")
    .requiredOption("--to <node>", "destination node", nodeArg)
    .option("--dry-run", "say what would happen and why it would be refused; change nothing")
    .option("--detach", "start it and return the migration id")
    .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat))
    .action(async (container: string, opts: { to: string; dryRun?: boolean; detach?: boolean; output: OutputFormat }) => {
      const client = api();
      if (opts.dryRun) {
        const r = await client.post<DryRunView>("/migrations", { container, to: opts.to, dryRun: true });
        print(opts.output, r, () =>
          [
            r.wouldMigrate ? `${container} would move from ${r.source} to ${r.destination}:` : `${container} would NOT be migrated:`,
            ...(r.wouldMigrate ? r.steps.map((s) => `  - ${s}`) : r.reasons.map((s) => `  - ${s}`)),
          ].join("\n"),
        );
        if (!r.wouldMigrate) process.exitCode = 1;
        return;
      }
      const started = await client.post<MigrationView>("/migrations", { container, to: opts.to });
      if (opts.detach) {
        print(opts.output, started, () => started.id);
        return;
      }
      if (opts.output === "table") process.stderr.write(`migration ${started.id}: ${started.containerName} ${started.source} → ${started.destination}\n`);
      const m = await follow(client, started.id, opts.output === "json");
      print(opts.output, m, () => summary(m));
      if (m.state !== "committed") process.exitCode = 1;
    });

  program
    .command("migrations")
    .description("list past and running migrations with their outcome")
    .addOption(
      new Option("-n, --limit <n>", "how many").default(20).argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`--limit must be an integer from 1 to 10000, got "${v}"`);
        return n;
      }),
    )
    .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat))
    .action(async (opts: { limit: number; output: OutputFormat }) => {
      const { migrations } = await api().get<{ migrations: MigrationView[] }>(`/migrations?limit=${opts.limit}`);
      print(opts.output, migrations, () =>
        renderTable(
          ["ID", "CONTAINER", "FROM", "TO", "STATE", "STEP", "FROZEN", "TOTAL", "BYTES", "STARTED"],
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
          ]),
        ),
      );
    });
}
