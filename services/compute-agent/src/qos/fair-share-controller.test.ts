import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FairShareController } from "./fair-share-controller.js";
import type { QosMember } from "./qos-controller.js";

const member = (id: string, cpuMillicores: number | undefined, mode: "fair" | "static" = "fair", weight = 1): QosMember => ({
  id,
  name: id,
  pid: 1,
  optIns: [{ kind: "fair", weight, minMillicores: undefined, mode }],
  ...(cpuMillicores !== undefined ? { cpuMillicores, memBytes: 1_000_000 } : {}),
});
const cpuOf = (d: Awaited<ReturnType<FairShareController["step"]>>, id: string) => d.desired.get(id)?.cgroup?.cpuMillicores ?? NaN;

describe("FairShareController", () => {
  it("first period (no usage yet): templates; quotas always sum to the capacity", async () => {
    const c = new FairShareController(() => ({ cpuMillicores: 1000, memoryBytes: 0 }));
    const d = await c.step([member("a", undefined), member("b", undefined)]);
    assert.equal(cpuOf(d, "a"), 500);
    assert.equal(cpuOf(d, "b"), 500);
  });

  it("a busy container pinned at its quota is probed upward; a quiet one lends its share and earns credit", async () => {
    const c = new FairShareController(() => ({ cpuMillicores: 1000, memoryBytes: 0 }));
    await c.step([member("busy", undefined), member("quiet", undefined)]);
    let d = await c.step([member("busy", 500), member("quiet", 50)]);
    for (let k = 0; k < 5; k++) d = await c.step([member("busy", cpuOf(d, "busy")), member("quiet", 50)]);
    assert.ok(cpuOf(d, "busy") > 850, `busy gets most of the core: ${cpuOf(d, "busy")}`);
    assert.equal(Math.round(cpuOf(d, "busy") + cpuOf(d, "quiet")), 1000);
    assert.ok((c.credits().get("quiet") ?? 0) > 0, "the quiet one earned credit");
    assert.ok(Math.abs([...c.credits().values()].reduce((a, b) => a + b, 0)) < 5, "credits conserved (rounding aside)");
  });

  it("static baseline: held at the template whatever it uses; fair ones share the rest", async () => {
    const c = new FairShareController(() => ({ cpuMillicores: 1200, memoryBytes: 0 }));
    await c.step([member("s", undefined, "static"), member("f1", undefined), member("f2", undefined)]);
    const d = await c.step([member("s", 10, "static"), member("f1", 400), member("f2", 50)]);
    assert.equal(cpuOf(d, "s"), 400);
    assert.equal(Math.round(cpuOf(d, "f1") + cpuOf(d, "f2")), 800);
    assert.equal(d.status.find((r) => r.id === "s")?.credits, undefined);
  });

  it("forget drops a leaver's credit", async () => {
    const c = new FairShareController(() => ({ cpuMillicores: 1000, memoryBytes: 0 }));
    await c.step([member("a", 100), member("b", 900)]);
    c.forget("a");
    assert.equal(c.credits().has("a"), false);
  });
});
