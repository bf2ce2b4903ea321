import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLogger } from "../../../../shared/src/logger.js";
import { CgroupFileLimiter } from "./cgroup-file-limiter.js";
import { interfaceByIndex } from "./container-interfaces.js";
import { splitCapacity } from "./pid-guard-controller.js";
import { parseQosLabels } from "./qos-labels.js";
import { parseHtbClassRate } from "./tc-htb-shaper.js";

const log = createLogger({ level: "error", format: "text" });

describe("parseQosLabels", () => {
  const cases: Array<{ name: string; labels: Record<string, string>; want: string }> = [
    { name: "no labels: nothing", labels: {}, want: "[]" },
    {
      name: "network with defaults",
      labels: { "herd.qos.class": "network", "herd.qos.target-latency-ms": "20" },
      want: '[{"kind":"network","targetMs":20,"probePort":7000,"probeBytes":16384,"baseKbit":20000,"mode":"pid"}]',
    },
    { name: "storage", labels: { "herd.qos.class": "storage", "herd.qos.write-mbps": "10" }, want: '[{"kind":"storage","baseBps":10000000,"minBps":2000000}]' },
    { name: "fair", labels: { "herd.share": "fair", "herd.share.weight": "2" }, want: '[{"kind":"fair","weight":2,"mode":"fair"}]' },
    {
      name: "static baselines",
      labels: { "herd.qos.class": "network", "herd.qos.target-latency-ms": "5", "herd.qos.guard": "static", "herd.share": "static" },
      want: '[{"kind":"network","targetMs":5,"probePort":7000,"probeBytes":16384,"baseKbit":20000,"mode":"static"},{"kind":"fair","weight":1,"mode":"static"}]',
    },
    { name: "network without a target is refused, naming the label", labels: { "herd.qos.class": "network" }, want: "error:label herd.qos.target-latency-ms" },
    { name: "unknown class", labels: { "herd.qos.class": "gold" }, want: 'error:label herd.qos.class: must be "network" or "storage", got "gold"' },
    {
      name: "minimum above base",
      labels: { "herd.qos.class": "storage", "herd.qos.write-mbps": "1", "herd.qos.write-min-mbps": "5" },
      want: "error:label herd.qos.write-min-mbps",
    },
    { name: "bad share value", labels: { "herd.share": "greedy" }, want: "error:label herd.share" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseQosLabels(c.labels);
      if (c.want.startsWith("error:")) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.ok(r.error.startsWith(c.want.slice(6)), r.error);
      } else {
        assert.ok(r.ok);
        if (r.ok) assert.equal(JSON.stringify(r.optIns), c.want);
      }
    });
  }
});

describe("splitCapacity", () => {
  const neighbours = [{ id: "d", baseBps: 10_000_000, minBps: 2_000_000 }];
  const cases = [
    { u: 0, rate: 20_000, write: 10_000_000 },
    { u: 100, rate: 40_000, write: 7_500_000 },
    { u: -50, rate: 10_000, write: 11_250_000 },
    // spare 8 MB/s = 64 Mbit/s = 320 % of 20 Mbit/s: the output limit 200 binds first
    { u: 250, rate: 60_000, write: 5_000_000 },
  ];
  for (const c of cases) {
    it(`u=${c.u}: service ${c.rate} kbit/s, neighbour ${c.write} B/s`, () => {
      const s = splitCapacity(c.u, 20_000, neighbours);
      assert.equal(Math.round(s.rateKbit), c.rate);
      assert.equal(Math.round(s.writeBps.get("d") ?? 0), c.write);
    });
  }
  it("the neighbour's minimum bounds the output", () => {
    const s = splitCapacity(200, 20_000, [{ id: "d", baseBps: 3_000_000, minBps: 2_000_000 }]);
    assert.equal(Math.round(s.maxOutput), 40);
    assert.equal(Math.round(s.writeBps.get("d") ?? 0), 2_000_000);
    assert.equal(Math.round(s.rateKbit), 28_000);
  });
});

describe("tc and ip output", () => {
  it("reads an HTB class rate in kbit/s", () => {
    assert.equal(parseHtbClassRate("class htb 1:10 root prio 0 rate 20Mbit ceil 20Mbit burst 25000b cburst 25000b \n", "1:10"), 20_000);
    assert.equal(parseHtbClassRate("class htb 1:10 root prio 0 rate 512Kbit ceil 512Kbit burst 1600b cburst 1600b", "1:10"), 512);
    assert.equal(parseHtbClassRate("", "1:10"), null);
    assert.equal(parseHtbClassRate("class htb 1:20 root prio 0 rate 1Mbit ceil 1Mbit", "1:10"), null);
    assert.throws(() => parseHtbClassRate("class htb 1:10 root prio 0 rate lots", "1:10"), /unreadable/);
  });
  it("names the link with an index", () => {
    const text = "1: lo: <LOOPBACK,UP> mtu 65536\n17: veth1a2b@if16: <BROADCAST> mtu 1500\n3: eth0@if4: <UP> mtu 1500\n";
    assert.equal(interfaceByIndex(text, 17), "veth1a2b");
    assert.equal(interfaceByIndex(text, 3), "eth0");
    assert.equal(interfaceByIndex(text, 99), null);
  });
});

/** The limiter on a fake cgroup tree (this machine is v1; v2 is tested on files laid out like it). */
function fakeTree(version: 1 | 2) {
  const root = mkdtempSync(join(tmpdir(), `herd-qos-cg${version}-`));
  const proc = join(root, "proc");
  mkdirSync(join(proc, "42"), { recursive: true });
  const files: Record<string, string> = {};
  if (version === 2) {
    writeFileSync(join(proc, "42", "cgroup"), "0::/system.slice/docker-abc.scope\n");
    const dir = join(root, "cg", "system.slice", "docker-abc.scope");
    mkdirSync(dir, { recursive: true });
    Object.assign(files, {
      [join(dir, "cpu.max")]: "max 100000\n",
      [join(dir, "cpu.weight")]: "100\n",
      [join(dir, "memory.high")]: "max\n",
      [join(dir, "io.max")]: "",
    });
  } else {
    writeFileSync(join(proc, "42", "cgroup"), "12:blkio:/docker/abc\n11:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n");
    for (const c of ["cpu", "memory", "blkio"]) mkdirSync(join(root, "cg", c, "docker", "abc"), { recursive: true });
    const d = (c: string, f: string) => join(root, "cg", c, "docker", "abc", f);
    Object.assign(files, {
      [d("cpu", "cpu.cfs_period_us")]: "100000\n",
      [d("cpu", "cpu.cfs_quota_us")]: "-1\n",
      [d("cpu", "cpu.shares")]: "1024\n",
      [d("memory", "memory.soft_limit_in_bytes")]: "9223372036854771712\n",
      [d("blkio", "blkio.throttle.write_bps_device")]: "",
    });
  }
  for (const [f, v] of Object.entries(files)) writeFileSync(f, v);
  return { limiter: new CgroupFileLimiter(version, log, join(root, "cg"), proc), files };
}

describe("CgroupFileLimiter on fake trees", () => {
  it("v2: cpu.max, cpu.weight, memory.high, io.max; clear restores what was there", async () => {
    const { limiter, files } = fakeTree(2);
    const writes = await limiter.apply(
      { id: "abc", pid: 42 },
      { cpuMillicores: 250, cpuWeight: 50, memorySoftBytes: 1 << 20, writeBps: { device: "254:0", bytesPerSecond: 2_000_000 } },
    );
    const byName = Object.fromEntries(writes.map((w) => [w.file.split("/").pop(), w.value]));
    assert.deepEqual(byName, { "cpu.max": "25000 100000", "cpu.weight": "50", "memory.high": "1048576", "io.max": "254:0 wbps=2000000" });
    for (const w of writes) assert.equal(readFileSync(w.file, "utf8"), w.value);
    await limiter.clear({ id: "abc", pid: 42 });
    const after = Object.fromEntries(Object.keys(files).map((f) => [f.split("/").pop(), readFileSync(f, "utf8")]));
    assert.deepEqual(after, { "cpu.max": "max 100000", "cpu.weight": "100", "memory.high": "max", "io.max": "254:0 wbps=max" });
  });
  it("v1: cfs quota from the period, shares, soft limit, blkio rule; clear removes them", async () => {
    const { limiter, files } = fakeTree(1);
    const writes = await limiter.apply(
      { id: "abc", pid: 42 },
      { cpuMillicores: 1500, cpuWeight: 200, memorySoftBytes: 4096, writeBps: { device: "254:0", bytesPerSecond: 1_048_576 } },
    );
    const byName = Object.fromEntries(writes.map((w) => [w.file.split("/").pop(), w.value]));
    assert.deepEqual(byName, {
      "cpu.cfs_quota_us": "150000",
      "cpu.shares": "2048",
      "memory.soft_limit_in_bytes": "4096",
      "blkio.throttle.write_bps_device": "254:0 1048576",
    });
    await limiter.clear({ id: "abc", pid: 42 });
    const after = Object.fromEntries(Object.keys(files).map((f) => [f.split("/").pop(), readFileSync(f, "utf8")]));
    assert.equal(after["cpu.cfs_quota_us"], "-1");
    assert.equal(after["cpu.shares"], "1024");
    assert.equal(after["memory.soft_limit_in_bytes"], "9223372036854771712");
    assert.equal(after["blkio.throttle.write_bps_device"], "254:0 0");
  });
  it("refuses a malformed device and a container that is not running", async () => {
    const { limiter } = fakeTree(1);
    await assert.rejects(limiter.apply({ id: "abc", pid: 42 }, { writeBps: { device: "vda", bytesPerSecond: 1 } }), /major:minor/);
    await assert.rejects(limiter.apply({ id: "abc", pid: 0 }, { cpuMillicores: 100 }), /not running/);
  });
});
