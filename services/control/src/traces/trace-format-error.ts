import { readFile } from "node:fs/promises";
import { ValidationError } from "../../../../shared/src/errors.js";

/**
 * A trace file (or folder) is missing or malformed. The message reads `<file>:<line>: <what>` with
 * a 1-based line so an operator can open the exact spot; `line` is absent when the problem is
 * the file or folder itself (missing, unreadable).
 */
export class TraceFormatError extends ValidationError {
  readonly file: string;
  readonly line: number | undefined;
  constructor(file: string, line: number | undefined, what: string, options?: ErrorOptions) {
    super(line === undefined ? file : `${file}:${line}`, what, options);
    this.name = "TraceFormatError";
    this.file = file;
    this.line = line;
  }
}

/** Reads a whole text file, turning a missing/unreadable file into a TraceFormatError. */
export async function readTraceText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new TraceFormatError(file, undefined, `cannot read trace file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
}

/** Splits text into lines, accepting CRLF and one trailing newline. */
export function traceLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
