import { TimeoutError } from "../errors.js";

/**
 * Settles with `work`, or rejects with TimeoutError as soon as `signal` aborts or `timeoutMs`
 * passes. For remote calls that cannot be killed (an engine's HTTP API): the caller stops
 * waiting and can act on the failure; the remote side is told nothing.
 */
export function withDeadline<T>(work: Promise<T>, what: string, o: { signal?: AbortSignal; timeoutMs?: number }): Promise<T> {
  if (!o.signal && o.timeoutMs === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (why: string) => {
      cleanup();
      reject(new TimeoutError(`${what}: ${why}`, { retryable: false }));
    };
    const onAbort = () => fail("the command's time ran out");
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
    };
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener("abort", onAbort, { once: true });
    if (o.timeoutMs !== undefined) timer = setTimeout(() => fail(`no answer within ${o.timeoutMs} ms`), o.timeoutMs);
    work.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (err: unknown) => {
        cleanup();
        reject(err as Error);
      },
    );
  });
}
