// Real VOPR fleets through the `scarab` binary (dist/, built by `npm install`): the JSON lines of a
// small fleet, a replay of one of its seeds, shards merged by `vopr report` into the same totals as
// the unsharded fleet, rechecks, and a seed stopped by --seed-timeout while the fleet goes on.
// Tiny budgets (the echo state machine, 5 requests, 20000 ticks) keep each seed well under a second.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { fleetSeeds, installationCommit } from "../../src/cli/vopr_fleet_plan.js";
import { mergeFleetFiles, type FleetReport } from "../../src/cli/vopr_report_merge.js";
import type { FleetLine, SeedLine } from "../../src/cli/vopr_seed_line.js";
import { parseSeed } from "../../src/core/prng.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(root, "dist/src/cli/main.js");
const directory = mkdtempSync(join(tmpdir(), "scarab-vopr-fleet-test-"));
const tiny = ["--state-machine", "testing", "--requests-max=5", "--ticks-max=20000"];

afterAll(() => rmSync(directory, { recursive: true, force: true }));

function scarab(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(root, "bin/scarab.js"), ...args], { cwd: root, encoding: "utf8", timeout: 100_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function readLines(file: string): (SeedLine | FleetLine)[] {
  return readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as SeedLine | FleetLine);
}

/** What a merge says about the seeds themselves (not about wall time or rechecks). */
function seedTotals(report: FleetReport) {
  return {
    seeds: report.seeds, outcomes: report.outcomes, ticks: [...report.ticks.sorted], faults: report.faults,
    repairs: report.repairs, probes: report.probes, simulatedMs: report.simulatedMs, failures: report.failures.length,
  };
}

describe.skipIf(!existsSync(dist))("scarab vopr fleets", () => {
  const whole = join(directory, "whole.jsonl");

  test("one JSON line per seed, then a fleet line; every seed rechecked at 1/1; a seed replays", () => {
    const run = scarab(["vopr", "--seeds", "4", "--jobs", "2", "--from", "11", ...tiny, "--recheck-ratio=1/1", "--json", whole]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("rechecked: 4 seed(s) run twice, trace digests equal");
    const lines = readLines(whole);
    expect(lines.map((line) => line.type)).toEqual(["seed", "seed", "seed", "seed", "fleet"]);
    const seeds = lines.slice(0, 4) as SeedLine[];
    expect(seeds.map((line) => line.seed).sort()).toEqual(fleetSeeds(11n, 4).map(String).sort());
    const flags = ["--requests-max=5", "--ticks-max-requests=20000", "--ticks-max-convergence=20000", "--state-machine=testing"];
    for (const line of seeds) {
      expect(line).toMatchObject({
        base: "11", shard: "0/1", flags, commit: installationCommit(), node: process.version, exitCode: 0, rechecked: true,
        simulatedMs: line.ticks * 10, replay: `scarab vopr ${flags.join(" ")} ${line.seed}`,
      });
      expect(line.traceHash).toMatch(/^[0-9a-f]{32}$/);
      expect(line.wallMs).toBeGreaterThan(0);
      expect(line.recheckWallMs).toBeGreaterThan(0);
      expect(line.parameters).toMatchObject({ seed: line.seed, state_machine: "testing", requests_max: 5 });
      expect(Object.keys(line.faults)).toContain("crashes");
      expect(typeof line.probes).toBe("object");
      expect(fleetSeeds(11n, 4)[line.index]!.toString()).toBe(line.seed);
    }
    expect(lines[4]).toMatchObject({ type: "fleet", base: "11", seeds: 4, shard: "0/1", shardSeeds: 4, jobs: 2, flags, failed: 0, rechecked: 4, recheckRatio: "1/1" });
    // The printed replay command reproduces the seed: same ticks.
    const replay = scarab(["vopr", "--log", "none", ...seeds[0]!.replay.split(" ").slice(2)]);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toContain(`PASSED (${seeds[0]!.ticks} ticks)`);
  });

  test("two shards merge into the same totals as the unsharded fleet", async () => {
    const shards = [0, 1].map((index) => join(directory, `shard-${index}.jsonl`));
    for (const [index, file] of shards.entries()) {
      const run = scarab(["vopr", "--seeds", "4", "--jobs", "1", "--from", "11", ...tiny, "--recheck-ratio=0", "--shard", `${index}/2`, "--json", file]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`--shard ${index}/2`);
    }
    const merged = await mergeFleetFiles(shards);
    const single = await mergeFleetFiles([whole]);
    expect(seedTotals(merged)).toEqual(seedTotals(single));
    expect(merged.warnings).toEqual([]);
    expect(merged.fleets.map((fleet) => fleet.shard).sort()).toEqual(["0/2", "1/2"]);
    // Only one shard: the report says which is missing.
    expect((await mergeFleetFiles([shards[0]!])).warnings).toEqual(["fleet of 4 seeds from base 11: no fleet line for shard(s) 1/2"]);
    const report = scarab(["vopr", "report", ...shards]);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toContain("no failures: all 4 seed(s) passed");
  });

  test("a seed past --seed-timeout is exit 124 with its replay command, and the fleet goes on", () => {
    const file = join(directory, "timeout.jsonl");
    const hash = "0123456789abcdef0123456789abcdef00000007";
    // The default ledger workload and budgets take seconds per seed: far beyond 0.05 s.
    const run = scarab(["vopr", "--seeds", "2", "--jobs", "1", "--seed-from-commit", hash, "--seed-timeout", "0.05", "--recheck-ratio=0", "--json", file]);
    expect(run.status).toBe(124);
    const lines = readLines(file);
    const seeds = lines.filter((line): line is SeedLine => line.type === "seed");
    expect(seeds.map((line) => line.seed).sort()).toEqual(fleetSeeds(parseSeed(hash)!, 2).map(String).sort());
    for (const line of seeds) {
      expect(line).toMatchObject({ exitCode: 124, outcome: "timeout: over 0.05 s of wall clock", ticks: 0, traceHash: "" });
      expect(run.stderr).toContain(`replay: scarab vopr ${line.seed}`);
    }
    expect(lines.at(-1)).toMatchObject({ type: "fleet", base: String(parseSeed(hash)), failed: 2, seedTimeoutS: 0.05 });
    expect(run.stderr).toContain(`(commit ${hash})`);
    expect(run.stdout).toContain("outcomes: exit 124:2");
  });
});
