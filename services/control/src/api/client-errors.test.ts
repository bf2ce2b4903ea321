import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientErrorResponse } from "./client-errors.js";

/** An error shaped like the ones http-errors (body-parser, the router) raise. */
function httpError<E extends Error>(err: E, props: Record<string, unknown>): E {
  return Object.assign(err, props);
}

describe("clientErrorResponse", () => {
  const cases: Array<{ name: string; err: unknown; status: number | undefined; field?: string }> = [
    { name: "oversized body", err: httpError(new Error("request entity too large"), { status: 413, type: "entity.too.large" }), status: 413, field: "body" },
    {
      name: "malformed JSON",
      err: httpError(new SyntaxError("Unexpected token"), { status: 400, body: "{x", type: "entity.parse.failed" }),
      status: 400,
      field: "body",
    },
    { name: "undecodable path parameter", err: httpError(new URIError("Failed to decode param '%ZZ'"), { status: 400 }), status: 400, field: "path" },
    { name: "unsupported charset", err: httpError(new Error('unsupported charset "UTF-7"'), { statusCode: 415, type: "charset.unsupported" }), status: 415 },
    { name: "a server-side failure stays unmapped", err: httpError(new Error("boom"), { status: 500 }), status: undefined },
    { name: "a plain error stays unmapped", err: new Error("boom"), status: undefined },
    { name: "a non-error stays unmapped", err: "boom", status: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = clientErrorResponse(c.err, "1mb");
      assert.equal(r?.status, c.status);
      if (c.field) assert.equal(r?.body.field, c.field);
    });
  }
  it("names the limit for an oversized body", () => {
    const r = clientErrorResponse(httpError(new Error("too large"), { status: 413, type: "entity.too.large" }), "1mb");
    assert.match(r?.body.error ?? "", /1mb/);
  });
});
