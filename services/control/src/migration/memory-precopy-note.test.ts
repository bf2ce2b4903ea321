import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryPreCopyNote } from "./memory-precopy-note.js";

describe("memoryPreCopyNote", () => {
  it("notes stop-and-copy only when pre-copy is not possible or unknown", () => {
    assert.equal(memoryPreCopyNote("n1", { available: true, detail: "ok" }), undefined);
    assert.match(
      memoryPreCopyNote("n1", { available: false, detail: "Dirty tracking is OFF." }) ?? "",
      /pre-copy is unavailable on n1 .*Dirty tracking is OFF/,
    );
    assert.match(memoryPreCopyNote("n2", undefined) ?? "", /n2 has not said/);
  });
});
