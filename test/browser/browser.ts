import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

// Headless Chromium for the browser tests, kept off the network: the pages
// must work with nothing but the worker (no CDN, no fonts, no telemetry).

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

/**
 * Where screenshots go: a temporary folder, so a test run rewrites no tracked
 * file; with UPDATE_SCREENSHOTS=1 (`npm run screenshots`), the README's images.
 */
export async function screenshotPath(name: string): Promise<string> {
  const dir =
    process.env.UPDATE_SCREENSHOTS === "1"
      ? fileURLToPath(new URL("../../docs/screenshots/", import.meta.url))
      : join(tmpdir(), "mailvet-screenshots");
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}
