import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type Dockerode from "dockerode";
import { createLogger } from "../../../../shared/src/logger.js";
import type { ContainerRuntime } from "./container-runtime.js";
import { DestinationMigrationSteps } from "./destination-migration-steps.js";
import { DockerCheckpointer } from "./docker-checkpointer.js";
import type { ImageCache } from "./image-cache.js";

const log = createLogger({ level: "error", format: "text" });
const id = "a".repeat(64);
const migrationId = "mig1";

/** A destination whose engine reports the container running or not, with the daemon's log (if any) where restoreLazy leaves it. */
async function destination(o: { running: boolean; lazyLog?: string }) {
  const root = await mkdtemp(join(tmpdir(), "herd-dst-"));
  dirs.push(root);
  if (o.lazyLog !== undefined) {
    const work = join(root, "containers", id, "checkpoints", `herd-${migrationId}.lazy`);
    await mkdir(work, { recursive: true });
    await writeFile(join(work, "lazy.log"), o.lazyLog);
  }
  const runtime = {
    inspect: async () => ({ id, state: { running: o.running, status: o.running ? "running" : "exited", pid: 1 } }),
  } as unknown as ContainerRuntime;
  const checkpointer = new DockerCheckpointer({} as Dockerode, log, { dataRoot: root });
  return new DestinationMigrationSteps({ runtime, checkpointer, images: {} as ImageCache, stagingDir: join(root, "staging"), log });
}
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const complete = "uffd: 1-11: Found 131081 pages to be handled by UFFD\nuffd: 1-11: UFFD transferred pages: (131081/131081)\n";
const partial = "uffd: 1-11: Found 131081 pages to be handled by UFFD\npr1-1 Read 7f2dde71e000 32 pages\n";

describe("post-copy after the destination agent restarted", () => {
  it("keeps a running copy whose daemon logged every page", async () => {
    assert.deepEqual(await (await destination({ running: true, lazyLog: complete })).pagesCompleteAfterRestart(id, migrationId), { pages: 131081 });
  });
  it("does not keep a copy whose transfer broke off", async () => {
    assert.equal(await (await destination({ running: true, lazyLog: partial })).pagesCompleteAfterRestart(id, migrationId), undefined);
  });
  it("does not keep a copy that no longer runs", async () => {
    assert.equal(await (await destination({ running: false, lazyLog: complete })).pagesCompleteAfterRestart(id, migrationId), undefined);
  });
  it("does not keep a copy without the daemon's log", async () => {
    assert.equal(await (await destination({ running: true })).pagesCompleteAfterRestart(id, migrationId), undefined);
  });
});
