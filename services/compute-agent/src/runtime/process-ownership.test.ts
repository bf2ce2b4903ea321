import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { listeningInodes } from "./process-ownership.js";

// Real /proc/net/tcp and tcp6 lines (header + entries), trimmed to the columns that matter.
const TCP = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 0B004D0A:2242 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 91234 1 0000000000000000 100 0 0 10 0",
  "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55555 1 0000000000000000 100 0 0 10 0",
  "   2: 0B004D0A:2242 0C004D0A:C350 01 00000000:00000000 00:00000000 00000000     0        0 77777 1 0000000000000000 20 4 30 10 -1",
].join("\n");
const TCP6 = [
  "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 00000000000000000000000000000000:2242 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0",
].join("\n");

describe("listeningInodes", () => {
  it("finds the listening socket on the port, not an established one on the same port", () => {
    assert.deepEqual(listeningInodes(TCP, 8770), ["91234"]);
  });
  it("finds other ports separately", () => {
    assert.deepEqual(listeningInodes(TCP, 8080), ["55555"]);
  });
  it("reads IPv6 tables", () => {
    assert.deepEqual(listeningInodes(TCP6, 8770), ["4242"]);
  });
  it("is empty when nothing listens there, or the text is empty", () => {
    assert.deepEqual(listeningInodes(TCP, 9999), []);
    assert.deepEqual(listeningInodes("", 8770), []);
  });
});
