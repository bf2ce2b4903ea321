// Runs the compiled tests with node's own test runner.
// unit: every *.test.js next to the code; integration: test/integration/*.test.js (serially:
// they share one local cluster and the host's RabbitMQ and Redis).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const kind = process.argv[2] ?? "unit";
const roots = kind === "integration" ? ["dist/test/integration"] : ["dist/shared", "dist/services"];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const files = roots.flatMap((r) => walk(r, [])).sort();
if (files.length === 0) {
  console.error(`no ${kind} test files found under ${roots.join(", ")} (did the build run?)`);
  process.exit(1);
}
const args = ["--enable-source-maps", "--test", "--test-reporter=spec"];
if (kind === "integration") args.push("--test-concurrency=1");
const result = spawnSync(process.execPath, [...args, ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
