import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import express from "express";

// Swagger UI's files come from the swagger-ui-dist package on disk: no CDN, works offline.
const distDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const FILES = new Set(["swagger-ui.css", "index.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png", "favicon-16x16.png"]);

// Our own initializer (the package's points at the petstore); a file, not inline script.
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "../openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
};
`;

/**
 * /openapi.json and /docs. Both are served without the token: they describe the API and hold no
 * cluster data; every call made from Swagger UI still needs the token ("Authorize").
 */
export function docsRoutes(document: () => unknown): express.Router {
  const r = express.Router();
  r.get("/openapi.json", (_req, res) => {
    res.json(document());
  });
  r.get("/docs", (req, res) => {
    // Swagger UI's page loads its files relatively: it must be served as a directory.
    if (!req.originalUrl.split("?")[0]!.endsWith("/")) {
      res.redirect(301, "/docs/");
      return;
    }
    res.sendFile(join(distDir, "index.html"));
  });
  r.get("/docs/:file", (req, res) => {
    const file = String(req.params.file);
    if (file === "swagger-initializer.js") {
      res.type("application/javascript").send(INITIALIZER);
      return;
    }
    if (!FILES.has(file)) {
      res.status(404).json({ error: `no such documentation file ${file}` });
      return;
    }
    res.sendFile(join(distDir, file));
  });
  return r;
}
