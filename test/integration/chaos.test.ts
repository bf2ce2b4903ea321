// Issue 8's chaos test: migrations on the real two-node cluster, each with a random fault —
// an agent killed on the source or the destination at a random step, a broker restart, a Redis
// restart, the control service killed, a CRIU that hangs mid-dump. Every migration must end
// within its bound, every container must run exactly once with its counter never going back,
// and no criu, runc or rsync process may be left behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { FORWARD_STEPS, MigrationRecord, TERMINAL_STATES } from "../../shared/src/contracts/migration-api.js";
import { seededRandom } from "../../shared/src/seeded-random.js";
import { apiGet, copiesOf, engineOf, execFileAsync, herd, herdJson, lastCounter, logsOf, newCluster, waitFor } from "./support/cluster-harness.js";
import { armCriuHang, installCriuHangHook } from "./support/criu-hang.js";

const MIGRATIONS = Number(process.env.HERD_CHAOS_MIGRATIONS ?? 20);
const SEED = Number(process.env.HERD_CHAOS_SEED ?? 8);
/** How memory moves (`herd migrate --mode`); npm test runs stop-and-copy, HERD_CHAOS_MODE=post-copy the other. */
const MODE = process.env.HERD_CHAOS_MODE ?? "stop-and-copy";
/** Each migration's bound (rollback included); small so that a hanging CRIU costs little. */
const DEADLINE_MS = 30_000;
/** The control service may be down for a while of that bound: how much later "stuck" is declared. */
const SLACK_MS = 20_000;
const CONTAINERS = ["chaos-a", "chaos-b", "chaos-c"];
const FAULTS = ["kill-source-agent", "kill-destination-agent", "broker-restart", "redis-restart", "kill-control", "criu-hang"] as const;
type Fault = (typeof FAULTS)[number];

const log: string[] = [];
const cluster = newCluster(log);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const other = (node: string) => (node === "n1" ? "n2" : "n1");

async function postMigration(info: ClusterInfo, container: string, to: string): Promise<MigrationRecord> {
  const res = await fetch(new URL("/api/v1/migrations", info.apiUrl), {
    method: "POST",
    headers: { authorization: `Bearer ${info.apiToken}`, "content-type": "application/json" },
    body: JSON.stringify({ container, to, deadlineMs: DEADLINE_MS, reason: "chaos test", mode: MODE }),
    signal: AbortSignal.timeout(30_000),
  });
  const body: unknown = await res.json();
  if (res.status !== 202) throw new Error(`POST /migrations ${container} → ${to}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return MigrationRecord.parse(body);
}

const record = (info: ClusterInfo, id: string) =>
  apiGet<unknown>(info, `/migrations/${id}`)
    .then((r) => MigrationRecord.parse(r))
    .catch(() => undefined);

/** Processes a migration starts and must not leave behind (the transfer daemons are long-lived and excluded). */
async function orphans(): Promise<string[]> {
  const { stdout } = await execFileAsync("ps", ["-eo", "pid=,args="]);
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /\/opt\/herd\/criu\/usr\/sbin\/criu|criu-action\.sh|runc --root \S+ checkpoint|\brsync -aHAXD\b/.test(l) && !/--daemon/.test(l));
}

async function restartRedis(): Promise<void> {
  const pidFile = "/var/lib/herd/redis/redis.pid";
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  process.kill(pid, "SIGTERM"); // a clean shutdown: the AOF is flushed
  await waitFor(
    "redis down",
    async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    20_000,
    50,
  );
  await sleep(500);
  // Started the way infra/bootstrap.sh starts it: its config file (ACL user, loopback only).
  await execFileAsync("redis-server", ["/var/lib/herd/redis/redis.conf"]);
}

async function inject(fault: Fault, m: MigrationRecord, info: ClusterInfo): Promise<void> {
  const agentPid = (node: string) => cluster.info()!.nodes.find((n) => n.id === node)!.agentPid!;
  switch (fault) {
    case "kill-source-agent":
    case "kill-destination-agent": {
      const node = fault === "kill-source-agent" ? m.source : m.destination;
      process.kill(agentPid(node), "SIGKILL");
      await sleep(1_000);
      await cluster.startAgent(node);
      return;
    }
    case "broker-restart":
      await execFileAsync("rabbitmqctl", ["stop_app"], { timeout: 60_000 });
      await sleep(1_000);
      await execFileAsync("rabbitmqctl", ["start_app"], { timeout: 60_000 });
      return;
    case "redis-restart":
      await restartRedis();
      return;
    case "kill-control":
      process.kill(cluster.info()!.controlPid!, "SIGKILL");
      await sleep(1_000);
      await cluster.startControl();
      return;
    case "criu-hang":
      return; // armed before the migration started; it bites in the freeze
  }
  void info;
}

describe("chaos: migrations under random faults", { timeout: 30 * 60_000 }, () => {
  let info: ClusterInfo;
  let uninstallHang: () => Promise<void> = async () => undefined;

  before(async () => {
    if (cluster.info() !== undefined || (await cluster.leftovers()).length > 0) await cluster.down();
    info = await cluster.up({ nodes: 2 });
    uninstallHang = await installCriuHangHook();
    for (const [i, name] of CONTAINERS.entries()) {
      const r = await herd("run", "--node", i % 2 ? "n2" : "n1", "--name", name, "herd/workload:latest", "counter", "8", "100");
      assert.equal(r.code, 0, r.stderr);
    }
    await waitFor(
      "containers in herd ps",
      async () => (await herdJson<Array<{ name: string }>>("ps")).filter((c) => CONTAINERS.includes(c.name)).length === 3,
      30_000,
    );
  });

  after(async () => {
    await uninstallHang();
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
    if (process.env.HERD_TEST_VERBOSE) console.log(log.join("\n"));
  });

  it(`${MIGRATIONS} migrations, each with a random fault: nothing lost, doubled or stuck`, async () => {
    const random = seededRandom(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let faults = 0;
    let lost = 0;
    let doubled = 0;
    let stuck = 0;
    const problems: string[] = [];
    const outcomes: Record<string, number> = {};
    const started = Date.now();
    // Every kind of fault comes up (at least three times in 20), in a seeded random order.
    const plan = Array.from({ length: MIGRATIONS }, (_, i) =>
      i < FAULTS.length * Math.floor(MIGRATIONS / FAULTS.length) ? FAULTS[i % FAULTS.length]! : pick(FAULTS),
    );
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [plan[i], plan[j]] = [plan[j]!, plan[i]!];
    }
    for (let i = 0; i < MIGRATIONS; i++) {
      const name = CONTAINERS[i % CONTAINERS.length]!;
      // Where is it, and how far has it counted?
      const copies = await copiesOf(info, name);
      const running = copies.filter((c) => c.running);
      if (running.length !== 1) {
        problems.push(`#${i} ${name}: ${running.length} running copies before the migration`);
        continue;
      }
      const from = running[0]!.node;
      const before = lastCounter(await logsOf(engineOf(info, from), name));
      // Control's view must agree before we ask it to move the container.
      await waitFor(
        `${name} on ${from} in herd ps`,
        async () => (await herdJson<Array<{ name: string; nodeId: string }>>("ps")).some((c) => c.name === name && c.nodeId === from),
        30_000,
      );
      await waitFor("both nodes up", async () => (await herdJson<Array<{ status: string }>>("nodes")).filter((n) => n.status === "up").length === 2, 60_000);

      const fault = plan[i]!;
      const at = fault === "criu-hang" ? "freeze" : pick(FORWARD_STEPS);
      if (fault === "criu-hang") await armCriuHang();
      const m = await postMigration(info, name, other(from));
      faults++;
      // Inject when the migration reaches the chosen step (or as soon as it is seen past it).
      const target = FORWARD_STEPS.indexOf(at);
      await waitFor(
        `${m.id} at ${at}`,
        async () => {
          const r = await record(info, m.id);
          if (!r) return false;
          const idx = FORWARD_STEPS.indexOf(r.step as (typeof FORWARD_STEPS)[number]);
          return TERMINAL_STATES.includes(r.state) || r.state === "rolling-back" || idx >= target;
        },
        DEADLINE_MS,
        20,
      ).catch(() => undefined);
      await inject(fault, m, info);

      // Terminal within the bound (plus the time a killed control service needed to come back).
      const bound = (m.deadlineAt ?? Date.now() + DEADLINE_MS) + SLACK_MS;
      const final = await waitFor(
        `${m.id} terminal`,
        async () => {
          const r = await record(info, m.id);
          return r && TERMINAL_STATES.includes(r.state) ? r : undefined;
        },
        Math.max(1_000, bound - Date.now()),
        200,
      ).catch(() => undefined);
      if (!final) {
        stuck++;
        problems.push(`#${i} ${name} ${fault}@${at}: not terminal by its bound`);
        continue;
      }
      outcomes[final.state] = (outcomes[final.state] ?? 0) + 1;
      const cause = final.state === "committed" ? "" : ` (cause: ${final.error?.message ?? "?"})`;
      log.push(`#${i} ${name} ${from}→${other(from)} ${fault}@${at}: ${final.state} in ${final.totalMs} ms${cause}; ${final.whereabouts ?? ""}`);

      // Exactly one running copy, counting on from where it was.
      const after = await waitFor(
        `${name} settled on one node`,
        async () => {
          const cs = (await copiesOf(info, name)).filter((c) => c.running);
          return cs.length === 1 ? cs : undefined;
        },
        20_000,
      ).catch(async () => (await copiesOf(info, name)).filter((c) => c.running));
      if (after.length > 1) {
        doubled++;
        problems.push(`#${i} ${name} ${fault}@${at}: ${after.length} running copies (${after.map((c) => c.node).join(", ")})`);
        continue;
      }
      if (after.length === 0) {
        lost++;
        problems.push(`#${i} ${name} ${fault}@${at}: no running copy (${final.state}; ${final.whereabouts})`);
        continue;
      }
      const docker = engineOf(info, after[0]!.node);
      const counted = await waitFor(
        `${name} counting past ${before}`,
        async () => {
          const v = lastCounter(await logsOf(docker, name));
          return v > before ? v : undefined;
        },
        20_000,
      ).catch(async () => lastCounter(await logsOf(docker, name)));
      if (counted <= before) {
        lost++;
        problems.push(`#${i} ${name} ${fault}@${at}: counter went from ${before} to ${counted} (memory state lost)`);
      }
      const left = await waitFor("no orphaned criu/runc/rsync", async () => ((await orphans()).length === 0 ? [] : undefined), 20_000).catch(orphans);
      if (left.length) problems.push(`#${i} ${name} ${fault}@${at}: left running: ${left.join(" | ")}`);
    }
    const line = `chaos: ${MIGRATIONS} migrations, ${faults} faults, ${lost} lost, ${doubled} doubled, ${stuck} stuck`;
    console.log(`${line} (mode ${MODE}, seed ${SEED}, ${Math.round((Date.now() - started) / 1000)} s; outcomes ${JSON.stringify(outcomes)})`);
    for (const l of log.filter((x) => x.startsWith("#"))) console.log(`  ${l}`);
    for (const p of problems) console.log(`  problem: ${p}`);
    assert.equal(lost + doubled + stuck, 0, line);
    assert.deepEqual(problems, [], "every migration ends clean");
  });
});
