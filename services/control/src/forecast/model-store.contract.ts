import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { ModelStore } from "./model-store.js";
import { EwmaForecaster, LastValueForecaster } from "./baselines.js";
import { LinearForecaster } from "./linear-forecaster.js";
import { RandomForestForecaster } from "./random-forest-forecaster.js";
import type { PersistableForecaster } from "./model-codec.js";

/**
 * The behaviour every ModelStore must have; run against the in-memory store (unit) and against
 * a real Redis (integration) so the fake cannot drift from the real thing.
 */
export function modelStoreContract(name: string, open: () => Promise<ModelStore>, teardown?: (store: ModelStore) => Promise<void>): void {
  describe(`ModelStore contract: ${name}`, () => {
    let store: ModelStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await teardown?.(store);
      await store.close();
      await store.close(); // idempotent
    });

    const series = Array.from({ length: 150 }, (_, i) => 40 + 20 * Math.sin(i / 4) + (i % 3));
    const mem = series.map((v) => 100 - v / 2);
    const ctx = { covariates: { mem }, t: series.map((_, i) => i * 300) };
    const trained = (): PersistableForecaster[] => {
      const models: PersistableForecaster[] = [
        new LastValueForecaster(),
        new EwmaForecaster(0.8),
        new LinearForecaster({ horizons: [1, 3], selected: ["y.lag0", "y.mean6", "mem.lag0", "tod.sin"] }),
        new RandomForestForecaster({ horizons: [1, 3], forest: { nEstimators: 5 } }),
      ];
      for (const m of models) m.fit(series, ctx);
      return models;
    };

    for (const model of trained()) {
      test(`${model.name}: load returns a model with identical forecasts`, async () => {
        await store.save(`c1/${model.name}`, model);
        const loaded = await store.load(`c1/${model.name}`);
        assert.ok(loaded);
        assert.equal(loaded.name, model.name);
        assert.deepEqual(loaded.predict(series, 4, ctx), model.predict(series, 4, ctx));
        // Also from another origin: the restored model must be the trained one, not a refit.
        const earlier = series.slice(0, 100);
        const earlierCtx = { covariates: { mem: mem.slice(0, 100) }, t: ctx.t.slice(0, 100) };
        assert.deepEqual(loaded.predict(earlier, 3, earlierCtx), model.predict(earlier, 3, earlierCtx));
        assert.equal(JSON.parse(JSON.stringify(loaded.toJSON())).name, model.name);
      });
    }

    test("missing key loads as undefined; delete removes; save replaces", async () => {
      assert.equal(await store.load("nope"), undefined);
      await store.save("k", new EwmaForecaster(0.7));
      await store.save("k", new LastValueForecaster());
      assert.equal((await store.load("k"))?.name, "last");
      await store.delete("k");
      await store.delete("k");
      assert.equal(await store.load("k"), undefined);
    });

    test("keys lists what is saved, without the prefix", async () => {
      const keys = await store.keys();
      assert.deepEqual(keys, ["c1/ewma", "c1/last", "c1/linear", "c1/random-forest"]);
    });
  });
}
