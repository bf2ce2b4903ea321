import { connect, type Socket } from "node:net";
import { ExternalError } from "../../../../shared/src/errors.js";

export interface ProbeTarget {
  address: string;
  port: number;
  /** Bytes sent per round trip (the echo returns as many). */
  bytes: number;
  /** Round trips per measurement. */
  samples: number;
  /** How they are summarised (default median). A queue behind closed-loop traffic makes round trips bimodal; their mean moves smoothly with the rate, their median jumps between the modes. */
  statistic?: "median" | "mean";
  /** Deadline of the whole measurement. */
  timeoutMs: number;
}

/**
 * Measures a service's latency. Contract: resolves with the median (or mean) round trip in ms within
 * timeoutMs; a round trip still unanswered at the deadline counts as the time it has waited (a
 * lower bound: "at least this slow"); rejects only when the service cannot be reached at all.
 */
export interface LatencyProbe {
  measure(target: ProbeTarget): Promise<number>;
  close(): void;
}

interface Conn {
  socket: Socket;
  pending: number;
  onDone?: () => void;
  broken?: Error;
}

/**
 * Round trips against a TCP echo service (the workload image's `netecho`) over one kept-open
 * connection per service (a fresh connection per period would measure TCP slow start, not the
 * queue). From the node's namespace the bytes cross the container's veth, i.e. the interface the
 * shaper sets a rate on.
 */
export class TcpEchoProbe implements LatencyProbe {
  private readonly conns = new Map<string, Conn>();

  async measure(target: ProbeTarget): Promise<number> {
    const deadline = performance.now() + target.timeoutMs;
    const conn = await this.connection(target, target.timeoutMs);
    const payload = Buffer.alloc(target.bytes, 0x71);
    const rtts: number[] = [];
    for (let k = 0; k < target.samples; k++) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      const started = performance.now();
      const answered = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), left);
        conn.pending = target.bytes;
        conn.onDone = () => {
          clearTimeout(timer);
          resolve(true);
        };
        conn.socket.write(payload);
      });
      rtts.push(performance.now() - started);
      if (conn.broken) throw conn.broken;
      if (!answered) {
        // The echo is still queued: this connection's byte stream is out of step, start afresh.
        this.drop(target);
        break;
      }
    }
    if (rtts.length === 0)
      throw new ExternalError(`latency probe to ${target.address}:${target.port}: no round trip within ${target.timeoutMs} ms`, { retryable: true });
    return target.statistic === "mean" ? rtts.reduce((a, b) => a + b, 0) / rtts.length : median(rtts);
  }

  close(): void {
    for (const c of this.conns.values()) c.socket.destroy();
    this.conns.clear();
  }

  private drop(target: ProbeTarget): void {
    const key = `${target.address}:${target.port}`;
    this.conns.get(key)?.socket.destroy();
    this.conns.delete(key);
  }

  private connection(target: ProbeTarget, timeoutMs: number): Promise<Conn> {
    const key = `${target.address}:${target.port}`;
    const open = this.conns.get(key);
    if (open && !open.broken) return Promise.resolve(open);
    this.drop(target);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.address, port: target.port, noDelay: true });
      const conn: Conn = { socket, pending: 0 };
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ExternalError(`latency probe to ${key}: no connection within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      socket.on("connect", () => {
        clearTimeout(timer);
        this.conns.set(key, conn);
        resolve(conn);
      });
      socket.on("data", (chunk: Buffer) => {
        conn.pending -= chunk.length;
        if (conn.pending <= 0) conn.onDone?.();
      });
      const fail = (err: Error) => {
        clearTimeout(timer);
        conn.broken = new ExternalError(`latency probe to ${key}: ${err.message}`, { cause: err, retryable: true });
        if (this.conns.get(key) === conn) this.conns.delete(key);
        conn.onDone?.();
        reject(conn.broken);
      };
      socket.on("error", fail);
      socket.on("close", () => fail(new Error("connection closed")));
    });
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
