import { test } from "node:test";
import assert from "node:assert/strict";
import { agentSettings, controlSettings, loadSettings } from "./config.js";
import { ValidationError } from "./errors.js";

test("config errors name the variable and never echo a token", async (t) => {
  const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ["missing node id", {}, /HERD_NODE_ID: .*not set/],
    ["bad node id", { HERD_NODE_ID: "Node 1" }, /HERD_NODE_ID: must be lowercase/],
    ["interval out of range", { HERD_NODE_ID: "n1", HERD_TELEMETRY_INTERVAL_MS: "5" }, /HERD_TELEMETRY_INTERVAL_MS: .*(>=|at least|too small).*got "5"/i],
    ["not a number", { HERD_NODE_ID: "n1", HERD_HEARTBEAT_INTERVAL_MS: "soon" }, /HERD_HEARTBEAT_INTERVAL_MS/],
    ["bad amqp url", { HERD_NODE_ID: "n1", HERD_AMQP_URL: "http://x" }, /HERD_AMQP_URL: must be an amqp/],
  ];
  for (const [name, env, pattern] of cases) {
    await t.test(name, () =>
      assert.throws(
        () => loadSettings(agentSettings, env),
        (e: unknown) => e instanceof ValidationError && pattern.test(e.message),
      ),
    );
  }
  await t.test("short token", () =>
    assert.throws(
      () => loadSettings(controlSettings, { HERD_API_TOKEN: "tiny-secret" }),
      (e: unknown) => e instanceof Error && /HERD_API_TOKEN/.test(e.message) && !e.message.includes("tiny-secret"),
    ),
  );
});

test("defaults apply", () => {
  const s = loadSettings(agentSettings, { HERD_NODE_ID: "n1" });
  assert.equal(s.HERD_TELEMETRY_INTERVAL_MS, 1000);
  assert.equal(s.HERD_CGROUP_ROOT, "/sys/fs/cgroup");
});
