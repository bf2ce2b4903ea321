// The local cluster's whole lifecycle on the real machine: `up` with two nodes (bridge, netns,
// one dockerd each, broker users, control + agents when built), the checks that make it usable,
// then `down` and a search for anything left behind. Needs root and RabbitMQ/Redis installable
// (infra/bootstrap.sh). It runs its own cluster ("herdt": own subnet, netns, vhost, users, API
// port, Redis db, state and run dirs), so a developer's `herd up` cluster is never touched.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import amqp from "amqplib";
import Dockerode from "dockerode";
import { Redis } from "ioredis";
import { LocalCluster, type ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { isAlive } from "../../services/cli/src/local-cluster/process-table.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";

const execFileAsync = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const lines: string[] = [];
const T = { name: "herdt", subnet: "10.77.9", stateDir: "/var/lib/herd-test", runDir: "/run/herdt", apiPort: 7079, redisUrl: "redis://127.0.0.1:6379/9" };
const cluster = new LocalCluster({ repoRoot, ...T, log: (l) => lines.push(l) });

async function inNetns(netns: string, cmd: string[]): Promise<string> {
  const { stdout } = await execFileAsync("nsenter", [`--net=/run/netns/${netns}`, ...cmd], { timeout: 20_000 });
  return stdout;
}

async function rabbitUsers(): Promise<string[]> {
  const { stdout } = await execFileAsync("rabbitmqctl", ["-q", "list_users", "--no-table-headers"]);
  return stdout
    .split("\n")
    .map((l) => l.split(/\s+/)[0] ?? "")
    .filter((n) => n !== "");
}

describe("local cluster up/down", { timeout: 600_000 }, () => {
  let info: ClusterInfo;
  const timings: Record<string, number> = {};

  before(async () => {
    // A previous run that died half-way may have left its cluster: start from nothing.
    if (cluster.info() !== undefined || (await cluster.leftovers()).length > 0) await cluster.down();
    const t0 = Date.now();
    info = await cluster.up({ nodes: 2 });
    timings.up = Date.now() - t0;
  });

  after(async () => {
    // Runs even when a check failed, so a red test does not leave a cluster behind.
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
    console.log(`local-cluster timings (ms): ${JSON.stringify(timings)}\n${lines.join("\n")}`);
  });

  it("writes cluster.json readable by root only", () => {
    const mode = statSync(cluster.stateFile).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.deepEqual(
      info.nodes.map((n) => [n.id, n.address]),
      [
        ["n1", "10.77.9.11"],
        ["n2", "10.77.9.12"],
      ],
    );
    assert.match(info.apiToken, /^[0-9a-f]{32}$/);
  });

  it("runs one answering engine per node, each holding the workload image", async () => {
    for (const node of info.nodes) {
      const docker = new Dockerode({ socketPath: node.dockerHost.replace("unix://", "") });
      assert.equal(String(await docker.ping()), "OK");
      const images = await docker.listImages({ filters: { reference: ["herd/workload:latest"] } });
      assert.equal(images.length, 1, `${node.id} has herd/workload:latest`);
      const version = await docker.version();
      assert.match(version.ApiVersion, /^1\.\d+$/);
    }
  });

  it("lets the nodes reach each other and the broker (at the host's broker address) over the bridge", async () => {
    assert.match(await inNetns("herdt-n1", ["busybox", "ping", "-c", "1", "-W", "2", "10.77.9.12"]), /1 packets received/);
    assert.match(await inNetns("herdt-n2", ["busybox", "ping", "-c", "1", "-W", "2", "10.77.9.11"]), /1 packets received/);
    const probe =
      "require('net').connect(5672,'10.77.0.1').on('connect',()=>{console.log('open');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(1)})";
    assert.equal((await inNetns("herdt-n1", [process.execPath, "-e", probe])).trim(), "open");
    // The node's eth0 is its only way out: its namespace has no other interface but lo.
    const links = await inNetns("herdt-n1", ["ip", "-o", "link", "show"]);
    assert.deepEqual(
      links
        .trim()
        .split("\n")
        .map((l) => l.split(": ")[1]?.split("@")[0]),
      ["lo", "eth0"],
    );
  });

  it("gives each node a broker user that can only publish under its own routing keys", async () => {
    const state = JSON.parse(readFileSync(cluster.stateFile, "utf8")) as { secrets: { nodePasswords: Record<string, string> } };
    const pw = encodeURIComponent(state.secrets.nodePasswords.n1 ?? "");
    const conn = await amqp.connect(`amqp://herdt-node-n1:${pw}@127.0.0.1:5672/herdt`);
    try {
      const ok = await conn.createConfirmChannel();
      ok.publish("herd.telemetry", "node.n1", Buffer.from("{}"));
      await ok.waitForConfirms();
      await ok.close();
      const bad = await conn.createChannel();
      const refused = new Promise<string>((res) => bad.on("error", (err: Error) => res(err.message)));
      bad.publish("herd.telemetry", "node.n2", Buffer.from("{}"));
      assert.match(await refused, /ACCESS_REFUSED/);
      const other = await conn.createChannel();
      const denied = new Promise<string>((res) => other.on("error", (err: Error) => res(err.message)));
      other.consume("herd.commands.n2", () => undefined).catch(() => undefined);
      assert.match(await denied, /ACCESS_REFUSED/);
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it("runs the control service and one agent per node when they are built, and restarts an agent", async (t) => {
    if (!cluster.processesBuilt()) {
      // Not a skip: the network/engine part above is the whole cluster until the services exist.
      assert.equal(info.controlPid, undefined);
      t.diagnostic("control/agent entry points not built: processes not started");
      return;
    }
    assert.ok(info.controlPid !== undefined && isAlive(info.controlPid), "control runs");
    const health = await fetch(`${info.apiUrl}/healthz`);
    assert.equal(health.status, 200);
    for (const node of info.nodes) assert.ok(node.agentPid !== undefined && isAlive(node.agentPid), `agent ${node.id} runs`);
    const old = info.nodes[0]?.agentPid ?? -1;
    await cluster.stopAgent("n1");
    assert.ok(!isAlive(old), "stopped agent is gone");
    assert.equal(cluster.info()?.nodes[0]?.agentPid, undefined);
    const fresh = await cluster.startAgent("n1");
    assert.notEqual(fresh, old);
    assert.ok(isAlive(fresh));
  });

  it("is idempotent: a second up keeps every running piece", async () => {
    const before = cluster.info();
    const dockerPids = () => info.nodes.map((n) => readFileSync(`${T.runDir}/${n.id}/docker.pid`, "utf8").trim());
    const enginesBefore = dockerPids();
    const t0 = Date.now();
    const again = await cluster.up({ nodes: 2 });
    timings.upAgain = Date.now() - t0;
    assert.equal(again.controlPid, before?.controlPid);
    assert.deepEqual(
      again.nodes.map((n) => n.agentPid),
      before?.nodes.map((n) => n.agentPid),
    );
    assert.equal(again.apiToken, info.apiToken);
    assert.deepEqual(dockerPids(), enginesBefore);
    await assert.rejects(cluster.up({ nodes: 3 }), /run 'herd down' first/);
  });

  it("starts demo workloads whose memory can be verified", async () => {
    const demo = await cluster.demo();
    assert.deepEqual(
      demo.map((d) => `${d.nodeId}/${d.name}`),
      ["n1/demo-counter", "n1/demo-cpuburn", "n2/demo-memhold"],
    );
    const n2 = new Dockerode({ socketPath: `${T.runDir}/n2/docker.sock` });
    const exec = await n2.getContainer("demo-memhold").exec({ Cmd: ["memhold", "verify"], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const out = await new Promise<string>((res) => {
      let s = "";
      stream.on("data", (d: Buffer) => (s += d.toString("latin1")));
      stream.on("end", () => res(s));
    });
    assert.match(out, /pattern ok [0-9a-f]{16}/);
  });

  it("down leaves nothing behind: processes, mounts, netns, links, broker users, Redis keys, files", async () => {
    const redis = new Redis(hostRedisUrl(T.redisUrl));
    try {
      await redis.set("herd:test:local-cluster", "1");
      const t0 = Date.now();
      await cluster.down();
      timings.down = Date.now() - t0;
      assert.deepEqual(await cluster.leftovers(), []);
      assert.equal(await redis.exists("herd:test:local-cluster"), 0);
    } finally {
      // An open client would keep the test process alive after a failure.
      redis.disconnect();
    }
    const { stdout: netns } = await execFileAsync("ip", ["netns", "list"]);
    assert.doesNotMatch(netns, /^herdt-n\d+/m);
    assert.equal((await execFileAsync("ip", ["link", "show", "herdt0"]).catch(() => ({ stdout: "gone" }))).stdout, "gone");
    assert.ok(!existsSync(T.runDir));
    assert.ok(!existsSync(`${T.stateDir}/nodes`));
    assert.ok(existsSync(`${T.stateDir}/images/workload.tar`), "the image cache is kept");
    assert.deepEqual(
      (await rabbitUsers()).filter((u) => u.startsWith("herdt-")),
      [],
    );
    const { stdout: ps } = await execFileAsync("ps", ["-eo", "args"]);
    assert.doesNotMatch(ps, /\/run\/herdt\/|\/var\/lib\/herd-test\/nodes\//);
    assert.equal(cluster.info(), undefined);
  });
});
