// Builds the web dashboard into dist/ui: compiles its TypeScript for the browser (tsconfig.ui.json)
// and copies the page, stylesheet and icon next to the scripts. No bundler: the page loads a few
// small ES modules, preloaded from index.html so there is no request waterfall.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/ui");
const staticDir = join(root, "services/control/ui");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.ui.json")], { stdio: "inherit", timeout: 300_000 });
if (r.status !== 0) process.exit(r.status ?? 1);
for (const name of readdirSync(staticDir)) {
  if (/\.(html|css|svg)$/.test(name)) copyFileSync(join(staticDir, name), join(out, name));
}
