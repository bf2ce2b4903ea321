import { Redis } from "ioredis";
import { join } from "node:path";
import { ExternalError } from "../../../../shared/src/errors.js";
import { readRedisPassword, REDIS_USER, withRedisCredentials } from "../../../../shared/src/redis-credentials.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { HostServices } from "./host-services.js";
import type { WorkloadImage } from "./node-engine.js";
import { runCommand, type CommandRunner } from "./run-command.js";

/**
 * Host services through the repository's own scripts, so the install/start logic lives once, in
 * infra/bootstrap.sh, for both a fresh machine and `herd up`.
 */
export class BootstrapHostServices implements HostServices {
  private readonly repoRoot: string;
  private readonly stateDir: string;
  private readonly redisUrl: string;
  private readonly log: Logger;
  private readonly run: CommandRunner;

  constructor(opts: { repoRoot: string; stateDir: string; log: Logger; redisUrl?: string; run?: CommandRunner }) {
    this.repoRoot = opts.repoRoot;
    this.stateDir = opts.stateDir;
    this.log = opts.log;
    this.redisUrl = opts.redisUrl ?? "redis://127.0.0.1:6379";
    this.run = opts.run ?? runCommand;
  }

  async ensureRunning(): Promise<void> {
    const { stdout } = await this.run("bash", [join(this.repoRoot, "infra/bootstrap.sh"), "--services-only"], {
      env: { ...process.env, HERD_STATE_DIR: this.stateDir },
      timeoutMs: 300_000,
    });
    for (const line of stdout.trim().split("\n")) this.log.debug(`bootstrap ${line}`);
  }

  redisPassword(): string | undefined {
    return readRedisPassword();
  }

  async buildWorkloadImage(): Promise<WorkloadImage> {
    const { stdout } = await this.run(join(this.repoRoot, "infra/workloads/build-image.sh"), ["--print-hash"], {
      env: { ...process.env, HERD_STATE_DIR: this.stateDir },
    });
    const [status, hash] = stdout.trim().split("\n");
    if (!hash || !/^[0-9a-f]{64}$/.test(hash)) throw new ExternalError(`build-image.sh printed no hash: ${stdout.trim()}`);
    this.log.debug("Workload image", { status, hash: hash.slice(0, 12) });
    return { tarball: join(this.stateDir, "images", "workload.tar"), hash };
  }

  async flushHerdKeys(): Promise<number> {
    const pw = this.redisPassword();
    const url = pw === undefined ? this.redisUrl : withRedisCredentials(this.redisUrl, REDIS_USER, pw);
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false });
    try {
      await redis.connect();
      let cursor = "0";
      let deleted = 0;
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", "herd:*", "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== "0");
      return deleted;
    } finally {
      redis.disconnect();
    }
  }
}
