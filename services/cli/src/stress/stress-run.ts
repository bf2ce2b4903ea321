import { JobList, JobRecord, FINISHED_JOB_STATES, type JobSubmission } from "../../../../shared/src/contracts/jobs.js";
import { parseOrThrow } from "../../../../shared/src/contracts/common.js";
import { HerdError, errorMessage } from "../../../../shared/src/errors.js";
import { arrivalTimes, generatedJobs, type ArrivalPattern, type JobMix } from "./arrivals.js";

export interface SubmitOutcome {
  /** HTTP status; 0 = no answer (connection error, timeout). */
  status: number;
  job?: JobRecord;
  error?: string;
}

/** The jobs API as the stress client sees it. */
export interface StressTarget {
  submit(job: JobSubmission): Promise<SubmitOutcome>;
  /** The newest `limit` jobs. */
  list(limit: number): Promise<JobRecord[]>;
  remove(id: string): Promise<void>;
  paused(): Promise<boolean>;
  setPaused(paused: boolean): Promise<void>;
}

/** Over HTTP with the API token; every request has a deadline. */
export class HttpStressTarget implements StressTarget {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; data: unknown }> {
    const res = await fetch(new URL(`/api/v1${path}`, this.url), {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let data: unknown = {};
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      data = { error: text };
    }
    return { status: res.status, data };
  }

  async submit(job: JobSubmission): Promise<SubmitOutcome> {
    try {
      const { status, data } = await this.call("POST", "/jobs", job);
      if (status === 202) return { status, job: parseOrThrow(JobRecord, data, "response") };
      const e = typeof data === "object" && data !== null && "error" in data ? String(data.error) : `HTTP ${status}`;
      return { status, error: e };
    } catch (err) {
      return { status: 0, error: errorMessage(err) };
    }
  }

  async list(limit: number): Promise<JobRecord[]> {
    const { status, data } = await this.call("GET", `/jobs?limit=${limit}`);
    if (status !== 200) throw new HerdError(`listing jobs answered HTTP ${status}`);
    return parseOrThrow(JobList, data, "response").jobs;
  }

  async remove(id: string): Promise<void> {
    await this.call("DELETE", `/jobs/${id}`);
  }

  async paused(): Promise<boolean> {
    const { data } = await this.call("GET", "/scheduler");
    return typeof data === "object" && data !== null && "paused" in data && data.paused === true;
  }

  async setPaused(paused: boolean): Promise<void> {
    const { status } = await this.call("PUT", "/scheduler", { paused });
    if (status !== 200) throw new HerdError(`setting the scheduler's pause switch answered HTTP ${status}`);
  }
}

export interface StressOptions {
  pattern: ArrivalPattern;
  rate: number;
  durationS: number;
  seed: number;
  mix: JobMix;
  /** Wait at most this long after the last submission for the jobs to finish. */
  settleTimeoutMs: number;
  /**
   * Measure the API alone: placement is paused while submitting, then every submitted job is
   * cancelled and removed and the pause switch restored (nothing runs on the nodes).
   */
  hold?: boolean;
  /** Remove the finished jobs' records afterwards. */
  cleanup?: boolean;
  namePrefix?: string;
  /** Names the run in reports (default: the pattern). */
  label?: string;
  onProgress?: (line: string) => void;
}

export interface SubmissionSample {
  /** When it was sent, ms from the start of the run. */
  at: number;
  latencyMs: number;
  status: number;
  jobId?: string;
  error?: string;
}

export interface StressResult {
  label: string;
  pattern: ArrivalPattern;
  rate: number;
  durationS: number;
  seed: number;
  hold: boolean;
  startedAt: number;
  /** Wall time from the first to the last answer to a submission. */
  submitSeconds: number;
  submissions: SubmissionSample[];
  /** Final records of the accepted jobs (after they settled or the timeout). */
  jobs: JobRecord[];
  /** Accepted jobs that had not finished when the wait ended. */
  unfinished: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One open-loop stress run: submissions go out at their scheduled times whether or not earlier
 * ones were answered (so a slow API shows as latency, not as a lower offered rate).
 */
export async function runStress(target: StressTarget, o: StressOptions): Promise<StressResult> {
  const times = arrivalTimes(o.pattern, o.rate, o.durationS, o.seed);
  const jobs = generatedJobs(times.length, o.seed, o.mix, o.namePrefix ?? `stress-${o.pattern}`);
  const wasPaused = o.hold ? await target.paused() : false;
  if (o.hold) await target.setPaused(true);
  const start = performance.now();
  const startedAt = Date.now();
  let lastAnswer = start;
  const pending: Promise<SubmissionSample>[] = [];
  for (let i = 0; i < times.length; i++) {
    const wait = times[i]! - (performance.now() - start);
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    pending.push(
      target.submit(jobs[i]!).then((r) => {
        const now = performance.now();
        lastAnswer = Math.max(lastAnswer, now);
        return { at: sent - start, latencyMs: now - sent, status: r.status, ...(r.job ? { jobId: r.job.id } : {}), ...(r.error ? { error: r.error } : {}) };
      }),
    );
  }
  const submissions = await Promise.all(pending);
  const submitSeconds = (lastAnswer - start) / 1000;
  const ids = new Set(submissions.flatMap((s) => (s.jobId ? [s.jobId] : [])));
  o.onProgress?.(`${o.pattern}: ${ids.size}/${submissions.length} accepted in ${submitSeconds.toFixed(1)} s`);

  let final: JobRecord[] = [];
  const limit = Math.max(1000, ids.size * 2 + 100);
  if (o.hold) {
    final = (await target.list(limit)).filter((j) => ids.has(j.id));
    for (const id of ids) await target.remove(id).catch(() => undefined);
    for (const id of ids) await target.remove(id).catch(() => undefined); // cancelled → removed
    if (!wasPaused) await target.setPaused(false);
  } else {
    const deadline = Date.now() + o.settleTimeoutMs;
    for (;;) {
      final = (await target.list(limit)).filter((j) => ids.has(j.id));
      const left = final.filter((j) => !FINISHED_JOB_STATES.includes(j.state)).length;
      if (left === 0 || Date.now() > deadline) break;
      o.onProgress?.(`${o.pattern}: ${left} job(s) not finished yet`);
      await sleep(1000);
    }
    if (o.cleanup) for (const j of final) if (FINISHED_JOB_STATES.includes(j.state)) await target.remove(j.id).catch(() => undefined);
  }
  return {
    label: o.label ?? o.pattern,
    pattern: o.pattern,
    rate: o.rate,
    durationS: o.durationS,
    seed: o.seed,
    hold: o.hold ?? false,
    startedAt,
    submitSeconds,
    submissions,
    jobs: final,
    unfinished: o.hold ? 0 : final.filter((j) => !FINISHED_JOB_STATES.includes(j.state)).length,
  };
}
