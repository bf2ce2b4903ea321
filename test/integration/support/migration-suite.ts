// Issue 3's acceptance: live migration on the real two-node cluster (Docker + CRIU + rsync +
// RabbitMQ + Redis), including the faults the saga must survive with exactly one copy running.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterInfo, LocalCluster } from "../../../services/cli/src/local-cluster/local-cluster.js";
import { planCluster } from "../../../services/cli/src/local-cluster/cluster-plan.js";
import {
  GiveUp,
  apiGet,
  controlAutopsy,
  copiesOf,
  dockerExec,
  engineOf,
  execFileAsync,
  firstCounter,
  herd,
  herdJson,
  lastCounter,
  logsOf,
  waitFor,
} from "./cluster-harness.js";

interface MigrationView {
  id: string;
  state: string;
  step: string;
  frozenMs?: number;
  totalMs?: number;
  bytes: number;
  steps: Array<{ name: string; ok?: boolean }>;
  error?: { message: string };
}
interface ContainerView {
  name: string;
  nodeId: string;
}

type Ctx = () => { cluster: LocalCluster; info: ClusterInfo };

const other = (node: string) => (node === "n1" ? "n2" : "n1");

async function bothNodesUp(): Promise<void> {
  await waitFor(
    "both nodes up",
    async () => {
      const nodes = await herdJson<Array<{ status: string }>>("nodes");
      return nodes.length === 2 && nodes.every((n) => n.status === "up");
    },
    30_000,
  );
}

async function runOn(node: string, name: string, ...cmd: string[]): Promise<void> {
  const r = await herd("run", "--node", node, "--name", name, "herd/workload:latest", ...cmd);
  assert.equal(r.code, 0, r.stderr);
  await waitFor(`${name} in herd ps`, async () => (await herdJson<ContainerView[]>("ps")).some((c) => c.name === name && c.nodeId === node), 15_000);
}

async function startMigrationIn(mode: string, name: string, to: string): Promise<string> {
  const r = await herd("migrate", name, "--to", to, "--mode", mode, "--detach", "-o", "json");
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as MigrationView).id;
}

let currentInfo: ClusterInfo | undefined;
let currentCluster: LocalCluster | undefined;
const migration = (id: string) => apiGet<MigrationView>(currentInfo!, `/migrations/${id}`).catch(() => undefined);

async function settled(id: string, timeoutMs = 240_000): Promise<MigrationView> {
  let last: MigrationView | undefined;
  const seen = () => (last ? ` (last seen ${last.state} at ${last.step})` : "");
  try {
    return await waitFor(
      `migration ${id} settled`,
      async () => {
        const m = await migration(id);
        // No answer and no control process: nothing will settle it; say why now rather than at the deadline.
        const gone = m === undefined && currentCluster ? controlAutopsy(currentCluster) : "";
        if (gone) throw new GiveUp(`migration ${id} cannot settle${seen()}:${gone}`);
        last = m ?? last;
        return last && ["committed", "rolled-back", "failed"].includes(last.state) ? last : undefined;
      },
      timeoutMs,
      300,
    );
  } catch (err) {
    if (err instanceof GiveUp) throw err;
    throw new Error(`${(err as Error).message}${seen()}`, { cause: err });
  }
}

/** Waits until the migration runs `step`; fails at once if it settled without getting there. */
async function waitForStep(id: string, step: string): Promise<void> {
  await waitFor(
    `migration ${id} at ${step}`,
    async () => {
      const m = await migration(id);
      if (m && ["committed", "rolled-back", "failed"].includes(m.state)) {
        throw new GiveUp(`migration settled (${m.state}) before reaching ${step}: ${JSON.stringify(m.steps)}`);
      }
      return m?.step === step;
    },
    120_000,
    30,
  );
}

/**
 * Exactly one copy runs; returns its node, once the control service's view (telemetry, one
 * interval behind the engines) agrees, so that the next request sees the container there.
 */
async function exactlyOneCopy(info: ClusterInfo, name: string): Promise<string> {
  const copies = await copiesOf(info, name);
  const running = copies.filter((c) => c.running);
  assert.equal(running.length, 1, `${name}: ${JSON.stringify(copies)}`);
  const node = running[0]!.node;
  await waitFor(
    `herd ps to show ${name} on ${node}`,
    async () => {
      const ps = await herdJson<ContainerView[]>("ps");
      return ps.filter((c) => c.name === name).every((c) => c.nodeId === node) && ps.some((c) => c.name === name);
    },
    15_000,
  );
  return node;
}

/** The counter goes on from where it was: no restart from zero, and it keeps ticking. */
async function counterContinues(info: ClusterInfo, name: string, node: string, before: number): Promise<void> {
  const docker = engineOf(info, node);
  const first = await waitFor(`${name} logs`, async () => {
    const v = firstCounter(await logsOf(docker, name));
    return v >= 0 ? v : undefined;
  });
  assert.ok(first >= before - 1 || first > 0, `${name} restarted from ${first} (was at ${before})`);
  const now = lastCounter(await logsOf(docker, name));
  await waitFor(`${name} still counting`, async () => lastCounter(await logsOf(docker, name)) > now, 5_000);
  assert.ok(lastCounter(await logsOf(docker, name)) > before, "counter is past its pre-migration value");
}

export function migrationSuite(ctx: Ctx, mode: "stop-and-copy" | "post-copy" = "stop-and-copy"): void {
  // A second run of the suite (post-copy) on the same cluster uses its own container names.
  const sfx = mode === "post-copy" ? "-pc" : "";
  const n = { counter: `counter${sfx}`, memhold: `memhold${sfx}`, bigmem: `bigmem${sfx}`, bound: `bound${sfx}` };
  const modeArgs = ["--mode", mode];
  // Its own memhold seed, so the process-table check below tells the two suites' holders apart.
  const seed = mode === "post-copy" ? "43" : "42";
  const startMigration = (name: string, to: string) => startMigrationIn(mode, name, to);
  describe(`live migration (${mode})`, () => {
    before(() => {
      currentInfo = ctx().info;
      currentCluster = ctx().cluster;
    });

    it("moves a counter that keeps counting, its files and its config, and back again", async () => {
      const { info } = ctx();
      await runOn("n1", n.counter, "counter", "100");
      const src = engineOf(info, "n1");
      await dockerExec(src, n.counter, ["sh", "-c", "mkdir -p /data && echo written-before-migration > /data/note.txt"]);
      await waitFor("counter past 10", async () => lastCounter(await logsOf(src, n.counter)) > 10);
      const specBefore = await src.getContainer(n.counter).inspect();
      const before = lastCounter(await logsOf(src, n.counter));

      const r = await herd("migrate", ...modeArgs, n.counter, "--to", "n2");
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`moved ${n.counter} from n1 to n2`));
      assert.match(r.stdout, /frozen .* total .* moved/);
      assert.match(r.stderr, /✓ freeze/);
      assert.equal(await exactlyOneCopy(info, n.counter), "n2");
      await counterContinues(info, n.counter, "n2", before);

      const dst = engineOf(info, "n2");
      const file = await dockerExec(dst, n.counter, ["cat", "/data/note.txt"]);
      assert.equal(file.output.trim(), "written-before-migration");
      const specAfter = await dst.getContainer(n.counter).inspect();
      const config = (c: typeof specBefore) => ({
        cmd: c.Config.Cmd,
        env: c.Config.Env,
        workingDir: c.Config.WorkingDir,
        user: c.Config.User,
        image: c.Config.Image,
        labels: Object.fromEntries(Object.entries(c.Config.Labels ?? {}).filter(([k]) => k !== "herd.migration")),
        memory: c.HostConfig.Memory,
        nanoCpus: c.HostConfig.NanoCpus,
        restart: c.HostConfig.RestartPolicy,
        network: c.HostConfig.NetworkMode,
      });
      assert.deepEqual(config(specAfter), config(specBefore));

      const list = await herdJson<MigrationView[]>("migrations");
      assert.ok(list.some((m) => m.state === "committed" && m.frozenMs !== undefined && m.bytes > 0));

      const back = await herd("migrate", ...modeArgs, n.counter, "--to", "n1");
      assert.equal(back.code, 0, back.stderr);
      assert.equal(await exactlyOneCopy(info, n.counter), "n1");
      const file2 = await dockerExec(engineOf(info, "n1"), n.counter, ["cat", "/data/note.txt"]);
      assert.equal(file2.output.trim(), "written-before-migration");
    });

    it("keeps 64 MB of memory byte-for-byte", async () => {
      const { info } = ctx();
      await runOn("n1", n.memhold, "memhold", "64", seed);
      const src = engineOf(info, "n1");
      const ready = await waitFor("memhold ready", async () => /checksum=([0-9a-f]{16})/.exec(await logsOf(src, n.memhold))?.[1]);
      const r = await herd("migrate", ...modeArgs, n.memhold, "--to", "n2");
      assert.equal(r.code, 0, r.stderr);
      const dst = engineOf(info, "n2");
      const verify = await dockerExec(dst, n.memhold, ["memhold", "verify"]);
      assert.equal(verify.code, 0, verify.output);
      assert.match(verify.output, new RegExp(`ok ${ready}`));
    });

    it("refuses bad requests before touching anything", async () => {
      const { info } = ctx();
      const cases: Array<[string[], RegExp]> = [
        [["migrate", "no-such-container", "--to", "n2"], /no container no-such-container/],
        [["migrate", n.counter, "--to", "n9"], /no node n9/],
        [["migrate", n.counter, "--to", await exactlyOneCopy(info, n.counter)], /already runs on n[12]/],
        [["migrate", n.counter, "--to", "Bad Node"], /node id "Bad Node"/],
      ];
      for (const [args, pattern] of cases) {
        const r = await herd(...args);
        assert.notEqual(r.code, 0, args.join(" "));
        assert.match(r.stderr, pattern);
      }
      // A bind mount of a host path cannot follow the container: refused with the reason.
      await engineOf(info, "n1")
        .createContainer({
          name: n.bound,
          Image: "herd/workload:latest",
          Cmd: ["sleep", "3600"],
          HostConfig: { NetworkMode: "none", Binds: ["/tmp:/host-tmp"] },
        })
        .then((c) => c.start());
      await waitFor("bound in ps", async () => (await herdJson<ContainerView[]>("ps")).some((c) => c.name === n.bound), 15_000);
      const dry = await herd("migrate", ...modeArgs, n.bound, "--to", "n2", "--dry-run");
      assert.equal(dry.code, 1);
      assert.match(dry.stdout, /would NOT be migrated/);
      assert.match(dry.stdout, /bind/i);
      const from = await exactlyOneCopy(info, n.counter);
      const ok = await herd("migrate", ...modeArgs, n.counter, "--to", other(from), "--dry-run");
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(`would move from ${from} to ${other(from)}`));
      // One migration per container at a time.
      const id = await startMigration(n.counter, other(from));
      const second = await herd("migrate", ...modeArgs, n.counter, "--to", other(from));
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /already being migrated/);
      assert.equal((await settled(id)).state, "committed");
      assert.equal(await exactlyOneCopy(info, n.counter), other(from));
    });

    it("rolls back when rsync fails mid-transfer: the source keeps running", async () => {
      const { info } = ctx();
      const from = await exactlyOneCopy(info, n.counter);
      const to = other(from);
      const before = lastCounter(await logsOf(engineOf(info, from), n.counter));
      // An immutable staging dir makes the destination's rsync daemon fail the transfer.
      const staging = `${planCluster({ nodes: 2, stateDir: "/var/lib/herd" }).nodes.find((n) => n.id === to)!.dataRoot}/herd-staging`;
      await execFileAsync("mkdir", ["-p", staging]);
      await execFileAsync("chattr", ["+i", staging]);
      try {
        const r = await herd("migrate", ...modeArgs, n.counter, "--to", to);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout, new RegExp(`rolled back: ${n.counter} stays on ${from}`), r.stderr);
      } finally {
        await execFileAsync("chattr", ["-i", staging]);
      }
      assert.equal(await exactlyOneCopy(info, n.counter), from);
      await counterContinues(info, n.counter, from, before);
    });

    it("survives the source agent being killed during the checkpoint", async () => {
      const { info, cluster } = ctx();
      // Big enough that Docker's checkpoint takes seconds: the kill lands inside it.
      await runOn("n1", n.bigmem, "memhold", "256", "7");
      const ready = await waitFor("bigmem ready", async () => /checksum=([0-9a-f]{16})/.exec(await logsOf(engineOf(info, "n1"), n.bigmem))?.[1]);
      const id = await startMigration(n.bigmem, "n2");
      await waitForStep(id, "freeze");
      process.kill(cluster.info()!.nodes.find((n) => n.id === "n1")!.agentPid!, "SIGKILL");
      await new Promise((r) => setTimeout(r, 1_000));
      await cluster.startAgent("n1");
      const m = await settled(id);
      const node = await exactlyOneCopy(info, n.bigmem);
      assert.equal(node, m.state === "committed" ? "n2" : "n1");
      const verify = await dockerExec(engineOf(info, node), n.bigmem, ["memhold", "verify"]);
      assert.equal(verify.code, 0, verify.output);
      assert.match(verify.output, new RegExp(`ok ${ready}`));
      await bothNodesUp();
      await engineOf(info, node).getContainer(n.bigmem).remove({ force: true });
    });

    it("survives the control service being killed between checkpoint and restore", async () => {
      const { info, cluster } = ctx();
      await bothNodesUp();
      const from = await exactlyOneCopy(info, n.counter);
      const to = from === "n1" ? "n2" : "n1";
      const before = lastCounter(await logsOf(engineOf(info, from), n.counter));
      const id = await startMigration(n.counter, to);
      await waitFor("freeze done", async () => (await migration(id))?.steps.some((s) => s.name === "freeze" && s.ok), 120_000, 50);
      const pid = cluster.info()!.controlPid!;
      process.kill(pid, "SIGKILL");
      await cluster.restartControl();
      const m = await settled(id);
      assert.equal(m.state, "committed", JSON.stringify(m.error));
      assert.equal(await exactlyOneCopy(info, n.counter), to);
      await counterContinues(info, n.counter, to, before);
    });

    it("survives a broker restart in the middle", async () => {
      const { info } = ctx();
      const from = await exactlyOneCopy(info, n.counter);
      const to = from === "n1" ? "n2" : "n1";
      const before = lastCounter(await logsOf(engineOf(info, from), n.counter));
      const id = await startMigration(n.counter, to);
      await waitFor("migration under way", async () => (await migration(id))?.steps.some((s) => s.name === "prepare"), 60_000, 50);
      await execFileAsync("rabbitmqctl", ["stop_app"]);
      // Away for longer than a saga step waits for an answer before it re-sends (10 s): the re-sent
      // command waits for the broker as long as for its answer (that once killed the control service).
      await new Promise((r) => setTimeout(r, 15_000));
      await execFileAsync("rabbitmqctl", ["start_app"]);
      const m = await settled(id);
      const node = await exactlyOneCopy(info, n.counter);
      assert.equal(node, m.state === "committed" ? to : from);
      await counterContinues(info, n.counter, node, before);
      await bothNodesUp();
    });

    it("never runs two copies when the destination engine crashes during restore", async () => {
      const { info, cluster } = ctx();
      const from = await exactlyOneCopy(info, n.memhold);
      const to = from === "n1" ? "n2" : "n1";
      // The checksum before: from a check now (the logs of a migrated container start after its restore).
      const beforeCheck = await dockerExec(engineOf(info, from), n.memhold, ["memhold", "verify"]);
      const ready = /ok ([0-9a-f]{16})/.exec(beforeCheck.output)?.[1];
      assert.ok(ready, beforeCheck.output);
      const id = await startMigration(n.memhold, to);
      await waitForStep(id, "restore");
      const { stdout } = await execFileAsync("cat", [`/run/herd/${to}/docker.pid`]);
      const enginePid = Number(stdout.trim());
      // A crash (not a clean stop): the copy may have started under its shim. The source must
      // stay frozen until the engine is back and the copy is gone, then resume.
      process.kill(enginePid, "SIGKILL");
      await waitFor(
        "the stopped engine to exit",
        async () => {
          try {
            process.kill(enginePid, 0);
            return false;
          } catch {
            return true;
          }
        },
        60_000,
      );
      // While the engine is away nothing may run twice.
      await new Promise((r) => setTimeout(r, 3_000));
      // All nodes share this host, so the process table sees every copy, even one the crashed
      // engine can no longer report.
      const { stdout: procs } = await execFileAsync("ps", ["-eo", "stat=,args="]);
      const copies = procs.split("\n").filter((l) => new RegExp(`^\\s*[RS]\\S*\\s+memhold 64 ${seed}$`).test(l));
      assert.ok(copies.length <= 1, `two copies while the engine was down: ${JSON.stringify(copies)}`);
      // Bring the engine back (idempotent up restarts what is missing).
      await cluster.up({ nodes: 2 });
      await waitFor("engine back", async () => (await engineOf(cluster.info()!, to).ping()) !== undefined, 30_000);
      const m = await settled(id);
      const node = await waitFor(
        "one copy",
        async () => {
          const copies = await copiesOf(cluster.info()!, n.memhold);
          const running = copies.filter((c) => c.running);
          return running.length === 1 && copies.length === 1 ? running[0]!.node : undefined;
        },
        60_000,
      );
      assert.equal(node, m.state === "committed" ? to : from);
      const verify = await dockerExec(engineOf(cluster.info()!, node), n.memhold, ["memhold", "verify"]);
      assert.equal(verify.code, 0, verify.output);
      assert.match(verify.output, new RegExp(`ok ${ready}`));
    });
  });
}
