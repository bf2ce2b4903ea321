/** What orders container listings: the store's, and the API's pages (their cursors are these keys). */
export interface PageKey {
  nodeId: string;
  name: string;
  id: string;
}

/** Node, then name, then id, by code point (cheap, total, the same in every replica). */
export function compareKeys(a: PageKey, b: PageKey): number {
  if (a.nodeId !== b.nodeId) return a.nodeId < b.nodeId ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}
