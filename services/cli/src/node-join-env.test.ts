import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../shared/src/errors.js";
import { computeEnvFile, type JoinAnswer } from "./node-join-env.js";

const answer: JoinAnswer = { nodeId: "n2", amqpUrl: "amqp://herd-node-n2:abc123@10.0.0.1:5672/herd", brokerUser: "herd-node-n2", transferSecret: "s".repeat(32) };

describe("computeEnvFile", () => {
  it("writes the node's own credentials and derives the transfer network from the address", () => {
    const text = computeEnvFile(answer, { address: "10.0.0.12" });
    const env = Object.fromEntries(
      text
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    assert.deepEqual(env, {
      HERD_NODE_ID: "n2",
      HERD_NODE_ADDRESS: "10.0.0.12",
      HERD_AGENT_AMQP_URL: answer.amqpUrl,
      HERD_TRANSFER_SECRET: answer.transferSecret,
      HERD_TRANSFER_ALLOW: "10.0.0.0/24",
    });
  });

  it("adds the engine paths when given", () => {
    const text = computeEnvFile(answer, { address: "10.0.0.12", transferAllow: "10.0.0.0/16", dockerSocket: "/run/x/docker.sock", dockerDataRoot: "/d", dockerExecRoot: "/e" });
    for (const line of ["HERD_TRANSFER_ALLOW=10.0.0.0/16", "HERD_DOCKER_SOCKET=/run/x/docker.sock", "HERD_DOCKER_DATA_ROOT=/d", "HERD_DOCKER_EXEC_ROOT=/e"]) {
      assert.ok(text.split("\n").includes(line), line);
    }
  });

  for (const [name, host, field] of [
    ["not an address", { address: "node-2" }, "address"],
    ["octet over 255", { address: "10.0.0.256" }, "address"],
    ["a space in a path", { address: "10.0.0.2", dockerDataRoot: "/var/lib/my docker" }, "HERD_DOCKER_DATA_ROOT"],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => computeEnvFile(answer, host),
        (err: unknown) => err instanceof ValidationError && err.field === field,
      );
    });
  }
});
