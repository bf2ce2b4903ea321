import type { Redis } from "ioredis";
import { ExternalError, ValidationError } from "../../../../shared/src/errors.js";
import { forecasterFromJSON, type PersistableForecaster } from "./model-codec.js";
import type { ModelStore } from "./model-store.js";

export interface RedisModelStoreOptions {
  /** Prepended to every key, e.g. `herd:model:`; tests use a random one. */
  prefix?: string;
  /** Expire saved models after this many seconds (stale models of gone containers age out). */
  ttlSeconds?: number;
  /** Close the client on `close()` (true when the store created it). */
  ownsClient?: boolean;
}

/** Trained models as JSON strings under `<prefix><key>` in Redis. */
export class RedisModelStore implements ModelStore {
  private readonly prefix: string;
  private closed = false;
  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisModelStoreOptions = {},
  ) {
    this.prefix = opts.prefix ?? "herd:model:";
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ExternalError(`redis model store: ${what} failed`, { cause: err });
    }
  }

  async save(key: string, model: PersistableForecaster): Promise<void> {
    const text = JSON.stringify(model.toJSON());
    await this.call(`save ${key}`, () =>
      this.opts.ttlSeconds ? this.redis.set(this.prefix + key, text, "EX", this.opts.ttlSeconds) : this.redis.set(this.prefix + key, text),
    );
  }

  async load(key: string): Promise<PersistableForecaster | undefined> {
    const text = await this.call(`load ${key}`, () => this.redis.get(this.prefix + key));
    if (text === null) return undefined;
    try {
      return forecasterFromJSON(JSON.parse(text));
    } catch (err) {
      throw new ValidationError(`model ${key}`, `saved model is unreadable: ${(err as Error).message}`, { cause: err });
    }
  }

  async delete(key: string): Promise<void> {
    await this.call(`delete ${key}`, () => this.redis.del(this.prefix + key));
  }

  async keys(): Promise<string[]> {
    const out: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await this.call("scan", () => this.redis.scan(cursor, "MATCH", `${this.prefix}*`, "COUNT", 200));
      cursor = next;
      for (const k of batch) out.push(k.slice(this.prefix.length));
    } while (cursor !== "0");
    return [...new Set(out)].sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opts.ownsClient) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
