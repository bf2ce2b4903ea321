// Validates docker-compose.yml with the real Compose (images cannot be pulled here, so `config`
// is as far as it goes): both profiles resolve with the example env files, the agent gets the
// host access it needs, the broker never uses guest, and a broken file is actually rejected.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const composeFile = join(repoRoot, "docker-compose.yml");

/** `docker compose` (v2 plugin) when present, else `docker-compose` (v1, Debian's package). */
async function composeCommand(): Promise<string[]> {
  try {
    await execFileAsync("docker", ["compose", "version"]);
    return ["docker", "compose"];
  } catch {
    await execFileAsync("docker-compose", ["version"]);
    return ["docker-compose"];
  }
}

async function compose(args: string[], envFile: string, file = composeFile): Promise<{ code: number; out: string }> {
  const [bin, ...pre] = await composeCommand();
  try {
    const { stdout } = await execFileAsync(bin ?? "docker-compose", [...pre, "-f", file, "--project-directory", repoRoot, "--env-file", envFile, ...args], {
      env: { ...process.env, HERD_ENV_FILE: envFile },
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stderr?: string; stdout?: string };
    return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

const controlEnv = join(repoRoot, "infra/compose.control.env.example");
const computeEnv = join(repoRoot, "infra/compose.compute.env.example");

describe("docker-compose.yml", () => {
  it("control profile: RabbitMQ (no guest), Redis with AOF, control built from its Dockerfile", async () => {
    const { code, out } = await compose(["--profile", "control", "config"], controlEnv);
    assert.equal(code, 0, out);
    for (const expected of [
      "rabbitmq:3-management",
      "RABBITMQ_DEFAULT_USER: herd-admin",
      "redis:7",
      "--appendonly",
      "infra/docker/control.Dockerfile",
      "HERD_AMQP_URL: amqp://herd-admin:",
      // Redis: Herd's ACL user with a password, the default user off; AMQP not on a wildcard address.
      "--user default off",
      "HERD_REDIS_URL: redis://herd:change-me-long-random-redis@redis:6379",
      "127.0.0.1:5672:5672",
    ]) {
      assert.ok(out.includes(expected), `missing ${expected}`);
    }
    assert.doesNotMatch(out, /guest/);
    const services = await compose(["--profile", "control", "config", "--services"], controlEnv);
    assert.ok(["control", "control-2", "rabbitmq", "redis"].every((s) => services.out.split("\n").includes(s)));
  });

  it("compute profile: privileged agent with the host's pid namespace, Docker socket, cgroups and data root", async () => {
    const { code, out } = await compose(["--profile", "compute", "config"], computeEnv);
    assert.equal(code, 0, out);
    const agent = out.slice(out.indexOf("  agent:"), out.indexOf("\n  control:"));
    for (const expected of [
      "privileged: true",
      "pid: host",
      "/var/run/docker.sock:/var/run/docker.sock",
      "/sys/fs/cgroup:/sys/fs/cgroup",
      "target: /var/lib/docker",
      "infra/docker/agent.Dockerfile",
      "HERD_NODE_ID: n1",
      "HERD_AMQP_URL: amqp://herd-node-n1:",
    ]) {
      assert.ok(agent.includes(expected), `agent lacks ${expected}`);
    }
  });

  it("the Dockerfiles start entry points that exist in the source tree", () => {
    for (const [dockerfile, entry] of [
      ["infra/docker/control.Dockerfile", "services/control/src/main.ts"],
      ["infra/docker/agent.Dockerfile", "services/compute-agent/src/main.ts"],
    ] as const) {
      const text = readFileSync(join(repoRoot, dockerfile), "utf8");
      assert.ok(text.includes(entry.replace("src/main.ts", "src/main.js")), `${dockerfile} runs ${entry}`);
      assert.ok(existsSync(join(repoRoot, entry)), entry);
    }
  });

  it("rejects a file with a mistake (the validation above is not vacuous)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "herd-compose-"));
    try {
      const broken = join(dir, "docker-compose.yml");
      writeFileSync(broken, readFileSync(composeFile, "utf8").replace("privileged: true", "privileged: maybe"));
      const { code, out } = await compose(["--profile", "compute", "config"], computeEnv, broken);
      assert.notEqual(code, 0);
      assert.match(out, /privileged/);
      const missing = await compose(["--profile", "compute", "config"], join(dir, "no-such.env"));
      assert.notEqual(missing.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
