/**
 * The faster dump path: `runc checkpoint` on a Docker container, restored by Docker on another
 * engine (and, for a rollback, on the same one).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { containerLogs, counts, ensureCriu, importTestImage, startTwoNodes, TEST_IMAGE, waitFor, type Cluster, type LocalNode } from "./runtime-harness.js";

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
});
