import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { MigrationRecord } from "./migration-record.js";
import type { MigrationStore } from "./migration-store.js";

/**
 * The behaviour every MigrationStore must have; run against the in-memory store (unit, used by
 * the orchestrator's tests) and against Redis (test/integration/migration-store.test.ts).
 */
export function migrationStoreContract(name: string, open: () => Promise<MigrationStore>, teardown?: () => Promise<void>): void {
  describe(`MigrationStore contract: ${name}`, () => {
    let store: MigrationStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await teardown?.();
    });

    const record = (id: string, createdAt: number, state: MigrationRecord["state"] = "running"): MigrationRecord => ({
      id,
      containerId: "c".repeat(64),
      containerName: `web-${id}`,
      source: "n1",
      destination: "n2",
      state,
      step: "describe",
      steps: [{ name: "describe", node: "n1", startedAt: createdAt }],
      createdAt,
      updatedAt: createdAt,
      frozen: false,
      bytes: 0,
    });

    test("a saved record reads back equal, and a later save replaces it", async () => {
      const id = `m${randomBytes(4).toString("hex")}`;
      const r = record(id, 1_000);
      await store.save(r);
      assert.deepEqual(await store.get(id), r);
      const changed: MigrationRecord = { ...r, state: "rolled-back", frozen: true, whereabouts: "runs on n1" };
      await store.save(changed);
      assert.deepEqual(await store.get(id), changed);
      assert.equal(await store.get(`${id}-missing`), undefined);
    });

    test("a record read back is a copy: changing it changes nothing stored", async () => {
      const id = `m${randomBytes(4).toString("hex")}`;
      await store.save(record(id, 1_500));
      const read = await store.get(id);
      assert.ok(read);
      read.state = "failed";
      read.steps.push({ name: "prepare", node: "n2", startedAt: 2 });
      const again = await store.get(id);
      assert.equal(again?.state, "running");
      assert.equal(again?.steps.length, 1);
    });

    test("list is newest first; unfinished holds running and rolling-back only", async () => {
      const base = 10_000_000 + Math.floor(Math.random() * 1_000_000);
      const tag = randomBytes(3).toString("hex");
      const states: MigrationRecord["state"][] = ["running", "committed", "rolling-back", "failed", "rolled-back"];
      for (const [i, s] of states.entries()) await store.save(record(`${tag}-${i}`, base + i, s));
      const mine = (await store.list(1_000)).filter((r) => r.id.startsWith(tag));
      assert.deepEqual(
        mine.map((r) => r.id),
        [4, 3, 2, 1, 0].map((i) => `${tag}-${i}`),
      );
      const open = (await store.unfinished()).filter((r) => r.id.startsWith(tag)).map((r) => r.state);
      assert.deepEqual(open.sort(), ["rolling-back", "running"]);
    });

    test("the lock admits one migration per container until its holder unlocks", async () => {
      const name = `web-${randomBytes(4).toString("hex")}`;
      assert.equal(await store.lockHolder(name), undefined);
      assert.equal(await store.lock(name, "m1"), true);
      assert.equal(await store.lock(name, "m2"), false);
      assert.equal(await store.lockHolder(name), "m1");
      await store.unlock(name, "m2");
      assert.equal(await store.lockHolder(name), "m1", "only the holder unlocks");
      await store.unlock(name, "m1");
      assert.equal(await store.lockHolder(name), undefined);
      assert.equal(await store.lock(name, "m2"), true);
      await store.unlock(name, "m2");
    });
  });
}
