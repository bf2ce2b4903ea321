/** RabbitMQ's three permission regexes for one user on one vhost. */
export interface VhostPermission {
  configure: string;
  write: string;
  read: string;
}

/** Which routing keys a user may publish (write) / consume (read) on one topic exchange. */
export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

export interface BrokerUserSpec {
  name: string;
  password: string;
  tags: string[];
  permission: VhostPermission;
  topicPermissions: TopicPermission[];
}

export interface BrokerSpec {
  vhost: string;
  users: BrokerUserSpec[];
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Least privilege for a node: it may only consume its own command queue and publish telemetry
 * and events under its own routing keys (`node.<id>` / `node.<id>.…`), so a compromised node
 * cannot impersonate another one or read its commands.
 */
export function nodePermissions(nodeId: string): { permission: VhostPermission; topicPermissions: TopicPermission[] } {
  const id = escapeRegex(nodeId);
  const ownKeys = `^node\\.${id}(\\..*)?$`;
  return {
    permission: {
      configure: `^herd\\.commands\\.${id}$`,
      write: "^herd\\.(telemetry|events)$",
      read: `^herd\\.commands\\.${id}$`,
    },
    topicPermissions: [
      { exchange: "herd.telemetry", write: ownKeys, read: "^$" },
      { exchange: "herd.events", write: ownKeys, read: "^$" },
    ],
  };
}

export function brokerSpec(opts: {
  vhost: string;
  users: { admin: string; control: string; nodePrefix: string };
  adminPassword: string;
  controlPassword: string;
  nodePasswords: Record<string, string>;
}): BrokerSpec {
  const herdOnly = "^herd\\..*";
  const users: BrokerUserSpec[] = [
    {
      name: opts.users.admin,
      password: opts.adminPassword,
      tags: ["administrator"],
      permission: { configure: ".*", write: ".*", read: ".*" },
      topicPermissions: [],
    },
    {
      name: opts.users.control,
      password: opts.controlPassword,
      tags: [],
      permission: { configure: herdOnly, write: herdOnly, read: herdOnly },
      topicPermissions: [],
    },
  ];
  for (const [id, password] of Object.entries(opts.nodePasswords).sort(([a], [b]) => a.localeCompare(b))) {
    users.push({ name: `${opts.users.nodePrefix}${id}`, password, tags: [], ...nodePermissions(id) });
  }
  return { vhost: opts.vhost, users };
}
