/**
 * `herd migrate --mode post-copy` on a real two-node local cluster (herd up): control's saga over
 * the broker, the agents' handlers, Docker's own restore told to use CRIU lazy pages by
 * infra/herd-runc.sh. Every container here is on the cluster network (10.77.0.0/24 on herd0), so
 * these are networked moves: the address goes with the container.
 *
 * 1. A 128 MB memhold moves in post-copy: every byte arrives (memhold verify), the record says
 *    when the source was released, the address is kept.
 * 2. A listening server moves in post-copy and answers new connections at its address.
 * 3. The source's page server dies mid-transfer (n1's cluster link is throttled so that the
 *    transfer takes seconds; the page server's process group is killed once pages are flowing):
 *    the destination copy is killed (its memory is incomplete), the migration rolls back, and the
 *    source, whose frozen tasks kept their memory, runs on with every byte intact.
 * Traffic goes only to the cluster's own addresses on herd0; tc changes only n1's namespace.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiGet, copiesOf, dockerExec, engineOf, execFileAsync, herd, herdJson, logsOf, waitFor } from "./support/cluster-harness.js";
import { echoOnce, psRow, twoNodeCluster } from "./support/networked.js";

interface MigrationView {
  id: string;
  state: string;
  step: string;
  mode?: string;
  frozenMs?: number;
  sourceReleasedAt?: number;
  frozenAt?: number;
  live?: { step: string; bytes?: number; totalBytes?: number; message?: string };
  steps: Array<{ name: string; ok?: boolean; error?: string }>;
  whereabouts?: string;
}

async function runMemhold(node: string, name: string, mb: number, seed: number): Promise<string> {
  const r = await herd("run", "--node", node, "--name", name, "herd/workload:latest", "memhold", String(mb), String(seed));
  assert.equal(r.code, 0, r.stderr);
  await waitFor(`${name} running in herd ps`, async () => (await psRow(name))?.state === "running", 30_000);
  const info = cluster.info;
  return waitFor(`${name} ready`, async () => /checksum=([0-9a-f]{16})/.exec(await logsOf(engineOf(info, node), name))?.[1], 60_000);
}

let cluster: { readonly info: import("../../services/cli/src/local-cluster/local-cluster.js").ClusterInfo };

describe("post-copy migration on a two-node local cluster", { timeout: 900_000 }, () => {
  cluster = twoNodeCluster();

  it("reports post-copy support in both nodes' heartbeats", async () => {
    // The listing is a cached snapshot of the heartbeats: wait for one that has both.
    const nodes = await waitFor(
      "both nodes' post-copy reports",
      async () => {
        const n = await herdJson<Array<{ id: string; postCopy?: { available: boolean; detail: string } }>>("nodes");
        return n.length === 2 && n.every((x) => x.postCopy !== undefined) ? n : undefined;
      },
      30_000,
    );
    for (const n of nodes) assert.equal(n.postCopy?.available, true, `${n.id}: ${JSON.stringify(n.postCopy)}`);
  });

  it("moves 128 MB of memory in post-copy: byte for byte, source released, address kept", async () => {
    const checksum = await runMemhold("n1", "pc-mem", 128, 11);
    const address = (await psRow("pc-mem"))?.address;
    const r = await herd("migrate", "pc-mem", "--to", "n2", "--mode", "post-copy");
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /moved pc-mem from n1 to n2/);
    assert.match(r.stdout, /post-copy · frozen/);
    assert.match(r.stdout, /source released .* after the freeze \(every page on n2\)/);
    assert.match(r.stderr, /✓ pages/);
    assert.match(r.stderr, /note: post-copy: the container runs on the destination before its memory has arrived/);
    const copies = await copiesOf(cluster.info, "pc-mem");
    assert.deepEqual(
      copies.map((c) => [c.node, c.running]),
      [["n2", true]],
    );
    const verify = await dockerExec(engineOf(cluster.info, "n2"), "pc-mem", ["memhold", "verify"]);
    assert.equal(verify.code, 0, verify.output);
    assert.match(verify.output, new RegExp(`ok ${checksum}`));
    const list = await herdJson<MigrationView[]>("migrations");
    const m = list.find((x) => x.mode === "post-copy" && x.state === "committed");
    assert.ok(m?.sourceReleasedAt && m.frozenAt && m.sourceReleasedAt >= m.frozenAt, JSON.stringify(m));
    const row = await waitFor("pc-mem reported on n2", async () => {
      const x = await psRow("pc-mem");
      return x?.nodeId === "n2" ? x : undefined;
    });
    assert.equal(row.address, address);
  });

  it("moves a listening server in post-copy; new connections work at its address", async () => {
    const run = await herdJson<{ address?: string }>("run", "--node", "n1", "--name", "pc-listener", "herd/workload:latest", "netecho", "7001");
    const address = run.address ?? "";
    await waitFor("listener up", () => echoOnce(address, 7001, "before").then(() => true), 30_000);
    await waitFor("listener running in herd ps", async () => (await psRow("pc-listener"))?.state === "running", 30_000);
    const r = await herd("migrate", "pc-listener", "--to", "n2", "--mode", "post-copy");
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    await echoOnce(address, 7001, "after a post-copy move");
  });

  it("a page server that dies mid-transfer: the destination copy is killed, the migration rolls back, the source runs on intact", async () => {
    const info = cluster.info;
    const checksum = await runMemhold("n1", "pc-die", 256, 23);
    const n1 = info.nodes.find((n) => n.id === "n1")!;
    // n1's interface on the cluster network, in its namespace: throttled so the transfer takes seconds.
    const { stdout: addrs } = await execFileAsync("ip", ["-n", n1.netns, "-o", "-4", "addr", "show"]);
    const dev = /^\d+:\s+(\S+)\s+inet 10\.77\.0\./m.exec(addrs)?.[1]?.split("@")[0];
    assert.ok(dev, addrs);
    await execFileAsync("ip", [
      "netns",
      "exec",
      n1.netns,
      "tc",
      "qdisc",
      "add",
      "dev",
      dev,
      "root",
      "tbf",
      "rate",
      "80mbit",
      "burst",
      "64kb",
      "latency",
      "400ms",
    ]);
    try {
      const id = (JSON.parse((await herd("migrate", "pc-die", "--to", "n2", "--mode", "post-copy", "--detach", "-o", "json")).stdout) as MigrationView).id;
      const sourceId = (await engineOf(info, "n1").getContainer("pc-die").inspect()).Id;
      // Pages are flowing: the destination reports some but not all of them.
      await waitFor(
        "pages flowing",
        async () => {
          const m = await apiGet<MigrationView>(info, `/migrations/${id}`);
          if (["committed", "rolled-back", "failed"].includes(m.state)) throw new Error(`settled before the kill: ${JSON.stringify(m.steps)}`);
          return m.live?.step === "pages" && (m.live.bytes ?? 0) > 0 && (m.live.bytes ?? 0) < (m.live.totalBytes ?? 0);
        },
        120_000,
        100,
      );
      // The page server: runc checkpoint --lazy-pages for this container, with its CRIU, one process group.
      const { stdout: ps } = await execFileAsync("ps", ["-eo", "pid=,pgid=,args="]);
      const line = ps.split("\n").find((l) => l.includes("checkpoint --lazy-pages") && l.includes(sourceId));
      assert.ok(line, "the page server runs while pages flow");
      const pgid = Number(line.trim().split(/\s+/)[1]);
      process.kill(-pgid, "SIGKILL");
      const m = await waitFor(
        "settled",
        async () => {
          const x = await apiGet<MigrationView>(info, `/migrations/${id}`);
          return ["committed", "rolled-back", "failed"].includes(x.state) ? x : undefined;
        },
        180_000,
      );
      assert.equal(m.state, "rolled-back", JSON.stringify(m));
      const pages = m.steps.find((s) => s.name === "pages");
      assert.equal(pages?.ok, false);
      assert.match(pages?.error ?? "", /page transfer broke off after \d+ of \d+ pages.*destination copy was killed/);
      const copies = await copiesOf(info, "pc-die");
      assert.deepEqual(
        copies.filter((c) => c.running).map((c) => c.node),
        ["n1"],
        JSON.stringify(copies),
      );
      const verify = await dockerExec(engineOf(info, "n1"), "pc-die", ["memhold", "verify"]);
      assert.equal(verify.code, 0, verify.output);
      assert.match(verify.output, new RegExp(`ok ${checksum}`));
    } finally {
      await execFileAsync("ip", ["netns", "exec", n1.netns, "tc", "qdisc", "del", "dev", dev, "root"]).catch(() => undefined);
    }
  });
});
