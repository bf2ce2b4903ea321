import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { brokerSpec, escapeRegex, nodePermissions } from "./broker-permissions.js";

describe("nodePermissions", () => {
  const { permission, topicPermissions } = nodePermissions("n1");
  const configure = new RegExp(permission.configure);
  const write = new RegExp(permission.write);
  const read = new RegExp(permission.read);

  const cases: Array<[string, RegExp, string, boolean]> = [
    ["consumes its own command queue", read, "herd.commands.n1", true],
    ["cannot consume another node's queue", read, "herd.commands.n2", false],
    ["cannot consume n10's queue by prefix", read, "herd.commands.n10", false],
    ["cannot read telemetry", read, "herd.telemetry", false],
    ["may declare its own queue", configure, "herd.commands.n1", true],
    ["may not declare exchanges", configure, "herd.events", false],
    ["publishes telemetry", write, "herd.telemetry", true],
    ["publishes events", write, "herd.events", true],
    ["cannot publish commands", write, "herd.commands", false],
  ];
  for (const [name, re, resource, allowed] of cases) {
    it(name, () => assert.equal(re.test(resource), allowed));
  }

  it("topic permissions allow only its own routing keys", () => {
    assert.deepEqual(topicPermissions.map((t) => t.exchange).sort(), ["herd.events", "herd.telemetry"]);
    for (const tp of topicPermissions) {
      const w = new RegExp(tp.write);
      assert.ok(w.test("node.n1"));
      assert.ok(w.test("node.n1.heartbeat"));
      assert.ok(!w.test("node.n2"));
      assert.ok(!w.test("node.n10.heartbeat"));
      assert.ok(!w.test("node.n1x"));
      assert.equal(tp.read, "^$");
    }
  });
});

describe("brokerSpec", () => {
  it("has an admin, the control user and one user per node, sorted", () => {
    const spec = brokerSpec({
      vhost: "herd",
      users: { admin: "herd-admin", control: "herd-control", nodePrefix: "herd-node-" },
      adminPassword: "a",
      controlPassword: "c",
      nodePasswords: { n2: "2", n1: "1" },
    });
    assert.deepEqual(
      spec.users.map((u) => u.name),
      ["herd-admin", "herd-control", "herd-node-n1", "herd-node-n2"],
    );
    assert.deepEqual(spec.users[0]?.tags, ["administrator"]);
    const control = spec.users[1];
    assert.ok(control && new RegExp(control.permission.configure).test("herd.telemetry.ingest"));
    assert.ok(control && !new RegExp(control.permission.configure).test("amq.gen-123"));
  });

  it("escapes regex metacharacters in ids", () => {
    assert.equal(escapeRegex("a.b*c"), "a\\.b\\*c");
  });
});
