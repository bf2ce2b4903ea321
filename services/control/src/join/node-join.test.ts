import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConflictError } from "../../../../shared/src/errors.js";
import { NodeJoin, nodeAmqpUrl } from "./node-join.js";

describe("nodeAmqpUrl", () => {
  for (const [name, brokerAddress, expected] of [
    ["host only: port 5672", "10.0.0.1", "amqp://herd-node-n2:p%40ss@10.0.0.1:5672/herd"],
    ["host:port kept", "broker.example:5673", "amqp://herd-node-n2:p%40ss@broker.example:5673/herd"],
  ] as const) {
    it(name, () => assert.equal(nodeAmqpUrl({ brokerAddress, vhost: "herd" }, "n2", "p@ss"), expected));
  }
});

describe("NodeJoin", () => {
  it("without broker access refuses with 409 naming what to set, and grants nothing", async () => {
    const join = new NodeJoin(undefined, undefined, ["HERD_JOIN_MANAGEMENT_URL", "HERD_TRANSFER_SECRET"]);
    await assert.rejects(join.join("n2"), (err: unknown) => err instanceof ConflictError && /HERD_JOIN_MANAGEMENT_URL, HERD_TRANSFER_SECRET/.test(err.message));
  });

  it("grants the node's user the password it hands out, a fresh one each time", async () => {
    const granted: [string, string][] = [];
    let n = 0;
    const join = new NodeJoin(
      { grant: async (id, pw) => void granted.push([id, pw]) },
      { brokerAddress: "10.0.0.1", vhost: "herd", transferSecret: "t".repeat(32) },
      [],
      () => `pw${++n}`,
    );
    const a = await join.join("n2");
    const b = await join.join("n2");
    assert.deepEqual(granted, [
      ["n2", "pw1"],
      ["n2", "pw2"],
    ]);
    assert.equal(a.amqpUrl, "amqp://herd-node-n2:pw1@10.0.0.1:5672/herd");
    assert.equal(b.amqpUrl, "amqp://herd-node-n2:pw2@10.0.0.1:5672/herd");
    assert.equal(a.brokerUser, "herd-node-n2");
    assert.equal(a.transferSecret, "t".repeat(32));
  });
});
