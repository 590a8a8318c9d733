// The VOPR report's HTML file in headless Chromium, offline (the helper refuses every network
// request and fails on page errors): the failures come first with the worst seed on top, both
// histograms render with bars, the probe table lists the probes no seed hit, and a screenshot works.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reportHtml } from "../../src/cli/vopr_report_html.js";
import { mergeFleetLines } from "../../src/cli/vopr_report_merge.js";
import { chromiumAvailable, withPage } from "../helpers/chromium.js";
import { fleetLine, tenSeeds, testCatalog } from "./vopr_lines.js";

const directory = process.env.SCARAB_KEEP_SCREENSHOT ?? mkdtempSync(join(tmpdir(), "scarab-vopr-html-test-"));
afterAll(() => {
  if (process.env.SCARAB_KEEP_SCREENSHOT === undefined) rmSync(directory, { recursive: true, force: true });
});

describe("vopr report --html in Chromium", () => {
  it.skipIf(!chromiumAvailable())("shows failures first, histograms, never-hit probes; screenshots", async () => {
    const file = join(directory, "report.html");
    writeFileSync(file, reportHtml(mergeFleetLines([...tenSeeds(), fleetLine()], testCatalog, ["fleet.jsonl"])));
    const screenshot = join(directory, "report.png");
    const seen = await withPage(file, async (page) => {
      const sections = await page.locator("body > section, body > div.cards").evaluateAll((nodes) => nodes.map((node) => node.id));
      const failureSeeds = await page.locator("#failures tr.failure").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-seed")));
      const firstFailure = await page.locator("#failures tr.failure").first().innerText();
      const bars = {
        ticks: await page.locator("#histogram-ticks rect.bar").count(),
        wall: await page.locator("#histogram-wall rect.bar").count(),
        ticksHeight: (await page.locator("#histogram-ticks").boundingBox())?.height ?? 0,
      };
      const never = await page.locator("#probe-table tr.never").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-probe")));
      const neverText = await page.locator("#never-hit").innerText();
      await page.screenshot({ path: screenshot, fullPage: true });
      return { sections, failureSeeds, firstFailure, bars, never, neverText };
    });
    expect(seen.sections.slice(0, 2)).toEqual(["failures", "throughput"]);
    expect(seen.failureSeeds).toEqual(["6", "3", "8"]);
    expect(seen.firstFailure).toContain("correctness: state checker: replica 1 diverged");
    expect(seen.firstFailure).toContain("npx scarab vopr shrink 6 --lite");
    expect(seen.bars.ticks).toBeGreaterThan(1);
    expect(seen.bars.wall).toBeGreaterThan(1);
    expect(seen.bars.ticksHeight).toBeGreaterThan(100);
    expect(seen.never).toEqual(["torn_write_recovered"]);
    expect(seen.neverText).toContain("torn_write_recovered");
    const png = readFileSync(screenshot);
    expect(png.length).toBeGreaterThan(10_000);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  });
});
