import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AUTO_POST_COPY_MIN_BYTES, chooseMode, type RequestedMode } from "./migration-mode.js";

const yes = { available: true, detail: "CRIU lazy pages" };
const no = { available: false, detail: "fs.pipe-max-size is 1048576, below the 3354624 bytes CRIU's page server needs" };
const big = 512 * 1048576;

describe("chooseMode", () => {
  const cases: {
    name: string;
    requested: RequestedMode | undefined;
    src: typeof yes | undefined;
    dst: typeof yes | undefined;
    mem: number;
    mode?: string;
    refused?: RegExp;
    note?: RegExp;
  }[] = [
    { name: "default is stop-and-copy, whatever the nodes can", requested: undefined, src: yes, dst: yes, mem: big, mode: "stop-and-copy" },
    { name: "stop-and-copy asked", requested: "stop-and-copy", src: no, dst: no, mem: big, mode: "stop-and-copy" },
    { name: "post-copy where both can", requested: "post-copy", src: yes, dst: yes, mem: 1, mode: "post-copy", note: /destination copy is killed/ },
    {
      name: "post-copy refused with the source's reason",
      requested: "post-copy",
      src: no,
      dst: yes,
      mem: big,
      refused: /not possible: n1: fs.pipe-max-size is 1048576/,
    },
    {
      name: "post-copy refused for an agent that never said",
      requested: "post-copy",
      src: yes,
      dst: undefined,
      mem: big,
      refused: /n2: its agent has not reported/,
    },
    {
      name: "auto: post-copy for a large container",
      requested: "auto",
      src: yes,
      dst: yes,
      mem: big,
      mode: "post-copy",
      note: /auto chose post-copy \(512 MiB/,
    },
    {
      name: "auto: stop-and-copy below the threshold",
      requested: "auto",
      src: yes,
      dst: yes,
      mem: AUTO_POST_COPY_MIN_BYTES - 1,
      mode: "stop-and-copy",
      note: /below the 64 MiB/,
    },
    { name: "auto: exactly the threshold is large enough", requested: "auto", src: yes, dst: yes, mem: AUTO_POST_COPY_MIN_BYTES, mode: "post-copy" },
    {
      name: "auto: stop-and-copy when a node cannot, saying which",
      requested: "auto",
      src: yes,
      dst: no,
      mem: big,
      mode: "stop-and-copy",
      note: /post-copy is not possible \(n2: fs.pipe/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = chooseMode(c.requested, { id: "n1", postCopy: c.src }, { id: "n2", postCopy: c.dst }, c.mem);
      if (c.refused) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.match(r.reason, c.refused);
        return;
      }
      assert.equal(r.ok, true);
      if (!r.ok) return;
      assert.equal(r.mode, c.mode);
      if (c.note) assert.match(r.notes.join(" | "), c.note);
    });
  }
});
