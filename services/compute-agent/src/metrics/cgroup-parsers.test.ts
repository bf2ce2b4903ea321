import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseBlkioServiceBytes,
  parseCpuStatUsageNs,
  parseIoStat,
  parseMemoryLimit,
  parseProcCgroup,
  parseSingleValue,
  workingSetBytes,
} from "./cgroup-parsers.js";

const ID = "242499b55df4851d74f7435eb402752412b0cba757ba93d2cd69e50068b98af0";

describe("parseProcCgroup", () => {
  const cases = [
    {
      name: "cgroup v1 with separate cpu and cpuacct mounts and a unified line (this machine)",
      text: `9:name=systemd:/docker/${ID}\n8:pids:/docker/${ID}\n4:memory:/docker/${ID}\n2:cpuacct:/docker/${ID}\n1:cpu:/docker/${ID}\n0::/docker/${ID}\n`,
      v1: { memory: `/docker/${ID}`, cpu: `/docker/${ID}`, cpuacct: `/docker/${ID}`, pids: `/docker/${ID}`, "name=systemd": `/docker/${ID}` },
      unified: `/docker/${ID}`,
    },
    {
      name: "co-mounted controllers get the same path",
      text: `4:cpu,cpuacct:/custom/parent/${ID}\n3:blkio:/custom/parent/${ID}\n`,
      v1: { cpu: `/custom/parent/${ID}`, cpuacct: `/custom/parent/${ID}`, blkio: `/custom/parent/${ID}` },
      unified: null,
    },
    {
      name: "pure cgroup v2 with the systemd driver",
      text: `0::/system.slice/docker-${ID}.scope\n`,
      v1: {},
      unified: `/system.slice/docker-${ID}.scope`,
    },
    { name: "empty file", text: "", v1: {}, unified: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = parseProcCgroup(c.text);
      assert.deepEqual(Object.fromEntries(got.v1), c.v1);
      assert.equal(got.unified, c.unified);
    });
  }
});

describe("parseMemoryLimit", () => {
  const cases: Array<[string, string, number | null]> = [
    ["v2 no limit", "max\n", null],
    ["v2 limit", "33554432\n", 33554432],
    ["v1 no limit (PAGE_COUNTER_MAX in bytes)", "9223372036854771712\n", null],
    ["v1 limit", "16777216\n", 16777216],
  ];
  for (const [name, text, want] of cases) it(name, () => assert.equal(parseMemoryLimit(text), want));
  it("garbage is NaN, not a limit", () => assert.ok(Number.isNaN(parseMemoryLimit("abc\n"))));
});

describe("parseSingleValue / parseCpuStatUsageNs", () => {
  it("reads a counter with its newline", () => assert.equal(parseSingleValue("3702577429\n"), 3702577429));
  it("is NaN for an empty file", () => assert.ok(Number.isNaN(parseSingleValue(""))));
  it("converts v2 usage_usec to ns", () => {
    const cpuStat = "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\nnr_periods 0\n";
    assert.equal(parseCpuStatUsageNs(cpuStat), 1234567000);
  });
  it("does not mistake user_usec for usage_usec", () => {
    assert.ok(Number.isNaN(parseCpuStatUsageNs("user_usec 5\nsystem_usec 6\n")));
  });
});

describe("workingSetBytes", () => {
  const v1Stat = "cache 4096\nrss 57344\ninactive_file 8192\nactive_file 0\ntotal_cache 4096\ntotal_inactive_file 12288\n";
  const v2Stat = "anon 57344\nfile 65536\nactive_anon 4096\ninactive_anon 53248\nactive_file 16384\ninactive_file 49152\n";
  const cases: Array<[string, number, string, 1 | 2, number]> = [
    ["v1 uses total_inactive_file, not inactive_file", 100_000, v1Stat, 1, 100_000 - 12288],
    ["v2 uses inactive_file", 200_000, v2Stat, 2, 200_000 - 49152],
    ["inactive larger than usage leaves usage as is", 10_000, v2Stat, 2, 10_000],
    ["no inactive_file line", 5000, "anon 5000\n", 2, 5000],
  ];
  for (const [name, usage, stat, version, want] of cases) {
    it(name, () => assert.equal(workingSetBytes(usage, stat, version), want));
  }
});

describe("parseIoStat", () => {
  it("sums rbytes and wbytes over devices", () => {
    const text = "254:0 rbytes=1048576 wbytes=2097152 rios=10 wios=20 dbytes=0 dios=0\n" + "8:16 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n";
    assert.deepEqual(parseIoStat(text), { read: 1048576 + 4096, write: 2097152 });
  });
  it("is zero for an empty file (no I/O yet)", () => assert.deepEqual(parseIoStat(""), { read: 0, write: 0 }));
});

describe("parseBlkioServiceBytes", () => {
  it("sums Read and Write over devices and ignores Sync/Async/Total", () => {
    const text =
      "254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 12288\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 12288\n" +
      "8:0 Read 100\n8:0 Write 0\n8:0 Sync 0\n8:0 Async 100\n8:0 Discard 0\n8:0 Total 100\nTotal 12388\n";
    assert.deepEqual(parseBlkioServiceBytes(text), { read: 4196, write: 8192 });
  });
  it("is null when the file only has the Total line (try the next file)", () => {
    assert.equal(parseBlkioServiceBytes("Total 0\n"), null);
  });
});
