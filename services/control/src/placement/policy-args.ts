import { z } from "zod";

/**
 * A number argument with a default and an inclusive range; the message names the range so a bad
 * value fails at start-up with "must be between 0.1 and 1".
 */
export function rangedNumber(min: number, max: number, def: number) {
  const msg = `must be a number between ${min} and ${max}`;
  return z
    .number({ error: msg })
    .refine((v) => Number.isFinite(v) && v >= min && v <= max, { message: msg })
    .default(def);
}

export function rangedInt(min: number, max: number, def: number) {
  const msg = `must be an integer between ${min} and ${max}`;
  return z
    .number({ error: msg })
    .refine((v) => Number.isInteger(v) && v >= min && v <= max, { message: msg })
    .default(def);
}
