import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { ContainerSample } from "../../../../shared/src/contracts/telemetry.js";
import { CgroupMetricSource, defaultCgroupPath } from "./cgroup-metric-source.js";
import type { RawContainerCounters, SampleTarget } from "./metric-source.js";
import { RateCalculator } from "./rate-calculator.js";

const ID_A = "a".repeat(64);
const ID_B = "b".repeat(64);

const NET_HEADER =
  "Inter-|   Receive                                                |  Transmit\n" +
  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
const netDev = (rx: number, tx: number) =>
  NET_HEADER +
  "    lo:    9999       9    0    0    0     0          0         0     9999       9    0    0    0     0       0          0\n" +
  `  eth0: ${rx}      10    0    0    0     0          0         0 ${tx}       5    0    0    0     0       0          0\n`;

const PROC_STAT = "cpu  1000 0 500 8000 100 0 0 0 0 0\ncpu0 500 0 250 4000 50 0 0 0 0 0\ncpu1 500 0 250 4000 50 0 0 0 0 0\n";
const MEMINFO = "MemTotal:       1000000 kB\nMemFree:         500000 kB\nMemAvailable:    600000 kB\n";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Writes `files` (path relative to root → content) into a fresh temp dir. */
function fakeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "herd-metrics-"));
  roots.push(root);
  writeTree(root, files);
  return root;
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

/** A container in a v1 tree: every controller at `cgPath`. */
function v1Container(
  cgPath: string,
  pid: number,
  c: { cpuNs: number; usage: number; inactive: number; limit: string; blkio: Record<string, string>; pids: number; rx: number; tx: number },
) {
  const files: Record<string, string> = {
    [`proc/${pid}/cgroup`]: `8:pids:${cgPath}\n7:blkio:${cgPath}\n4:memory:${cgPath}\n2:cpuacct:${cgPath}\n1:cpu:${cgPath}\n0::${cgPath}\n`,
    [`proc/${pid}/net/dev`]: netDev(c.rx, c.tx),
    [`cgroup/cpuacct${cgPath}/cpuacct.usage`]: `${c.cpuNs}\n`,
    [`cgroup/memory${cgPath}/memory.usage_in_bytes`]: `${c.usage}\n`,
    [`cgroup/memory${cgPath}/memory.stat`]: `cache 0\nrss ${c.usage}\ninactive_file 1\ntotal_cache 0\ntotal_inactive_file ${c.inactive}\n`,
    [`cgroup/memory${cgPath}/memory.limit_in_bytes`]: `${c.limit}\n`,
    [`cgroup/pids${cgPath}/pids.current`]: `${c.pids}\n`,
  };
  for (const [name, content] of Object.entries(c.blkio)) files[`cgroup/blkio${cgPath}/${name}`] = content;
  return files;
}

/** A container in a pure v2 tree at `cgPath`. */
function v2Container(
  cgPath: string,
  pid: number,
  c: { usageUsec: number; current: number; inactive: number; max: string; io: string; pids: number; rx: number; tx: number },
) {
  return {
    [`proc/${pid}/cgroup`]: `0::${cgPath}\n`,
    [`proc/${pid}/net/dev`]: netDev(c.rx, c.tx),
    [`cgroup${cgPath}/cpu.stat`]: `usage_usec ${c.usageUsec}\nuser_usec 1\nsystem_usec 2\n`,
    [`cgroup${cgPath}/memory.current`]: `${c.current}\n`,
    [`cgroup${cgPath}/memory.stat`]: `anon 1\nfile 2\ninactive_file ${c.inactive}\nactive_file 3\n`,
    [`cgroup${cgPath}/memory.max`]: `${c.max}\n`,
    [`cgroup${cgPath}/io.stat`]: c.io,
    [`cgroup${cgPath}/pids.current`]: `${c.pids}\n`,
  };
}

const node = { "proc/stat": PROC_STAT, "proc/meminfo": MEMINFO };

interface LayoutCase {
  name: string;
  files: Record<string, string>;
  target: SampleTarget;
  want: Omit<RawContainerCounters, "atMs">;
}

const layouts: LayoutCase[] = [
  {
    name: "v1, Docker cgroupfs default /docker/<id>, throttle blkio empty → falls back to the bfq file",
    files: {
      ...v1Container(`/docker/${ID_A}`, 100, {
        cpuNs: 5_000_000_000,
        usage: 10_000_000,
        inactive: 2_000_000,
        limit: "33554432",
        blkio: {
          "blkio.throttle.io_service_bytes_recursive": "Total 0\n",
          "blkio.bfq.io_service_bytes_recursive": "254:0 Read 4096\n254:0 Write 8192\n254:0 Total 12288\nTotal 12288\n",
        },
        pids: 3,
        rx: 1000,
        tx: 2000,
      }),
    },
    target: { id: ID_A, pid: 100 },
    want: {
      id: ID_A,
      pid: 100,
      cpuUsageNs: 5_000_000_000,
      memBytes: 8_000_000,
      memLimitBytes: 33554432,
      blkReadBytes: 4096,
      blkWriteBytes: 8192,
      netRxBytes: 1000,
      netTxBytes: 2000,
      pids: 3,
    },
  },
  {
    name: "v1, custom --cgroup-parent, no memory limit, throttle blkio filled",
    files: {
      ...v1Container(`/herd/tenant-1/${ID_B}`, 200, {
        cpuNs: 42,
        usage: 5000,
        inactive: 0,
        limit: "9223372036854771712",
        blkio: { "blkio.throttle.io_service_bytes_recursive": "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n" },
        pids: 1,
        rx: 0,
        tx: 0,
      }),
    },
    target: { id: ID_B, pid: 200, cgroupParent: "/herd/tenant-1" },
    want: {
      id: ID_B,
      pid: 200,
      cpuUsageNs: 42,
      memBytes: 5000,
      memLimitBytes: null,
      blkReadBytes: 10,
      blkWriteBytes: 20,
      netRxBytes: 0,
      netTxBytes: 0,
      pids: 1,
    },
  },
  {
    name: "v2, systemd driver scope, limited memory, two devices in io.stat",
    files: {
      "cgroup/cgroup.controllers": "cpu io memory pids\n",
      ...v2Container(`/system.slice/docker-${ID_A}.scope`, 300, {
        usageUsec: 1_500_000,
        current: 9_000_000,
        inactive: 1_000_000,
        max: "67108864",
        io: "254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n",
        pids: 7,
        rx: 5,
        tx: 6,
      }),
    },
    target: { id: ID_A, pid: 300, cgroupDriver: "systemd" },
    want: {
      id: ID_A,
      pid: 300,
      cpuUsageNs: 1_500_000_000,
      memBytes: 8_000_000,
      memLimitBytes: 67108864,
      blkReadBytes: 101,
      blkWriteBytes: 202,
      netRxBytes: 5,
      netTxBytes: 6,
      pids: 7,
    },
  },
  {
    name: "v2, cgroupfs /docker/<id>, memory.max = max, empty io.stat",
    files: {
      "cgroup/cgroup.controllers": "cpu io memory pids\n",
      ...v2Container(`/docker/${ID_B}`, 400, { usageUsec: 7, current: 100, inactive: 500, max: "max", io: "", pids: 1, rx: 1, tx: 2 }),
    },
    target: { id: ID_B, pid: 400 },
    want: {
      id: ID_B,
      pid: 400,
      cpuUsageNs: 7000,
      memBytes: 100,
      memLimitBytes: null,
      blkReadBytes: 0,
      blkWriteBytes: 0,
      netRxBytes: 1,
      netTxBytes: 2,
      pids: 1,
    },
  },
];

describe("CgroupMetricSource on fake cgroup trees", () => {
  for (const c of layouts) {
    it(c.name, async () => {
      const root = fakeTree({ ...node, ...c.files });
      const source = new CgroupMetricSource({ cgroupRoot: join(root, "cgroup"), procRoot: join(root, "proc"), clock: () => 1234 });
      const sample = await source.sample([c.target]);
      assert.deepEqual(sample.failures, []);
      assert.deepEqual(sample.containers, [{ ...c.want, atMs: 1234 }]);
      assert.deepEqual(sample.node, {
        atMs: 1234,
        cpuCores: 2,
        cpuBusyTicks: 1500,
        cpuTotalTicks: 9600,
        memTotalBytes: 1_000_000 * 1024,
        memAvailableBytes: 600_000 * 1024,
      });
    });
  }

  it("reports a vanished or stopped container as a failure and still samples the others", () => {
    const root = fakeTree({
      ...node,
      ...layouts[0]!.files,
      [`proc/500/cgroup`]: `4:memory:/docker/${ID_B}\n2:cpuacct:/docker/${ID_B}\n`,
      [`proc/500/net/dev`]: netDev(0, 0),
    });
    const source = new CgroupMetricSource({ cgroupRoot: join(root, "cgroup"), procRoot: join(root, "proc") });
    const sample = source.sampleSync([
      { id: ID_A, pid: 100 },
      { id: ID_B, pid: 500 },
      { id: "c".repeat(64), pid: 0 },
    ]);
    assert.deepEqual(
      sample.containers.map((s) => s.id),
      [ID_A],
    );
    assert.deepEqual(
      sample.failures.map((f) => f.id),
      [ID_B, "c".repeat(64)],
    );
    assert.match(sample.failures[0]!.reason, /cgroup removed/);
    assert.match(sample.failures[1]!.reason, /not running/);
  });

  it("resolves the cgroup once per (id, pid) and again after a restart", () => {
    const root = fakeTree({ ...node, ...layouts[0]!.files });
    const source = new CgroupMetricSource({ cgroupRoot: join(root, "cgroup"), procRoot: join(root, "proc") });
    assert.equal(source.sampleSync([{ id: ID_A, pid: 100 }]).containers[0]?.cpuUsageNs, 5_000_000_000);
    // The cached paths are used: pointing /proc/100/cgroup elsewhere changes nothing.
    writeTree(root, { "proc/100/cgroup": `2:cpuacct:/elsewhere\n4:memory:/elsewhere\n` });
    assert.equal(source.sampleSync([{ id: ID_A, pid: 100 }]).containers[0]?.cpuUsageNs, 5_000_000_000);
    // Restarted under a new pid in a new cgroup: resolved afresh.
    writeTree(root, v1Container(`/docker2/${ID_A}`, 101, { cpuNs: 77, usage: 1, inactive: 0, limit: "1024", blkio: {}, pids: 1, rx: 0, tx: 0 }));
    assert.equal(source.sampleSync([{ id: ID_A, pid: 101 }]).containers[0]?.cpuUsageNs, 77);
  });

  it("keeps files open between rounds and closes them for containers no longer sampled", () => {
    const root = fakeTree({ ...node, ...layouts[0]!.files, ...layouts[1]!.files });
    const source = new CgroupMetricSource({ cgroupRoot: join(root, "cgroup"), procRoot: join(root, "proc") });
    const a = { id: ID_A, pid: 100 };
    const b = { id: ID_B, pid: 200, cgroupParent: "/herd/tenant-1" };
    source.sampleSync([a, b]);
    const both = source.openFiles;
    assert.ok(both >= 14, `${both} descriptors for two containers`);
    // Counters change in place: the kept descriptors see the new values.
    writeTree(root, { [`cgroup/cpuacct/docker/${ID_A}/cpuacct.usage`]: "6000000000\n" });
    assert.equal(source.sampleSync([a, b]).containers.find((c) => c.id === ID_A)?.cpuUsageNs, 6_000_000_000);
    source.sampleSync([a]);
    assert.ok(source.openFiles < both && source.openFiles > 0);
    source.close();
    assert.equal(source.openFiles, 0);
  });

  it("with maxOpenFiles 0 keeps nothing open and reads the same values", () => {
    const root = fakeTree({ ...node, ...layouts[0]!.files });
    const source = new CgroupMetricSource({ cgroupRoot: join(root, "cgroup"), procRoot: join(root, "proc"), maxOpenFiles: 0, clock: () => 1 });
    const sample = source.sampleSync([layouts[0]!.target]);
    assert.deepEqual(sample.containers, [{ ...layouts[0]!.want, atMs: 1 }]);
    assert.equal(source.openFiles, 0);
  });

  it("feeds RateCalculator: CPU, block and network rates over the clock's interval, valid ContainerSample", () => {
    const cg = `/docker/${ID_A}`;
    const counters = (cpuNs: number, blk: number, rx: number) =>
      v1Container(cg, 100, {
        cpuNs,
        usage: 1_000_000,
        inactive: 0,
        limit: "9223372036854771712",
        blkio: { "blkio.throttle.io_service_bytes_recursive": `8:0 Read ${blk}\n8:0 Write ${2 * blk}\nTotal ${3 * blk}\n` },
        pids: 2,
        rx,
        tx: rx,
      });
    const root = fakeTree({ ...node, ...counters(1_000_000_000, 1000, 100) });
    let now = 10_000;
    const source = new CgroupMetricSource({ cgroupRoot: join(root, "cgroup"), procRoot: join(root, "proc"), clock: () => now });
    const rates = new RateCalculator();
    const first = rates.update(source.sampleSync([{ id: ID_A, pid: 100 }])).containers.get(ID_A);
    assert.equal(first?.cpuPct, 0);
    // Two seconds later: 1.5 s of CPU (75 % of one core), 4000 B read, 8000 B written, 1000 B received.
    now += 2000;
    writeTree(root, counters(2_500_000_000, 5000, 1100));
    const second = rates.update(source.sampleSync([{ id: ID_A, pid: 100 }]));
    const usage = second.containers.get(ID_A);
    assert.ok(usage);
    assert.equal(usage.cpuPct, 75);
    assert.equal(usage.blkReadBps, 2000);
    assert.equal(usage.blkWriteBps, 4000);
    assert.equal(usage.netRxBps, 500);
    assert.equal(usage.memLimitBytes, null);
    const wire = ContainerSample.parse({ id: ID_A, name: "web", image: "herd/workload:latest", state: "running", ...usage });
    assert.equal(wire.cpuPct, 75);
  });
});

describe("defaultCgroupPath", () => {
  const cases: Array<[string, Parameters<typeof defaultCgroupPath>[0], string]> = [
    ["cgroupfs default", { id: ID_A }, `/docker/${ID_A}`],
    ["cgroupfs custom parent", { id: ID_A, cgroupParent: "herd/tenant" }, `/herd/tenant/${ID_A}`],
    ["systemd default", { id: ID_A, cgroupDriver: "systemd" }, `/system.slice/docker-${ID_A}.scope`],
    ["systemd nested slice", { id: ID_A, cgroupDriver: "systemd", cgroupParent: "herd-tenant.slice" }, `/herd.slice/herd-tenant.slice/docker-${ID_A}.scope`],
  ];
  for (const [name, target, want] of cases) it(name, () => assert.equal(defaultCgroupPath(target), want));
});
