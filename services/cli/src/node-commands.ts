import { chmodSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { NodeId } from "../../../shared/src/contracts/common.js";
import { ExternalError, ValidationError } from "../../../shared/src/errors.js";
import { runProcess } from "../../../shared/src/process/run-process.js";
import { ApiClient } from "./api-client.js";
import { computeEnvFile, JoinAnswer } from "./node-join-env.js";

/** The repository root (this file is dist/services/cli/src/node-commands.js). */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

interface JoinOptions {
  control: string;
  token?: string;
  nodeId: string;
  address: string;
  out: string;
  transferAllow?: string;
  dockerSocket?: string;
  dockerDataRoot?: string;
  dockerExecRoot?: string;
  agentStateDir?: string;
  up?: boolean;
}

/** `docker compose` (v2 plugin) when present, else `docker-compose` (v1, Debian's package). */
export async function composeCommand(): Promise<string[]> {
  const v2 = await runProcess("docker", ["compose", "version"], { timeoutMs: 20_000 }).catch(() => undefined);
  return v2?.code === 0 ? ["docker", "compose"] : ["docker-compose"];
}

/** herd node join, herd images build: setting up real hosts for docker-compose.yml. */
export function registerNodeCommands(program: Command): void {
  const node = program.command("node").description("compute hosts of a compose deployment");
  node
    .command("join")
    .description("join this host to a control (compose): control creates this node's own broker user; writes the compute profile's .env")
    .requiredOption("--control <url>", "the control API, e.g. http://10.0.0.1:7070")
    .addOption(new Option("--token <token>", "the API token (docker-compose exec control herd-secret api-token)").env("HERD_API_TOKEN"))
    .requiredOption("--node-id <id>", "this node's id (lowercase letters, digits, -)")
    .requiredOption("--address <ip>", "this host's address on the cluster network")
    // Not --env-file: Node 20 takes that flag for itself wherever it appears on the command line.
    .option("--out <file>", "where to write the settings (the compute profile's .env)", join(repoRoot, ".env"))
    .option("--transfer-allow <cidrs>", "networks allowed to send migration transfers here (default: the address's /24)")
    .option("--docker-socket <path>", "this host's Docker socket (default /var/run/docker.sock)")
    .option("--docker-data-root <dir>", "its data root (default /var/lib/docker)")
    .option("--docker-exec-root <dir>", "its exec root (default /run/docker)")
    .option("--agent-state-dir <dir>", "the agent's state on this host (default /var/lib/herd/agent)")
    .option("--up", "then start the agent: docker-compose --profile compute up -d")
    .action(async (opts: JoinOptions) => {
      await joinCommand(opts);
    });

  program
    .command("images")
    .description("container images for docker-compose.yml")
    .command("build")
    .description("build herd/rabbitmq, herd/redis, herd/control and herd/agent from Debian packages (infra/images/build.sh; cached)")
    .option("--docker-host <host...>", "engines to put them in (default: DOCKER_HOST or the local engine)")
    .action(async (opts: { dockerHost?: string[] }) => {
      const args = (opts.dockerHost ?? []).flatMap((h) => ["--docker-host", h]);
      const r = await runProcess("bash", [join(repoRoot, "infra/images/build.sh"), ...args], { timeoutMs: 60 * 60_000, onStdout: (c) => process.stdout.write(c) });
      if (r.code !== 0) throw new ExternalError(`infra/images/build.sh failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-10).join("\n")}`);
    });
}

async function joinCommand(opts: JoinOptions): Promise<void> {
  const id = NodeId.safeParse(opts.nodeId);
  if (!id.success) throw new ValidationError("--node-id", id.error.issues[0]?.message ?? "invalid");
  if (!opts.token) throw new ValidationError("--token", "required (or HERD_API_TOKEN): print it on the control host with 'docker-compose exec control herd-secret api-token'");
  const api = new ApiClient({ url: opts.control, token: opts.token }, 30_000);
  const answer = JoinAnswer.parse(await api.request<unknown>("POST", `/nodes/${encodeURIComponent(id.data)}/join`));
  const text = computeEnvFile(answer, {
    address: opts.address,
    transferAllow: opts.transferAllow,
    dockerSocket: opts.dockerSocket,
    dockerDataRoot: opts.dockerDataRoot,
    dockerExecRoot: opts.dockerExecRoot,
    agentStateDir: opts.agentStateDir,
  });
  const tmp = `${opts.out}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, opts.out);
  process.stdout.write(`node ${answer.nodeId} joined: broker user ${answer.brokerUser}; settings in ${opts.out}\n`);
  if (!opts.up) {
    process.stdout.write(`start its agent: docker-compose --profile compute --env-file ${opts.out} up -d\n`);
    return;
  }
  const [bin = "docker-compose", ...pre] = await composeCommand();
  const r = await runProcess(
    bin,
    [...pre, "-f", join(repoRoot, "docker-compose.yml"), "--project-directory", repoRoot, "--env-file", opts.out, "--profile", "compute", "up", "-d"],
    { timeoutMs: 10 * 60_000, onStdout: (c) => process.stdout.write(c) },
  );
  if (r.code !== 0) throw new ExternalError(`docker-compose --profile compute up failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
}
