import { spawn } from "node:child_process";
import { ExternalError } from "../../../../shared/src/errors.js";

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a short system tool (tc, ip) with no shell, in its own process group, killed with the group at the deadline. */
export type ToolRunner = (file: string, args: readonly string[], timeoutMs?: number) => Promise<ToolResult>;

export const runTool: ToolRunner = (file, args, timeoutMs = 5_000) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new ExternalError(`${file}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new ExternalError(`${file} ${args.join(" ")} did not finish within ${timeoutMs} ms`, { retryable: true }));
      else resolve({ stdout, stderr, code: code ?? 1 });
    });
  });
