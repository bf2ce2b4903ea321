import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { resolveApiTarget } from "./api-client.js";
import { parseOutputFormat, print, renderTable, type OutputFormat } from "./output.js";
import { ARRIVAL_PATTERNS, DEFAULT_MIX, type ArrivalPattern } from "./stress/arrivals.js";
import { stressReport } from "./stress/stress-report.js";
import { HttpStressTarget, runStress, type StressResult } from "./stress/stress-run.js";

const numArg = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, got "${v}"`);
  return n;
};
const patternsArg = (v: string): ArrivalPattern[] => {
  const list = v === "all" ? [...ARRIVAL_PATTERNS] : v.split(",");
  for (const p of list)
    if (!ARRIVAL_PATTERNS.some((a) => a === p))
      throw new InvalidArgumentError(`pattern must be steady, bursty, incremental, random (comma-separated) or all, got "${p}"`);
  return ARRIVAL_PATTERNS.filter((a) => list.includes(a));
};
const rangeArg = (v: string): [number, number] => {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(v);
  if (!m) throw new InvalidArgumentError(`--run-seconds takes S or MIN-MAX, got "${v}"`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo || hi > 3600) throw new InvalidArgumentError(`--run-seconds must be MIN-MAX with MIN ≤ MAX ≤ 3600, got "${v}"`);
  return [lo, hi];
};

/** `herd stress`: generated jobs against the jobs API with an arrival pattern; report with plots. */
export function registerStressCommand(program: Command): void {
  program
    .command("stress")
    .description("submit generated jobs with an arrival pattern and report submit latency, queue wait, time to running, failures")
    .addOption(new Option("--pattern <list>", "steady, bursty, incremental, random (comma-separated) or all").default(["steady"]).argParser(patternsArg))
    .addOption(new Option("--rate <jobs/s>", "mean submissions per second").default(5).argParser(numArg("--rate", 0.01, 100_000)))
    .addOption(new Option("--duration <s>", "seconds of submitting per pattern").default(20).argParser(numArg("--duration", 1, 86_400)))
    .addOption(new Option("--seed <n>", "seed of the job mix and the random pattern").default(1).argParser(numArg("--seed", 0, 2 ** 31)))
    .option("--image <image>", "image of the generated jobs", DEFAULT_MIX.image)
    .addOption(new Option("--run-seconds <S|MIN-MAX>", "how long each job sleeps").default([1, 3]).argParser(rangeArg))
    .option("--hold", "measure the API alone: pause placement while submitting, then cancel and remove every submitted job")
    .option("--keep", "keep the finished jobs' records (default: removed after the report)")
    .addOption(new Option("--settle-timeout <s>", "how long to wait for the jobs to finish").default(300).argParser(numArg("--settle-timeout", 1, 86_400)))
    .option("--out <dir>", "report directory (markdown, JSON, SVG)", "stress-results")
    .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(parseOutputFormat))
    .action(
      async (opts: {
        pattern: ArrivalPattern[];
        rate: number;
        duration: number;
        seed: number;
        image: string;
        runSeconds: [number, number];
        hold?: boolean;
        keep?: boolean;
        settleTimeout: number;
        out: string;
        output: OutputFormat;
      }) => {
        const t = resolveApiTarget();
        const target = new HttpStressTarget(t.url, t.token);
        const runs: StressResult[] = [];
        for (const pattern of opts.pattern) {
          runs.push(
            await runStress(target, {
              pattern,
              rate: opts.rate,
              durationS: opts.duration,
              seed: opts.seed,
              mix: { ...DEFAULT_MIX, image: opts.image, runSeconds: opts.runSeconds },
              settleTimeoutMs: opts.settleTimeout * 1000,
              hold: opts.hold ?? false,
              cleanup: !opts.keep,
              onProgress: (l) => process.stderr.write(`${l}\n`),
            }),
          );
        }
        const report = stressReport(runs);
        const dir = resolve(opts.out);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "stress.md"), report.markdown);
        writeFileSync(join(dir, "stress.json"), JSON.stringify({ summaries: report.summaries, runs }, null, 1));
        for (const [name, svg] of Object.entries(report.svgs)) writeFileSync(join(dir, name), svg);
        if (report.summaries.some((s) => s.httpErrors > 0 || s.failed > 0 || s.unfinished > 0)) process.exitCode = 1;
        print(opts.output, report.summaries, () =>
          [
            renderTable(
              [
                "PATTERN",
                "SUBMITTED",
                "ACCEPTED/S",
                "SUBMIT P50",
                "SUBMIT P99",
                "QUEUE P50",
                "QUEUE P99",
                "TO RUNNING P50",
                "SUCCEEDED",
                "FAILED",
                "ERRORS",
                "UNFINISHED",
              ],
              report.summaries.map((s) => [
                s.pattern,
                s.submitted,
                s.achievedRate.toFixed(1),
                `${s.latencyMs.p50.toFixed(1)} ms`,
                `${s.latencyMs.p99.toFixed(1)} ms`,
                Number.isFinite(s.queueWaitMs.p50) ? `${s.queueWaitMs.p50.toFixed(0)} ms` : "-",
                Number.isFinite(s.queueWaitMs.p99) ? `${s.queueWaitMs.p99.toFixed(0)} ms` : "-",
                Number.isFinite(s.timeToRunningMs.p50) ? `${s.timeToRunningMs.p50.toFixed(0)} ms` : "-",
                s.succeeded,
                s.failed,
                s.httpErrors,
                s.unfinished,
              ]),
            ),
            `report: ${join(dir, "stress.md")}`,
          ].join("\n"),
        );
      },
    );
}
