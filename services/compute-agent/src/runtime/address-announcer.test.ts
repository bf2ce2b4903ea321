import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { createLogger } from "../../../../shared/src/logger.js";
import type { ProcessRunner } from "../../../../shared/src/process/run-process.js";
import { ArpingAddressAnnouncer } from "./address-announcer.js";

const log = createLogger({ level: "error" });

/** A runner that records the namespace each arping was sent from. */
function recordingRunner(): { run: ProcessRunner; sentFrom: string[] } {
  const sentFrom: string[] = [];
  const run: ProcessRunner = async (_file, args) => {
    sentFrom.push(args[0] ?? "");
    return { code: 0, signal: null, stdout: "", stderr: "", durationMs: 1 };
  };
  return { run, sentFrom };
}

describe("ArpingAddressAnnouncer", () => {
  it("announces at once and repeats from the same namespace", async () => {
    const { run, sentFrom } = recordingRunner();
    const a = new ArpingAddressAnnouncer(log, { run, procRoot: "/p", repeatAfterMs: [5, 10], namespaceOf: async () => 4026532000 });
    await a.announce(42, "10.78.0.5");
    assert.deepEqual(sentFrom, ["--net=/p/42/ns/net"]);
    await sleep(60);
    assert.deepEqual(sentFrom, ["--net=/p/42/ns/net", "--net=/p/42/ns/net", "--net=/p/42/ns/net"]);
  });

  it("skips the repeats once the container's process has gone or its pid is another namespace's", async () => {
    const { run, sentFrom } = recordingRunner();
    const inodes: (number | undefined)[] = [4026532000, undefined, 4026539999];
    const a = new ArpingAddressAnnouncer(log, { run, repeatAfterMs: [5, 10], namespaceOf: async () => inodes.shift() });
    await a.announce(42, "10.78.0.5");
    await sleep(60);
    assert.equal(sentFrom.length, 1, "only the first announcement went out");
  });

  it("does not schedule repeats for a process that was gone already", async () => {
    const { run, sentFrom } = recordingRunner();
    let asked = 0;
    const a = new ArpingAddressAnnouncer(log, {
      run,
      repeatAfterMs: [5],
      namespaceOf: async () => {
        asked += 1;
        return undefined;
      },
    });
    await a.announce(42, "10.78.0.5");
    await sleep(30);
    assert.equal(asked, 1);
    assert.equal(sentFrom.length, 1);
  });

  it("never throws when arping fails", async () => {
    const run: ProcessRunner = async () => ({ code: 1, signal: null, stdout: "", stderr: "cannot open ns", durationMs: 1 });
    const a = new ArpingAddressAnnouncer(log, { run, repeatAfterMs: [], namespaceOf: async () => 1 });
    await assert.doesNotReject(a.announce(42, "10.78.0.5"));
  });
});
