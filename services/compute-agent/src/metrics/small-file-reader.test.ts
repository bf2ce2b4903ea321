import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SmallFileReader, type KeptFile } from "./small-file-reader.js";

const dir = mkdtempSync(join(tmpdir(), "herd-reader-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("SmallFileReader", () => {
  const sizes: Array<[string, number]> = [
    ["tiny", 10],
    ["just above the short-read shortcut", 2100],
    ["larger than the initial buffer", 40_000],
  ];
  for (const [name, size] of sizes) {
    it(`reads a whole file: ${name}`, () => {
      const path = join(dir, `f-${size}`);
      const content = "x".repeat(size - 1) + "\n";
      writeFileSync(path, content);
      const reader = new SmallFileReader(1024);
      assert.equal(reader.read(path), content);
      const kept: KeptFile = { path, fd: -1 };
      assert.equal(reader.read(kept), content);
      assert.equal(reader.read(kept), content, "second read of a kept file starts again at offset 0");
      reader.close(kept);
    });
  }

  it("re-reads a kept file's new content and counts open descriptors", () => {
    const path = join(dir, "counter");
    writeFileSync(path, "1\n");
    const reader = new SmallFileReader();
    const kept: KeptFile = { path, fd: -1 };
    assert.equal(reader.read(kept), "1\n");
    assert.equal(reader.openFiles, 1);
    writeFileSync(path, "22\n");
    assert.equal(reader.read(kept), "22\n");
    reader.close(kept);
    reader.close(kept);
    assert.equal(reader.openFiles, 0);
    assert.equal(kept.fd, -1);
  });

  it("returns null for a missing file and opens no more than maxOpenFiles", () => {
    const reader = new SmallFileReader(1024, 1);
    assert.equal(reader.read({ path: join(dir, "missing"), fd: -1 }), null);
    writeFileSync(join(dir, "a"), "a");
    writeFileSync(join(dir, "b"), "b");
    const a: KeptFile = { path: join(dir, "a"), fd: -1 };
    const b: KeptFile = { path: join(dir, "b"), fd: -1 };
    assert.equal(reader.read(a), "a");
    assert.equal(reader.read(b), "b");
    assert.equal(reader.openFiles, 1);
    assert.equal(b.fd, -1, "over the cap the file is read without being kept");
    reader.close(a);
  });
});
