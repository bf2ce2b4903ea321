import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TransferProgress } from "./file-transfer.js";
import { parseRsyncStats, RsyncProgressParser } from "./parse-rsync-output.js";

// Recorded from rsync 3.5.0: `rsync -aHAX --stats --info=progress2 src/ rsync://herd@127.0.0.1:28730/herd/m1/upper/`
const FIRST_SYNC =
  "\r         32,768   0%    0.00kB/s    0:00:00  \r     20,971,520  99%    1.08GB/s    0:00:00 (xfr#1, to-chk=1/3)\r     20,971,523 100%    1.08GB/s    0:00:00 (xfr#2, to-chk=0/3)\r     20,971,523 100%  998.44MB/s    0:00:00 (xfr#2, to-chk=0/3)\n" +
  "\nNumber of files: 3 (reg: 2, dir: 1)\nNumber of created files: 2 (reg: 2)\nNumber of deleted files: 0\n" +
  "Number of regular files transferred: 2\nTotal file size: 20,971,523 bytes\nTotal transferred file size: 20,971,523 bytes\n" +
  "Literal data: 20,971,523 bytes\nMatched data: 0 bytes\nFile list size: 0\nFile list generation time: 0.001 seconds\n" +
  "File list transfer time: 0.000 seconds\nTotal bytes sent: 20,976,819\nTotal bytes received: 68\n\n" +
  "sent 20,976,819 bytes  received 68 bytes  41,953,774.00 bytes/sec\ntotal size is 20,971,523  speedup is 1.00\n";

const DELTA_SYNC =
  "\nNumber of files: 3 (reg: 2, dir: 1)\nNumber of created files: 0\nNumber of deleted files: 0\n" +
  "Number of regular files transferred: 1\nTotal file size: 20,971,529 bytes\nTotal transferred file size: 9 bytes\n" +
  "Total bytes sent: 152\nTotal bytes received: 48\n";

describe("parseRsyncStats", () => {
  const cases = [
    {
      name: "first sync sends everything",
      output: FIRST_SYNC,
      want: { bytesSent: 20_976_819, bytesReceived: 68, transferredFileBytes: 20_971_523, filesTransferred: 2, totalFileBytes: 20_971_523 },
    },
    {
      name: "second sync sends only the changed file",
      output: DELTA_SYNC,
      want: { bytesSent: 152, bytesReceived: 48, transferredFileBytes: 9, filesTransferred: 1, totalFileBytes: 20_971_529 },
    },
    { name: "an error run has no stats", output: "@ERROR: auth failed on module herd\n", want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseRsyncStats(c.output), c.want));
  }
});

describe("RsyncProgressParser", () => {
  it("reports each carriage-return update, also when split across chunks", () => {
    const seen: TransferProgress[] = [];
    const p = new RsyncProgressParser((x) => seen.push(x));
    const progressPart = FIRST_SYNC.slice(0, FIRST_SYNC.indexOf("\nNumber"));
    // Split in the middle of a number to exercise buffering.
    const cut = progressPart.indexOf("971,520") + 3;
    p.push(progressPart.slice(0, cut));
    p.push(progressPart.slice(cut));
    p.flush();
    assert.deepEqual(seen, [
      { bytes: 32_768, percent: 0 },
      { bytes: 20_971_520, percent: 99 },
      { bytes: 20_971_523, percent: 100 },
      { bytes: 20_971_523, percent: 100 },
    ]);
  });

  it("ignores lines that are not progress updates", () => {
    const seen: TransferProgress[] = [];
    const p = new RsyncProgressParser((x) => seen.push(x));
    p.push("Number of files: 3 (reg: 2, dir: 1)\nTotal bytes sent: 152\n");
    p.flush();
    assert.deepEqual(seen, []);
  });
});
