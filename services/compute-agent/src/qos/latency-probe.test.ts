import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { TcpEchoProbe } from "./latency-probe.js";

/** A real TCP echo server on loopback that answers each chunk after `delayMs`. */
function echoServer(delayMs: number): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.on("data", (d) => setTimeout(() => s.write(d), delayMs)).on("error", () => undefined));
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({ server, port: typeof a === "object" && a ? a.port : 0 });
    });
  });
}

describe("TcpEchoProbe against echo servers on loopback", () => {
  let fast: { server: Server; port: number };
  let slow: { server: Server; port: number };
  const probe = new TcpEchoProbe();
  before(async () => {
    fast = await echoServer(0);
    slow = await echoServer(150);
  });
  after(() => {
    probe.close();
    fast.server.close();
    slow.server.close();
  });

  it("a fast echo measures in milliseconds, over one kept connection", async () => {
    const a = await probe.measure({ address: "127.0.0.1", port: fast.port, bytes: 4096, samples: 3, timeoutMs: 2_000 });
    const b = await probe.measure({ address: "127.0.0.1", port: fast.port, bytes: 4096, samples: 3, timeoutMs: 2_000 });
    assert.ok(a < 100 && b < 100, `${a} ${b}`);
  });
  it("a slow echo measures its delay", async () => {
    const ms = await probe.measure({ address: "127.0.0.1", port: slow.port, bytes: 1024, samples: 3, timeoutMs: 3_000 });
    assert.ok(ms >= 140 && ms < 1_000, `${ms}`);
  });
  it("an echo slower than the deadline counts as at least the time waited", async () => {
    const ms = await probe.measure({ address: "127.0.0.1", port: slow.port, bytes: 1024, samples: 3, timeoutMs: 60 });
    assert.ok(ms >= 55 && ms < 150, `${ms}`);
  });
  it("an unreachable service rejects", async () => {
    const closed = await echoServer(0);
    closed.server.close();
    await assert.rejects(probe.measure({ address: "127.0.0.1", port: closed.port, bytes: 10, samples: 1, timeoutMs: 1_000 }));
  });
});
