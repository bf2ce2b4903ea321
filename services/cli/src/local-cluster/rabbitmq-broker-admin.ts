import { ExternalError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { BrokerAdmin } from "./broker-admin.js";
import type { BrokerSpec, BrokerUserSpec } from "./broker-permissions.js";
import { runCommand, type CommandRunner } from "./run-command.js";

/**
 * RabbitMQ through its two admin doors: `rabbitmqctl` only to create the administrator (guest is
 * deleted, so nothing else can log in yet; the password goes through stdin, never argv), then the
 * management HTTP API for everything else (one `rabbitmqctl` call costs ~0.5 s, an HTTP call ~ms).
 */
export class RabbitmqBrokerAdmin implements BrokerAdmin {
  private readonly managementUrl: string;
  private readonly adminPassword: string | undefined;
  private readonly run: CommandRunner;
  private readonly log: Logger;
  private readonly fetchFn: typeof fetch;
  private readonly adminUser: string;
  /** Every user of this cluster starts with it ("herd-"); `deprovision` removes exactly those. */
  private readonly userPrefix: string;

  constructor(opts: {
    managementUrl: string;
    adminUser: string;
    userPrefix: string;
    /** Unknown when `down` runs without a state file: then only rabbitmqctl is used. */
    adminPassword?: string;
    log: Logger;
    run?: CommandRunner;
    fetchFn?: typeof fetch;
  }) {
    this.managementUrl = opts.managementUrl.replace(/\/$/, "");
    this.adminPassword = opts.adminPassword;
    this.log = opts.log;
    this.run = opts.run ?? runCommand;
    this.fetchFn = opts.fetchFn ?? fetch;
    this.adminUser = opts.adminUser;
    this.userPrefix = opts.userPrefix;
  }

  private ours(name: string): boolean {
    return name.startsWith(this.userPrefix);
  }

  async provision(spec: BrokerSpec): Promise<void> {
    const admin = spec.users.find((u) => u.name === this.adminUser);
    if (!admin) throw new ExternalError(`broker spec has no ${this.adminUser} user`, { retryable: false });
    this.log.debug("Provisioning broker", { vhost: spec.vhost, users: spec.users.map((u) => u.name) });
    if (!(await this.adminWorks(admin.password))) await this.createAdminWithCtl(admin);
    await this.http(admin.password, "PUT", `/api/vhosts/${enc(spec.vhost)}`, {});
    for (const user of spec.users) await this.putUser(admin.password, spec.vhost, user);
    await this.waitForManagementSync(admin.password, spec);
    this.log.debug("Provisioned broker", { vhost: spec.vhost });
  }

  async deprovision(vhost: string): Promise<void> {
    this.log.debug("Deprovisioning broker", { vhost });
    if (this.adminPassword !== undefined && (await this.adminWorks(this.adminPassword))) {
      const pw = this.adminPassword;
      await this.http(pw, "DELETE", `/api/vhosts/${enc(vhost)}`, undefined, [404]);
      const users = (await this.http(pw, "GET", "/api/users")) as Array<{ name: string }>;
      const names = users.map((u) => u.name).filter((n) => this.ours(n) && n !== this.adminUser);
      for (const name of names) await this.http(pw, "DELETE", `/api/users/${enc(name)}`, undefined, [404]);
      await this.http(pw, "DELETE", `/api/users/${enc(this.adminUser)}`, undefined, [404]);
    } else {
      if ((await this.ctlListVhosts()).includes(vhost)) await this.ctl(["delete_vhost", vhost]);
      for (const name of (await this.ctlListUsers()).filter((n) => this.ours(n))) {
        await this.ctl(["delete_user", name]);
      }
    }
    this.log.debug("Deprovisioned broker", { vhost });
  }

  async leftovers(vhost: string): Promise<string[]> {
    const users = (await this.ctlListUsers()).filter((n) => this.ours(n)).map((n) => `broker user ${n}`);
    const vhosts = (await this.ctlListVhosts()).filter((v) => v === vhost).map((v) => `broker vhost ${v}`);
    return [...users, ...vhosts];
  }

  private async putUser(adminPw: string, vhost: string, user: BrokerUserSpec): Promise<void> {
    await this.http(adminPw, "PUT", `/api/users/${enc(user.name)}`, { password: user.password, tags: user.tags.join(",") });
    await this.http(adminPw, "PUT", `/api/permissions/${enc(vhost)}/${enc(user.name)}`, user.permission);
    for (const tp of user.topicPermissions) {
      await this.http(adminPw, "PUT", `/api/topic-permissions/${enc(vhost)}/${enc(user.name)}`, tp);
    }
  }

  /** The management API answers before its own view is updated; wait until the users are visible. */
  private async waitForManagementSync(adminPw: string, spec: BrokerSpec): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const perms = (await this.http(adminPw, "GET", `/api/vhosts/${enc(spec.vhost)}/permissions`)) as Array<{ user: string }>;
      const have = new Set(perms.map((p) => p.user));
      if (spec.users.every((u) => have.has(u.name))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ExternalError("broker permissions did not become visible within 5 s");
  }

  private async adminWorks(password: string): Promise<boolean> {
    try {
      const res = await this.fetchFn(`${this.managementUrl}/api/whoami`, { headers: { authorization: basic(this.adminUser, password) } });
      return res.ok;
    } catch (err) {
      this.log.debug("Management API not reachable as admin", { error: errorMessage(err) });
      return false;
    }
  }

  private async createAdminWithCtl(admin: BrokerUserSpec): Promise<void> {
    this.log.debug("Creating broker admin user with rabbitmqctl", { user: admin.name });
    const exists = (await this.ctlListUsers()).includes(admin.name);
    await this.ctl([exists ? "change_password" : "add_user", admin.name], admin.password + "\n");
    await this.ctl(["set_user_tags", admin.name, ...admin.tags]);
    // The management plugin may still be starting right after the broker: give it time.
    for (let i = 0; i < 100; i++) {
      if (await this.adminWorks(admin.password)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new ExternalError(`management API at ${this.managementUrl} does not accept ${admin.name}`);
  }

  private async http(password: string, method: string, path: string, body?: unknown, okStatus: number[] = []): Promise<unknown> {
    const res = await this.fetchFn(`${this.managementUrl}${path}`, {
      method,
      headers: { authorization: basic(this.adminUser, password), "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok && !okStatus.includes(res.status)) {
      // The path never holds a secret; bodies with passwords are never echoed.
      throw new ExternalError(`RabbitMQ management ${method} ${path} failed: HTTP ${res.status} ${await res.text()}`);
    }
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  private async ctl(args: string[], input?: string): Promise<string> {
    // The CLI fails (sometimes with a usage error) while the broker restarts: retry briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.run("rabbitmqctl", ["-q", ...args], { input, timeoutMs: 60_000 })).stdout;
      } catch (err) {
        if (attempt >= 4) throw err;
        this.log.debug("rabbitmqctl failed, retrying", { command: args[0], attempt, error: errorMessage(err) });
        await new Promise((r) => setTimeout(r, 1_000 * attempt));
      }
    }
  }

  private async ctlListUsers(): Promise<string[]> {
    const out = await this.ctl(["list_users", "--no-table-headers"]);
    return out
      .split("\n")
      .map((l) => l.split(/\s+/)[0] ?? "")
      .filter((n) => n !== "");
  }

  private async ctlListVhosts(): Promise<string[]> {
    const out = await this.ctl(["list_vhosts", "--no-table-headers"]);
    return out
      .split("\n")
      .map((l) => l.trim())
      .filter((n) => n !== "");
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}
