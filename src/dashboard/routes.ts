import { Hono } from "hono";
import { apiError } from "../api/errors";
import { CACHE_LONG, CSS, fingerprint, JS, page, type StaticFile, staticFile } from "../lib/static-files";
import * as ops from "../openapi/describe";
import script from "./dashboard.browser.js";
import css from "./dashboard.css";
import template from "./index.html";

// The dashboard: one static page at / and its two files. It has no access of
// its own: the browser calls the API with the key the user pastes.

const FILES: Record<string, StaticFile> = {
  "dashboard.css": { type: CSS, body: css },
  "dashboard.js": { type: JS, body: script },
};

// The file URLs carry a hash of their content, so browsers may keep them a year.
const HTML = template.replace("{{css}}", fingerprint(css)).replace("{{js}}", fingerprint(script));

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const dashboard = new Hono()
  .get("/", ops.dashboardPage, (c) => page(c, HTML, CSP))
  .get("/dashboard/:asset", ops.staticAsset("dashboardAsset", Object.keys(FILES)), (c) => {
    const res = staticFile(c, FILES, c.req.param("asset"), CACHE_LONG);
    if (!res) throw apiError(404, "not_found", "No such file.");
    return res;
  });
