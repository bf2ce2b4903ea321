import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../../../shared/src/logger.js";
import type { CommandResult } from "../../../../shared/src/contracts/index.js";
import type { PublishOptions } from "../../../../shared/src/messaging/message-bus.js";
import { CommandClient } from "./command-client.js";

const log = createLogger({ level: "error" });

/** A bus whose broker is away: a publish is confirmed only after `confirmAfterMs`, or refused at its own deadline. */
function slowBus(confirmAfterMs: number) {
  return {
    publish: (_exchange: string, _key: string, _body: unknown, options: PublishOptions = {}) =>
      new Promise<void>((resolve, reject) => {
        const deadline = options.timeoutMs ?? 30_000;
        if (confirmAfterMs <= deadline) setTimeout(resolve, confirmAfterMs);
        else setTimeout(() => reject(new Error(`not confirmed within ${deadline} ms: broker unavailable`)), deadline);
      }),
  };
}

/** Runs `fn` and returns the unhandled rejections seen meanwhile (and for a moment after). */
async function unhandledDuring(fn: () => Promise<unknown>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  return seen;
}

describe("CommandClient while the broker is away", () => {
  // A saga step re-sends with a 10 s answer timeout, and the publish waits at most as long for a
  // confirm: a broker restart longer than that made the answer's timer fire while the publish was
  // still waiting, an unhandled rejection that killed the control service (CI, stop 22).
  it("a publish confirmed only as the answer's timeout expires fails the send, and nothing is left unhandled", async () => {
    // Both wait 30 ms; the answer's timer was set first, so it fires while the publish still waits.
    const client = new CommandClient(slowBus(30), log);
    const unhandled = await unhandledDuring(async () => {
      await assert.rejects(client.send("n1", "ping", {}, { timeoutMs: 30 }), /node n1 did not answer ping command .* within 30 ms/);
    });
    assert.deepEqual(unhandled, []);
  });

  it("a publish refused at its deadline fails the send with the broker's reason, and nothing is left unhandled", async () => {
    const client = new CommandClient(slowBus(Number.MAX_SAFE_INTEGER), log);
    const unhandled = await unhandledDuring(async () => {
      await assert.rejects(client.send("n1", "ping", {}, { timeoutMs: 30 }), /broker unavailable/);
    });
    assert.deepEqual(unhandled, []);
  });

  it("a result that arrives after a slow publish is still delivered", async () => {
    const client = new CommandClient(slowBus(20), log);
    const sent = client.send("n1", "ping", {}, { timeoutMs: 1_000, commandId: "command-1" });
    await new Promise((r) => setTimeout(r, 40));
    const answer: CommandResult = {
      v: 1,
      kind: "command.result",
      nodeId: "n1",
      commandId: "command-1",
      commandType: "ping",
      ok: true,
      result: { pong: true },
      finishedAt: Date.now(),
    };
    assert.equal(client.handleResult(answer), "accepted");
    const r = await sent;
    assert.equal(r.ok, true);
  });
});
