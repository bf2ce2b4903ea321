import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Redis } from "ioredis";
import { createLogger } from "../../../../shared/src/logger.js";
import { AmqpMessageBus } from "../../../../shared/src/messaging/amqp-message-bus.js";
import { CommandClient } from "../commands/command-client.js";
import { ControlMetrics } from "../control-metrics.js";
import { RedisModelStore } from "../forecast/redis-model-store.js";
import { JobManager } from "../jobs/job-manager.js";
import { RedisJobStore } from "../jobs/redis-job-store.js";
import { MigrationOrchestrator } from "../migration/migration-orchestrator.js";
import { RedisMigrationStore } from "../migration/migration-store.js";
import { parseMoveBudget } from "../placement/move-planner.js";
import { ForecastCache } from "../rebalance/forecast-cache.js";
import { Rebalancer } from "../rebalance/rebalancer.js";
import { RedisStateStore } from "../state/redis-state-store.js";
import { buildControlApi } from "./control-api.js";
import { QosEventHandler } from "../qos/qos-event-handler.js";
import { mountedRoutes } from "./mounted-routes.js";

const TOKEN = "t".repeat(32);

/**
 * The control API exactly as the service assembles it (real route groups; the Redis client and the
 * broker are created but never connected: building routes and serving the document touch neither).
 */
function controlApp() {
  const log = createLogger({ level: "error" });
  const redis = new Redis({ lazyConnect: true });
  const store = new RedisStateStore(redis);
  const migrationStore = new RedisMigrationStore(redis);
  const commands = new CommandClient(new AmqpMessageBus({ url: "amqp://127.0.0.1:1/none", logger: log }), log);
  const migrations = new MigrationOrchestrator({ state: store, migrations: migrationStore, commands, log, downAfterMs: 6000, transferPort: 8730 });
  const rebalancer = new Rebalancer({
    state: store,
    migrations: migrationStore,
    orchestrator: migrations,
    forecasts: new ForecastCache({ store: new RedisModelStore(redis), log, retrainMs: 60_000, horizon: 6 }),
    log,
    policy: "threshold",
    policyArgs: {},
    budget: parseMoveBudget({}),
    intervalMs: 10_000,
    sampleMs: 1000,
    downAfterMs: 6000,
  });
  const jobs = new JobManager({
    jobs: new RedisJobStore(redis),
    state: store,
    commands,
    log,
    defaults: { policy: "bf", paused: false },
    downAfterMs: 6000,
    isMigrating: async () => false,
  });
  const app = buildControlApi({
    store,
    commands,
    metrics: new ControlMetrics(),
    token: TOKEN,
    downAfterMs: 6000,
    log,
    migrations,
    migrationStore,
    rebalancer,
    jobs,
    sampleMs: 1000,
    qos: new QosEventHandler({ state: store, migrations, downAfterMs: 6000, log }),
  });
  return { app, redis };
}

describe("OpenAPI document and Swagger UI", () => {
  const { app, redis } = controlApp();
  let server: Server;
  let base = "";
  before(async () => {
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    redis.disconnect();
  });

  const getDoc = async () => {
    const res = await fetch(`${base}/openapi.json`);
    assert.equal(res.status, 200, "served without the token");
    return (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  };

  it("is a valid OpenAPI 3.1 document (checked by @apidevtools/swagger-parser)", async () => {
    const doc = await getDoc();
    assert.equal(doc.openapi, "3.1.0");
    await SwaggerParser.validate(JSON.parse(JSON.stringify(doc)) as Parameters<typeof SwaggerParser.validate>[0]);
  });

  it("documents every route the server mounts, and nothing it does not", async () => {
    const doc = await getDoc();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    // Middleware mounted on a path without routes of its own (the token guard in front of /api/v1).
    const middleware = new Set(["USE /api/v1"]);
    const mounted = mountedRoutes(app).filter((r) => !middleware.has(r));
    assert.ok(mounted.length >= 25, `found only ${mounted.length} routes: ${mounted.join(", ")}`);
    const missing = mounted.filter((r) => !documented.includes(r));
    assert.deepEqual(missing, [], `mounted but not in the OpenAPI document (add them to the route group's documenter): ${missing.join(", ")}`);
    const stale = documented.filter((r) => !mounted.includes(r));
    assert.deepEqual(stale, [], `documented but not mounted: ${stale.join(", ")}`);
    for (const r of [
      "POST /api/v1/jobs",
      "GET /api/v1/jobs",
      "GET /api/v1/jobs/{id}",
      "DELETE /api/v1/jobs/{id}",
      "GET /api/v1/nodes",
      "POST /api/v1/migrations",
      "GET /openapi.json",
      "GET /docs",
    ]) {
      assert.ok(mounted.includes(r), `${r} is mounted`);
    }
  });

  it("describes the jobs API from the schemas it validates with", async () => {
    const doc = (await getDoc()) as unknown as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> }; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    const post = doc.paths["/api/v1/jobs"]!.post!;
    assert.equal(post.requestBody?.content["application/json"]?.schema.$ref, "#/components/schemas/JobSubmission");
    assert.ok(post.responses["422"], "the refusal is documented");
    const sub = doc.components.schemas.JobSubmission!;
    assert.deepEqual(Object.keys(sub.properties ?? {}).sort(), ["containers", "name", "policy", "priority"]);
    assert.ok(sub.required?.includes("containers"));
  });

  it("serves Swagger UI from the swagger-ui-dist package, pointed at our document", async () => {
    const redirect = await fetch(`${base}/docs`, { redirect: "manual" });
    assert.equal(redirect.status, 301);
    const page = await fetch(`${base}/docs/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger-ui-bundle\.js/);
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    assert.ok((await bundle.arrayBuffer()).byteLength > 100_000);
    const init = await (await fetch(`${base}/docs/swagger-initializer.js`)).text();
    assert.match(init, /url: "\.\.\/openapi\.json"/);
    assert.doesNotMatch(init, /petstore/);
    assert.equal((await fetch(`${base}/docs/package.json`)).status, 404);
    assert.equal((await fetch(`${base}/docs/..%2F..%2Fpackage.json`)).status, 404);
  });

  it("still guards the API itself with the token", async () => {
    assert.equal((await fetch(`${base}/api/v1/jobs`)).status, 401);
  });

  it("refuses a migration mode it does not know with a 400 naming the field and the choices", async () => {
    const res = await fetch(`${base}/api/v1/migrations`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ container: "web", to: "n2", mode: "fast" }),
    });
    assert.equal(res.status, 400);
    const body = JSON.stringify(await res.json());
    assert.match(body, /mode/);
    assert.match(body, /must be one of stop-and-copy, post-copy, auto/);
  });
});
