import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export interface UiAsset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Where `npm run build` puts the dashboard (compiled scripts plus the page and stylesheet). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL("../../../../ui/", import.meta.url));

/**
 * Reads the built dashboard once into memory, compressed ahead of time: the files are small and
 * fixed for the life of the process, so each request is a lookup (no disk, no per-request gzip).
 * Source maps are left out on purpose — they would double what a browser may fetch.
 * Returns an empty map when the directory is missing (the dashboard was not built).
 */
export async function loadUiAssets(dir: string = DEFAULT_UI_DIR): Promise<Map<string, UiAsset>> {
  const out = new Map<string, UiAsset>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = await readFile(join(dir, name));
    out.set(name, { body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` });
  }
  return out;
}
