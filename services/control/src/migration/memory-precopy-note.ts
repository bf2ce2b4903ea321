/** What a node said about CRIU's dirty-page tracking in its heartbeat. */
export interface MemoryPreCopySupport {
  available: boolean;
  detail: string;
}

/** The note `herd migrate` shows for a source node, or none when pre-copy would be possible there. */
export function memoryPreCopyNote(node: string, support: MemoryPreCopySupport | undefined): string | undefined {
  if (!support) return `stop-and-copy: ${node} has not said whether it can track dirty memory (an older agent), so memory is not pre-copied`;
  if (support.available) return undefined;
  return `stop-and-copy: memory pre-copy is unavailable on ${node} (this kernel has no dirty-page tracking; CRIU: "${support.detail}"), so the container is frozen while its whole memory is dumped and shipped`;
}
