#!/usr/bin/env node
// Drives the local cluster without the CLI (for infra work and timing):
//   node infra/scripts/local-cluster.mjs up [nodes] [--no-processes] | down | demo | info | leftovers
// Needs `npm run build` first. Prints each step and the total time.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { LocalCluster } = await import(`${repoRoot}/dist/services/cli/src/local-cluster/index.js`);
const [cmd = "info", ...rest] = process.argv.slice(2);
const cluster = new LocalCluster({ repoRoot, stateDir: process.env.HERD_STATE_DIR, log: (l) => console.error(l) });
const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
try {
  if (cmd === "up") {
    const nodes = Number(rest.find((a) => /^\d+$/.test(a)) ?? 2);
    const info = await cluster.up({ nodes, startProcesses: rest.includes("--no-processes") ? false : undefined });
    console.log(`up: ${info.nodes.length} node(s) in ${secs()} s; api ${info.apiUrl}; control pid ${info.controlPid ?? "-"}`);
  } else if (cmd === "down") {
    await cluster.down();
    console.log(`down: clean in ${secs()} s`);
  } else if (cmd === "demo") {
    for (const c of await cluster.demo()) console.log(`${c.nodeId} ${c.name} ${c.containerId.slice(0, 12)} ${c.cmd.join(" ")}`);
  } else if (cmd === "leftovers") {
    const left = await cluster.leftovers();
    console.log(left.length ? left.join("\n") : "nothing left");
  } else {
    const info = cluster.info();
    console.log(info ? JSON.stringify({ ...info, apiToken: "***", amqp: { ...info.amqp, adminPassword: "***" } }, null, 2) : "no cluster");
  }
} catch (err) {
  console.error(`${cmd} failed after ${secs()} s: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
