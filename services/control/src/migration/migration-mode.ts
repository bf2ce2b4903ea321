import { POST_COPY_RISK, type MigrationMode } from "../../../../shared/src/contracts/index.js";

export { POST_COPY_RISK };

/** What a node said in its heartbeat about post-copy (CRIU lazy pages through Docker). */
export interface PostCopySupport {
  available: boolean;
  detail: string;
}

export type RequestedMode = MigrationMode | "auto";

/** `auto` picks post-copy from this much memory on: below it, stop-and-copy's whole dump is already short. */
export const AUTO_POST_COPY_MIN_BYTES = 64 * 1024 * 1024;

export type ModeChoice = { ok: true; mode: MigrationMode; notes: string[] } | { ok: false; reason: string };

function unavailable(nodes: { id: string; postCopy: PostCopySupport | undefined }[]): string | undefined {
  const missing = nodes
    .filter((n) => !n.postCopy?.available)
    .map((n) => `${n.id}: ${n.postCopy ? n.postCopy.detail : "its agent has not reported post-copy support (an older agent)"}`);
  return missing.length ? missing.join("; ") : undefined;
}

/**
 * Pure: the mode a migration runs in. Post-copy needs both nodes to report lazy-pages support;
 * asked for explicitly and impossible, it is refused with the nodes' reasons. `auto` falls back
 * to stop-and-copy (saying why) when either node cannot, or the container holds less than
 * AUTO_POST_COPY_MIN_BYTES.
 */
export function chooseMode(
  requested: RequestedMode | undefined,
  source: { id: string; postCopy: PostCopySupport | undefined },
  destination: { id: string; postCopy: PostCopySupport | undefined },
  memoryBytes: number,
): ModeChoice {
  const want = requested ?? "stop-and-copy";
  if (want === "stop-and-copy") return { ok: true, mode: "stop-and-copy", notes: [] };
  const why = unavailable([source, destination]);
  if (want === "post-copy") {
    if (why) return { ok: false, reason: `--mode post-copy is not possible: ${why}` };
    return { ok: true, mode: "post-copy", notes: [POST_COPY_RISK] };
  }
  if (why) return { ok: true, mode: "stop-and-copy", notes: [`auto chose stop-and-copy: post-copy is not possible (${why})`] };
  if (memoryBytes < AUTO_POST_COPY_MIN_BYTES)
    return {
      ok: true,
      mode: "stop-and-copy",
      notes: [
        `auto chose stop-and-copy: the container uses ${Math.round(memoryBytes / 1048576)} MiB, below the ${AUTO_POST_COPY_MIN_BYTES / 1048576} MiB from which post-copy pays off`,
      ],
    };
  return { ok: true, mode: "post-copy", notes: [`auto chose post-copy (${Math.round(memoryBytes / 1048576)} MiB of memory)`, POST_COPY_RISK] };
}
