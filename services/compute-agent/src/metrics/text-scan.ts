// Tiny hand-written scanners for kernel text files. The sampler parses a few thousand small files
// per second, so these avoid split()/regex and their per-call allocations.

const SPACE = 32;
const TAB = 9;
const NEWLINE = 10;
const ZERO = 48;
const NINE = 57;

export function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** Index of the first character at or after `pos` that is not a space or tab. */
export function skipBlanks(text: string, pos: number): number {
  while (pos < text.length && isBlank(text.charCodeAt(pos))) pos++;
  return pos;
}

/** Index of the first space, tab or newline at or after `pos` (or text.length). */
export function skipToken(text: string, pos: number): number {
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === SPACE || c === TAB || c === NEWLINE) break;
    pos++;
  }
  return pos;
}

/** Index just after the next newline at or after `pos` (or text.length). */
export function nextLine(text: string, pos: number): number {
  const nl = text.indexOf("\n", pos);
  return nl < 0 ? text.length : nl + 1;
}

/**
 * The unsigned decimal starting at `pos` (after blanks), or NaN when there are no digits there.
 * Values above 2^53 lose their last digits, which does not matter for rates.
 */
export function uintAt(text: string, pos: number): number {
  pos = skipBlanks(text, pos);
  let value = 0;
  let digits = 0;
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
    digits++;
    pos++;
  }
  return digits === 0 ? NaN : value;
}

/**
 * Value of `key` in a flat-keyed file ("key value" per line, like memory.stat, cpu.stat or
 * /proc/meminfo with `separator` ':'), or undefined when the key is absent.
 */
export function keyedValue(text: string, key: string, separator = " "): number | undefined {
  let from = 0;
  for (;;) {
    const at = text.indexOf(key, from);
    if (at < 0) return undefined;
    const after = at + key.length;
    const atLineStart = at === 0 || text.charCodeAt(at - 1) === NEWLINE;
    if (atLineStart && text.startsWith(separator, after)) {
      const v = uintAt(text, after + separator.length);
      return Number.isNaN(v) ? undefined : v;
    }
    from = after;
  }
}
