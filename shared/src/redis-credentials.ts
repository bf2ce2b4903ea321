import { readFileSync } from "node:fs";
import { ValidationError } from "./errors.js";

/** The ACL user infra/bootstrap.sh creates for Herd on the host's Redis (the default user is off). */
export const REDIS_USER = "herd";
/** Where infra/bootstrap.sh keeps that user's password (root only, 0600). */
export const DEFAULT_REDIS_PASSWORD_FILE = "/var/lib/herd/redis/herd.password";

/** The password bootstrap generated, or undefined when the file is missing or unreadable. */
export function readRedisPassword(file = process.env.HERD_REDIS_PASSWORD_FILE ?? DEFAULT_REDIS_PASSWORD_FILE): string | undefined {
  try {
    const pw = readFileSync(file, "utf8").trim();
    return pw.length > 0 ? pw : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `url` with `user:password` filled in, unless it already names credentials (a URL given by the
 * operator wins). Pure.
 */
export function withRedisCredentials(url: string, user: string, password: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValidationError("redisUrl", `not a URL: ${url.replace(/\/\/[^@/]*@/, "//***@")}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new ValidationError("redisUrl", `must be redis:// or rediss://, got ${u.protocol}`);
  if (u.username !== "" || u.password !== "") return url;
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/**
 * The host Redis URL for Herd's tools and tests: HERD_REDIS_URL (default redis://127.0.0.1:6379)
 * with bootstrap's ACL user added when the URL has no credentials and the password file exists.
 */
export function hostRedisUrl(
  base = process.env.HERD_REDIS_URL ?? "redis://127.0.0.1:6379",
  readPassword: () => string | undefined = readRedisPassword,
): string {
  const pw = readPassword();
  return pw === undefined ? base : withRedisCredentials(base, REDIS_USER, pw);
}
