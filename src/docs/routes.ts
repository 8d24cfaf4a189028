import { Hono } from "hono";
import swaggerPkg from "swagger-ui-dist/package.json";
import swaggerCss from "swagger-ui-dist/swagger-ui.css";
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import { apiError } from "../api/errors";
import {
  CACHE_LONG,
  CSS,
  fingerprint,
  JS,
  page,
  type StaticFile,
  staticFile,
  withoutSourceMap,
} from "../lib/static-files";
import * as ops from "../openapi/describe";

// GET /docs: Swagger UI over /openapi.json, served from the swagger-ui-dist
// package bundled into the worker. Asset URLs carry the package version (or a
// hash of our own script), so they can be cached for a year and still change.

const INIT = `window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
`;

const FILES: Record<string, StaticFile> = {
  "swagger-ui.css": { type: CSS, body: withoutSourceMap(swaggerCss) },
  "swagger-ui-bundle.js": { type: JS, body: withoutSourceMap(swaggerBundle) },
  "init.js": { type: JS, body: INIT },
};

const v = `?v=${swaggerPkg.version}`;
const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mailvet API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css${v}">
</head>
<body>
<main id="swagger-ui" aria-label="mailvet API reference"></main>
<script src="/docs/swagger-ui-bundle.js${v}"></script>
<script src="/docs/init.js?v=${fingerprint(INIT)}"></script>
</body>
</html>
`;

// Swagger UI styles some elements inline and draws icons from data: URLs.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

export const docs = new Hono()
  .get("/", ops.docsPage, (c) => page(c, HTML, CSP))
  .get("/:asset", ops.staticAsset("docsAsset", Object.keys(FILES)), (c) => {
    const res = staticFile(c, FILES, c.req.param("asset"), CACHE_LONG);
    if (!res) throw apiError(404, "not_found", "No such file.");
    return res;
  });
