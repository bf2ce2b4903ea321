/**
 * Herd's typed errors. Each sets `name` and keeps its `cause`. Errors that cross the broker travel
 * as plain data ({@link WireError}) and are rebuilt on the other side with {@link fromWire}.
 */

export interface WireError {
  name: string;
  message: string;
  code: string;
  retryable: boolean;
}

export class HerdError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(message: string, options?: ErrorOptions & { code?: string; retryable?: boolean }) {
    super(message, options);
    this.name = "HerdError";
    this.code = options?.code ?? "HERD_ERROR";
    this.retryable = options?.retryable ?? false;
  }
}

/** A config value, CLI argument, API field or message field is malformed. Never retryable. */
export class ValidationError extends HerdError {
  /** Dotted path of the offending field, e.g. `containers.3.cpu.usageNs`. */
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, { ...options, code: "VALIDATION", retryable: false });
    this.name = "ValidationError";
    this.field = field;
  }
}

/** Something named does not exist (a container, a node, a migration). */
export class NotFoundError extends HerdError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, code: "NOT_FOUND", retryable: false });
    this.name = "NotFoundError";
  }
}

/** The request conflicts with current state (e.g. a migration already running). */
export class ConflictError extends HerdError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, code: "CONFLICT", retryable: false });
    this.name = "ConflictError";
  }
}

/** An outside system (broker, Redis, Docker, CRIU, rsync) failed; may succeed if retried. */
export class ExternalError extends HerdError {
  constructor(message: string, options?: ErrorOptions & { code?: string; retryable?: boolean }) {
    super(message, { code: "EXTERNAL", retryable: true, ...options });
    this.name = "ExternalError";
  }
}

/** A deadline ran out: a process was killed, a remote call abandoned, a step given up. */
export class TimeoutError extends HerdError {
  constructor(message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, { code: "TIMEOUT", retryable: true, ...options });
    this.name = "TimeoutError";
  }
}

/** A message can never be handled (bad schema, unknown type): dead-letter it, do not retry. */
export class UnrecoverableError extends HerdError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, code: "UNRECOVERABLE", retryable: false });
    this.name = "UnrecoverableError";
  }
}

export class AuthError extends HerdError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, code: "UNAUTHORIZED", retryable: false });
    this.name = "AuthError";
  }
}

export function toWire(err: unknown): WireError {
  if (err instanceof HerdError) {
    return { name: err.name, message: err.message, code: err.code, retryable: err.retryable };
  }
  if (err instanceof Error) {
    return { name: err.name, message: err.message, code: "INTERNAL", retryable: false };
  }
  return { name: "Error", message: String(err), code: "INTERNAL", retryable: false };
}

export function fromWire(wire: WireError): HerdError {
  const err = new HerdError(wire.message, { code: wire.code, retryable: wire.retryable });
  err.name = wire.name;
  return err;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
