import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { HerdError } from "../../../shared/src/errors.js";
import type { ApiClient } from "./api-client.js";

export const NETWORKED_DEMO = { server: "demo-echo", client: "demo-echo-client", port: 7000 } as const;

export interface NetworkedDemo {
  server: { name: string; node: string; address: string };
  client: { name: string; node: string };
}

/**
 * The networked part of `herd up --demo`: a `netecho` TCP server on the cluster network on the
 * first node and, on the second, a client that sends a request every 100 ms on one kept
 * connection and prints once a second how many succeeded, failed and had to reconnect, and the
 * longest gap it saw (`netecho probe`). Moving the server with `herd migrate demo-echo --to n2`
 * should leave failed=0 and reconnects=0. Through the control API, so the server's address is
 * claimed like any other. Idempotent: running demo containers are kept.
 */
export async function startNetworkedDemo(api: ApiClient, nodeIds: string[], timeoutMs = 60_000): Promise<NetworkedDemo> {
  const [first, second = first] = nodeIds;
  if (!first || !second) throw new HerdError("the networked demo needs at least one node");
  const deadline = Date.now() + timeoutMs;
  // Freshly started agents register within a heartbeat or two.
  for (;;) {
    const { nodes } = await api.get<{ nodes: Array<{ id: string; status: string }> }>("/nodes");
    const up = new Set(nodes.filter((n) => n.status === "up").map((n) => n.id));
    if (up.has(first) && up.has(second)) break;
    if (Date.now() > deadline) throw new HerdError(`nodes ${first} and ${second} did not report up within ${timeoutMs} ms`);
    await sleep(500);
  }
  const labels = { "herd.demo": "true" };
  const server = await api.post<{ address?: string }>("/containers", {
    node: first,
    name: NETWORKED_DEMO.server,
    image: "herd/workload:latest",
    cmd: ["netecho", String(NETWORKED_DEMO.port)],
    network: "cluster",
    labels,
  });
  const address = server.address;
  if (!address) throw new HerdError(`${NETWORKED_DEMO.server} got no cluster address`);
  // The client's first connection should find the server listening (the host reaches it over herd0).
  while (!(await answers(address, NETWORKED_DEMO.port))) {
    if (Date.now() > deadline) throw new HerdError(`${NETWORKED_DEMO.server} at ${address}:${NETWORKED_DEMO.port} did not answer within ${timeoutMs} ms`);
    await sleep(200);
  }
  await api.post("/containers", {
    node: second,
    name: NETWORKED_DEMO.client,
    image: "herd/workload:latest",
    cmd: ["netecho", "probe", address, String(NETWORKED_DEMO.port), "100"],
    network: "cluster",
    labels,
  });
  return { server: { name: NETWORKED_DEMO.server, node: first, address }, client: { name: NETWORKED_DEMO.client, node: second } };
}

/** True when a TCP connection to host:port opens within 1 s. */
export function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}
