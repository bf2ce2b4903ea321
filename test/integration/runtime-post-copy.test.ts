/**
 * Post-copy (CRIU lazy pages) with the runtime building blocks, two real Docker engines, real
 * runc/CRIU and rsync: the source dumps everything but memory and serves the pages; the
 * destination's container is started by Docker (`docker start --checkpoint`, told to use lazy
 * pages through infra/herd-runc.sh) and pulls its memory while it runs. And the failure that
 * post-copy brings: the source's page server dies before the destination has every page.
 * Needs what infra/bootstrap.sh sets up (fs.pipe-max-size ≥ 3.35 MB, the runc wrapper); the
 * test checks that first and fails with the agent's own reason if it is missing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkPostCopy } from "../../services/compute-agent/src/runtime/criu-features.js";
import { containerLogs, counts, ensureCriu, ENGINE_PATH, importTestImage, startTwoNodes, TEST_IMAGE, waitFor, type Cluster } from "./runtime-harness.js";

const port = () => 28_000 + Math.floor(Math.random() * 2_000);

describe("runtime: post-copy migration (lazy pages) between two Docker engines", { timeout: 300_000 }, () => {
  let cluster: Cluster;

  before(async () => {
    assert.match(await ensureCriu(), /criu ok/);
    const support = await checkPostCopy({ env: { ...process.env, PATH: ENGINE_PATH } });
    assert.ok(support.available, `post-copy is not possible on this machine: ${support.detail}`);
    cluster = await startTwoNodes("pc");
    await importTestImage(cluster.a);
  });

  after(async () => {
    await cluster?.stop();
  });

  async function startCounter(name: string, mb: number): Promise<string> {
    const c = await cluster.a.docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ["/usr/local/bin/herd-counter", String(mb), "50"],
      HostConfig: { NetworkMode: "none" },
    });
    await c.start();
    await waitFor("the counter to reach 5", async () => ((counts(await containerLogs(cluster.a.docker, c.id)).at(-1) ?? 0) >= 5 ? true : undefined), 60_000);
    return c.id;
  }

  async function verifyOk(docker: Cluster["a"]["docker"], id: string): Promise<boolean> {
    await docker.getContainer(id).kill({ signal: "SIGUSR1" });
    const line = await waitFor("the memory check", async () => /verify=(ok|bad)[^\n]*/.exec(await containerLogs(docker, id))?.[0], 30_000);
    return line.startsWith("verify=ok");
  }

  it("moves a 64 MB container: it runs on B before its memory is there, every page arrives, the source is released", async () => {
    const { a, b } = cluster;
    await startCounter("pc-move", 64);
    const spec = await a.runcSource.describe("pc-move");
    await a.source.shipImage(spec, b.endpoint);
    const target = await b.destination.prepare(spec);
    await a.runcSource.preCopy(spec, "pc-1", b.endpoint);
    const pageServer = { address: "127.0.0.1", port: port() };
    const frozen = await a.runcSource.freezeLazy(spec, "pc-1", b.endpoint, { pageServer, timeoutMs: 120_000 });
    assert.ok(frozen.checkpointBytes < 4 * 2 ** 20, `the images hold no memory (${frozen.checkpointBytes} B for 64 MB)`);
    const lastOnA = counts(await containerLogs(a.docker, spec.id)).at(-1) ?? -1;
    await b.destination.install(spec, target, "pc-1");
    const restored = await b.destination.restoreLazy(target, "pc-1", { pageServer, timeoutMs: 120_000 });
    const pulled = await restored.pulled;
    assert.deepEqual(pulled.ok, true, pulled.detail);
    const progress = await restored.progress();
    assert.ok(progress.totalPages >= 16_384, `CRIU handled the 64 MB lazily (${progress.totalPages} pages)`);
    assert.equal(progress.transferredPages, progress.totalPages);
    const served = await frozen.served;
    assert.equal(served.ok, true, served.detail);
    assert.equal((await a.runtime.inspect(spec.id)).state.running, false, "the source is stopped once every page is served");
    const onB = await waitFor("counts on B", async () => {
      const c = counts(await containerLogs(b.docker, target.id));
      return c.length >= 3 ? c : undefined;
    });
    assert.ok(onB[0]! > lastOnA - 3 && onB[0]! <= lastOnA + 2, `B continues from A's count (A ${lastOnA}, B from ${onB[0]})`);
    assert.equal(await verifyOk(b.docker, target.id), true, "every byte of the 64 MB arrived");
  });

  it("a source that dies before the destination has its pages: the destination copy is killed, the source runs on intact", async () => {
    const { a, b } = cluster;
    await startCounter("pc-die", 64);
    const spec = await a.runcSource.describe("pc-die");
    const target = await b.destination.prepare(spec);
    const pageServer = { address: "127.0.0.1", port: port() };
    const frozen = await a.runcSource.freezeLazy(spec, "pc-2", b.endpoint, { pageServer, timeoutMs: 120_000 });
    await b.destination.install(spec, target, "pc-2");
    // The source's page server (runc + CRIU, one process group) dies before any page is pulled.
    frozen.abort();
    const served = await frozen.served;
    assert.equal(served.ok, false);
    let outcome: string;
    try {
      const restored = await b.destination.restoreLazy(target, "pc-2", { pageServer, timeoutMs: 60_000 });
      const pulled = await restored.pulled;
      assert.equal(pulled.ok, false, "the transfer cannot have completed");
      outcome = pulled.detail;
    } catch (err) {
      outcome = `restore refused: ${(err as Error).message}`;
    }
    assert.equal((await b.runtime.inspect(target.id)).state.running, false, `no half-restored copy runs on B (${outcome})`);
    // The source's tasks kept their memory while frozen; with its page server gone they run on.
    assert.equal((await a.runtime.inspect(spec.id)).state.running, true, served.detail);
    const before = counts(await containerLogs(a.docker, spec.id)).at(-1) ?? 0;
    await waitFor("A to count on", async () => ((counts(await containerLogs(a.docker, spec.id)).at(-1) ?? 0) > before + 2 ? true : undefined));
    assert.equal(await verifyOk(a.docker, spec.id), true, "the source's memory is intact");
  });
});
