import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../../shared/src/errors.js";
import { agentEnv, controlEnv, dockerdArgs, planCluster } from "./cluster-plan.js";

const secrets = {
  apiToken: "0123456789abcdef0123456789abcdef",
  adminPassword: "adm",
  controlPassword: "c/p@ss",
  nodePasswords: { n1: "p1", n2: "p2" },
  transferSecret: "transfer-secret-0123456789",
};

describe("planCluster", () => {
  it("numbers nodes n1…nN with addresses 10.77.0.11… and per-node paths", () => {
    const plan = planCluster({ nodes: 2, stateDir: "/var/lib/herd" });
    assert.deepEqual(
      plan.nodes.map((n) => [n.id, n.address, n.netns, n.hostVeth, n.dockerHost, n.dataRoot]),
      [
        ["n1", "10.77.0.11", "herd-n1", "herd-n1-h", "unix:///run/herd/n1/docker.sock", "/var/lib/herd/nodes/n1/docker"],
        ["n2", "10.77.0.12", "herd-n2", "herd-n2-h", "unix:///run/herd/n2/docker.sock", "/var/lib/herd/nodes/n2/docker"],
      ],
    );
    assert.equal(plan.stateFile, "/var/lib/herd/cluster.json");
    assert.equal(plan.bridgeAddress, "10.77.0.1");
  });

  it("keeps host veth names within the kernel's 15-character limit", () => {
    const plan = planCluster({ nodes: 200, stateDir: "/s" });
    for (const n of plan.nodes) assert.ok(n.hostVeth.length <= 15, n.hostVeth);
    assert.equal(plan.nodes.at(-1)?.address, "10.77.0.210");
  });

  for (const nodes of [0, -1, 1.5, 201]) {
    it(`rejects nodes=${nodes}`, () => {
      assert.throws(() => planCluster({ nodes, stateDir: "/s" }), ValidationError);
    });
  }

  it("rejects a run dir too long for unix socket paths", () => {
    assert.throws(() => planCluster({ nodes: 1, stateDir: "/s", runDir: `/run/${"x".repeat(80)}` }), /unix socket/);
  });

  it("only its own namespaces match the pattern `down` deletes", () => {
    const { netnsPattern } = planCluster({ nodes: 1, stateDir: "/s" });
    assert.ok(netnsPattern.test("herd-n12"));
    for (const other of ["herd-tel-x", "herd-n1-h", "xherd-n1", "herd-", "herdt-n1"]) assert.ok(!netnsPattern.test(other), other);
  });

  it("a second cluster gets its own names, subnet, vhost, users and Redis", () => {
    const plan = planCluster({
      nodes: 1,
      stateDir: "/tmp/t",
      runDir: "/run/herdt",
      name: "herdt",
      subnet: "10.77.9",
      apiPort: 7079,
      redisUrl: "redis://127.0.0.1:6379/9",
    });
    const n1 = plan.nodes[0];
    assert.ok(n1);
    assert.deepEqual(
      [plan.bridge, plan.bridgeAddress, plan.vhost, n1.netns, n1.hostVeth, n1.address],
      ["herdt0", "10.77.9.1", "herdt", "herdt-n1", "herdt-n1-h", "10.77.9.11"],
    );
    assert.deepEqual(plan.brokerUsers, { admin: "herdt-admin", control: "herdt-control", nodePrefix: "herdt-node-" });
    const secrets2 = { ...secrets, nodePasswords: { n1: "p" } };
    // Every local cluster's nodes reach the one broker at the host's broker address, not their own bridge's.
    assert.equal(agentEnv(plan, n1, secrets2).HERD_AMQP_URL, "amqp://herdt-node-n1:p@10.77.0.1:5672/herdt");
    assert.equal(agentEnv(plan, n1, secrets2).HERD_TRANSFER_ALLOW, "10.77.9.0/24");
    assert.equal(controlEnv(plan, secrets).HERD_REDIS_URL, "redis://127.0.0.1:6379/9");
    assert.ok(!plan.netnsPattern.test("herd-n1"));
  });

  for (const [field, opts] of [
    ["name", { name: "Herd_x" }],
    ["name", { name: "toolongname" }],
    ["subnet", { subnet: "192.168.1" }],
    ["subnet", { subnet: "10.300.1" }],
  ] as const) {
    it(`rejects ${field} ${JSON.stringify(opts)}`, () => {
      assert.throws(
        () => planCluster({ nodes: 1, stateDir: "/s", ...opts }),
        (e: unknown) => e instanceof ValidationError && e.field === field,
      );
    });
  }
});

describe("process environments", () => {
  const plan = planCluster({ nodes: 2, stateDir: "/var/lib/herd" });
  it("agent reaches the broker over the bridge as its own user", () => {
    const n2 = plan.nodes[1];
    assert.ok(n2);
    assert.deepEqual(agentEnv(plan, n2, secrets), {
      HERD_NODE_ID: "n2",
      HERD_AMQP_URL: "amqp://herd-node-n2:p2@10.77.0.1:5672/herd",
      HERD_DOCKER_HOST: "unix:///run/herd/n2/docker.sock",
      HERD_DOCKER_DATA_ROOT: "/var/lib/herd/nodes/n2/docker",
      HERD_DOCKER_EXEC_ROOT: "/run/herd/n2/docker",
      HERD_NODE_ADDRESS: "10.77.0.12",
      HERD_STATE_DIR: "/var/lib/herd/nodes/n2/agent",
      HERD_TRANSFER_SECRET: secrets.transferSecret,
      HERD_TRANSFER_ALLOW: "10.77.0.0/24",
    });
  });

  it("control reaches Redis as Herd's ACL user when bootstrap set one up", () => {
    assert.equal(controlEnv(plan, secrets).HERD_REDIS_URL, "redis://127.0.0.1:6379");
    assert.equal(controlEnv(plan, { ...secrets, redisPassword: "r/p@ss" }).HERD_REDIS_URL, "redis://herd:r%2Fp%40ss@127.0.0.1:6379");
  });

  it("control URL-encodes its password", () => {
    assert.equal(controlEnv(plan, secrets).HERD_AMQP_URL, "amqp://herd-control:c%2Fp%40ss@127.0.0.1:5672/herd");
    assert.equal(controlEnv(plan, secrets).HERD_API_TOKEN, secrets.apiToken);
  });

  it("an agent without a password is refused", () => {
    const n1 = plan.nodes[0];
    assert.ok(n1);
    assert.throws(() => agentEnv(plan, n1, { ...secrets, nodePasswords: {} }), ValidationError);
  });

  it("dockerd gets its own roots, socket and config file, and no networking of its own", () => {
    const n1 = plan.nodes[0];
    assert.ok(n1);
    const args = dockerdArgs(n1).join(" ");
    for (const expected of [
      "--config-file /var/lib/herd/nodes/n1/daemon.json",
      "--data-root /var/lib/herd/nodes/n1/docker",
      "--exec-root /run/herd/n1/docker",
      "--host unix:///run/herd/n1/docker.sock",
      "--pidfile /run/herd/n1/docker.pid",
      "--bridge none",
      "--iptables=false",
      "--experimental",
    ]) {
      assert.ok(args.includes(expected), expected);
    }
  });
});
