import type { Context } from "hono";

// Small text files the worker serves itself (bundled as Text modules), for the
// docs page and the dashboard: no CDN, nothing fetched at run time.

export interface StaticFile {
  type: string;
  body: string;
}

/** Versioned or rarely changing files: let browsers keep them. */
export const CACHE_LONG = "public, max-age=31536000, immutable";
/** The pages themselves: always revalidate, so a deploy shows at once. */
export const CACHE_NONE = "no-cache";

export const CSS = "text/css; charset=utf-8";
export const JS = "text/javascript; charset=utf-8";
export const HTML = "text/html; charset=utf-8";

/** A page, with headers that keep it from being framed or sniffed. */
export function page(c: Context, html: string, csp: string): Response {
  return c.body(html, 200, {
    "content-type": HTML,
    "cache-control": CACHE_NONE,
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
}

/** One of `files` by name, or null when there is no such file. */
export function staticFile(
  c: Context,
  files: Record<string, StaticFile>,
  name: string,
  cacheControl: string,
): Response | null {
  const file = Object.hasOwn(files, name) ? files[name] : undefined;
  if (!file) return null;
  return c.body(file.body, 200, {
    "content-type": file.type,
    "cache-control": cacheControl,
    "x-content-type-options": "nosniff",
  });
}

/** Drops a trailing source-map comment: the maps are not served. */
export function withoutSourceMap(text: string): string {
  return text.replace(/\n?\/[/*]# sourceMappingURL=[^\n]*\s*$/, "\n");
}

/** A short content hash (FNV-1a) for cache-busting URLs; synchronous, for small files. */
export function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}
