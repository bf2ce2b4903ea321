/**
 * The installed CRIU can dump and restore TCP sockets on this kernel. `criu check` passes with
 * CRIU 4.1.1 too, which then fails on every INET socket (kernel >= 6.16 refuses SO_PASSCRED on
 * them), so only a real dump proves it: a `netecho` server holding a listening socket and an
 * established connection is dumped with --tcp-established (the process dies), restored, and its
 * client, which never reconnects and checks every echoed byte, keeps going; a new connection to
 * the restored listener works too. Loopback only.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureCriu, REPO_ROOT, waitFor } from "./runtime-harness.js";
import { execFileAsync } from "./support/cluster-harness.js";

const PORT = 17931;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function echoedCount(out: string): number {
  return [...out.matchAll(/^seq=(\d+) /gm)].length;
}

describe("criu: TCP sockets", { timeout: 120_000 }, () => {
  let dir: string;
  let netecho: string;
  const children: ChildProcess[] = [];
  let restoredPid: number | undefined;

  before(async () => {
    assert.match(await ensureCriu(), /criu ok/);
    dir = await mkdtemp(join(tmpdir(), "herd-criu-sock-"));
    netecho = join(dir, "netecho");
    await execFileAsync("gcc", ["-static", "-O2", "-o", netecho, join(REPO_ROOT, "infra/workloads/netecho.c")], { timeout: 60_000 });
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    if (restoredPid !== undefined) {
      try {
        process.kill(restoredPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("dumps a process with a listening and an established TCP socket and restores both", async () => {
    // The server leads its own session with /dev/null stdio: nothing outside it to restore.
    const server = spawn(netecho, [String(PORT)], { detached: true, stdio: "ignore" });
    children.push(server);
    const serverPid = server.pid;
    assert.ok(serverPid !== undefined);
    await waitFor("server listening", async () => {
      const { stdout } = await execFileAsync("ss", ["-Htln", `sport = :${PORT}`]);
      return stdout.includes(`:${PORT}`) ? true : undefined;
    });
    let clientOut = "";
    const client = spawn(netecho, ["client", "127.0.0.1", String(PORT), "20"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(client);
    client.stdout.on("data", (d: Buffer) => (clientOut += d.toString()));
    client.stderr.on("data", (d: Buffer) => (clientOut += d.toString()));
    await waitFor("client echoing", async () => (echoedCount(clientOut) >= 5 ? true : undefined));

    const images = join(dir, "images");
    await execFileAsync("mkdir", ["-p", images]);
    try {
      await execFileAsync("criu", ["dump", "-t", String(serverPid), "-D", images, "--tcp-established", "-v4", "-o", "dump.log"], { timeout: 60_000 });
    } catch (err) {
      const log = await readFile(join(images, "dump.log"), "utf8").catch(() => "");
      assert.fail(
        `criu dump failed: ${String(err)}\n${log
          .split("\n")
          .filter((l) => /Error/.test(l))
          .join("\n")}`,
      );
    }
    await exited(server); // dump kills it; reaped here so its pid is free for the restore
    const before = echoedCount(clientOut);
    assert.equal(client.exitCode, null, `client died while the server was dumped: ${clientOut.slice(-300)}`);

    try {
      await execFileAsync("criu", ["restore", "-D", images, "--tcp-established", "-d", "-v4", "-o", "restore.log", "--pidfile", join(dir, "restored.pid")], {
        timeout: 60_000,
      });
    } catch (err) {
      const log = await readFile(join(images, "restore.log"), "utf8").catch(() => "");
      assert.fail(
        `criu restore failed: ${String(err)}\n${log
          .split("\n")
          .filter((l) => /Error/.test(l))
          .join("\n")}`,
      );
    }
    restoredPid = Number((await readFile(join(dir, "restored.pid"), "utf8")).trim());
    assert.equal(restoredPid, serverPid, "CRIU restores the same pid");

    // The kept connection: the same client process, without reconnecting, sees its echoes again.
    await waitFor("client echoing after restore", async () => (echoedCount(clientOut) >= before + 10 ? true : undefined));
    assert.equal(client.exitCode, null, `client: ${clientOut.slice(-300)}`);
    assert.doesNotMatch(clientOut, /closed|reset|mismatch/);
    // The restored listener accepts a new connection.
    const { stdout } = await execFileAsync("timeout", ["5", netecho, "probe", "127.0.0.1", String(PORT), "10", "1", "1000"]);
    const done = /probe done .* ok=(\d+) failed=(\d+)/.exec(stdout);
    assert.ok(done, stdout);
    assert.ok(Number(done[1]) > 10, stdout);
    assert.equal(Number(done[2]), 0, stdout);
  });
});
