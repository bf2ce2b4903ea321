import { ExternalError } from "../../../../shared/src/errors.js";
import { runProcess } from "../../../../shared/src/process/run-process.js";

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

export const runCommand: CommandRunner = async (file, args, options = {}) => {
  // Its own process group with a deadline: a hung `ip`, `tc` or `rabbitmqctl` is killed with its children.
  const out = await runProcess(file, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    input: options.input,
    timeoutMs: options.timeoutMs ?? 120_000,
    maxOutputChars: 16 * 1024 * 1024,
  });
  const result = { stdout: out.stdout, stderr: out.stderr, code: out.code };
  if (result.code !== 0 && options.check !== false) {
    const detail = (out.stderr.trim() || out.stdout.trim()).split("\n").slice(-3).join(" | ");
    throw new ExternalError(`${file} ${args[0] ?? ""} failed (exit ${result.code}${out.signal ? `, ${out.signal}` : ""}): ${detail}`);
  }
  return result;
};
