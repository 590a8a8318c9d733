// `scarab vopr report`: merging the JSON lines of shards (the same totals as one file; duplicates
// and missing shards are warnings; a damaged line is an error naming file:line), the text report
// (failures first, with replay and shrink commands; probe coverage with the probes never hit) and
// the HTML file (self-contained, escaped).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import { runVopr } from "../../src/cli/vopr.js";
import { runVoprReport } from "../../src/cli/vopr_report.js";
import { reportHtml } from "../../src/cli/vopr_report_html.js";
import { mergeFleetFiles, mergeFleetLines, throughput, type FleetReport } from "../../src/cli/vopr_report_merge.js";
import { reportText } from "../../src/cli/vopr_report_text.js";
import { formatLine, type FleetFileLine } from "../../src/cli/vopr_seed_line.js";
import { fleetLine, seedLine, tenSeeds, testCatalog } from "./vopr_lines.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-vopr-report-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function writeLines(name: string, lines: readonly FleetFileLine[]): string {
  const file = join(directory, name);
  writeFileSync(file, lines.map(formatLine).join("\n") + "\n");
  return file;
}

/** Two shards of the ten seeds, with their fleet lines, as separate files. */
function shardFiles(): string[] {
  const seeds = tenSeeds();
  return [0, 1].map((index) => writeLines(`shard-${index}.jsonl`, [
    ...seeds.filter((line) => line.index % 2 === index).map((line) => ({ ...line, shard: `${index}/2` })),
    fleetLine({ shard: `${index}/2`, shardSeeds: 5, startedAt: `2026-01-01T00:00:0${index}.000Z` }),
  ]));
}

function totals(report: FleetReport) {
  const { files: _files, fleets: _fleets, spanMs: _span, warnings: _warnings, ...rest } = report;
  return { ...rest, failures: rest.failures.map((line) => line.seed), slowest: rest.slowest.map((line) => line.seed) };
}

describe("merging fleet files", () => {
  test("two shard files give the same totals as one file of all seeds", async () => {
    const merged = await mergeFleetFiles(shardFiles(), testCatalog);
    const single = await mergeFleetFiles([writeLines("all.jsonl", [...tenSeeds(), fleetLine()])], testCatalog);
    expect(totals(merged)).toEqual(totals(single));
    expect(merged.warnings).toEqual([]);
    expect(merged.seeds).toBe(10);
    expect(merged.failures.map((line) => [line.seed, line.exitCode])).toEqual([["6", 129], ["3", 127], ["8", 124]]);
    expect(merged.worstExitCode).toBe(129);
    expect([merged.timeouts, merged.rechecked]).toEqual([1, 1]);
    // Shards that overlap in time: the wall clock spans from the first start (0 s) to the last end (1 s + 1 s).
    expect(merged.spanMs).toBe(2000);
    expect(merged.coreMs).toBe(tenSeeds().reduce((sum, line) => sum + line.wallMs + line.recheckWallMs, 0));
    expect(throughput(merged).seedsPerS).toBeCloseTo(5, 5);
  });

  test("duplicate seeds count once, with a warning; different digests on one commit say nondeterminism", () => {
    const lines = [seedLine(1), seedLine(2), seedLine(1), seedLine(2, { traceHash: "f".repeat(32) })];
    const report = mergeFleetLines([...lines, fleetLine({ seeds: 2, shardSeeds: 2 })], testCatalog);
    expect(report.seeds).toBe(2);
    expect(report.duplicates).toBe(2);
    expect(report.warnings).toEqual([
      "seed 1 appears more than once; the first line counts",
      `seed 2 appears twice on commit ${lines[0]!.commit} with different trace digests (${"0".repeat(31)}2 vs ${"f".repeat(32)}): nondeterminism`,
    ]);
  });

  test("missing shards and unfinished shards are warnings", () => {
    const report = mergeFleetLines([
      seedLine(0, { shard: "0/3" }), fleetLine({ shard: "0/3", shardSeeds: 2 }), seedLine(2, { shard: "2/3" }),
    ], testCatalog);
    expect(report.warnings).toEqual([
      "shard 0/3 of base 7: 1 seed lines, 2 planned",
      "fleet of 10 seeds from base 7: no fleet line for shard(s) 1/3, 2/3",
      "shard 2/3 of base 7: 1 seed lines but no fleet line (did it finish?)",
    ]);
  });

  test("a damaged or incomplete line is an error naming file:line", async () => {
    const good = formatLine(seedLine(1));
    const cases: [string, RegExp][] = [
      [`${good}\n{"type":"seed","seed":"2"`, /bad-0\.jsonl:2: not a JSON line/],
      [`${good}\n\n${JSON.stringify({ ...seedLine(2), ticks: "many" })}`, /bad-1\.jsonl:3: seed line: field "ticks" missing or not a number/],
      [`${JSON.stringify({ type: "shard" })}`, /bad-2\.jsonl:1: "type" must be "seed" or "fleet"/],
      [`${JSON.stringify({ ...seedLine(2), faults: { crashes: "x" } })}`, /bad-3\.jsonl:1: seed line: faults\.crashes is not a number/],
    ];
    for (const [index, [text, error]] of cases.entries()) {
      const file = join(directory, `bad-${index}.jsonl`);
      writeFileSync(file, text);
      await expect(mergeFleetFiles([file])).rejects.toThrow(error);
    }
    await expect(mergeFleetFiles([join(directory, "absent.jsonl")])).rejects.toThrow(/cannot read .*absent\.jsonl/);
  });
});

describe("the report", () => {
  const report = mergeFleetLines([...tenSeeds(), fleetLine(), seedLine(11, { probes: { renamed_probe: 4 } })], testCatalog, ["a.jsonl"]);

  test("text: failures first with replay and shrink, then coverage, never-hit probes and throughput", () => {
    const text = reportText(report).join("\n");
    expect(text.indexOf("FAILURES: 3 seed(s)")).toBeLessThan(text.indexOf("outcomes:"));
    expect(text).toContain("seed 6 exit 129 (shard 0/1, commit c0ffee");
    expect(text).toContain("    replay: scarab vopr --lite 6\n    shrink: npx scarab vopr shrink 6 --lite");
    expect(text).toContain("outcomes: passed 8, exit 124 timeout 1, exit 127 crash 1, exit 129 correctness 1");
    expect(text).toMatch(/ticks per seed: min 1000, p50 5000, .* max 12000/);
    expect(text).toContain("rechecks: 1 seed(s) run twice, 0 with different trace digests; timeouts: 1");
    expect(text).toContain("faults injected: crashes 11 (7 seeds)");
    expect(text).toContain("coverage probes: 2 of 3 in the catalog hit");
    expect(text).toMatch(/view_change_truncated +9 +14 +a view change truncated the log/);
    expect(text).toMatch(/renamed_probe +1 +4 +\(not in this build's catalog\)/);
    expect(text).toContain("never hit (1): torn_write_recovered");
    expect(text).toContain("throughput: 11 seeds in 1000 ms of wall clock (2 job(s) summed over the shards): 11.00 seeds/s");
    expect(text).toMatch(/x real time per core \(simulated \/ summed per-seed wall time\), \d+x overall/);
  });

  test("HTML: one self-contained file, every text escaped", () => {
    const html = reportHtml(report);
    expect(html).not.toMatch(/https?:|\bsrc=|\bhref=|@import|url\(/);
    expect(html).toContain("crash: assertion: &#60;b&#62;view&#60;/b&#62; &#38; &#34;op&#34;");
    expect(html).not.toContain("<b>view</b>");
    expect(html).toContain('<svg id="histogram-ticks"');
    expect(html).toContain('<svg id="histogram-wall"');
    expect(html.indexOf('id="failures"')).toBeLessThan(html.indexOf('id="outcomes"'));
  });

  test("runVoprReport exits with the worst failing code, writes --html, and 1 on misuse", async () => {
    const quiet = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const logs = vi.spyOn(console, "log").mockImplementation(() => {});
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const out = join(directory, "report.html");
      expect(await runVoprReport([...shardFiles(), "--html", out])).toBe(129);
      expect(await runVoprReport([writeLines("passing.jsonl", [seedLine(1), fleetLine({ seeds: 1, shardSeeds: 1 })])])).toBe(0);
      expect(await runVopr(["report", "--help"])).toBe(0);
      expect(await runVoprReport([])).toBe(1);
      expect(await runVoprReport(["a.jsonl", "--bogus"])).toBe(1);
      expect(await runVoprReport([join(directory, "absent.jsonl")])).toBe(1);
      expect(errors.mock.calls.map((call) => String(call[0]).split("\n")[0])).toEqual([
        "scarab vopr report: give at least one JSON-lines file of a fleet (--json FILE) (see 'scarab vopr report --help')",
        "scarab vopr report: unknown option '--bogus' (see 'scarab vopr report --help')",
        expect.stringMatching(/^scarab vopr report: cannot read .*absent\.jsonl: ENOENT/),
      ]);
      expect(String(logs.mock.calls[0]![0])).toMatch(/^Usage: scarab vopr report FILE\.\.\. \[--html OUT\]/);
    } finally {
      quiet.mockRestore();
      errors.mockRestore();
      logs.mockRestore();
      stderr.mockRestore();
    }
  });
});
