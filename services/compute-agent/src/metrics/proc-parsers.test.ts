import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMeminfo, parseNetDev, parseProcStatCpu } from "./proc-parsers.js";

const NET_HEADER =
  "Inter-|   Receive                                                |  Transmit\n" +
  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";

describe("parseNetDev", () => {
  const cases = [
    {
      name: "--network none: only loopback, which is not counted",
      text: NET_HEADER + "    lo:   24771     329    0    0    0     0          0         0    24771     329    0    0    0     0       0          0\n",
      want: { rx: 0, tx: 0 },
    },
    {
      name: "sums every non-loopback interface",
      text:
        NET_HEADER +
        "    lo:   24771     329    0    0    0     0          0         0    24771     329    0    0    0     0       0          0\n" +
        "  eth0: 228513715    6209    0    0    0     0          0         0   605764    4373    0    0    0     0       0          0\n" +
        "  eth1:    1000       5    0    0    0     0          0         0      500       3    0    0    0     0       0          0\n",
      want: { rx: 228513715 + 1000, tx: 605764 + 500 },
    },
    {
      name: "a long name and a number right after the colon",
      text:
        NET_HEADER +
        "br-670ac58b3574:12345678901       0    0    0    0     0          0         0 42       0    0    2    0     0       0          0\n" +
        "lo0:       7       0    0    0    0     0          0         0        9       0    0    0    0     0       0          0\n",
      want: { rx: 12345678901 + 7, tx: 42 + 9 },
    },
    { name: "headers only", text: NET_HEADER, want: { rx: 0, tx: 0 } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseNetDev(c.text), c.want));
});

describe("parseProcStatCpu", () => {
  it("reads the aggregate line and counts cores", () => {
    const text =
      "cpu  26031 5 3594 64891 419 1 77 18 100 0\n" +
      "cpu0 11280 0 1610 34570 43 0 17 8 0 0\n" +
      "cpu1 14750 0 1984 30320 376 0 59 9 0 0\n" +
      "intr 123 4 5\nctxt 999\n";
    const got = parseProcStatCpu(text);
    // busy = user+nice+system+irq+softirq+steal; guest (100) is already inside user.
    const busy = 26031 + 5 + 3594 + 1 + 77 + 18;
    assert.deepEqual(got, { cores: 2, busy, total: busy + 64891 + 419 });
  });
  it("rejects a file without the aggregate line", () => {
    assert.throws(() => parseProcStatCpu("intr 1 2 3\n"), /aggregate cpu line/);
  });
});

describe("parseMeminfo", () => {
  it("reads MemTotal and MemAvailable in bytes", () => {
    const text = "MemTotal:       24684096 kB\nMemFree:        22883304 kB\nMemAvailable:   23610992 kB\n";
    assert.deepEqual(parseMeminfo(text), { totalBytes: 24684096 * 1024, availableBytes: 23610992 * 1024 });
  });
  it("rejects a file without MemAvailable", () => {
    assert.throws(() => parseMeminfo("MemTotal: 1 kB\n"), /MemAvailable/);
  });
});
