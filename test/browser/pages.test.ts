import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, type TestContext } from "vitest";
import { type Server, startServer } from "../stack/server";
import { CHROMIUM_PATH, launch, screenshotPath } from "./browser";

// The docs page and the dashboard in real headless Chromium, against mailvet
// under `wrangler dev`. Without Chromium the tests skip, saying why.

const SKIP = existsSync(CHROMIUM_PATH)
  ? null
  : `${CHROMIUM_PATH} not found: install Chromium (e.g. apt-get install chromium) to run the browser tests`;

let server: Server | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (SKIP) {
    console.warn(`[browser tests] skipped: ${SKIP}`);
    return;
  }
  server = await startServer();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The server under test, or skips the test with the reason it cannot run. */
function target(ctx: TestContext): Server {
  if (SKIP) return ctx.skip(SKIP);
  if (!server || !browser) throw new Error("the server or Chromium did not start");
  return server;
}

function newPage(options: Parameters<Browser["newPage"]>[0]): Promise<Page> {
  if (!browser) throw new Error("Chromium did not start");
  return browser.newPage(options);
}

// ── GET /docs ──────────────────────────────────────────────────────────

it("renders the API reference and lists the operations", async (ctx) => {
  const { baseUrl } = target(ctx);
  const page = await newPage({ viewport: { width: 1280, height: 900 } });
  const failed: string[] = [];
  page.on("pageerror", (err) => failed.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => failed.push(`request failed: ${req.url()}`));
  page.on("response", (res) => {
    if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
  });

  await page.goto(`${baseUrl}/docs`);
  await page.locator(".opblock").first().waitFor({ timeout: 30_000 });

  const doc = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
    webhooks: Record<string, unknown>;
  };
  const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  // One block per operation, plus one per webhook event.
  await expect
    .poll(() => page.locator(".opblock").count())
    .toBe(operations + Object.keys(doc.webhooks).length);

  const paths = await page.locator(".opblock-summary-path").allTextContents();
  const shown = paths.map((p) => p.replace(/\u200b/g, "").trim());
  for (const path of [
    "/email-validations",
    "/email-validations/{id}",
    "/v1/email/validate/job",
    "/webhook-endpoints",
  ]) {
    expect(shown).toContain(path);
  }
  expect(await page.locator(".info .title").textContent()).toContain("mailvet");
  expect(await page.getByRole("button", { name: /Authorize/ }).isVisible()).toBe(true);

  // Every asset came from mailvet itself, and nothing failed to load.
  expect(failed).toEqual([]);
  // The static pages carry their security headers (public/_headers).
  for (const path of ["/", "/docs"]) {
    const res = await fetch(`${baseUrl}${path}`);
    expect(res.headers.get("content-security-policy"), path).toContain("default-src 'self'");
    expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
  }
  await page.screenshot({ path: await screenshotPath("docs-page.png") });
  await page.close();
});

// ── The dashboard at / ─────────────────────────────────────────────────

const LIST = [
  "email,name",
  "alice@normal.test,Alice",
  "carol@normal.test,Carol",
  "nobody@normal.test,Nobody",
  "anyone@catchall.test,Anyone",
  "alice@tarpit.test,Slow",
  "dave@gmial.com,Dave",
].join("\n");

async function openWithKey(baseUrl: string, apiKey: string): Promise<Page> {
  const page = await newPage({
    viewport: { width: 1200, height: 900 },
    acceptDownloads: true,
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page.on("pageerror", (err) => pageErrors.push(err.message));
  await page.goto(`${baseUrl}/`);
  await page.getByLabel("Your API key").fill(apiKey);
  await page.getByRole("button", { name: "Use this key" }).click();
  await page.getByText("Key accepted.").waitFor();
  return page;
}

const statusOf = (page: Page) => page.locator("#job-status").textContent();

it("uploads a CSV, shows live progress to completion, and downloads filtered results", async (ctx) => {
  const { baseUrl, apiKey } = target(ctx);
  const page = await openWithKey(baseUrl, apiKey);

  await page.getByLabel("List file (.csv, .xlsx, .xls)").setInputFiles({
    name: "contacts.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(LIST),
  });
  await page.getByLabel(/^Label/).fill("Browser test list");
  await page.getByRole("button", { name: "Start validation" }).click();

  await page.locator("#job-panel").waitFor({ state: "visible" });
  await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: 60_000 });
  expect(await statusOf(page)).toBe("completed");
  expect(await page.locator("#job-progress").getAttribute("value")).toBe("100");
  const counts = Object.fromEntries(
    await Promise.all(
      ["deliverable", "risky", "undeliverable", "unknown"].map(async (c) => [
        c,
        await page.locator(`#count-${c}`).textContent(),
      ]),
    ),
  );
  expect(counts).toEqual({ deliverable: "2", risky: "1", undeliverable: "2", unknown: "1" });
  expect(await page.locator("#progress-text").textContent()).toContain("6 of 6 checked (100%)");

  // The list shows the job too.
  await page
    .getByRole("row")
    .filter({ hasText: "Browser test list" })
    .filter({ hasText: "completed" })
    .filter({ hasText: "6 / 6" })
    .waitFor();

  // Only the deliverable ones, with the upload's extra column.
  for (const c of ["risky", "undeliverable", "unknown"]) {
    await page.getByRole("checkbox", { name: new RegExp(`^${c}$`, "i") }).uncheck();
  }
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download CSV" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^mailvet-[0-9a-f-]+-deliverable\.csv$/);
  const csv = (await readFile((await download.path()) as string, "utf8")).trim().split(/\r?\n/);
  expect(csv[0]).toMatch(/^email,result,catch_all,reason,score,.*,name$/);
  expect(csv.slice(1).sort()).toEqual([
    expect.stringMatching(/^alice@normal\.test,deliverable,false,accepted,.*,Alice$/),
    expect.stringMatching(/^carol@normal\.test,deliverable,false,accepted,.*,Carol$/),
  ]);
  await page.getByText(/^Downloaded [\d.]+ KB\.$/).waitFor();

  // The job's story once it ended, and its breakdown.
  await page
    .locator("#story-summary")
    .filter({ hasText: /^Finished: 6 addresses in / })
    .waitFor();
  expect(await page.locator("#stage-recorded").textContent()).toBe("6");
  expect(await page.locator("#story-chart svg polyline").count()).toBe(1);
  await page.locator("#verdict-caption").filter({ hasText: "Undeliverable 2 (33%)" }).waitFor();
  expect(await page.locator("#verdict-chart svg rect").count()).toBe(4);
  expect(await page.getByRole("row").filter({ hasText: "normal.test" }).first().textContent()).toMatch(
    /^normal\.test3/,
  );

  // Filter by a reason: only the rejected mailbox is listed.
  const rows = page.locator("#results-body tr");
  await rows.filter({ hasText: "alice@tarpit.test" }).waitFor();
  expect(await rows.count()).toBe(6);
  await page.getByLabel("Reason", { exact: true }).selectOption("mailbox_not_found");
  await page.getByRole("button", { name: "Apply filter" }).click();
  await page.getByText("1 shown (reason mailbox_not_found).").waitFor();
  expect(await rows.count()).toBe(1);
  expect(await rows.first().textContent()).toContain("nobody@normal.test");

  // Open that result, read it, close it with Escape: focus returns to its button.
  const details = page.getByRole("button", { name: "Details for nobody@normal.test" });
  await details.click();
  const dialog = page.getByRole("dialog", { name: "nobody@normal.test" });
  await dialog.waitFor();
  expect(await dialog.textContent()).toMatch(/Reasonmailbox_not_found.*SMTP reply550 /);
  await page.screenshot({ path: await screenshotPath("dashboard-result.png") });
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  expect(await page.evaluate("document.activeElement.getAttribute('aria-label')")).toBe(
    "Details for nobody@normal.test",
  );

  // The filtered download holds that result only.
  const [filtered] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download these results (CSV)" }).click(),
  ]);
  expect(filtered.suggestedFilename()).toMatch(/^mailvet-[0-9a-f-]+-mailbox_not_found\.csv$/);
  const filteredCsv = (await readFile((await filtered.path()) as string, "utf8")).trim().split(/\r?\n/);
  expect(filteredCsv).toHaveLength(2);
  expect(filteredCsv[1]).toMatch(/^nobody@normal\.test,undeliverable,false,mailbox_not_found,.*,Nobody$/);

  // A reason in the breakdown, chosen from the keyboard, filters the table too.
  const noDomain = page
    .getByRole("button", { name: /^Show the 1 undeliverable results with reason / })
    .last();
  await noDomain.focus();
  await page.keyboard.press("Enter");
  await rows.filter({ hasText: "dave@gmial.com" }).waitFor();
  expect(await rows.count()).toBe(1);
  // Its did_you_mean suggestion copies the fixed address.
  await page.getByRole("button", { name: "Copy dave@gmail.com" }).click();
  await page.getByText("Copied dave@gmail.com to the clipboard.").waitFor();
  expect(await page.evaluate("navigator.clipboard.readText()")).toBe("dave@gmail.com");

  // Back to every result for the README's picture.
  await page.getByRole("button", { name: "Clear" }).click();
  await rows.filter({ hasText: "alice@normal.test" }).waitFor();
  await page.screenshot({ path: await screenshotPath("dashboard.png"), fullPage: true });
  await page.close();
  expect(pageErrors).toEqual([]);
});

it("tells the story of a running job: its rate and what greylisting holds back", async (ctx) => {
  const { baseUrl, apiKey } = target(ctx);
  const page = await openWithKey(baseUrl, apiKey);
  await page.getByLabel("Pasted addresses").check();
  const greylisted = Array.from({ length: 8 }, (_, i) => `late${i}@greylist.test`);
  const quick = Array.from({ length: 40 }, (_, i) => `user${i}@normal.test`);
  await page.getByLabel(/^Addresses, one per line/).fill([...quick, ...greylisted].join("\n"));
  await page.getByLabel(/^Label/).fill("Greylisted tail");
  await page.getByRole("button", { name: "Start validation" }).click();

  // While the greylisting servers make us wait, the story says so, and until when.
  const waiting = page.locator("#story-greylist").filter({ hasText: /^\d+ addresses wait on greylisting/ });
  await waiting.waitFor({ timeout: 30_000 });
  expect(await waiting.textContent()).toMatch(/Next retry at .*final answers by /);
  await page.locator("#hosts-body tr").filter({ hasText: "mx.greylist.test" }).waitFor();
  await page.locator("#story").screenshot({ path: await screenshotPath("dashboard-story.png") });

  await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: 60_000 });
  await page
    .locator("#story-summary")
    .filter({ hasText: /^Finished: 48 addresses/ })
    .waitFor();
  await page.close();
  expect(pageErrors).toEqual([]);
});

it("pauses, resumes and cancels a scheduled job made from pasted addresses", async (ctx) => {
  const { baseUrl, apiKey } = target(ctx);
  const page = await openWithKey(baseUrl, apiKey);
  page.on("dialog", (dialog) => dialog.accept());

  await page.getByLabel("Pasted addresses").check();
  await page
    .getByLabel(/^Addresses, one per line/)
    .fill("alice@normal.test\nbob@normal.test, carol@normal.test");
  // An hour from now, so the job waits (queued) while the controls are tried.
  const later = new Date(Date.now() + 3600_000);
  const local = new Date(later.getTime() - later.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByLabel(/^Start at/).fill(local);
  await page.getByRole("button", { name: "Start validation" }).click();
  await page.locator('#job-status[data-status="queued"]').waitFor();
  expect(await page.locator("#progress-text").textContent()).toMatch(/^0 of 3 checked \(0%\) · starts /);

  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator('#job-status[data-status="paused"]').waitFor();
  expect(await page.getByRole("button", { name: "Pause" }).isDisabled()).toBe(true);

  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator('#job-status[data-status="queued"]').waitFor();

  await page.getByRole("button", { name: "Cancel job" }).click();
  await page.locator('#job-status[data-status="canceled"]').waitFor();
  expect(await page.getByRole("button", { name: "Cancel job" }).isDisabled()).toBe(true);
  // The screen-reader announcement follows the status.
  expect(await page.locator("#job-announcer").textContent()).toContain("canceled");
  await page.close();
  expect(pageErrors).toEqual([]);
});
