import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostRedisUrl, readRedisPassword, withRedisCredentials } from "./redis-credentials.js";

describe("withRedisCredentials", () => {
  const cases = [
    { name: "adds user and password", url: "redis://127.0.0.1:6379", want: "redis://herd:pw@127.0.0.1:6379" },
    { name: "keeps the db", url: "redis://127.0.0.1:6379/9", want: "redis://herd:pw@127.0.0.1:6379/9" },
    { name: "keeps credentials the operator gave", url: "redis://ops:secret@10.0.0.5:6379", want: "redis://ops:secret@10.0.0.5:6379" },
    { name: "keeps a password-only URL", url: "redis://:secret@h:1", want: "redis://:secret@h:1" },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(withRedisCredentials(c.url, "herd", "pw"), c.want));
  }
  it("escapes what a URL cannot carry", () => {
    const url = withRedisCredentials("redis://h:1", "herd", "a@b/c:d");
    assert.equal(decodeURIComponent(new URL(url).password), "a@b/c:d");
  });
  it("refuses what is not a Redis URL, without echoing credentials", () => {
    assert.throws(() => withRedisCredentials("http://h", "herd", "pw"), { name: "ValidationError" });
    assert.throws(
      () => withRedisCredentials("not a url //u:secret@x", "herd", "pw"),
      (e: Error) => e.name === "ValidationError" && !e.message.includes("secret"),
    );
  });
});

describe("hostRedisUrl / readRedisPassword", () => {
  it("uses the password file when there is one, and the bare URL when not", () => {
    const dir = mkdtempSync(join(tmpdir(), "herd-redis-pw-"));
    try {
      const file = join(dir, "pw");
      assert.equal(readRedisPassword(file), undefined);
      writeFileSync(file, "s3cret\n");
      assert.equal(readRedisPassword(file), "s3cret");
      assert.equal(
        hostRedisUrl("redis://127.0.0.1:6379", () => readRedisPassword(file)),
        "redis://herd:s3cret@127.0.0.1:6379",
      );
      assert.equal(
        hostRedisUrl("redis://127.0.0.1:6379", () => undefined),
        "redis://127.0.0.1:6379",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
