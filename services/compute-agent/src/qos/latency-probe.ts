import { connect } from "node:net";
import { ExternalError } from "../../../../shared/src/errors.js";

export interface ProbeTarget {
  address: string;
  port: number;
  /** Bytes sent per round trip (the echo returns as many). */
  bytes: number;
  /** Round trips per measurement; the median is reported. */
  samples: number;
  timeoutMs: number;
}

/** Measures a service's latency. Contract: resolves with the median round trip in ms, or rejects within timeoutMs. */
export interface LatencyProbe {
  measure(target: ProbeTarget): Promise<number>;
}

/**
 * Round trips against a TCP echo service (the workload image's `netecho`): one connection per
 * measurement, `samples` sequential echoes of `bytes` bytes. From the node's namespace the bytes
 * cross the container's veth, i.e. the interface the shaper sets a rate on.
 */
export class TcpEchoProbe implements LatencyProbe {
  measure(target: ProbeTarget): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.address, port: target.port, noDelay: true });
      const payload = Buffer.alloc(target.bytes, 0x71);
      const rtts: number[] = [];
      let pending = 0;
      let sentAt = 0;
      const timer = setTimeout(() => finish(new ExternalError(`latency probe to ${target.address}:${target.port} timed out after ${target.timeoutMs} ms`, { retryable: true })), target.timeoutMs);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(median(rtts));
      };
      const send = () => {
        pending = target.bytes;
        sentAt = performance.now();
        socket.write(payload);
      };
      socket.on("connect", send);
      socket.on("data", (chunk: Buffer) => {
        pending -= chunk.length;
        if (pending > 0) return;
        rtts.push(performance.now() - sentAt);
        if (rtts.length >= target.samples) finish();
        else send();
      });
      socket.on("error", (err) => finish(new ExternalError(`latency probe to ${target.address}:${target.port}: ${err.message}`, { cause: err, retryable: true })));
      socket.on("close", () => {
        if (rtts.length < target.samples) finish(new ExternalError(`latency probe to ${target.address}:${target.port}: connection closed`, { retryable: true }));
      });
    });
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
