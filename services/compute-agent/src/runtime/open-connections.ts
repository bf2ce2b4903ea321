import { readFile } from "node:fs/promises";
import type { ContainerSpec, Refusal } from "./container-spec.js";

/** A connected TCP socket (CRIU dumps it only with --tcp-established). */
export interface TcpConnection {
  local: string;
  remote: string;
  state: string;
}

// /proc/net/tcp states of a connected socket: ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1,
// FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING. LISTEN (0A), CLOSE (07) and TIME_WAIT (06, no
// process holds it) do not stop a checkpoint.
const CONNECTED: Record<string, string> = {
  "01": "ESTABLISHED",
  "02": "SYN_SENT",
  "03": "SYN_RECV",
  "04": "FIN_WAIT1",
  "05": "FIN_WAIT2",
  "08": "CLOSE_WAIT",
  "09": "LAST_ACK",
  "0B": "CLOSING",
};

/** "0100007F:1F90" → "127.0.0.1:8080"; the IPv6 form (four little-endian words) → "[::1]:8080". */
export function decodeProcAddress(hex: string): string {
  const [addr = "", portHex = "0"] = hex.split(":");
  const port = Number.parseInt(portHex, 16);
  const bytes: number[] = [];
  for (let w = 0; w + 8 <= addr.length; w += 8) {
    const word = addr.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(word.slice(b, b + 2), 16));
  }
  if (bytes.length === 4) return `${bytes.join(".")}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  const v6 = groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
  return `[${v6}]:${port}`;
}

/** Connected sockets in `/proc/<pid>/net/tcp` or `tcp6` text. Pure. */
export function parseConnectedTcp(procNetTcp: string): TcpConnection[] {
  const out: TcpConnection[] = [];
  for (const line of procNetTcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const state = CONNECTED[f[3] ?? ""];
    if (state) out.push({ local: decodeProcAddress(f[1] ?? ""), remote: decodeProcAddress(f[2] ?? ""), state });
  }
  return out;
}

/**
 * The connections that stop `spec` from moving, one refusal each, with the reason. Pure.
 * Checkpoints take established connections with TCP repair (runc --tcp-established), so a
 * container on the cluster network (a static address that moves with it) keeps them all: its
 * peers see a stall, not a reset. Any other container comes back at another address (or none),
 * so its connections are refused up front. (A host loopback service or host unix socket is only
 * reachable through host namespaces or host paths, which checkMigratable refuses anyway.)
 */
export function connectionRefusals(spec: Pick<ContainerSpec, "networkMode" | "ipv4Address">, conns: readonly TcpConnection[]): Refusal[] {
  if (spec.ipv4Address) return [];
  return conns.map((c) => ({
    code: "tcp-connection",
    detail: `${c.local} -> ${c.remote} (${c.state})`,
    reason: `an open TCP connection on network "${spec.networkMode}", where the container would not keep its address on another node: the peer would see a reset. Containers on the cluster network (herd run --network cluster, the default) keep their address and connections`,
  }));
}

/**
 * Connected TCP sockets in the network namespace of process `pid` (a container's init), read from
 * `<procRoot>/<pid>/net/tcp{,6}`, which show that process's namespace. Empty when the process is gone.
 */
export async function connectedTcp(pid: number, procRoot = "/proc"): Promise<TcpConnection[]> {
  if (!Number.isInteger(pid) || pid <= 0) return [];
  const out: TcpConnection[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const text = await readFile(`${procRoot}/${pid}/net/${table}`, "utf8").catch(() => "");
    out.push(...parseConnectedTcp(text));
  }
  return out;
}
