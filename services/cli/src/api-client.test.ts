import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HerdError } from "../../../shared/src/errors.js";
import { ApiClient, resolveApiTarget } from "./api-client.js";

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

  it("says when the local cluster's control service is gone: where its log is and how to start it again", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "herd-api-"));
    try {
      // A port nothing listens on (one just released), and the pid of a process that has exited.
      const { server, url } = await serve(() => undefined);
      await new Promise((r) => server.close(r));
      const gonePid = spawnSync(process.execPath, ["-e", ""]).pid;
      writeFileSync(join(stateDir, "cluster.json"), JSON.stringify({ apiUrl: url, apiToken: "t", controlPid: gonePid, nodes: [{}, {}] }));
      const local = resolveApiTarget({ HERD_STATE_DIR: stateDir });
      await assert.rejects(new ApiClient(local, 2_000).get("/nodes"), (err: unknown) => {
        assert.ok(err instanceof HerdError);
        assert.equal(err.code, "UNREACHABLE");
        assert.match(err.message, new RegExp(`control service \\(pid ${gonePid}\\) is not running: its log is ${stateDir}/logs/control\\.log`));
        assert.match(err.message, /'herd up --nodes 2' starts it again/);
        return true;
      });
      // Another API (HERD_API_URL): nothing is known of its process, so nothing is guessed.
      const remote = resolveApiTarget({ HERD_STATE_DIR: stateDir, HERD_API_URL: url, HERD_API_TOKEN: "t" });
      await assert.rejects(new ApiClient(remote, 2_000).get("/nodes"), (err: unknown) => {
        assert.ok(err instanceof HerdError);
        assert.doesNotMatch(err.message, /not running/);
        return true;
      });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
