import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../../../shared/src/logger.js";
import { UnrecoverableError, ExternalError } from "../../../../shared/src/errors.js";
import type { CommandResult } from "../../../../shared/src/contracts/events.js";
import { CommandProcessor } from "./command-processor.js";
import { FileProcessedCommandStore, InMemoryProcessedCommandStore } from "./processed-command-store.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const log = createLogger({ level: "error" });
const envelope = (over: Record<string, unknown> = {}) => ({
  v: 1,
  id: "cmd-00000001",
  type: "container.stop",
  nodeId: "n1",
  issuedAt: 1_700_000_000_000,
  payload: { container: "web" },
  ...over,
});

type StopResult = { stopped: true } & Record<string, unknown>;
const STOPPED: StopResult = { stopped: true };

function setup(handler: (p: unknown, signal: AbortSignal) => Promise<StopResult>) {
  const published: CommandResult[] = [];
  let runs = 0;
  const store = new InMemoryProcessedCommandStore();
  const processor = new CommandProcessor(
    "n1",
    {
      "container.stop": async (p, ctx) => {
        runs++;
        return handler(p, ctx.signal);
      },
    },
    store,
    async (r) => {
      published.push(r);
    },
    () => undefined,
    log,
    () => 42,
  );
  return { processor, published, runs: () => runs };
}

test("malformed commands are unrecoverable and name the field", async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["not an object", "hello", /malformed command/],
    ["wrong version", envelope({ v: 2 }), /v:/],
    ["unknown type", envelope({ type: "reboot" }), /type:/],
    ["missing id", envelope({ id: undefined }), /id:/],
    ["payload field wrong type", envelope({ payload: { container: 5 } }), /payload\.container/],
    ["another node's command", envelope({ nodeId: "n2" }), /is for node n2/],
  ];
  for (const [name, body, pattern] of cases) {
    await t.test(name, async () => {
      const { processor, published } = setup(async () => STOPPED);
      await assert.rejects(processor.process(body), (err: unknown) => err instanceof UnrecoverableError && pattern.test((err as Error).message));
      assert.equal(published.length, 0);
    });
  }
});

test("a handler without registration is unrecoverable", async () => {
  const { processor } = setup(async () => STOPPED);
  await assert.rejects(processor.process(envelope({ type: "ping", payload: {} })), /cannot handle ping/);
});

test("success publishes one ok result with the handler's value", async () => {
  const { processor, published } = setup(async (p) => ({ stopped: true, got: p }));
  const r = await processor.process(envelope());
  assert.equal(r.ok, true);
  assert.deepEqual(r.result, { stopped: true, got: { container: "web", force: false } });
  assert.ok(r.startedAt !== undefined && r.startedAt <= r.finishedAt, "the agent's own start and finish times are reported");
  assert.equal(published.length, 1);
  assert.equal(published[0]!.commandId, "cmd-00000001");
});

test("a redelivered command is answered again without running twice", async () => {
  const { processor, published, runs } = setup(async () => STOPPED);
  await processor.process(envelope());
  await processor.process(envelope());
  assert.equal(runs(), 1);
  assert.equal(published.length, 2);
  assert.deepEqual(published[0], published[1]);
});

test("a failing handler yields ok=false with the error as data, not a dead letter", async () => {
  const { processor } = setup(async () => {
    throw new ExternalError("engine away");
  });
  const r = await processor.process(envelope());
  assert.equal(r.ok, false);
  assert.deepEqual(r.error, { name: "ExternalError", message: "engine away", code: "EXTERNAL", retryable: true });
});

test("FileProcessedCommandStore survives a restart and a torn last line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "herd-pcs-"));
  try {
    const path = join(dir, "processed.jsonl");
    const a = new FileProcessedCommandStore(path, 3);
    const result = (id: string): CommandResult => ({ v: 1, kind: "command.result", nodeId: "n1", commandId: id, commandType: "ping", ok: true, finishedAt: 1 });
    for (const id of ["a", "b", "c", "d"]) a.put(result(id));
    const { appendFileSync } = await import("node:fs");
    appendFileSync(path, '{"v":1,"kind":"comm');
    const b = new FileProcessedCommandStore(path, 3);
    assert.equal(b.get("d")?.commandId, "d");
    assert.equal(b.get("c")?.commandId, "c");
    assert.equal(b.get("a"), undefined, "oldest entry is compacted away");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a duplicate delivered while the first copy runs waits for it instead of running again", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { processor, published, runs } = setup(async () => {
    await gate;
    return STOPPED;
  });
  const first = processor.process(envelope());
  const second = processor.process(envelope());
  release();
  const [a, b] = await Promise.all([first, second]);
  assert.equal(runs(), 1);
  assert.deepEqual(a, b);
  assert.equal(published.length, 2);
});

test("a result that breaks the protocol is reported as a failure, not published as ok", async () => {
  const { processor } = setup(async () => ({ stopped: "maybe" }) as unknown as StopResult);
  const r = await processor.process(envelope());
  assert.equal(r.ok, false);
  assert.match(r.error?.message ?? "", /breaks the protocol \(result\.stopped/);
});

test("a command's timeoutMs aborts the handler's signal and fails it as a timeout", async () => {
  const { processor } = setup(
    (_p, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener("abort", () => reject(new Error("killed the process group")), { once: true });
      }),
  );
  const started = Date.now();
  const r = await processor.process(envelope({ timeoutMs: 50 }));
  assert.equal(r.ok, false);
  assert.equal(r.error?.code, "TIMEOUT");
  assert.match(r.error?.message ?? "", /ran out of its 50 ms/);
  assert.ok(Date.now() - started < 5_000);
});
