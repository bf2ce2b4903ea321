/**
 * The runtime building blocks against two real Docker engines, real CRIU and real rsync:
 * a container checkpointed on engine A continues on engine B from where it was.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ExternalError, ValidationError } from "../../shared/src/errors.js";
import { checkMigratable } from "../../services/compute-agent/src/runtime/check-migratable.js";
import type { ContainerSpec } from "../../services/compute-agent/src/runtime/container-spec.js";
import { RsyncFileTransfer } from "../../services/compute-agent/src/runtime/rsync-file-transfer.js";
import { containerLogs, counts, ensureCriu, execIn, importTestImage, startTwoNodes, TEST_IMAGE, testLogger, waitFor, type Cluster } from "./runtime-harness.js";

const MB = 64;

/** The spec fields that must survive a migration unchanged. */
function portableConfig(s: ContainerSpec) {
  const { id: _id, upperDir: _upper, state: _state, mounts, ...rest } = s;
  // A volume's host path is the engine's own business; its name and mount point are the config.
  return { ...rest, mounts: mounts.map((m) => (m.kind === "volume" ? { ...m, source: "" } : m)) };
}

describe("runtime: live migration between two Docker engines", { timeout: 300_000 }, () => {
  let cluster: Cluster;

  before(async () => {
    assert.match(await ensureCriu(), /criu ok/);
    cluster = await startTwoNodes("it");
    await importTestImage(cluster.a);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("moves a counting, memory-holding container to engine B with its state, files and config", async () => {
    const { a, b } = cluster;
    const created = await a.docker.createContainer({
      name: "rt-counter",
      Image: TEST_IMAGE,
      Cmd: ["/usr/local/bin/herd-counter", String(MB), "50"],
      Env: ["HERD_TEST=1"],
      Labels: { "herd.io/test": "runtime-migration" },
      HostConfig: { NetworkMode: "none", Memory: 512 * 2 ** 20, CpuShares: 512, PidsLimit: 100, Mounts: [{ Type: "volume", Source: "rtvol", Target: "/vol" }] },
    });
    await created.start();
    await waitFor("the counter to reach 10", async () => ((counts(await containerLogs(a.docker, created.id)).at(-1) ?? 0) >= 10 ? true : undefined));
    await execIn(a, created.id, ["sh", "-c", "echo hello-from-a > /data/marker && echo in-volume > /vol/v.txt"]);

    const spec = await a.source.describe("rt-counter");
    assert.deepEqual(checkMigratable(spec), []);
    const migrationId = "it-1";

    // prepare: image shipped once, then found in place
    assert.equal(await b.destination.hasImage(spec.imageId), false);
    const firstShip = await a.source.shipImage(spec, b.endpoint);
    const secondShip = await a.source.shipImage(spec, b.endpoint);
    assert.ok(firstShip.bytes > 1_000_000, `the first ship sends the archive (${firstShip.bytes} B)`);
    assert.ok(secondShip.bytes < firstShip.bytes / 100, `the second ship sends almost nothing (${secondShip.bytes} B)`);
    const target = await b.destination.prepare(spec);
    assert.equal(await b.destination.hasImage(spec.imageId), true);
    assert.equal(target.state.running, false);

    const pre = await a.source.preCopy(spec, migrationId, b.endpoint);
    assert.ok(pre.files >= 2, "pre-copy sent the writable layer and the volume");
    const frozen = await a.source.freeze(spec, migrationId, b.endpoint);
    assert.ok(frozen.checkpointBytes > MB * 2 ** 20, `checkpoint holds the ${MB} MB (${frozen.checkpointBytes} B)`);
    const lastOnA = counts(await containerLogs(a.docker, spec.id)).at(-1) ?? -1;
    assert.ok(lastOnA >= 10);
    assert.equal((await a.runtime.inspect(spec.id)).state.running, false, "the source is stopped after the checkpoint");

    const installed = await b.destination.install(spec, target, migrationId);
    assert.deepEqual(installed.copied, [], "staging inside the data root: install is renames only");
    assert.deepEqual(installed.renamed, ["upper", "volume:rtvol", "checkpoint"]);
    await b.destination.restore(target, migrationId);

    // The process continues from its counter, it did not start over.
    const onB = await waitFor("counts on B", async () => {
      const c = counts(await containerLogs(b.docker, target.id));
      return c.length >= 3 ? c : undefined;
    });
    const logsB = await containerLogs(b.docker, target.id);
    assert.doesNotMatch(logsB, /^ready/m, "no fresh start on B");
    assert.equal(onB[0], lastOnA + 1, `B continues right after A's last count (${lastOnA})`);

    // Memory content intact.
    await b.docker.getContainer(target.id).kill({ signal: "SIGUSR1" });
    const verdict = await waitFor("memory verification", async () => /^verify=(\w+)/m.exec(await containerLogs(b.docker, target.id))?.[1]);
    assert.equal(verdict, "ok");

    // Files written before the checkpoint are there, and the program keeps writing.
    assert.equal((await execIn(b, target.id, ["cat", "/data/marker"])).trim(), "hello-from-a");
    assert.equal((await execIn(b, target.id, ["cat", "/vol/v.txt"])).trim(), "in-volume");
    assert.ok(Number((await execIn(b, target.id, ["cat", "/state.txt"])).trim()) > lastOnA);

    // Same config.
    const after = await b.runtime.inspect(target.id);
    assert.deepEqual(portableConfig(after), portableConfig(spec));

    // commit
    await a.source.removeSource(spec, migrationId);
    await b.destination.cleanup(migrationId, after);
    await assert.rejects(a.runtime.inspect(spec.id), { name: "NotFoundError" });
    assert.equal((await b.runtime.inspect(target.id)).state.running, true);
  });

  it("rolls back: after a freeze the source resumes from its own checkpoint", async () => {
    const { a, b } = cluster;
    const c = await a.docker.createContainer({
      name: "rt-rollback",
      Image: TEST_IMAGE,
      Cmd: ["/usr/local/bin/herd-counter", "8", "50"],
      HostConfig: { NetworkMode: "none" },
    });
    await c.start();
    await waitFor("the counter to reach 5", async () => ((counts(await containerLogs(a.docker, c.id)).at(-1) ?? 0) >= 5 ? true : undefined));
    const spec = await a.source.describe(c.id);
    await a.source.freeze(spec, "it-rollback", b.endpoint);
    const before = counts(await containerLogs(a.docker, c.id)).at(-1) ?? -1;
    await a.source.resume(spec, "it-rollback");
    await b.destination.cleanup("it-rollback");
    const afterCounts = await waitFor("counting again on A", async () => {
      const all = counts(await containerLogs(a.docker, c.id));
      return (all.at(-1) ?? 0) > before + 2 ? all : undefined;
    });
    // Docker appends the restored process's output to the same log: the sequence has no restart.
    assert.equal(afterCounts[afterCounts.indexOf(before) + 1], before + 1);
    assert.equal(afterCounts.filter((n) => n === 0).length, 1, "counted from zero only once");
  });

  it("refuses a container with a bind mount, and says why", async () => {
    const { a } = cluster;
    await a.docker.createContainer({
      name: "rt-bind",
      Image: TEST_IMAGE,
      HostConfig: { NetworkMode: "none", Binds: ["/etc/hostname:/host-hostname:ro"] },
    });
    const spec = await a.runtime.inspect("rt-bind");
    assert.deepEqual(
      checkMigratable(spec).map((r) => r.code),
      ["bind-mount"],
    );
    await assert.rejects(
      a.source.describe("rt-bind"),
      (err: unknown) => err instanceof ValidationError && /\/etc\/hostname/.test(err.message) && /host path/.test(err.message),
    );
  });

  it("rejects a transfer with the wrong secret", async () => {
    const { a, b } = cluster;
    const wrong = new RsyncFileTransfer({ secret: "not-the-cluster-secret" }, testLogger("rsync-wrong"));
    try {
      await assert.rejects(
        wrong.sync(a.stagingDir, { ...b.endpoint, path: "intruder" }),
        (err: unknown) => err instanceof ExternalError && /auth failed/.test(err.message),
      );
    } finally {
      await wrong.close();
    }
  });
});
