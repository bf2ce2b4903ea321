import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { HerdError } from "../../../shared/src/errors.js";
import { ApiClient } from "./api-client.js";

/** A loopback server whose handler misbehaves as told. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("ApiClient", () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it("gives up at its deadline on a control service that never answers, naming the request", async () => {
    const { server, url } = await serve(() => {
      // accepted, never answered
    });
    servers.push(server);
    const client = new ApiClient({ url, token: "t" }, 200);
    await assert.rejects(client.get("/containers"), (err: unknown) => {
      assert.ok(err instanceof HerdError);
      assert.equal(err.code, "UNREACHABLE");
      assert.match(err.message, /GET \/containers\): no answer within 200 ms/);
      return true;
    });
  });

  it("says the control service went away when it dies in the middle of an answer", async () => {
    const { server, url } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write('{"containers": [');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    servers.push(server);
    const client = new ApiClient({ url, token: "t" }, 5_000);
    await assert.rejects(client.get("/containers"), (err: unknown) => {
      assert.ok(err instanceof HerdError);
      assert.equal(err.code, "UNREACHABLE");
      assert.match(err.message, /cannot reach the control API/);
      return true;
    });
  });

  it("carries the server's 400 as a validation error naming the field", async () => {
    const { server, url } = await serve((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "memory: must be positive", field: "memory" }));
    });
    servers.push(server);
    await assert.rejects(new ApiClient({ url, token: "t" }).post("/containers", {}), /memory/);
  });
});
