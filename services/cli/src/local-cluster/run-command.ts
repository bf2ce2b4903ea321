import { spawn } from "node:child_process";
import { ExternalError } from "../../../../shared/src/errors.js";

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** Written to the child's stdin (used to pass passwords without putting them in argv). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** When false a non-zero exit is returned, not thrown. Default true. */
  check?: boolean;
  timeoutMs?: number;
}

/** Runs a program with arguments (no shell). Throws ExternalError on a non-zero exit when `check`. */
export type CommandRunner = (file: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export const runCommand: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => reject(new ExternalError(`${file}: ${err.message}`, { cause: err })));
    child.on("close", (code, signal) => {
      const result = { stdout, stderr, code: code ?? (signal ? 128 : 1) };
      if (result.code !== 0 && options.check !== false) {
        const detail = (stderr.trim() || stdout.trim()).split("\n").slice(-3).join(" | ");
        reject(new ExternalError(`${file} ${args[0] ?? ""} failed (exit ${result.code}${signal ? `, ${signal}` : ""}): ${detail}`));
        return;
      }
      resolve(result);
    });
    child.stdin.on("error", () => undefined); // the child may exit before reading its input
    child.stdin.end(options.input ?? "");
  });
