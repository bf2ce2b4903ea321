// docker-compose.yml, really started (issue 13). What this test does is what the README's
// "Deploying with docker compose" section says:
//  1. three engines, each a dockerd in its own network namespace as `herd up` makes them, but
//     under this test's own names (bridge herdk0 10.77.13.1/24, netns herdk-n1..3, state in
//     /var/lib/herd-compose-test, sockets in /run/herdk): n1 plays the control host, n2 and n3
//     two compute hosts. Nothing here is host-global, so no cluster lock is needed.
//  2. `bin/herd images build` into n1 (all four images) and into n2/n3 (the agent): from Debian
//     packages and the host's node, no registry (infra/images/build.sh, cached).
//  3. `docker-compose --profile control up -d` on n1 from a directory without a .env (secrets
//     generated into the secrets volume), AMQP and the API published on n1's address.
//  4. `bin/herd node join --control http://10.77.13.11:7070 --token … --up` on n2 and n3: control
//     creates each node's own broker user; the agent starts from the compose file and registers.
//  5. `bin/herd run` a counter on n2, `bin/herd migrate` it to n3, and check it runs there with
//     its memory (the count continues) — then tear everything down.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import amqp from "amqplib";
import { planCluster } from "../../services/cli/src/local-cluster/cluster-plan.js";
import { DockerdNodeEngine } from "../../services/cli/src/local-cluster/dockerd-node-engine.js";
import { IprouteNodeNetwork } from "../../services/cli/src/local-cluster/iproute-node-network.js";
import { createLogger } from "../../shared/src/logger.js";
import { runProcess, type ProcessOutcome } from "../../shared/src/process/run-process.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const composeFile = join(repoRoot, "docker-compose.yml");
const log = createLogger({ level: "warn", format: "text" });
const plan = planCluster({ nodes: 3, name: "herdk", subnet: "10.77.13", stateDir: "/var/lib/herd-compose-test", runDir: "/run/herdk" });
const [controlHost, nodeA, nodeB] = plan.nodes;
if (!controlHost || !nodeA || !nodeB) throw new Error("plan has three nodes");
const network = new IprouteNodeNetwork({ log });
const engines = new DockerdNodeEngine({ log, startTimeoutMs: 120_000 });
const apiUrl = `http://${controlHost.address}:7070`;
const joinDir = join(plan.stateDir, "join");
/** A directory without any .env: compose's project directory for the control profile. */
const emptyProjectDir = mkdtempSync(join(tmpdir(), "herd-compose-"));
const projects = { control: "herdk-control", [nodeA.id]: `herdk-${nodeA.id}`, [nodeB.id]: `herdk-${nodeB.id}` };

async function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<ProcessOutcome> {
  return runProcess(file, args, { timeoutMs, env: { ...process.env, ...env }, maxOutputChars: 4 * 1024 * 1024 });
}
function ok(r: ProcessOutcome, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}): ${r.stderr.slice(-2000)} ${r.stdout.slice(-1000)}`);
  return r.stdout;
}
let composeBin: string[] = ["docker-compose"];
const compose = (host: string, project: string, args: string[], env: NodeJS.ProcessEnv = {}, projectDir = emptyProjectDir) =>
  run(composeBin[0] ?? "docker-compose", [...composeBin.slice(1), "-f", composeFile, "--project-directory", projectDir, "-p", project, ...args], { DOCKER_HOST: host, ...env }, 300_000);
const docker = (host: string, args: string[], timeoutMs = 60_000) => run("docker", ["-H", host, ...args], {}, timeoutMs);
let token = "";
const herd = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000) =>
  run(process.execPath, [join(repoRoot, "bin/herd"), ...args], { HERD_API_URL: apiUrl, HERD_API_TOKEN: token, ...env }, timeoutMs);

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    // Each probe races a ref'd timer: a probe that hangs (a fetch whose connection never answers)
    // neither stalls the loop nor lets the event loop drain under a pending promise.
    let timer: NodeJS.Timeout | undefined;
    try {
      const v = await Promise.race([
        probe(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("probe took over 15 s")), 15_000);
        }),
      ]);
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** Everything this test made, gone; tolerant of what was never made. */
async function teardown(): Promise<void> {
  for (const [key, project] of Object.entries(projects)) {
    const node = key === "control" ? controlHost : plan.nodes.find((n) => n.id === key);
    if (!node || !(await engines.ping(node))) continue;
    const env =
      key === "control"
        ? {}
        : { HERD_DOCKER_SOCKET: node.dockerSocket, HERD_DOCKER_DATA_ROOT: node.dataRoot, HERD_DOCKER_EXEC_ROOT: node.execRoot, HERD_AGENT_STATE_DIR: node.agentStateDir };
    const profile = key === "control" ? "control" : "compute";
    await compose(node.dockerHost, project, ["--profile", profile, "down", "-v", "--timeout", "10"], env).catch(() => undefined);
  }
  for (const node of plan.nodes) {
    await engines.removeAllContainers(node).catch(() => 0);
    await engines.stop(node);
  }
  await network.remove(plan);
  for (const dir of [plan.runDir, plan.stateDir]) {
    // The engines' own mounts first (netns files, overlay roots), then the shared bind itself.
    await run("sh", ["-c", `findmnt -rn -o TARGET | grep '^${dir}/' | sort -r | xargs -r umount -l`], {}, 60_000);
    if ((await run("mountpoint", ["-q", dir], {}, 10_000)).code === 0) await run("umount", ["-l", dir], {}, 60_000);
  }
  rmSync(joinDir, { recursive: true, force: true });
}

describe("docker-compose.yml on three engines: control profile, two compute nodes joined, one migration", { timeout: 45 * 60_000 }, () => {
  before(async () => {
    if ((await run("docker", ["compose", "version"], {}, 20_000)).code === 0) composeBin = ["docker", "compose"];
    ok(await run(composeBin[0] ?? "docker-compose", [...composeBin.slice(1), "version"], {}, 20_000), "docker-compose version (infra/bootstrap.sh installs it)");
    await teardown();
    // The agent container bind-mounts the engine's data and exec roots with rshared propagation,
    // which Docker allows only from a shared mount (a systemd host's / is one; this machine's is not).
    for (const dir of [plan.stateDir, plan.runDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      ok(await run("mount", ["--bind", dir, dir], {}, 10_000), `bind ${dir}`);
      ok(await run("mount", ["--make-rshared", dir], {}, 10_000), `make ${dir} shared`);
    }
    await network.ensure(plan);
    for (const node of plan.nodes) await engines.start(node, network.netnsPath(node.netns), plan.stateDir);
    mkdirSync(joinDir, { recursive: true, mode: 0o700 });
  });

  after(async () => {
    // HERD_COMPOSE_TEST_KEEP=1 leaves everything up to look at (the next run tears it down first).
    if (process.env.HERD_COMPOSE_TEST_KEEP !== "1") await teardown();
    rmSync(emptyProjectDir, { recursive: true, force: true });
  });

  it("builds every image from Debian packages into the engines, and a second run finds them cached", async () => {
    const t0 = Date.now();
    const first = ok(await herd(["images", "build", "--docker-host", controlHost.dockerHost], {}, 40 * 60_000), "herd images build (control host)");
    const firstMs = Date.now() - t0;
    for (const image of ["rabbitmq", "redis", "control", "agent"]) assert.match(first, new RegExp(`herd/${image}: +(ok|loaded|built)`), first);
    const compute = ok(
      await run("bash", [join(repoRoot, "infra/images/build.sh"), "--only", "agent", "--docker-host", nodeA.dockerHost, "--docker-host", nodeB.dockerHost], {}, 40 * 60_000),
      "images for the compute hosts",
    );
    assert.equal(compute.match(/herd\/agent: +(ok|loaded|built)/g)?.length, 2, compute);
    const again = ok(await herd(["images", "build", "--docker-host", controlHost.dockerHost], {}, 10 * 60_000), "herd images build again");
    assert.equal(again.match(/: +ok \(/g)?.length, 4, `second build is all cached: ${again}`);
    // No image in any engine came from a registry: every tagged one is herd/*, and none has a
    // repository digest (what a pull records; built, imported and loaded images have none).
    for (const node of plan.nodes) {
      const ids = ok(await docker(node.dockerHost, ["images", "-q", "--no-trunc"]), "docker images").trim().split("\n");
      const seen = JSON.parse(ok(await docker(node.dockerHost, ["image", "inspect", ...new Set(ids)]), "docker image inspect")) as { RepoTags: string[]; RepoDigests: string[] }[];
      assert.deepEqual(
        seen.filter((i) => i.RepoDigests.length > 0 || i.RepoTags.some((t) => !t.startsWith("herd/"))).map((i) => i.RepoTags),
        [],
        `${node.id} holds only herd/* images, none pulled`,
      );
    }
    // The workload image the migrated container runs (busybox-static + test programs, no registry either).
    const hash = ok(await run("bash", [join(repoRoot, "infra/workloads/build-image.sh"), "--print-hash"], { HERD_STATE_DIR: plan.stateDir }, 300_000), "workload image")
      .trim()
      .split("\n")
      .pop();
    assert.ok(hash && /^[0-9a-f]{64}$/.test(hash), `workload hash: ${hash}`);
    for (const node of [nodeA, nodeB]) await engines.ensureImage(node, { tarball: join(plan.stateDir, "images/workload.tar"), hash });
    log.warn(`images: first build/load ${Math.round(firstMs / 1000)} s`);
  });

  it("the control profile starts without a .env: secrets generated into a volume, the API up, the join hint printed", async () => {
    assert.ok(!existsSync(join(emptyProjectDir, ".env")));
    ok(
      await compose(controlHost.dockerHost, projects.control, ["--profile", "control", "up", "-d"], {
        HERD_BROKER_BIND: controlHost.address,
        HERD_API_BIND: controlHost.address,
      }),
      "compose --profile control up",
    );
    token = ok(await docker(controlHost.dockerHost, ["exec", `${projects.control}_control_1`, "herd-secret", "api-token"]), "read the API token").trim();
    assert.match(token, /^[0-9a-f]{64}$/);
    const apiUp = () =>
      waitFor("the control API", 180_000, async () => {
        const res = await fetch(`${apiUrl}/api/v1/health`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
        return res.status === 200 ? true : undefined;
      });
    await apiUp();
    const logs = await docker(controlHost.dockerHost, ["logs", `${projects.control}_control_1`]);
    const text = logs.stdout + logs.stderr;
    assert.match(text, new RegExp(`herd node join --control http://${controlHost.address.replace(/\./g, "\\.")}:7070 --token <token>`));
    assert.ok(!text.includes(token), "the API token is not in control's log");
    // A second start keeps the generated secrets (they live in the volume, not in the container).
    ok(await compose(controlHost.dockerHost, projects.control, ["--profile", "control", "restart", "control"]), "restart control");
    const again = ok(await docker(controlHost.dockerHost, ["exec", `${projects.control}_control_1`, "herd-secret", "api-token"]), "token again").trim();
    assert.equal(again, token);
    await apiUp();
    // Bad input to the join endpoint is a 4xx naming the field, not a 500.
    const bad = await fetch(`${apiUrl}/api/v1/nodes/Not_A_Node/join`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /id/);
  });

  it("the compute profile's config resolves without a .env, and an agent started without join's settings exits saying what to run", async () => {
    ok(await compose(nodeA.dockerHost, projects[nodeA.id] ?? "herdk-n2", ["--profile", "compute", "config", "-q"]), "compute config without .env");
    const r = await docker(nodeA.dockerHost, ["run", "--rm", "--network", "none", "herd/agent:latest"]);
    assert.equal(r.code, 78, `${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, /not configured \(missing: HERD_NODE_ID HERD_AMQP_URL HERD_NODE_ADDRESS\)\. Run 'herd node join/);
  });

  it("two compute nodes join with `herd node join --up`: each gets its own least-privilege broker user and registers", async () => {
    for (const node of [nodeA, nodeB]) {
      const out = join(joinDir, `${node.id}.env`);
      const r = await herd(
        [
          "node",
          "join",
          "--control",
          apiUrl,
          "--node-id",
          node.id,
          "--address",
          node.address,
          "--out",
          out,
          "--docker-socket",
          node.dockerSocket,
          "--docker-data-root",
          node.dataRoot,
          "--docker-exec-root",
          node.execRoot,
          "--agent-state-dir",
          node.agentStateDir,
          "--up",
        ],
        { DOCKER_HOST: node.dockerHost, COMPOSE_PROJECT_NAME: projects[node.id], HERD_API_TOKEN: token },
        600_000,
      );
      ok(r, `herd node join ${node.id}`);
      assert.match(r.stdout, new RegExp(`node ${node.id} joined: broker user herd-node-${node.id}`));
      assert.equal(statSync(out).mode & 0o777, 0o600, ".env is 0600");
      const env = readFileSync(out, "utf8");
      assert.match(env, new RegExp(`^HERD_AGENT_AMQP_URL=amqp://herd-node-${node.id}:[0-9a-f]+@${controlHost.address.replace(/\./g, "\\.")}:5672/herd$`, "m"));
      assert.doesNotMatch(env, /herd-admin/);
    }
    await waitFor("n2 and n3 up in herd nodes", 180_000, async () => {
      const r = await herd(["nodes", "-o", "json"]);
      if (r.code !== 0) return undefined;
      const nodes = JSON.parse(r.stdout) as { id: string; status: string }[];
      return [nodeA.id, nodeB.id].every((id) => nodes.some((n) => n.id === id && n.status === "up")) ? nodes : undefined;
    });
    // Least privilege: n2's user can read its own command queue but not n3's.
    const url = /^HERD_AGENT_AMQP_URL=(.*)$/m.exec(readFileSync(join(joinDir, `${nodeA.id}.env`), "utf8"))?.[1];
    assert.ok(url);
    const conn = await amqp.connect(url, { timeout: 10_000 });
    try {
      const own = await conn.createChannel();
      await own.checkQueue(`herd.commands.${nodeA.id}`);
      await own.close();
      const other = await conn.createChannel();
      other.on("error", () => undefined);
      await assert.rejects(other.consume(`herd.commands.${nodeB.id}`, () => undefined), /ACCESS_REFUSED|403/);
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it("migrates a running container from n2 to n3 through the CLI, memory and all", async () => {
    ok(await herd(["run", "--node", nodeA.id, "--name", "compose-counter", "herd/workload:latest", "counter", "100"]), "herd run");
    const before = await waitFor("the counter past 20 on n2", 120_000, async () => {
      const r = await docker(nodeA.dockerHost, ["logs", "--tail", "1", "compose-counter"]);
      const n = Number(/counter (\d+)/.exec(r.stdout)?.[1] ?? NaN);
      return n > 20 ? n : undefined;
    });
    const m = await herd(["migrate", "compose-counter", "--to", nodeB.id, "-o", "json"], {}, 300_000);
    const agentLogs = async (node: typeof nodeA) => (await docker(node.dockerHost, ["logs", "--tail", "30", `${projects[node.id]}_agent_1`])).stderr;
    assert.equal(m.code, 0, `herd migrate: ${m.stderr} ${m.stdout}\n--- n2 agent:\n${await agentLogs(nodeA)}\n--- n3 agent:\n${await agentLogs(nodeB)}`);
    assert.equal((JSON.parse(m.stdout) as { state: string }).state, "committed");
    const ps = JSON.parse(ok(await herd(["ps", "-o", "json"]), "herd ps")) as { name: string; nodeId: string; state: string }[];
    const moved = ps.filter((c) => c.name === "compose-counter");
    assert.deepEqual(
      moved.map((c) => [c.nodeId, c.state]),
      [[nodeB.id, "running"]],
    );
    const after = await waitFor("the counter continuing on n3", 120_000, async () => {
      const r = await docker(nodeB.dockerHost, ["logs", "--tail", "1", "compose-counter"]);
      const n = Number(/counter (\d+)/.exec(r.stdout)?.[1] ?? NaN);
      return n > before ? n : undefined;
    });
    assert.ok(after > before, `count went on from ${before} to ${after} (a fresh start would restart at 1)`);
    const gone = await docker(nodeA.dockerHost, ["ps", "-q", "--filter", "name=compose-counter"]);
    assert.equal(gone.stdout.trim(), "", "nothing left running on n2");
  });
});
