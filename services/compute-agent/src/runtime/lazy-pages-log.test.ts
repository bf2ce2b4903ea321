import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLazyPagesLog } from "./lazy-pages-log.js";

// Lines as CRIU 4.2.1 wrote them in a 256 MB restore on this machine.
const start = [
  "(00.120400) uffd: Waiting for incoming connections on lazy-pages.socket",
  "(01.374134) uffd: 1-12: Found 12 VMAs in image",
  "(01.374147) uffd: 1-12: Found 65547 pages to be handled by UFFD",
  "(01.376532) pr1-1 Read f5a5000 1 pages",
  "(01.463488) pr1-1 Read 7f2dde71e000 32 pages",
  "(01.463887) pr1-1 Read 7f2dde73e000 48 pages",
];

describe("lazy-pages log", () => {
  it("nothing yet", () => assert.deepEqual(parseLazyPagesLog(""), { totalPages: 0, transferredPages: 0, complete: false }));

  it("pages remaining while they are pulled", () => {
    const p = parseLazyPagesLog(start.join("\n"));
    assert.deepEqual(p, { totalPages: 65547, transferredPages: 81, complete: false });
  });

  it("complete when CRIU's final count matches", () => {
    const p = parseLazyPagesLog(
      [...start, "(01.796666) uffd: 1-12: UFFD transferred pages: (65547/65547)", "(01.797056) page-xfer: Disconnect from the page server"].join("\n"),
    );
    assert.equal(p.complete, true);
  });

  it("a source that went away mid-transfer", () => {
    const p = parseLazyPagesLog(
      [
        ...start,
        "(01.295806) Error (criu/page-xfer.c:1660): page-xfer: Remote side closed connection",
        "(01.295846) Error (criu/page-xfer.c:1534): page-xfer: The page server doesn't answer: No such file or directory",
      ].join("\n"),
    );
    assert.equal(p.complete, false);
    assert.equal(p.error, "page-xfer: The page server doesn't answer: No such file or directory");
  });

  it("a short final count is not complete", () => {
    assert.equal(parseLazyPagesLog([...start, "uffd: 1-12: UFFD transferred pages: (100/65547)"].join("\n")).complete, false);
  });
});
