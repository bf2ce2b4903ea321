import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { migrationLayout } from "./migration-layout.js";

describe("migrationLayout", () => {
  it("places each piece under the migration's own dir", () => {
    assert.equal(migrationLayout.upper("m-1"), "m-1/upper");
    assert.equal(migrationLayout.volume("m-1", "appdata"), "m-1/volumes/appdata");
    assert.equal(migrationLayout.checkpoint("m-1"), "m-1/checkpoint");
    assert.equal(migrationLayout.image(`sha256:${"a".repeat(64)}`), `images/${"a".repeat(64)}`);
  });

  const bad = [
    ["path traversal in the id", () => migrationLayout.upper("../etc")],
    ["slash in the id", () => migrationLayout.upper("a/b")],
    ["the shared images dir as id", () => migrationLayout.root("images")],
    ["traversal in a volume name", () => migrationLayout.volume("m", "../x")],
    ["an image id that is not a digest", () => migrationLayout.image("busybox:latest")],
  ] as const;
  for (const [name, fn] of bad) it(`rejects ${name}`, () => assert.throws(fn, { name: "ValidationError" }));
});
