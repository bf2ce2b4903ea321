/**
 * bench:migration's restore-path comparison (issue 10: "measure the options side by side before
 * choosing"). The same workload (herd-counter, the integration tests' and bench:migration's
 * counter holding N MB) checkpointed and restored three ways on one host, one after the other:
 *   (a) docker: Herd's restore now. A Docker container (network none) dumped the way Herd dumps
 *       it (RuncCheckpointer: `runc checkpoint`, then wait until Docker has seen it stop), restored
 *       the way Herd restores it (`docker start --checkpoint` through linked images + fence lift).
 *       Frozen = dump start → Docker's StartedAt, as bench:migration has it (no transfer).
 *   (b) runc: the same rootfs as a plain OCI bundle (`runc spec`, no dockerd, no containerd, no
 *       shim, no Docker hooks), `runc checkpoint` then `runc restore -d` of those images.
 *       Frozen = dump + runc restore's own time (the task runs when runc returns).
 *   (c) criu: the same binary as a plain host process, `criu dump` then `criu restore -d`.
 * Every restore is verified: the counter goes on from where it stopped and its memory pattern is
 * intact (SIGUSR1 → "verify=ok"). Same disk, no copy between dump and restore: this compares the
 * restore machinery only. Whether CRIU's kernel-probe cache (infra/install-criu.sh) is in place is
 * recorded; each run's results are kept per cache state in the JSON and the table shows all.
 *
 * Env: HERD_BENCH_RP_SIZES (MB list, default "1,128"), HERD_BENCH_RP_REPS (default 3),
 *      HERD_BENCH_OUT (default bench/results).
 * Run (starts its own engine; takes the machine's cluster lock like every bench that does):
 *   flock -o /tmp/herd-cluster.lock node dist/bench/migration-restore-paths.js
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { lstat, mkdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runChecked } from "../shared/src/process/run-process.js";
import { buildTestRootfs, counts, ensureCriu, ENGINE_PATH, importTestImage, LocalNode, REPO_ROOT, TEST_IMAGE, waitFor } from "../test/integration/runtime-harness.js";

const STEP_TIMEOUT_MS = 120_000;
const TICK_MS = 50;
const run = (file: string, args: string[]) => runChecked(file, args, { timeoutMs: STEP_TIMEOUT_MS, env: { ...process.env, PATH: ENGINE_PATH } });
const now = () => process.hrtime.bigint();
const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

type PathName = "docker" | "runc" | "criu";
interface Rep {
  dumpMs: number;
  restoreMs: number;
  frozenMs: number;
  verified: boolean;
}
interface Row {
  path: PathName;
  mb: number;
  reps: Rep[];
}
interface RunRecord {
  date: string;
  kdatCache: string;
  criu: string;
  rows: Row[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Waits until the counter printed past `lastBefore`, asks for a memory check, reads the verdict. */
async function verify(logs: () => Promise<string> | string, lastBefore: number, signal: () => Promise<void> | void): Promise<boolean> {
  await waitFor("counting after restore", async () => (counts(await logs()).some((n) => n > lastBefore) ? true : undefined), 30_000);
  const before = ((await logs()).match(/^verify=/gm) ?? []).length;
  await signal();
  const verdicts = await waitFor("memory verification", async () => {
    const all = [...(await logs()).matchAll(/^verify=(\w+)/gm)].map((m) => m[1]);
    return all.length > before ? all : undefined;
  }, 60_000);
  const after = counts(await logs()).filter((n) => n > lastBefore);
  return verdicts.at(-1) === "ok" && after[0] === lastBefore + 1;
}

/** What /run/criu.kdat is on this host: CRIU's kernel-probe cache, Herd's link to it, or nothing. */
async function kdatState(): Promise<string> {
  try {
    const st = await lstat("/run/criu.kdat");
    if (!st.isSymbolicLink()) return "CRIU's own (/run/criu.kdat)";
    const target = await readlink("/run/criu.kdat");
    await lstat(target);
    return `on (/run/criu.kdat -> ${target})`;
  } catch {
    return "off (CRIU probes the kernel on every run)";
  }
}

/** (a) Herd's dump and restore of a Docker container, on one engine. */
async function dockerPath(node: LocalNode, mb: number, reps: number): Promise<Row> {
  const c = await node.docker.createContainer({
    name: `rp-docker-${mb}`,
    Image: TEST_IMAGE,
    Cmd: ["/usr/local/bin/herd-counter", String(mb), String(TICK_MS)],
    HostConfig: { NetworkMode: "none" },
  });
  const logs = async () => {
    const buf = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const out: Buffer[] = [];
    for (let i = 0; i + 8 <= buf.length; ) {
      const len = buf.readUInt32BE(i + 4);
      out.push(buf.subarray(i + 8, i + 8 + len));
      i += 8 + len;
    }
    return Buffer.concat(out).toString();
  };
  const out: Rep[] = [];
  try {
    await c.start();
    await waitFor("docker counter ready", async () => (counts(await logs()).length >= 3 ? true : undefined), 60_000);
    for (let i = 0; i < reps; i++) {
      const name = `rp${i}`;
      const wall0 = Date.now();
      const t0 = now();
      await node.runcCheckpointer.checkpoint(c.id, name);
      const dumpMs = msSince(t0);
      const lastBefore = counts(await logs()).at(-1) ?? -1;
      const t1 = now();
      await node.runcCheckpointer.restore(c.id, name);
      const restoreMs = msSince(t1);
      const startedAt = Date.parse((await c.inspect()).State.StartedAt);
      const verified = await verify(logs, lastBefore, async () => void (await c.kill({ signal: "SIGUSR1" })));
      out.push({ dumpMs, restoreMs, frozenMs: startedAt - wall0, verified });
      await node.runcCheckpointer.remove(c.id, name);
    }
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
  return { path: "docker", mb, reps: out };
}

/**
 * A detached runc command (run -d / restore -d) whose container gets real pipes as stdio (CRIU
 * dumps pipes to the outside as external and runc hands new ones in on restore; Node's own child
 * stdio are socketpairs, which CRIU cannot dump). The container's output is appended to `log`;
 * runc's exit code and its start/end (ns, taken right around runc by the shell) go to `rcFile`.
 * Resolves with runc's own duration once it has exited; `group` is the shell's process group
 * (the stdin feeder and the output reader), to be killed at the end.
 */
async function runcDetached(args: string[], log: string, rcFile: string, groups: number[]): Promise<number> {
  await rm(rcFile, { force: true });
  const script = 'sleep 2147483647 | { s=$(date +%s%N); runc "$@"; rc=$?; e=$(date +%s%N); echo "$rc $s $e" > "$RCFILE"; } 2>&1 | cat >> "$LOG"';
  const child = spawn("sh", ["-c", script, "sh", ...args], { detached: true, stdio: "ignore", env: { ...process.env, PATH: ENGINE_PATH, RCFILE: rcFile, LOG: log } });
  child.unref();
  if (child.pid) groups.push(child.pid);
  const [rc, s, e] = await waitFor(`runc ${args[2]}`, async () => {
    const t = (await readFile(rcFile, "utf8").catch(() => "")).trim().split(" ");
    return t.length === 3 ? t.map(Number) : undefined;
  }, STEP_TIMEOUT_MS);
  if (rc !== 0) throw new Error(`runc ${args.join(" ")} exited ${rc}: ${(await readFile(log, "utf8")).slice(-500)}`);
  return (e! - s!) / 1e6;
}

/** (b) runc alone: the same rootfs in a plain bundle, checkpoint and restore with runc. */
async function runcPath(rootfsTar: string, workDir: string, mb: number, reps: number): Promise<Row> {
  const bundle = join(workDir, `bundle-${mb}`);
  const root = join("/run", `herd-rp-runc-${process.pid}`);
  const id = `rp-runc-${mb}-${process.pid}`;
  await rm(bundle, { recursive: true, force: true });
  await mkdir(join(bundle, "rootfs"), { recursive: true });
  await run("tar", ["-C", join(bundle, "rootfs"), "-xf", rootfsTar]);
  await run("runc", ["spec", "--bundle", bundle]);
  const spec = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as {
    process: { args: string[]; terminal: boolean };
    root: { readonly: boolean };
  };
  spec.process.args = ["/usr/local/bin/herd-counter", String(mb), String(TICK_MS)];
  spec.process.terminal = false;
  spec.root.readonly = false;
  await writeFile(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
  const log = join(workDir, `runc-${mb}.log`);
  const rcFile = join(workDir, `runc-${mb}.rc`);
  const logs = () => readFile(log, "utf8").catch(() => "");
  const out: Rep[] = [];
  const groups: number[] = [];
  try {
    await runcDetached(["--root", root, "run", "-d", "--bundle", bundle, id], log, rcFile, groups);
    await waitFor("runc counter ready", async () => (counts(await logs()).length >= 3 ? true : undefined), 60_000);
    for (let i = 0; i < reps; i++) {
      const img = join(workDir, `runc-img-${mb}-${i}`);
      const work = `${img}.work`;
      await mkdir(img, { recursive: true });
      await mkdir(work, { recursive: true });
      const t0 = now();
      await run("runc", ["--root", root, "checkpoint", "--image-path", img, "--work-path", work, id]);
      const dumpMs = msSince(t0);
      const lastBefore = counts(await logs()).at(-1) ?? -1;
      const restoreMs = await runcDetached(["--root", root, "restore", "-d", "--bundle", bundle, "--image-path", img, "--work-path", work, id], log, rcFile, groups);
      const verified = await verify(logs, lastBefore, () => run("runc", ["--root", root, "kill", id, "USR1"]).then(() => undefined));
      out.push({ dumpMs, restoreMs, frozenMs: dumpMs + restoreMs, verified });
      await rm(img, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    }
  } finally {
    await run("runc", ["--root", root, "delete", "--force", id]).catch(() => undefined);
    for (const g of groups) {
      try {
        process.kill(-g, "SIGKILL");
      } catch {
        // gone
      }
    }
    await rm(root, { recursive: true, force: true });
    await rm(bundle, { recursive: true, force: true });
  }
  return { path: "runc", mb, reps: out };
}

/**
 * (c) CRIU alone: the same binary as a plain process (as bench:migration's floor, without the
 * copy); a fresh process per repetition (it is our child: its pid must be reaped before CRIU can
 * give it back).
 */
async function criuPath(binary: string, workDir: string, mb: number, reps: number): Promise<Row> {
  const out: Rep[] = [];
  for (let i = 0; i < reps; i++) {
    const dir = join(workDir, `criu-${mb}-${i}`);
    const img = join(dir, "img");
    await rm(dir, { recursive: true, force: true });
    await mkdir(img, { recursive: true });
    const logFile = join(dir, "out.log");
    const fd = openSync(logFile, "w");
    // Own session and no pipes to us: CRIU needs no --shell-job or external-fd handling.
    const child = spawn(binary, [String(mb), String(TICK_MS)], { detached: true, stdio: ["ignore", fd, fd], env: { HERD_STATE_FILE: join(dir, "state.txt") } });
    closeSync(fd);
    let reaped = false;
    child.on("exit", () => (reaped = true));
    const pid = child.pid ?? 0;
    const logs = () => readFile(logFile, "utf8");
    try {
      await waitFor("criu counter ready", async () => (counts(await logs()).length >= 3 ? true : undefined), 60_000);
      const t0 = now();
      await run("criu", ["dump", "-t", String(pid), "-D", img, "-o", "dump.log"]);
      const dumpMs = msSince(t0);
      const lastBefore = counts(await logs()).at(-1) ?? -1;
      await waitFor("dumped process reaped", async () => (reaped ? true : undefined), 10_000);
      const t1 = now();
      await run("criu", ["restore", "-d", "-D", img, "-o", "restore.log"]);
      const restoreMs = msSince(t1);
      const verified = await verify(logs, lastBefore, () => void process.kill(pid, "SIGUSR1"));
      out.push({ dumpMs, restoreMs, frozenMs: dumpMs + restoreMs, verified });
    } finally {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { path: "criu", mb, reps: out };
}

const LABEL: Record<PathName, string> = {
  docker: "(a) Herd now: runc dump, `docker start --checkpoint` (linked images)",
  runc: "(b) runc alone: `runc checkpoint` / `runc restore -d` into a plain bundle",
  criu: "(c) CRIU alone: `criu dump` / `criu restore -d` of a plain process",
};

function render(runs: RunRecord[]): string {
  const f = (x: number) => (x / 1000).toFixed(3);
  const lines = [
    "# bench:migration — restore paths side by side (issue 10)",
    "",
    "The same workload (herd-counter holding N MB, ticking every 50 ms) checkpointed and restored three ways on one host, on the same disk, with no transfer between dump and restore: the restore machinery alone. Per cell: median of the repetitions (min–max). (a) frozen = dump start → Docker's StartedAt; (b), (c) frozen = dump + restore (the task runs when runc/CRIU returns). Every restore verified: the counter went on from where it stopped and `verify=ok` for its memory.",
    "",
    "Command: `flock -o /tmp/herd-cluster.lock node dist/bench/migration-restore-paths.js` (bench/migration-restore-paths.ts; starts its own Docker engine, rsync-free).",
    "",
  ];
  for (const r of runs) {
    lines.push(`## CRIU kernel-probe cache ${r.kdatCache}`, "", `- date: ${r.date}; ${r.criu}`, "");
    lines.push("| path | MB | reps | dump (s) | restore (s) | frozen (s) | restore vs (c) | verified |", "|---|---:|---:|---:|---:|---:|---:|:---:|");
    for (const row of r.rows) {
      const cell = (k: keyof Omit<Rep, "verified">) => {
        const xs = row.reps.map((x) => x[k]);
        return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
      };
      const c = r.rows.find((x) => x.path === "criu" && x.mb === row.mb);
      const vs = c ? `${(median(row.reps.map((x) => x.restoreMs)) / median(c.reps.map((x) => x.restoreMs))).toFixed(1)}×` : "";
      const ok = row.reps.every((x) => x.verified) ? "yes" : "**NO**";
      lines.push(`| ${LABEL[row.path]} | ${row.mb} | ${row.reps.length} | ${cell("dumpMs")} | ${cell("restoreMs")} | ${cell("frozenMs")} | ${vs} | ${ok} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const sizes = (process.env.HERD_BENCH_RP_SIZES ?? "1,128").split(",").map(Number);
  const reps = Number(process.env.HERD_BENCH_RP_REPS ?? 3);
  const outDir = process.env.HERD_BENCH_OUT ?? join(REPO_ROOT, "bench/results");
  const criu = (await ensureCriu().catch((e: unknown) => `install-criu failed: ${String(e)}`)).split("\n").at(-1) ?? "";
  const kdatCache = await kdatState();
  const tag = `rp-${process.pid}`;
  const workDir = `/tmp/herd-rp/${tag}`;
  const rootfsTar = await buildTestRootfs();
  const node = new LocalNode({
    name: "rp",
    baseDir: join(workDir, "node"),
    runDir: `/run/herd-rt/${tag}`,
    rsyncPort: 20_000 + Math.floor(Math.random() * 20_000),
    secret: randomBytes(24).toString("hex"),
  });
  const rows: Row[] = [];
  try {
    await mkdir(workDir, { recursive: true });
    await run("tar", ["-C", workDir, "-xf", rootfsTar, "./usr/local/bin/herd-counter"]);
    const binary = join(workDir, "usr/local/bin/herd-counter");
    await node.start();
    await importTestImage(node);
    for (const mb of sizes) {
      rows.push(await dockerPath(node, mb, reps));
      rows.push(await runcPath(rootfsTar, workDir, mb, reps));
      rows.push(await criuPath(binary, workDir, mb, reps));
      console.error(`restore-paths: ${mb} MB done`);
    }
  } finally {
    await node.stop().catch((e: unknown) => console.error(`node cleanup: ${String(e)}`));
    await rm(workDir, { recursive: true, force: true });
  }
  const record: RunRecord = { date: new Date().toISOString(), kdatCache, criu, rows };
  const jsonFile = join(outDir, "migration-restore-paths.json");
  const kept = (JSON.parse(await readFile(jsonFile, "utf8").catch(() => "[]")) as RunRecord[]).filter((r) => r.kdatCache.split(" ")[0] !== kdatCache.split(" ")[0]);
  const runs = [...kept, record].sort((a, b) => a.kdatCache.localeCompare(b.kdatCache));
  await mkdir(outDir, { recursive: true });
  await writeFile(jsonFile, JSON.stringify(runs, null, 2) + "\n");
  await writeFile(join(outDir, "migration-restore-paths.md"), render(runs) + "\n");
  console.log(render([record]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
