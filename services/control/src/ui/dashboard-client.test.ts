// The dashboard's browser modules that are pure (no DOM): the stream parser, charts' paths,
// formatting, and the page's model. Also a compile-time check that the page's copy of the wire
// types accepts what the server sends.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SseParser } from "../../ui/src/sse.js";
import { sparkPath } from "../../ui/src/charts.js";
import { esc, fmtBytes, fmtDuration } from "../../ui/src/format.js";
import { Model } from "../../ui/src/model.js";
import type { HelloFrame as ClientHello, TickFrame as ClientTick, FeedMigration as ClientMigration } from "../../ui/src/types.js";
import { diffFeed, sseFrame, toFeedMigration, type FeedState, type HelloFrame, type TickFrame } from "./feed-frames.js";
import type { MigrationRecord } from "../migration/migration-record.js";

// If the server's frames change shape, these assignments stop compiling.
const asClientHello = (f: HelloFrame): ClientHello => f;
const asClientTick = (f: TickFrame): ClientTick => f;
const asClientMigration = (m: MigrationRecord): ClientMigration => toFeedMigration(m);

const base: FeedState = {
  t: 10_000,
  nodes: [{ id: "n1", status: "up", containers: 1, cpuPct: 5, memUsedBytes: 1, memTotalBytes: 10, lastSeenAt: 9_000 }],
  containers: [{ id: "a", name: "web", nodeId: "n1", image: "img", state: "running", cpuPct: 1, memBytes: 5, memLimitBytes: null, updatedAt: 9_000 }],
  migrations: [],
};

describe("SseParser", () => {
  it("reassembles events split across chunks and skips comments", () => {
    const wire = `retry: 2000\n\n: keep-alive\n\n${sseFrame("hello", { x: 1 })}${sseFrame("tick", { y: "é" })}`;
    const p = new SseParser();
    const events = [];
    for (let i = 0; i < wire.length; i += 7) events.push(...p.push(wire.slice(i, i + 7)));
    assert.deepEqual(events, [
      { event: "hello", data: '{"x":1}' },
      { event: "tick", data: '{"y":"é"}' },
    ]);
  });
  it("joins multi-line data and accepts CRLF", () => {
    assert.deepEqual(new SseParser().push("data: a\r\ndata: b\r\n\r\n"), [{ event: "message", data: "a\nb" }]);
  });
});

describe("page model", () => {
  it("applies hello then ticks from the server's own diff, ignoring a repeated sample", () => {
    const m = new Model();
    m.hello(asClientHello({ ...base, history: { nodes: { n1: [[9_000, 5, 1]] }, containers: { a: [[9_000, 1, 5]] } } }));
    const next: FeedState = { ...base, t: 11_000, containers: [{ ...base.containers[0]!, cpuPct: 80, updatedAt: 10_000 }] };
    const frame = diffFeed(base, next);
    assert.ok(frame);
    assert.equal(m.tick(asClientTick(frame)).structural, false);
    assert.equal(m.containers.get("a")?.cpuPct, 80);
    assert.deepEqual(m.contHist.get("a"), [
      [9_000, 1, 5],
      [10_000, 80, 5],
    ]);
    m.tick(asClientTick(frame));
    assert.equal(m.contHist.get("a")?.length, 2);
    const moved = diffFeed(next, { ...next, t: 12_000, containers: [{ ...next.containers[0]!, nodeId: "n2" }] });
    assert.ok(moved);
    assert.equal(m.tick(asClientTick(moved)).structural, true);
    assert.equal(m.containersOn("n2")[0]?.name, "web");
  });
  it("lists running migrations first by recency", () => {
    const m = new Model();
    const rec = (id: string, createdAt: number, state: MigrationRecord["state"]): MigrationRecord => ({
      id,
      containerId: "a",
      containerName: "web",
      source: "n1",
      destination: "n2",
      state,
      step: "commit",
      steps: [],
      createdAt,
      updatedAt: createdAt,
      frozen: false,
      bytes: 0,
    });
    m.hello(
      asClientHello({
        ...base,
        migrations: [rec("old", 1, "committed"), rec("new", 2, "running")].map(toFeedMigration),
        history: { nodes: {}, containers: {} },
      }),
    );
    assert.deepEqual(
      m.migrationList().map((x) => x.id),
      ["new", "old"],
    );
    assert.deepEqual(
      m.running().map((x) => x.id),
      ["new"],
    );
    assert.equal(asClientMigration(rec("x", 3, "failed")).state, "failed");
  });
});

describe("formatting and sparklines", () => {
  it("escapes markup", () => assert.equal(esc(`<img src=x onerror="a">&'`), "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;"));
  it("formats sizes and durations", () => {
    assert.equal(fmtBytes(512), "512 B");
    assert.equal(fmtBytes(64 * 1024 * 1024), "64.0 MB");
    assert.equal(fmtDuration(850), "850 ms");
    assert.equal(fmtDuration(1234), "1.23 s");
    assert.equal(fmtDuration(125_000), "2m 05s");
  });
  it("scales a sparkline into its box, newest at the right", () => {
    assert.equal(sparkPath([0, 10], 100, 20), "M0.0,19.0L100.0,1.0");
    assert.equal(sparkPath([], 100, 20), "");
    // A floor keeps an idle container's line flat instead of stretched to full height.
    assert.equal(sparkPath([1, 1], 100, 20, 5), "M0.0,15.4L100.0,15.4");
  });
});
