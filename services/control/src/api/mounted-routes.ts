import type express from "express";

/**
 * The routes an express app actually mounts, read from its router stack, as "METHOD /path" with
 * express parameters written OpenAPI-style ("/jobs/{id}"). Used to check the OpenAPI document
 * covers every route. Middleware mounted on a path (app.use("/x", fn)) is listed as "USE /x".
 * (Reads express 5 / router 2 internals: `stack`, `route.methods`, `rawPath`.)
 */
export function mountedRoutes(app: express.Express): string[] {
  const out = new Set<string>();
  walk(app.router.stack, "", out);
  return [...out].sort();
}

function walk(stack: readonly unknown[], prefix: string, out: Set<string>): void {
  for (const layer of stack) {
    if (typeof layer !== "object" || layer === null) continue;
    if ("route" in layer && typeof layer.route === "object" && layer.route !== null) {
      const route = layer.route;
      const path = prefix + ("path" in route ? String(route.path) : "");
      const methods = "methods" in route && typeof route.methods === "object" && route.methods !== null ? Object.entries(route.methods) : [];
      for (const [m, on] of methods) if (on === true && m !== "_all") out.add(`${m.toUpperCase()} ${openApiPath(path)}`);
      continue;
    }
    const raw = "rawPath" in layer ? layer.rawPath : undefined;
    const mount = typeof raw === "string" && raw !== "/" ? raw : "";
    const handle = "handle" in layer ? layer.handle : undefined;
    const sub = typeof handle === "function" && "stack" in handle && Array.isArray(handle.stack) ? (handle.stack as unknown[]) : undefined;
    if (sub) walk(sub, prefix + mount, out);
    else if (mount) out.add(`USE ${openApiPath(prefix + mount)}`);
  }
}

const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
