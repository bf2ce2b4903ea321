import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connectionRefusals, decodeProcAddress, parseConnectedTcp } from "./open-connections.js";

const HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const row = (local: string, remote: string, st: string) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 20 4 30 10 -1`;

describe("decodeProcAddress", () => {
  const cases = [
    { hex: "0100007F:1F90", want: "127.0.0.1:8080" },
    { hex: "0B004D0A:221A", want: "10.77.0.11:8730" },
    { hex: "00000000000000000000000001000000:0050", want: "[::1]:80" },
  ];
  for (const c of cases) it(c.hex, () => assert.equal(decodeProcAddress(c.hex), c.want));
});

describe("parseConnectedTcp", () => {
  it("keeps connected sockets and ignores listeners, closed and TIME_WAIT ones", () => {
    const text = [
      HEADER,
      row("0100007F:2328", "00000000:0000", "0A"), // LISTEN
      row("0100007F:2328", "0100007F:C350", "01"), // ESTABLISHED (server side)
      row("0100007F:C350", "0100007F:2328", "01"), // ESTABLISHED (client side)
      row("0100007F:C351", "0100007F:2328", "06"), // TIME_WAIT
      row("0100007F:C352", "0100007F:2328", "08"), // CLOSE_WAIT
    ].join("\n");
    assert.deepEqual(
      parseConnectedTcp(text).map((c) => `${c.local}>${c.remote}:${c.state}`),
      ["127.0.0.1:9000>127.0.0.1:50000:ESTABLISHED", "127.0.0.1:50000>127.0.0.1:9000:ESTABLISHED", "127.0.0.1:50002>127.0.0.1:9000:CLOSE_WAIT"],
    );
  });
  it("is empty for an empty or header-only table", () => {
    assert.deepEqual(parseConnectedTcp(""), []);
    assert.deepEqual(parseConnectedTcp(HEADER), []);
  });
});

describe("connectionRefusals", () => {
  const outside = { local: "172.18.0.2:7000", remote: "172.18.0.3:43210", state: "ESTABLISHED" };
  const loopback = { local: "127.0.0.1:9000", remote: "127.0.0.1:50000", state: "ESTABLISHED" };
  const cases: Array<{ name: string; spec: { networkMode: string; ipv4Address?: string }; conns: (typeof outside)[]; refused: string[] }> = [
    {
      name: "cluster network: every connection moves with the address",
      spec: { networkMode: "herd-cluster", ipv4Address: "10.77.0.130" },
      conns: [outside, loopback],
      refused: [],
    },
    {
      name: "another network: every connection is refused, loopback ones too",
      spec: { networkMode: "bridge" },
      conns: [outside, loopback],
      refused: ["172.18.0.2:7000 -> 172.18.0.3:43210 (ESTABLISHED)", "127.0.0.1:9000 -> 127.0.0.1:50000 (ESTABLISHED)"],
    },
    { name: "no network, no connection: nothing refused", spec: { networkMode: "none" }, conns: [], refused: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = connectionRefusals(c.spec, c.conns);
      assert.deepEqual(
        r.map((x) => x.detail),
        c.refused,
      );
      for (const x of r) {
        assert.equal(x.code, "tcp-connection");
        assert.match(x.reason, /reset/);
      }
    });
  }
});
