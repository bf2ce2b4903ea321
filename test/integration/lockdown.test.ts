// Issue 8 items 5-7 on a real two-node local cluster (`herd up`): what listens where, Redis
// without a password, file modes, the API's answers to client mistakes, cluster-wide unique names
// under a race, a forged command result from another node, malformed JSON counted, the agent's
// ownership of its rsync daemon across a SIGKILL, and a container with an open TCP connection
// refused before anything is frozen.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import amqp from "amqplib";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { planCluster } from "../../services/cli/src/local-cluster/cluster-plan.js";
import { connectedTcp } from "../../services/compute-agent/src/runtime/open-connections.js";
import { listensOn } from "../../services/compute-agent/src/runtime/process-ownership.js";
import { DEFAULT_REDIS_PASSWORD_FILE, REDIS_USER } from "../../shared/src/redis-credentials.js";
import { EXCHANGES, QUEUES, ROUTING } from "../../shared/src/topology.js";
import { copiesOf, engineOf, execFileAsync, herd, herdJson, newCluster, secretsOf, waitFor } from "./support/cluster-harness.js";

const log: string[] = [];
const cluster = newCluster(log);
const plan = planCluster({ nodes: 2, stateDir: "/var/lib/herd" });
let info: ClusterInfo;

interface ContainerView {
  id: string;
  name: string;
  nodeId: string;
  state: string;
}

function api(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const token = init.token === undefined ? info.apiToken : init.token;
  return fetch(new URL(`/api/v1${path}`, info.apiUrl), {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" },
  });
}

async function rejectedCount(queue: string, reason: string): Promise<number> {
  const res = await fetch(new URL("/metrics", info.apiUrl), { headers: { authorization: `Bearer ${info.apiToken}` } });
  assert.equal(res.status, 200);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(`herd_messages_rejected_total{queue="${queue}",reason="${reason}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

async function publishAsNode(nodeId: string, exchange: string, key: string, body: Buffer): Promise<void> {
  const pw = secretsOf(cluster).nodePasswords[nodeId] ?? "";
  const conn = await amqp.connect(`amqp://herd-node-${nodeId}:${encodeURIComponent(pw)}@127.0.0.1:5672/herd`);
  conn.on("error", () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
    await new Promise<void>((res, rej) => ch.publish(exchange, key, body, { persistent: true }, (err) => (err ? rej(err) : res())));
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Listening sockets in the host namespace (or a node's): local address:port and the owning pid. */
async function listeners(netns?: string): Promise<Array<{ addr: string; pid?: number; comm?: string }>> {
  const cmd = netns ? ["nsenter", `--net=/run/netns/${netns}`, "ss", "-Hltnp"] : ["ss", "-Hltnp"];
  const { stdout } = await execFileAsync(cmd[0]!, cmd.slice(1));
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(l);
      return { addr: f[3] ?? "", pid: m ? Number(m[2]) : undefined, comm: m?.[1] };
    });
}

const isWildcard = (addr: string) => /^(0\.0\.0\.0|\*|\[::\]):\d+$/.test(addr);

/** Started by Herd: the broker, epmd and Redis bootstrap runs, or anything carrying a cluster's mark. */
function herdStarted(pid: number | undefined, comm: string | undefined): boolean {
  if (comm && ["beam.smp", "epmd", "redis-server"].includes(comm)) return true;
  if (pid === undefined) return false;
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .some((e) => e.startsWith("HERD_CLUSTER_MARK="));
  } catch {
    return false;
  }
}

function procState(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}
const gone = (pid: number) => {
  const s = procState(pid);
  return s === undefined || s === "Z";
};
const parentOf = (pid: number) => Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

describe("lockdown on a real two-node local cluster", { timeout: 900_000 }, () => {
  before(async () => {
    assert.equal(cluster.info(), undefined, "a local cluster is already up: run `herd down` before the integration tests");
    const r = await herd("up", "--nodes", "2");
    assert.equal(r.code, 0, `herd up failed: ${r.stderr}`);
    info = cluster.info()!;
    await waitFor("both nodes up", async () => (await herdJson<Array<{ status: string }>>("nodes")).filter((n) => n.status === "up").length === 2, 30_000);
  });

  after(async () => {
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
    console.log(log.join("\n"));
  });

  it("no Herd-started listener on a wildcard address; the broker on loopback and 10.77.0.1 only", async () => {
    const host = await listeners();
    const wild = host.filter((l) => isWildcard(l.addr) && herdStarted(l.pid, l.comm));
    assert.deepEqual(wild, [], `wildcard listeners started by Herd: ${JSON.stringify(wild)}`);
    const on = (port: number) =>
      host
        .filter((l) => l.addr.endsWith(`:${port}`))
        .map((l) => l.addr)
        .sort();
    assert.deepEqual(on(5672), ["10.77.0.1:5672", "127.0.0.1:5672"]);
    for (const port of [15672, 25672, 4369, 6379, 7070]) {
      assert.ok(on(port).length > 0, `nothing listens on ${port}`);
      for (const addr of on(port)) assert.match(addr, /^(127\.0\.0\.1|\[::1\]):/, `${addr} is not loopback`);
    }
    // Inside a node: the rsync daemon on the node's own address, nothing on a wildcard.
    const n1 = await listeners("herd-n1");
    assert.deepEqual(
      n1.filter((l) => isWildcard(l.addr)),
      [],
    );
    assert.ok(n1.some((l) => l.addr === "10.77.0.11:8730" && l.comm === "rsync"));
  });

  it("Redis refuses a client without the password; Herd's ACL user gets in", async () => {
    const noauth = await execFileAsync("redis-cli", ["-h", "127.0.0.1", "-p", "6379", "ping"]);
    assert.match(noauth.stdout + noauth.stderr, /NOAUTH/);
    assert.doesNotMatch(noauth.stdout, /PONG/);
    const asDefault = await execFileAsync("redis-cli", ["--no-auth-warning", "-h", "127.0.0.1", "-p", "6379", "--user", "default", "--pass", "x", "ping"]);
    assert.doesNotMatch(asDefault.stdout, /PONG/);
    const herdUser = await execFileAsync("redis-cli", ["--no-auth-warning", "--user", REDIS_USER, "-h", "127.0.0.1", "-p", "6379", "ping"], {
      env: { ...process.env, REDISCLI_AUTH: readFileSync(DEFAULT_REDIS_PASSWORD_FILE, "utf8").trim() },
    });
    assert.equal(herdUser.stdout.trim(), "PONG");
  });

  it("the API checks the token before the body: 401 without it, 413 oversized, 400 malformed JSON or URI, never 500", async () => {
    const big = "x".repeat(10 * 1024 * 1024);
    const cases: Array<[string, string, RequestInit & { token?: string | null }, number, RegExp]> = [
      ["10 MB body, no token", "/containers", { method: "POST", body: big, token: null }, 401, /missing token/],
      ["10 MB body, wrong token", "/containers", { method: "POST", body: big, token: "not-the-token-at-all" }, 401, /invalid token/],
      ["10 MB body", "/containers", { method: "POST", body: big }, 413, /larger than the limit of 1mb/],
      ["malformed JSON", "/containers", { method: "POST", body: '{"node": "n1", "name": ' }, 400, /not valid JSON/],
      ["undecodable URI", "/containers/%ZZ", {}, 400, /not a valid URI/],
      ["undecodable URI, metrics", "/containers/%E0%A4%A/metrics", {}, 400, /not a valid URI/],
    ];
    for (const [what, path, init, status, body] of cases) {
      const res = await api(path, init);
      const text = await res.text();
      assert.equal(res.status, status, `${what}: ${text}`);
      assert.match(text, body, what);
    }
    assert.equal((await api("/health")).status, 200);
  });

  it("two concurrent runs of one name on different nodes: exactly one wins, the other gets 409 naming the winner's node", async () => {
    const body = (node: string) => JSON.stringify({ node, name: "lk-race", image: "herd/workload:latest", cmd: ["sleep", "3600"] });
    const [a, b] = await Promise.all([api("/containers", { method: "POST", body: body("n1") }), api("/containers", { method: "POST", body: body("n2") })]);
    const answers = [
      { node: "n1", status: a.status, text: await a.text() },
      { node: "n2", status: b.status, text: await b.text() },
    ];
    assert.deepEqual(answers.map((x) => x.status).sort(), [201, 409], JSON.stringify(answers));
    const winner = answers.find((x) => x.status === 201)!.node;
    assert.match(answers.find((x) => x.status === 409)!.text, new RegExp(`in use on node ${winner}`));
    assert.deepEqual(
      (await copiesOf(info, "lk-race")).map((c) => c.node),
      [winner],
    );
    // Later, through the CLI, on either node: refused with the holder's node.
    await waitFor("lk-race in ps", async () => (await herdJson<ContainerView[]>("ps")).some((c) => c.name === "lk-race"), 15_000);
    for (const node of ["n1", "n2"]) {
      const r = await herd("run", "--node", node, "--name", "lk-race", "herd/workload:latest", "sleep", "1");
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`in use on node ${winner}`));
    }
    // Removed: the name is free again, anywhere.
    await engineOf(info, winner).getContainer("lk-race").remove({ force: true });
    const loser = winner === "n1" ? "n2" : "n1";
    await waitFor(
      "lk-race runnable on the other node",
      async () => (await api("/containers", { method: "POST", body: body(loser) })).status === 201,
      30_000,
      1_000,
    );
    assert.deepEqual(
      (await copiesOf(info, "lk-race")).map((c) => c.node),
      [loser],
    );
    // The journal the agent kept for these commands holds container specs: root only.
    assert.equal(statSync(join(plan.nodes.find((n) => n.id === loser)!.agentStateDir, "processed-commands.jsonl")).mode & 0o777, 0o600);
  });

  it("state files are root-only: cluster.json, Redis' secrets, and its data dir closed to others", () => {
    assert.equal(statSync(cluster.stateFile).mode & 0o777, 0o600);
    const redisDir = "/var/lib/herd/redis";
    // The AOF and dump live in a dir only root can enter (files a restarted Redis writes later
    // get its umask, but nobody else can reach them).
    assert.equal(statSync(redisDir).mode & 0o777, 0o700);
    assert.ok(
      readdirSync(redisDir).some((f) => f.startsWith("appendonly")),
      "no AOF found",
    );
    for (const f of ["herd.password", "users.acl", "redis.conf"]) assert.equal(statSync(join(redisDir, f)).mode & 0o777, 0o600, f);
    assert.equal(statSync("/var/lib/herd").mode & 0o077, 0);
  });

  it("a command result from another node than the command's is refused and counted; the real one is delivered", async () => {
    const before = await rejectedCount("events", "foreign-result");
    // With n1's agent away its command waits in its queue, where the test can read its id.
    await cluster.stopAgent("n1");
    const pending = api("/containers", {
      method: "POST",
      body: JSON.stringify({ node: "n1", name: "lk-origin", image: "herd/workload:latest", cmd: ["sleep", "3600"] }),
    });
    const admin = `Basic ${Buffer.from(`${info.amqp.adminUser}:${info.amqp.adminPassword}`).toString("base64")}`;
    const commandId = await waitFor(
      "the run command queued for n1",
      async () => {
        const res = await fetch(`${info.amqp.managementUrl}/api/queues/herd/${encodeURIComponent("herd.commands.n1")}/get`, {
          method: "POST",
          headers: { authorization: admin, "content-type": "application/json" },
          body: JSON.stringify({ count: 10, ackmode: "ack_requeue_true", encoding: "auto" }),
        });
        const msgs = (await res.json()) as Array<{ payload: string }>;
        const cmd = msgs
          .map((m) => JSON.parse(m.payload) as { id: string; type: string; payload: { name?: string } })
          .find((c) => c.payload.name === "lk-origin");
        return cmd?.id;
      },
      20_000,
    );
    // n2 answers n1's command: a forged success with a made-up container id.
    const forged = {
      v: 1,
      kind: "command.result",
      nodeId: "n2",
      commandId,
      commandType: "container.run",
      ok: true,
      result: { id: "f".repeat(64), created: true },
      finishedAt: Date.now(),
    };
    await publishAsNode("n2", EXCHANGES.events, ROUTING.result("n2"), Buffer.from(JSON.stringify(forged)));
    await waitFor("the forged result counted", async () => (await rejectedCount("events", "foreign-result")) === before + 1, 15_000);
    // The request is still waiting for n1; n1 comes back and answers it for real.
    const raced = await Promise.race([pending.then(() => "answered"), new Promise((r) => setTimeout(() => r("waiting"), 500))]);
    assert.equal(raced, "waiting");
    await cluster.startAgent("n1");
    const res = await pending;
    const created = (await res.json()) as { id: string };
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.notEqual(created.id, forged.result.id);
    assert.deepEqual(await copiesOf(info, "lk-origin"), [{ node: "n1", id: created.id, running: true }]);
  });

  it("malformed JSON from a node is dead-lettered and counted", async () => {
    const before = await rejectedCount("telemetry", "malformed-json");
    await publishAsNode("n1", EXCHANGES.telemetry, ROUTING.telemetry("n1"), Buffer.from("{not json"));
    await waitFor("malformed JSON counted", async () => (await rejectedCount("telemetry", "malformed-json")) === before + 1, 15_000);
    assert.ok(QUEUES.dead.length > 0);
  });

  it("the agent owns its rsync daemon: it dies with a SIGKILLed agent, and a stale one is replaced at start", async () => {
    const node = plan.nodes.find((n) => n.id === "n2")!;
    const configDir = join(node.agentStateDir, "rsyncd");
    const pidFile = join(configDir, "rsyncd.pid");
    const agentPid = cluster.info()!.nodes.find((n) => n.id === "n2")!.agentPid!;
    const daemon = Number(readFileSync(pidFile, "utf8").trim());
    assert.equal(parentOf(daemon), agentPid, "the daemon is the agent's child");
    assert.ok(await listensOn(daemon, 8730), "the pid file's process holds the listening socket");

    process.kill(agentPid, "SIGKILL");
    await waitFor("the daemon gone with its agent", async () => gone(daemon), 10_000, 100);

    // A daemon left behind by an older agent (one without the death signal), on the same port.
    const stale = spawn(
      "nsenter",
      [
        `--net=/run/netns/${node.netns}`,
        "rsync",
        "--daemon",
        "--no-detach",
        `--config=${join(configDir, "rsyncd.conf")}`,
        `--address=${node.address}`,
        "--port=8730",
      ],
      {
        detached: true,
        stdio: "ignore",
        env: { ...process.env, HERD_CLUSTER_MARK: cluster.mark },
      },
    );
    stale.unref();
    const stalePid = stale.pid!;
    await waitFor("the stale daemon listening", async () => listensOn(stalePid, 8730), 10_000, 100);

    const newAgent = await cluster.startAgent("n2");
    const fresh = await waitFor(
      "a new daemon of the new agent",
      async () => {
        const pid = Number(existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim() : NaN);
        return Number.isInteger(pid) && pid !== stalePid && !gone(pid) && parentOf(pid) === newAgent && (await listensOn(pid, 8730)) ? pid : undefined;
      },
      20_000,
    );
    assert.ok(gone(stalePid), "the stale daemon was killed");
    assert.notEqual(fresh, daemon);
    await waitFor(
      "n2 up again",
      async () => (await herdJson<Array<{ id: string; status: string }>>("nodes")).find((n) => n.id === "n2")?.status === "up",
      20_000,
    );
  });

  it("a container with an open TCP connection is refused before anything is frozen, and leaves nothing behind", async () => {
    // Off the cluster network (whose containers keep their address and connections across a move).
    const r = await herd(
      "run",
      "--node",
      "n1",
      "--name",
      "lk-tcp",
      "--network",
      "none",
      "herd/workload:latest",
      "--",
      "sh",
      "-c",
      "netecho 7000 & sleep 1; exec netecho client 127.0.0.1 7000 1000",
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor("lk-tcp in ps", async () => (await herdJson<ContainerView[]>("ps")).some((c) => c.name === "lk-tcp"), 15_000);
    const [copy] = await copiesOf(info, "lk-tcp");
    assert.ok(copy);
    // The client connects a second after the start: migrate only once the connection is there.
    const pid = (await engineOf(info, "n1").getContainer("lk-tcp").inspect()).State.Pid;
    await waitFor("lk-tcp's connection established", async () => (await connectedTcp(pid)).some((c) => c.state === "ESTABLISHED"), 15_000);
    const m = await herd("migrate", "lk-tcp", "--to", "n2");
    assert.notEqual(m.code, 0);
    assert.match(m.stderr + m.stdout, /127\.0\.0\.1:7000/);
    assert.match(m.stderr + m.stdout, /TCP/);
    assert.deepEqual(await copiesOf(info, "lk-tcp"), [{ node: "n1", id: copy.id, running: true }]);
    const checkpoints = join(plan.nodes[0]!.dataRoot, "containers", copy.id, "checkpoints");
    assert.deepEqual(existsSync(checkpoints) ? readdirSync(checkpoints) : [], []);
    const { stdout: work } = await execFileAsync("find", [
      plan.nodes[0]!.dataRoot,
      plan.nodes[1]!.dataRoot,
      "-name",
      "*.work",
      "-o",
      "-path",
      `*herd-staging*${copy.id}*`,
    ]);
    assert.equal(work.trim(), "");
  });
});
