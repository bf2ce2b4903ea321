import winston from "winston";

/** Keys whose values are never written to a log, wherever they appear in the metadata. */
const SECRET_KEYS = /pass(word)?|secret|token|authorization|cookie|credential/i;
/** amqp://user:password@host → amqp://user:***@host */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@/\s]+@/gi;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.replace(URL_CREDENTIALS, "$1***@");
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.test(k) ? "***" : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = info[key];
    info[key] = SECRET_KEYS.test(key) ? "***" : redact(v);
  }
  return info;
});

export type Logger = winston.Logger;

/**
 * The one structured logger. Components take a child: `rootLogger().child({ component, nodeId })`.
 * Logs go to stderr (JSON when HERD_LOG_FORMAT=json), so stdout stays for CLI output.
 */
export function createLogger(options: { level?: string; format?: "json" | "text" } = {}): Logger {
  const level = options.level ?? process.env.HERD_LOG_LEVEL ?? "info";
  const json = (options.format ?? process.env.HERD_LOG_FORMAT) === "json";
  return winston.createLogger({
    level,
    format: winston.format.combine(
      redactFormat(),
      winston.format.timestamp(),
      json
        ? winston.format.json()
        : winston.format.printf(({ timestamp, level: lvl, message, ...meta }) => {
            const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : "";
            return `${String(timestamp)} ${lvl} ${String(message)}${rest}`;
          }),
    ),
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
  });
}
