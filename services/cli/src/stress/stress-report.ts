import { lineChart } from "../../../control/src/simulator/svg-chart.js";
import type { StressResult } from "./stress-run.js";

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface StressSummary {
  label: string;
  pattern: string;
  offeredRate: number;
  submitted: number;
  accepted: number;
  refused: number;
  httpErrors: number;
  /** Accepted submissions per second of submitting. */
  achievedRate: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  queueWaitMs: { p50: number; p95: number; p99: number; mean: number };
  timeToRunningMs: { p50: number; p95: number; p99: number };
  succeeded: number;
  failed: number;
  cancelled: number;
  unfinished: number;
}

export function summarize(r: StressResult): StressSummary {
  const lat = r.submissions.map((s) => s.latencyMs);
  const accepted = r.submissions.filter((s) => s.status === 202).length;
  const waits = r.jobs.flatMap((j) => (j.placedAt !== undefined ? [j.placedAt - j.submittedAt] : []));
  const toRun = r.jobs.flatMap((j) => (j.runningAt !== undefined ? [j.runningAt - j.submittedAt] : []));
  const count = (s: string) => r.jobs.filter((j) => j.state === s).length;
  return {
    label: r.label,
    pattern: r.pattern,
    offeredRate: r.rate,
    submitted: r.submissions.length,
    accepted,
    refused: r.submissions.filter((s) => s.status === 422).length,
    httpErrors: r.submissions.filter((s) => s.status !== 202 && s.status !== 422).length,
    achievedRate: r.submitSeconds > 0 ? accepted / r.submitSeconds : 0,
    latencyMs: { p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: Math.max(0, ...lat) },
    queueWaitMs: {
      p50: percentile(waits, 50),
      p95: percentile(waits, 95),
      p99: percentile(waits, 99),
      mean: waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : NaN,
    },
    timeToRunningMs: { p50: percentile(toRun, 50), p95: percentile(toRun, 95), p99: percentile(toRun, 99) },
    succeeded: count("succeeded"),
    failed: count("failed"),
    cancelled: count("cancelled"),
    unfinished: r.unfinished,
  };
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "-");
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");

/** Cumulative distribution as a line: x = value, y = fraction ≤ x. */
function cdf(values: readonly number[]): { x: number[]; y: number[] } {
  const s = [...values].sort((a, b) => a - b);
  return { x: s, y: s.map((_, i) => (i + 1) / s.length) };
}

/** Markdown report plus SVG plots (file name → content), one run per pattern side by side. */
export function stressReport(
  runs: readonly StressResult[],
  title = "herd stress",
): { markdown: string; svgs: Record<string, string>; summaries: StressSummary[] } {
  const summaries = runs.map(summarize);
  const svgs: Record<string, string> = {
    "stress-submit-latency.svg": lineChart(
      "Submit latency (POST /api/v1/jobs)",
      "time since start of the run, s",
      "latency, ms",
      runs.map((r) => ({ name: r.label, x: r.submissions.map((s) => s.at / 1000), y: r.submissions.map((s) => s.latencyMs) })),
    ),
    "stress-time-to-running.svg": lineChart(
      "Time from submission to running (CDF)",
      "ms",
      "fraction of jobs",
      runs
        .filter((r) => !r.hold)
        .map((r) => ({ name: r.label, ...cdf(r.jobs.flatMap((j) => (j.runningAt !== undefined ? [j.runningAt - j.submittedAt] : []))) })),
    ),
    "stress-queue-wait.svg": lineChart(
      "Queue wait: submission to placement (CDF)",
      "ms",
      "fraction of jobs",
      runs
        .filter((r) => !r.hold)
        .map((r) => ({ name: r.label, ...cdf(r.jobs.flatMap((j) => (j.placedAt !== undefined ? [j.placedAt - j.submittedAt] : []))) })),
    ),
  };
  const rows = summaries.map(
    (s) =>
      `| ${s.label} | ${s.pattern} | ${s.offeredRate} | ${s.submitted} | ${s.accepted} | ${s.refused} | ${s.httpErrors} | ${f1(s.achievedRate)} | ${f1(s.latencyMs.p50)} | ${f1(s.latencyMs.p99)} | ${f1(s.latencyMs.max)} | ${f0(s.queueWaitMs.p50)} | ${f0(s.queueWaitMs.p99)} | ${f0(s.timeToRunningMs.p50)} | ${f0(s.timeToRunningMs.p99)} | ${s.succeeded} | ${s.failed} | ${s.unfinished} |`,
  );
  const held = runs.some((r) => r.hold);
  const markdown = [
    `# ${title}`,
    "",
    `Runs: ${runs.map((r) => `${r.label === r.pattern ? r.pattern : `${r.label}: ${r.pattern}`} (rate ${r.rate}/s, ${r.durationS} s, seed ${r.seed}${r.hold ? ", placement held" : ""})`).join("; ")}.`,
    ...(held
      ? ["", "Placement held: the scheduler was paused while submitting and every submitted job was cancelled afterwards, so these runs measure the API alone."]
      : []),
    "",
    "| run | pattern | offered /s | submitted | accepted | refused (422) | HTTP errors | accepted /s | submit p50 ms | submit p99 ms | submit max ms | queue wait p50 ms | queue wait p99 ms | to running p50 ms | to running p99 ms | succeeded | failed | unfinished |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "Queue wait = placement time − submission time; to running = the node confirmed the container started − submission time (both from the job records' timestamps, set by the control service).",
    "",
    ...Object.keys(svgs).map((f) => `![${f}](${f})`),
    "",
  ].join("\n");
  return { markdown, svgs, summaries };
}
