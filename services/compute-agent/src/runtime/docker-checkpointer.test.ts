import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type Dockerode from "dockerode";
import { createLogger } from "../../../../shared/src/logger.js";
import type { ProcessOutcome, RunProcessOptions } from "../../../../shared/src/process/run-process.js";
import { DockerCheckpointer } from "./docker-checkpointer.js";

const ID = "a".repeat(64);

describe("DockerCheckpointer.restoreLazy", () => {
  const roots: string[] = [];
  after(async () => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

  it("links the images before the lazy-pages daemon starts reading them", async () => {
    const root = await mkdtemp(join(tmpdir(), "docker-ck-"));
    roots.push(root);
    const dir = join(root, "data", "containers", ID, "checkpoints", "cp1");
    await mkdir(dir, { recursive: true });
    for (const f of ["inventory.img", "pstree.img", "pagemap-1.img"]) await writeFile(join(dir, f), f);
    const seen: { daemonSaw?: string[]; startedAfterDaemon?: boolean } = {};
    let endDaemon: (o: ProcessOutcome) => void = () => undefined;
    const outcome = (stdout = ""): ProcessOutcome => ({ code: 0, signal: null, stdout, stderr: "", durationMs: 1 });
    const run = async (file: string, args: readonly string[], o: RunProcessOptions): Promise<ProcessOutcome> => {
      if (file === "runc") return outcome("herd-runc 3 (test)\n");
      assert.equal(args[0], "lazy-pages");
      // What CRIU's daemon would read at once (pstree, then the pagemaps): only links, no gaps.
      const entries = await readdir(dir);
      seen.daemonSaw = await Promise.all(entries.sort().map(async (e) => `${e}:${(await lstat(join(dir, e))).isSymbolicLink() ? "link" : "file"}`));
      return new Promise((resolve, reject) => {
        endDaemon = resolve;
        o.signal?.addEventListener("abort", () => reject(new Error("aborted")));
      });
    };
    const engine = {
      getContainer: () => ({
        start: async () => void (seen.startedAfterDaemon = seen.daemonSaw !== undefined),
        kill: async () => undefined,
      }),
    } as unknown as Dockerode;
    const ck = new DockerCheckpointer(engine, createLogger({ level: "error" }), {
      dataRoot: join(root, "data"),
      lazyRestoreDir: join(root, "markers"),
      engineTmpDir: join(root, "tmp"),
      runLazyPages: run,
    });
    await mkdir(join(root, "tmp"));
    const r = await ck.restoreLazy(ID, "cp1", { pageServer: { address: "127.0.0.1", port: 1 }, timeoutMs: 5_000 });
    assert.deepEqual(seen.daemonSaw, ["inventory.img:link", "pagemap-1.img:link", "pstree.img:link"]);
    assert.equal(seen.startedAfterDaemon, true);
    endDaemon(outcome());
    await r.pulled;
  });
});
