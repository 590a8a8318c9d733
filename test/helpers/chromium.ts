// Headless Chromium for tests that render Scarab's self-contained HTML (the VOPR report, the trace
// viewer). Uses Debian's /usr/bin/chromium through playwright-core (no browser download). Where
// Chromium is absent the tests skip, except in CI (CI=true), where .ci/run installs it and its
// absence is a failure.
import { existsSync } from "node:fs";
import { chromium, type Page } from "playwright-core";

export const chromiumPath = process.env.SCARAB_CHROMIUM ?? "/usr/bin/chromium";

/** True where the browser tests can run; throws in CI when they cannot. */
export function chromiumAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env.CI) throw new Error(`Chromium is required in CI and missing at ${chromiumPath}`);
  return false;
}

/**
 * Opens `file` (an absolute path to an HTML file) offline in headless Chromium, with every network
 * request refused (the page must be self-contained), and runs `body` on the page.
 * Fails if the page logs an error or throws.
 */
export async function withPage<T>(file: string, body: (page: Page) => Promise<T>,
  viewport = { width: 1400, height: 900 }): Promise<T> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
    page.on("console", (message) => { if (message.type() === "error") errors.push(`console: ${message.text()}`); });
    await page.route("**/*", (route) => route.request().url().startsWith("file:") ? route.continue() : route.abort());
    await page.goto(`file://${file}`);
    const result = await body(page);
    if (errors.length > 0) throw new Error(`the page reported errors:\n${errors.join("\n")}`);
    return result;
  } finally {
    await browser.close();
  }
}
