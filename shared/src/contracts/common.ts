import { z } from "zod";
import { ValidationError } from "../errors.js";

/** Node ids name network namespaces, broker users and queues, so they are kept short and plain. */
export const NodeId = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "must be lowercase letters, digits or '-', starting with a letter, at most 31 characters");
export type NodeId = z.infer<typeof NodeId>;

export const WireErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string(),
  retryable: z.boolean(),
});

/** Formats the first zod issue as "path: message" so errors name the offending field. */
export function describeZodError(error: z.ZodError, prefix = ""): { field: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { field: prefix || "(root)", message: "invalid" };
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
  return { field: path || "(root)", message: issue.message };
}

/** Parses `value` with `schema`, throwing a ValidationError naming the first bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix = ""): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const { field, message } = describeZodError(result.error, prefix);
    throw new ValidationError(field, message);
  }
  return result.data;
}
