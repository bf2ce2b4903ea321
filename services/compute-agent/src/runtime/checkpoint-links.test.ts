import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { linkCheckpointImages, linkedImagesDir, removeUnpackedCopies, rootRelativeTarget } from "./checkpoint-links.js";

describe("checkpoint links", () => {
  const roots: string[] = [];
  after(async () => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));
  async function checkpointDir(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), "ck-links-"));
    roots.push(root);
    const dir = join(root, "containers", "abc", "checkpoints", "ck-m1");
    await mkdir(dir, { recursive: true });
    for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
    return dir;
  }

  it("keeps the real files beside the container's checkpoints, not among them", () => {
    assert.equal(linkedImagesDir("/d/containers/abc/checkpoints/ck-m1"), "/d/containers/abc/herd-images/ck-m1");
  });

  it("climbs to / first, so the link resolves from any directory", () => {
    const t = rootRelativeTarget("/var/lib/docker/x/pages-1.img");
    assert.match(t, /^(\.\.\/){32}var\/lib\/docker\/x\/pages-1\.img$/);
    assert.throws(() => rootRelativeTarget("relative/path"));
  });

  it("replaces every file by a link that reads the same bytes, and moves the file out", async () => {
    const dir = await checkpointDir({ "inventory.img": "inv", "pages-1.img": "p".repeat(4096) });
    assert.equal(await linkCheckpointImages(dir), 2);
    for (const name of ["inventory.img", "pages-1.img"]) {
      assert.ok((await lstat(join(dir, name))).isSymbolicLink(), `${name} is a link`);
      assert.ok((await lstat(join(linkedImagesDir(dir), name))).isFile(), `${name} moved`);
    }
    assert.equal(await readFile(join(dir, "pages-1.img"), "utf8"), "p".repeat(4096));
    // A copy of the dir elsewhere (what containerd unpacks) still reaches the files.
    const elsewhere = join(dir, "..", "..", "..", "..", "unpacked", "deeper");
    await mkdir(elsewhere, { recursive: true });
    await rename(join(dir, "inventory.img"), join(elsewhere, "inventory.img"));
    assert.equal(await readFile(join(elsewhere, "inventory.img"), "utf8"), "inv");
  });

  it("is idempotent and completes after a crash between moving and linking", async () => {
    const dir = await checkpointDir({ "inventory.img": "inv", "core-1.img": "core" });
    await linkCheckpointImages(dir);
    assert.equal(await linkCheckpointImages(dir), 2);
    // A crash after the move but before the link: the file is in the store with no link.
    await rm(join(dir, "core-1.img"));
    assert.equal(await linkCheckpointImages(dir), 2);
    assert.deepEqual((await readdir(dir)).sort(), ["core-1.img", "inventory.img"]);
    assert.equal(await readFile(join(dir, "core-1.img"), "utf8"), "core");
  });

  it("removes containerd's unpacked copies of this checkpoint, and only those", async () => {
    const dir = await checkpointDir({ "inventory.img": "inv", "pages-1.img": "p" });
    const other = await checkpointDir({ "inventory.img": "other" });
    await linkCheckpointImages(dir);
    await linkCheckpointImages(other);
    const tmp = await mkdtemp(join(tmpdir(), "ck-tmp-"));
    roots.push(tmp);
    // What containerd leaves: the links, as tarred, unpacked into tmp.
    const unpack = async (name: string, from: string) => {
      await mkdir(join(tmp, name));
      for (const f of await readdir(from)) await symlink(await readlink(join(from, f)), join(tmp, name, f));
    };
    await unpack("ctrd-checkpoint111", dir);
    await unpack("ctrd-checkpoint222", other);
    await mkdir(join(tmp, "ctrd-checkpoint333")); // not a linked copy (e.g. Docker's copying restore)
    await mkdir(join(tmp, "unrelated"));
    assert.equal(await removeUnpackedCopies(tmp, dir), 1);
    assert.deepEqual((await readdir(tmp)).sort(), ["ctrd-checkpoint222", "ctrd-checkpoint333", "unrelated"]);
    assert.equal(await removeUnpackedCopies(join(tmp, "missing"), dir), 0);
  });
});
