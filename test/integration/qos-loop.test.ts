// The node QoS loop end to end on a real two-node cluster: labels opt containers in, the agent
// shapes the service's veth inside the node's namespace (tc HTB), throttles the storage neighbour
// and quota-limits fair-shared containers (cgroup v1 files), publishes every actuation, `herd qos`
// shows it all, limits go when a container leaves, and an impossible latency target makes the
// guard saturate and ask control for a migration that `herd migrations` shows with its reason.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { QosActuation, QosStatus } from "../../shared/src/contracts/qos-events.js";
import { parseProcCgroup } from "../../services/compute-agent/src/metrics/cgroup-parsers.js";
import { QOS_MIGRATION_REASON } from "../../services/compute-agent/src/qos/pid-guard-controller.js";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { engineOf, execFileAsync, herd, herdJson, newCluster, waitFor } from "./support/cluster-harness.js";

const log: string[] = [];
const cluster = newCluster(log);
let info: ClusterInfo;

function cgroupFile(pid: number, controller: string, file: string): string {
  const m = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
  return readFileSync(join("/sys/fs/cgroup", controller, m.v1.get(controller) ?? "", file), "utf8").trim();
}
async function tcClasses(iface: string): Promise<string> {
  const { stdout } = await execFileAsync("ip", ["netns", "exec", "herd-n1", "tc", "class", "show", "dev", iface]).catch(() => ({ stdout: "" }));
  return stdout;
}
const rowsOf = async () => (await herdJson<QosStatus[]>("qos")).flatMap((n) => n.containers.map((c) => ({ ...c, nodeId: n.nodeId })));

describe("node QoS loop on a real cluster", { timeout: 600_000 }, () => {
  before(async () => {
    assert.equal(cluster.info(), undefined, "a local cluster is already up: run `herd down` before the integration tests");
    const r = await herd("up", "--nodes", "2");
    assert.equal(r.code, 0, `herd up failed: ${r.stderr}`);
    info = cluster.info()!;
    await engineOf(info, "n1").createNetwork({
      Name: "qos-it",
      Driver: "bridge",
      IPAM: { Config: [{ Subnet: "10.78.2.0/24" }] },
      Options: { "com.docker.network.bridge.name": "hqit0" },
    });
  });
  after(async () => {
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
  });

  it("labels → tc on the service's veth, blkio on the neighbour, quota on fair containers; removed when they leave", async () => {
    const n1 = engineOf(info, "n1");
    const start = async (name: string, cmd: string[], labels: Record<string, string>, network = "none") => {
      const c = await n1.createContainer({ name, Image: "herd/workload:latest", Cmd: cmd, Labels: labels, HostConfig: { NetworkMode: network } });
      await c.start();
      return (await c.inspect()).State.Pid;
    };
    // A reachable target with a generous base: the guard has no reason to move much.
    await start("it-svc", ["netecho", "7000"], { "herd.qos.class": "network", "herd.qos.target-latency-ms": "500", "herd.qos.rate-mbit": "40" }, "qos-it");
    const diskPid = await start("it-disk", ["diskwrite", "/data", "1024", "16"], { "herd.qos.class": "storage", "herd.qos.write-mbps": "10" });
    const fairPids = [
      await start("it-fair1", ["cpuburn", "1", "0.5"], { "herd.share": "fair" }),
      await start("it-fair2", ["cpuburn", "1", "0.5"], { "herd.share": "fair" }),
    ];
    await start("it-bad", ["sleep", "3600"], { "herd.qos.class": "gold" });

    const rows = await waitFor(
      "herd qos rows for every opted-in container",
      async () => {
        const r = await rowsOf();
        const svc = r.find((x) => x.name === "it-svc");
        return svc?.measuredMs !== undefined &&
          svc.limits.iface &&
          r.some((x) => x.name === "it-disk" && x.limits.writeBps) &&
          r.filter((x) => x.name.startsWith("it-fair") && x.limits.cpuMillicores).length === 2 &&
          // it-bad started last: wait until a round has seen it too.
          r.some((x) => x.name === "it-bad")
          ? r
          : undefined;
      },
      60_000,
    );
    const svc = rows.find((x) => x.name === "it-svc");
    assert.ok(svc && svc.targetMs === 500 && svc.controller === "pid-guard" && svc.qosClass === "network");
    const iface = svc.limits.iface ?? "";
    assert.match(iface, /^veth/);
    const shaped = await tcClasses(iface);
    assert.match(shaped, /class htb 1:10 root .*rate \d+(\.\d+)?[KM]bit/, shaped);
    assert.match(rows.find((x) => x.name === "it-bad")?.error ?? "", /herd\.qos\.class: must be "network" or "storage", got "gold"/);

    const device = rows.find((x) => x.name === "it-disk")?.limits.device ?? "";
    await waitFor("the writer's blkio rule", async () => cgroupFile(diskPid, "blkio", "blkio.throttle.write_bps_device").startsWith(`${device} `));
    for (const pid of fairPids) {
      await waitFor("a CFS quota on each fair-shared container", async () => Number(cgroupFile(pid, "cpu", "cpu.cfs_quota_us")) > 0);
    }
    const table = await herd("qos");
    assert.equal(table.code, 0);
    assert.match(table.stdout, /it-svc .*pid-guard\/network .*500 ms/);
    assert.match(table.stdout, /it-fair1 .*fair-share\/fair .*cpu \d\.\d\d cores/);

    const acts = await herdJson<QosActuation[]>("qos", "--actuations");
    assert.ok(acts.some((a) => a.containerName === "it-svc" && a.actuator === "tc" && a.action === "set" && a.limits.iface === iface));
    assert.ok(
      acts.some((a) => a.containerName === "it-disk" && a.actuator === "cgroup" && a.writes?.some((w) => w.file.endsWith("blkio.throttle.write_bps_device"))),
    );

    // A fair-shared container leaves: the other's quota is recomputed, the leaver's limits removed (event).
    await n1.getContainer("it-fair2").remove({ force: true });
    await waitFor(
      "a cleanup event for it-fair2",
      async () =>
        (await herdJson<QosActuation[]>("qos", "--actuations")).some(
          (a) => a.containerName === "it-fair2" && a.action === "clear" && a.reason === "container left the node",
        ),
      20_000,
    );
    // The service leaves: its qdisc goes (with its veth), its row disappears.
    await n1.getContainer("it-svc").remove({ force: true });
    await waitFor("it-svc gone from herd qos", async () => !(await rowsOf()).some((x) => x.name === "it-svc"), 20_000);
    assert.equal(await tcClasses(iface), "");
    // No guarded service any more: the neighbour's throttle is removed (restored to no rule).
    await waitFor("the writer's blkio rule removed", async () => cgroupFile(diskPid, "blkio", "blkio.throttle.write_bps_device") === "", 20_000);
    for (const name of ["it-disk", "it-fair1", "it-bad"]) await n1.getContainer(name).remove({ force: true });
  });

  it("an impossible target saturates the guard: after 3 periods control migrates the storage neighbour, with the reason", async () => {
    const n1 = engineOf(info, "n1");
    // Whatever the first case left (if it failed half-way) must not compete with this one.
    for (const name of ["it-svc", "it-disk", "it-fair1", "it-fair2", "it-bad"])
      await n1
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    const since = Date.now();
    for (const [name, cmd, labels, network] of [
      ["sat-svc", ["netecho", "7000"], { "herd.qos.class": "network", "herd.qos.target-latency-ms": "0.1", "herd.qos.rate-mbit": "1" }, "qos-it"],
      ["sat-disk", ["diskwrite", "/data", "512", "8"], { "herd.qos.class": "storage", "herd.qos.write-mbps": "4" }, "none"],
    ] as const) {
      const c = await n1.createContainer({ name, Image: "herd/workload:latest", Cmd: [...cmd], Labels: { ...labels }, HostConfig: { NetworkMode: network } });
      await c.start();
    }
    interface MigrationView {
      containerName: string;
      source: string;
      destination: string;
      state: string;
      reason?: string;
      createdAt: number;
    }
    const m = await waitFor(
      "a QoS migration of sat-disk",
      async () => (await herdJson<MigrationView[]>("migrations")).find((x) => x.containerName === "sat-disk" && x.createdAt >= since),
      60_000,
    );
    assert.equal(m.reason, QOS_MIGRATION_REASON);
    assert.equal(m.source, "n1");
    assert.equal(m.destination, "n2");
    const table = await herd("migrations");
    assert.match(table.stdout, /sat-disk .*QoS: latency target missed for 3 periods/);
    const done = await waitFor(
      "the migration to settle",
      async () => {
        const x = (await herdJson<MigrationView[]>("migrations")).find((y) => y.containerName === "sat-disk" && y.createdAt >= since);
        return x && x.state !== "running" && x.state !== "rolling-back" ? x : undefined;
      },
      120_000,
    );
    assert.equal(done.state, "committed");
  });
});
