// `scarab vopr SEED --trace out.html` (issue #12): the timeline recorder on a real seed, its
// promise not to change the run, the flag's errors, and the page in headless Chromium.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, test, vi } from "vitest";
import { parseVoprArgs, replayCommand, runVopr } from "../../src/cli/vopr.js";
import { renderTraceHtml } from "../../src/cli/trace_viewer/page.js";
import { UsageError } from "../../src/cli/usage_error.js";
import { runSimulation, type SimulationOptions, type SimulationResult } from "../../src/sim/runner/simulator.js";
import { TimelineRecorder, type TimelineData } from "../../src/sim/runner/timeline.js";
import { decodeCounts } from "../../src/sim/runner/timeline_buckets.js";
import { decodeStates } from "../../src/sim/runner/timeline_data.js";
import { chromiumAvailable, withPage } from "../helpers/chromium.js";

// Lite (3 replicas) with frequent crashes: seed 14 crashes 4 times and partitions 24 times in
// about 6,600 ticks (a fraction of a second).
const seed = 14n;
const options: SimulationOptions = {
  lite: true, log: "none", stateMachine: "accounting", write: () => {}, requestsMax: 40,
  ticksMaxRequests: 100_000, ticksMaxConvergence: 100_000,
  crashRatio: { numerator: 1, denominator: 20_000 }, restartRatio: { numerator: 1, denominator: 2_000 },
};
const flags = ["--lite", "--requests-max=40", "--ticks-max=100000", "--crash-ratio=1/20000", "--restart-ratio=1/2000"];
const replay = replayCommand(seed, parseVoprArgs(flags));

const folder = mkdtempSync(join(tmpdir(), "scarab-trace-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let recorded: { result: SimulationResult; data: TimelineData } | null = null;
function record(): { result: SimulationResult; data: TimelineData } {
  if (recorded === null) {
    const timeline = new TimelineRecorder();
    const result = runSimulation(seed, { ...options, timeline });
    recorded = { result, data: timeline.finish(result.ticks) };
  }
  return recorded;
}

function marks(data: TimelineData, name: string): number {
  const code = data.markNames.indexOf(name);
  return data.nodes.reduce((sum, node) => sum + node.marks.kind.filter((kind) => kind === code).length, 0);
}

function seriesTotal(data: TimelineData, group: string, name?: string): number {
  return data.series.filter((series) => series.group === group && (name === undefined || series.name === name))
    .reduce((sum, series) => sum + decodeCounts(series.counts).reduce((a, b) => a + b, 0), 0);
}

describe("the timeline recorder", () => {
  test("records every replica, its crashes and restarts, the partitions, drops and replies", () => {
    const { result, data } = record();
    expect(result.exitCode).toBe(0);
    expect(result.faults.crashes).toBeGreaterThan(0);
    expect(result.faults.partitions).toBeGreaterThan(0);
    expect(data.nodes.map((node) => node.index)).toEqual([0, 1, 2]);
    expect(data.ticks).toBe(result.ticks);
    const states = data.nodes.map((node) => decodeStates(node.states));
    for (const columns of states) {
      expect(columns.tick.length).toBeGreaterThan(1);
      expect(columns.tick[0]).toBe(0); // opened at tick 0
      expect(columns.commitMin.at(-1)).toBeGreaterThan(0);
    }
    expect(marks(data, "crash")).toBe(result.faults.crashes);
    expect(marks(data, "restart") + marks(data, "reformat")).toBe(result.faults.restarts);
    const down = data.statusNames.indexOf("down");
    expect(states.some((columns) => columns.status.includes(down))).toBe(true);
    expect(data.partitions.start.length).toBe(result.faults.partitions);
    expect(data.partitions.length.length).toBe(data.partitions.start.length);
    expect(data.partitions.length.every((ticks) => ticks > 0)).toBe(true);
    expect(data.partitions.side.every((mask) => mask > 0 && mask < 0b111)).toBe(true);
    expect(seriesTotal(data, "client", "replies")).toBe(result.requestsReplied);
    // Counters read once per bucket still add up to the run's totals.
    const f = result.faults;
    expect(seriesTotal(data, "storage")).toBe(f.latentErrors + f.writeCorruptions + f.misdirectedWrites + f.tornWrites);
    expect(["droppedLoss", "droppedFilter", "droppedCapacity", "droppedDisabled"]
      .reduce((sum, name) => sum + seriesTotal(data, "network", name), 0)).toBe(f.packetsDropped);
    expect(seriesTotal(data, "drop")).toBeGreaterThan(0);
    expect(data.reasons.some((reason) => reason.startsWith("ignored "))).toBe(true);
    expect(data.phases.map((phase) => phase.name)).toEqual(["safety"]);
  });

  test("recording does not change the run: the same trace hash with and without it", () => {
    const { result } = record();
    const plain = runSimulation(seed, options);
    expect(result.traceHash).toBe(plain.traceHash);
    expect([result.ticks, result.outcome]).toEqual([plain.ticks, plain.outcome]);
    // Default mode reaches the liveness phase (its core heal and clock reset are recorded too).
    const short: SimulationOptions = { log: "none", stateMachine: "testing", write: () => {}, requestsMax: 12,
      ticksMaxRequests: 1500, ticksMaxConvergence: 1500 };
    const timeline = new TimelineRecorder();
    const traced = runSimulation(3n, { ...short, timeline });
    expect(traced.traceHash).toBe(runSimulation(3n, short).traceHash);
    expect(timeline.finish(traced.ticks).phases.map((phase) => phase.name)).toContain("liveness");
  });
});

describe("scarab vopr --trace", () => {
  test("without a file, with --seeds, or to an unwritable place: one clear error before the run", async () => {
    expect(() => parseVoprArgs(["8", "--trace"])).toThrow("--trace needs a value");
    expect(() => parseVoprArgs(["--trace", "--lite", "8"])).toThrow("--trace needs a file name (got '--lite')");
    expect(() => parseVoprArgs(["--seeds", "2", "--trace", "x.html"])).toThrow(UsageError);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await runVopr(["--trace", join(folder, "missing", "t.html"), "8"])).toBe(1);
      expect(errors.mock.calls[0]![0]).toMatch(/^scarab vopr: --trace .*missing\/t\.html: folder .* does not exist\n/);
      expect(await runVopr(["--trace", folder, "8"])).toBe(1);
      expect(errors.mock.calls[1]![0]).toContain("is a directory");
      expect(out).not.toHaveBeenCalled(); // the seed never ran
    } finally {
      errors.mockRestore();
      out.mockRestore();
    }
  });

  test("writes one self-contained page", async () => {
    const file = join(folder, "cli.html");
    const lines: string[] = [];
    const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => { lines.push(String(chunk)); return true; });
    try {
      expect(await runVopr([...flags, "--log", "none", "--trace", file, String(seed)])).toBe(0);
    } finally {
      out.mockRestore();
    }
    expect(lines.join("")).toMatch(/trace: .*cli\.html \(\d+ KiB\)/);
    const html = readFileSync(file, "utf8");
    expect(html).toContain(`<code id="replay">${replay}</code>`);
    // No URL of any kind: the page opens offline.
    expect(html).not.toMatch(/(?:src|href)\s*=|https?:\/\/|url\(/i);
  });
});

describe("the trace page in Chromium", () => {
  it.skipIf(!chromiumAvailable())("draws a labelled row per replica, hovers a tooltip, and screenshots", async () => {
    const { result, data } = record();
    const file = join(folder, "page.html");
    writeFileSync(file, renderTraceHtml(data, {
      replay, exitCode: result.exitCode, outcome: result.outcome,
      details: result.details, faults: result.faults, repairs: result.repairs, requestsReplied: result.requestsReplied,
    }));
    await withPage(file, async (page) => {
      await page.waitForFunction(() => ((window as unknown as { scarabTrace?: { draws(): number } }).scarabTrace?.draws() ?? 0) > 0);
      const labels = await page.locator(".row-label[data-node]").allTextContents();
      expect(labels.map((text) => /^(replica|standby) \d+/.exec(text)?.[0])).toEqual(["replica 0", "replica 1", "replica 2"]);
      const bands = await page.evaluate(() => {
        const trace = (window as unknown as { scarabTrace: { rows: { kind: string; top: number; height: number }[] } }).scarabTrace;
        const canvas = document.getElementById("canvas") as unknown as {
          width: number; getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
        };
        const scale = window.devicePixelRatio;
        return trace.rows.filter((row) => row.kind === "node").map((row) => {
          const pixels = canvas.getContext("2d").getImageData(0, row.top * scale, canvas.width, row.height * scale).data;
          let drawn = 0;
          for (let at = 3; at < pixels.length; at += 4) if (pixels[at]! > 0) drawn += 1;
          return drawn / (pixels.length / 4);
        });
      });
      expect(bands).toHaveLength(3);
      for (const share of bands) expect(share).toBeGreaterThan(0.3);
      const box = (await page.locator("#overlay").boundingBox())!;
      const row = await page.evaluate(() => (window as unknown as { scarabTrace: { rows: { kind: string; top: number }[] } })
        .scarabTrace.rows.find((r) => r.kind === "node" && r.top > 100)!.top);
      await page.mouse.move(box.x + box.width / 2, box.y + row + 18);
      const tooltip = page.locator("#tooltip");
      await tooltip.waitFor({ state: "visible" });
      expect(await tooltip.textContent()).toMatch(/replica \d.*tick [\d,]+.*status/s);
      await page.locator("#zoom-in").click();
      const png = await page.screenshot({ fullPage: true });
      expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
      expect(png.length).toBeGreaterThan(30_000);
    });
  }, 60_000);
});
