/** What the API answers for an error that is the client's mistake; undefined = not one. */
export interface ClientErrorResponse {
  status: number;
  body: { error: string; field?: string };
}

const BODY_LIMIT_TYPES = new Set(["entity.too.large"]);

function numeric(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

/**
 * Maps the errors Express and body-parser raise for a bad request (oversized or malformed body,
 * an undecodable URI such as `/containers/%ZZ`, an unsupported charset…) to their 4xx answer, so
 * no client mistake ever becomes a 500. Pure; Herd's own typed errors are handled elsewhere.
 */
export function clientErrorResponse(err: unknown, bodyLimit: string): ClientErrorResponse | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const status = numeric(Reflect.get(err, "status")) ?? numeric(Reflect.get(err, "statusCode"));
  if (status === undefined || status < 400 || status > 499) return undefined;
  const type = Reflect.get(err, "type");
  if (typeof type === "string" && BODY_LIMIT_TYPES.has(type)) {
    return { status: 413, body: { error: `request body is larger than the limit of ${bodyLimit}`, field: "body" } };
  }
  if (err instanceof SyntaxError && Reflect.has(err, "body")) {
    return { status: 400, body: { error: "request body is not valid JSON", field: "body" } };
  }
  if (err instanceof URIError) {
    return { status: 400, body: { error: "the request path is not a valid URI (bad %-escape)", field: "path" } };
  }
  const message = err instanceof Error && err.message ? err.message : "bad request";
  return { status, body: { error: message } };
}
