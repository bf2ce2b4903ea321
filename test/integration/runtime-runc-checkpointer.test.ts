/**
 * The faster dump path: `runc checkpoint` on a Docker container, restored by Docker on another
 * engine (and, for a rollback, on the same one).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readFile } from "node:fs/promises";
import { TimeoutError } from "../../shared/src/errors.js";
import { RuncCheckpointer } from "../../services/compute-agent/src/runtime/runc-checkpointer.js";
import {
  containerLogs,
  counts,
  ENGINE_PATH,
  ensureCriu,
  importTestImage,
  startTwoNodes,
  testLogger,
  TEST_IMAGE,
  waitFor,
  type Cluster,
  type LocalNode,
} from "./runtime-harness.js";
import { armCriuHang, installCriuHangHook } from "./support/criu-hang.js";
import { execFileAsync } from "./support/cluster-harness.js";

async function startCounter(node: LocalNode, name: string, mb: number): Promise<string> {
  const c = await node.docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ["/usr/local/bin/herd-counter", String(mb), "50"],
    HostConfig: { NetworkMode: "none" },
  });
  await c.start();
  await waitFor(`${name} counting`, async () => ((counts(await containerLogs(node.docker, c.id)).at(-1) ?? 0) >= 5 ? true : undefined));
  return c.id;
}

describe("runtime: RuncCheckpointer", { timeout: 300_000 }, () => {
  let cluster: Cluster;

  before(async () => {
    assert.match(await ensureCriu(), /criu ok/);
    cluster = await startTwoNodes("runc");
    await importTestImage(cluster.a);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("dumps with runc and Docker restores it on the other engine, state intact", async () => {
    const { a, b } = cluster;
    const id = await startCounter(a, "runc-mig", 48);
    const spec = await a.runcSource.describe(id);
    await a.runcSource.shipImage(spec, b.endpoint);
    const target = await b.destination.prepare(spec);
    await a.runcSource.preCopy(spec, "runc-1", b.endpoint);
    const frozen = await a.runcSource.freeze(spec, "runc-1", b.endpoint);
    assert.ok(frozen.checkpointBytes > 48 * 2 ** 20);
    assert.equal((await a.runtime.inspect(id)).state.running, false, "Docker sees the dumped container as stopped");
    const lastOnA = counts(await containerLogs(a.docker, id)).at(-1) ?? -1;

    await b.destination.install(spec, target, "runc-1");
    await b.destination.restore(target, "runc-1");
    const onB = await waitFor("counts on B", async () => {
      const c = counts(await containerLogs(b.docker, target.id));
      return c.length >= 2 ? c : undefined;
    });
    assert.equal(onB[0], lastOnA + 1, "continues from A's last count");
    await b.docker.getContainer(target.id).kill({ signal: "SIGUSR1" });
    assert.equal(await waitFor("verify", async () => /^verify=(\w+)/m.exec(await containerLogs(b.docker, target.id))?.[1]), "ok");
    await a.runcSource.removeSource(spec, "runc-1");
    await b.destination.cleanup("runc-1", target);
  });

  it("a redelivered checkpoint returns the same images instead of failing", async () => {
    const { a } = cluster;
    const id = await startCounter(a, "runc-again", 4);
    const first = await a.runcCheckpointer.checkpoint(id, "twice");
    const second = await a.runcCheckpointer.checkpoint(id, "twice");
    assert.equal(second.dir, first.dir);
    assert.equal(second.bytes, first.bytes);
    // and the source can still resume from it (rollback)
    const before = counts(await containerLogs(a.docker, id)).at(-1) ?? -1;
    await a.runcCheckpointer.restore(id, "twice");
    await waitFor("counting again", async () => ((counts(await containerLogs(a.docker, id)).at(-1) ?? 0) > before + 1 ? true : undefined));
    await a.runtime.remove(id, { force: true });
  });

  it("a dump that hangs is killed at its deadline; the container runs on, thawed and untraced", async () => {
    const { a } = cluster;
    const id = await startCounter(a, "runc-hang", 32);
    const uninstall = await installCriuHangHook();
    try {
      const checkpointer = new RuncCheckpointer(a.docker, testLogger("runc-hang"), {
        dataRoot: a.dataRoot,
        runcRoot: a.runcRoot,
        path: ENGINE_PATH,
        dumpTimeoutMs: 8_000,
      });
      const started = Date.now();
      await armCriuHang(); // the next dump's action script sleeps at post-dump
      await assert.rejects(checkpointer.checkpoint(id, "criu-hang"), (err: unknown) => {
        assert.ok(err instanceof TimeoutError, String(err));
        assert.match((err as Error).message, /not traced/);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took < 8_000 + 10_000, `gave up after ${took} ms`);
      const info = await a.docker.getContainer(id).inspect();
      assert.equal(info.State.Running, true, "the container still runs");
      const status = await readFile(`/proc/${info.State.Pid}/status`, "utf8");
      assert.match(status, /^TracerPid:\s*0$/m, "nothing traces it");
      assert.doesNotMatch(status, /^State:\s*[tT]/m, "not stopped");
      const before = counts(await containerLogs(a.docker, id)).at(-1) ?? -1;
      await waitFor("counting after the killed dump", async () => ((counts(await containerLogs(a.docker, id)).at(-1) ?? 0) > before + 2 ? true : undefined));
      const { stdout } = await execFileAsync("ps", ["-eo", "args="]);
      const leftovers = stdout.split("\n").filter((l) => /criu-action|\/criu(\s|$)|criu swrk|runc --root .* checkpoint/.test(l));
      assert.deepEqual(leftovers, [], "no CRIU, runc or hang script is left running");
      // And a normal dump works again right after.
      await uninstall();
      const ok = await checkpointer.checkpoint(id, "after-hang");
      assert.ok(ok.bytes > 32 * 2 ** 20);
      await checkpointer.restore(id, "after-hang");
    } finally {
      await uninstall();
      await a.runtime.remove(id, { force: true });
    }
  });
});
