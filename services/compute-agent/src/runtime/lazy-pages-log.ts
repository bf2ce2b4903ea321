/**
 * Reading `criu lazy-pages -v4`'s log while a post-copy restore pulls its memory: CRIU logs the
 * number of pages it will handle ("uffd: 1-12: Found 65547 pages to be handled by UFFD"), each
 * batch it reads from the source's page server ("pr1-1 Read 7f2dde71e000 32 pages") and, at the
 * end, "uffd: 1-12: UFFD transferred pages: (65547/65547)".
 */
export interface LazyPagesProgress {
  /** Pages the restored tasks will get lazily (sum over tasks); 0 until CRIU said. */
  totalPages: number;
  /** Pages read from the source so far. */
  transferredPages: number;
  /** CRIU's final count matched the total for every task it reported. */
  complete: boolean;
  /** CRIU's last error line, if any. */
  error?: string;
}

export function parseLazyPagesLog(log: string): LazyPagesProgress {
  let totalPages = 0;
  let transferredPages = 0;
  let finals = 0;
  let completeFinals = 0;
  let error: string | undefined;
  for (const line of log.split("\n")) {
    let m = /Found (\d+) pages to be handled by UFFD/.exec(line);
    if (m) {
      totalPages += Number(m[1]);
      continue;
    }
    m = /\bRead [0-9a-f]+ (\d+) pages/.exec(line);
    if (m) {
      transferredPages += Number(m[1]);
      continue;
    }
    m = /UFFD transferred pages: \((\d+)\/(\d+)\)/.exec(line);
    if (m) {
      finals++;
      if (m[1] === m[2]) completeFinals++;
      continue;
    }
    m = /Error \([^)]*\):\s*(.*)$/.exec(line);
    if (m) error = m[1]!.trim();
  }
  return {
    totalPages,
    transferredPages: Math.min(transferredPages, totalPages || transferredPages),
    complete: finals > 0 && finals === completeFinals && !error,
    ...(error ? { error } : {}),
  };
}
