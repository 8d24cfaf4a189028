import { mkdir } from "node:fs/promises";
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

/** Where screenshots go: committed with the docs, overwritten on each run. */
export async function screenshotPath(name: string): Promise<string> {
  const dir = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
  await mkdir(dir, { recursive: true });
  return `${dir}${name}`;
}
