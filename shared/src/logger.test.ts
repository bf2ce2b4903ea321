import { test } from "node:test";
import assert from "node:assert/strict";
import { redact } from "./logger.js";

test("redact hides secrets by key and credentials inside URLs", () => {
  const out = redact({
    url: "amqp://herd-node-n1:s3cr3t@10.77.0.1:5672/herd",
    apiToken: "abcdef0123456789",
    nested: { password: "pw", ok: "visible" },
    list: ["redis://:hunter2@127.0.0.1:6379"],
  });
  const text = JSON.stringify(out);
  for (const secret of ["s3cr3t", "abcdef0123456789", '"pw"', "hunter2"]) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  assert.ok(text.includes("visible"));
  assert.ok(text.includes("amqp://herd-node-n1:***@10.77.0.1"));
});
