import { forecasterFromJSON, type PersistableForecaster } from "./model-codec.js";

/**
 * Where trained forecasters live between retrains (the control service restarts from here).
 * Contract: `save` replaces any model under `key`; `load` returns an equivalent forecaster (same
 * predictions) or undefined when nothing is saved; `delete` of a missing key is a no-op;
 * `close` is idempotent.
 */
export interface ModelStore {
  save(key: string, model: PersistableForecaster): Promise<void>;
  load(key: string): Promise<PersistableForecaster | undefined>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

/** Process-local store. Keeps JSON text, not objects, so it round-trips exactly like Redis does. */
export class InMemoryModelStore implements ModelStore {
  private readonly data = new Map<string, string>();
  async save(key: string, model: PersistableForecaster): Promise<void> {
    this.data.set(key, JSON.stringify(model.toJSON()));
  }
  async load(key: string): Promise<PersistableForecaster | undefined> {
    const text = this.data.get(key);
    return text === undefined ? undefined : forecasterFromJSON(JSON.parse(text));
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
  async keys(): Promise<string[]> {
    return [...this.data.keys()].sort();
  }
  async close(): Promise<void> {}
}
