// How a VOPR fleet chooses its seeds: shards partition the derived seeds (their union is the whole
// fleet, no two overlap), rechecks are a fixed function of the seed, a commit hash gives the base,
// and the fleet flags reject bad values with one clear line. Plus the worker's recheck verdict.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseVoprArgs } from "../../src/cli/vopr.js";
import {
  commitBase, fleetSeeds, installationCommit, parseShard, recheckChosen, shardSeeds, shardSize,
} from "../../src/cli/vopr_fleet_plan.js";
import { runChecked, type RunSeed } from "../../src/cli/vopr_fleet_worker.js";
import { UsageError } from "../../src/cli/usage_error.js";
import { noFaults, noRepairs } from "../../src/sim/runner/fault_counts.js";
import type { SimulationResult } from "../../src/sim/runner/simulator.js";

describe("--shard i/n", () => {
  test("the shards of a fleet are disjoint and their union is the unsharded fleet, in order", () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 40 }),
      (base, count, shards) => {
        const whole = fleetSeeds(base, count);
        const seen = new Map<number, bigint>();
        for (let index = 0; index < shards; index++) {
          const shard = { index, count: shards };
          const entries = [...shardSeeds(base, count, shard)];
          expect(entries.length).toBe(shardSize(count, shard));
          for (const entry of entries) {
            expect(entry.index % shards).toBe(index);
            expect(seen.has(entry.index)).toBe(false);
            seen.set(entry.index, entry.seed);
          }
        }
        expect(seen.size).toBe(count);
        expect([...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, seed]) => seed)).toEqual(whole);
      }), { numRuns: 60 });
  });

  test("a million seeds over 100 shards: 10000 each", () => {
    expect(shardSize(1_000_000, { index: 0, count: 100 })).toBe(10_000);
    expect(shardSize(1_000_000, { index: 99, count: 100 })).toBe(10_000);
    expect(shardSize(5, { index: 7, count: 10 })).toBe(0);
    expect(shardSize(12, { index: 1, count: 5 })).toBe(3); // indexes 1, 6, 11
  });

  test("bad values are one clear UsageError", () => {
    expect(parseShard("3/10")).toEqual({ index: 3, count: 10 });
    for (const text of ["10/10", "-1/3", "1/0", "a/b", "1", "1/2/3", "0.5/2"]) {
      expect(() => parseShard(text), text).toThrow(UsageError);
    }
    expect(() => parseShard("4/4")).toThrow("--shard must be i/n with 0 ≤ i < n ≤ 1000000 (got '4/4')");
  });
});

describe("fleet flags", () => {
  test("parsed in both spellings, with defaults", () => {
    const plain = parseVoprArgs(["--seeds", "10"]).fleet;
    expect(plain).toEqual({ shard: { index: 0, count: 1 }, seedFromCommit: null, json: null, seedTimeoutS: 1800, recheck: { numerator: 1, denominator: 20 } });
    const hash = "0123456789abcdef0123456789abcdef01234567";
    const args = parseVoprArgs(["--seeds=100", "--shard", "3/4", "--json=out.jsonl", "--seed-timeout", "0.05", "--recheck-ratio=0", "--seed-from-commit", hash, "--lite"]);
    expect(args.fleet).toEqual({ shard: { index: 3, count: 4 }, seedFromCommit: hash, json: "out.jsonl", seedTimeoutS: 0.05, recheck: { numerator: 0, denominator: 1 } });
    expect(args.lite).toBe(true);
    // Without a hash, --seed-from-commit leaves the next flag alone.
    const bare = parseVoprArgs(["--seeds", "5", "--seed-from-commit", "--lite"]);
    expect([bare.fleet.seedFromCommit, bare.lite]).toEqual(["", true]);
  });

  test("mistakes are one clear UsageError", () => {
    const bad: string[][] = [
      ["--shard", "0/2"], ["--json", "x"], ["--seed-from-commit"], ["--seeds", "5", "--shard", "2/2"],
      ["--seeds", "5", "--seed-timeout", "0"], ["--seeds", "5", "--seed-timeout", "-1"], ["--seeds", "5", "--seed-timeout=abc"],
      ["--seeds", "5", "--recheck-ratio=3/2"], ["--seeds", "5", "--recheck-ratio=1/0"], ["--seeds", "5", "--seed-from-commit=abc"],
      ["--seeds", "5", "--from", "3", "--seed-from-commit"], ["--seeds", "5", "--json"],
    ];
    for (const args of bad) expect(() => parseVoprArgs(args), args.join(" ")).toThrow(UsageError);
    expect(() => parseVoprArgs(["--seeds", "5", "--recheck-ratio=3/2"])).toThrow("--recheck-ratio must be A/B with 0 ≤ A ≤ B, or 0 (got '3/2')");
  });

  test("--seed-from-commit: the given hash, else $GITHUB_SHA, else git HEAD", () => {
    const hash = "89abcdef0123456789abcdef0123456700000000";
    expect(commitBase(hash, {})).toEqual({ hash, base: 0x0123456700000000n });
    const sha = "ffffffffffffffffffffffffffffffff00000001";
    expect(commitBase("", { GITHUB_SHA: sha })).toEqual({ hash: sha, base: 0xffffffff00000001n });
    expect(() => commitBase("", { GITHUB_SHA: "main" })).toThrow(/GITHUB_SHA is not a 40-hex-digit hash/);
    const head = installationCommit();
    if (head === "unknown") expect(() => commitBase("", {})).toThrow(UsageError);
    else expect(commitBase("", {}).hash).toBe(head);
  });
});

describe("--recheck-ratio", () => {
  test("the choice is a function of the seed, near the ratio", () => {
    const seeds = fleetSeeds(1n, 4000);
    const chosen = seeds.filter((seed) => recheckChosen(seed, { numerator: 1, denominator: 20 }));
    expect(chosen.length).toBeGreaterThan(140);
    expect(chosen.length).toBeLessThan(260);
    expect(seeds.filter((seed) => recheckChosen(seed, { numerator: 1, denominator: 20 }))).toEqual(chosen);
    expect(seeds.some((seed) => recheckChosen(seed, { numerator: 0, denominator: 1 }))).toBe(false);
    expect(seeds.every((seed) => recheckChosen(seed, { numerator: 7, denominator: 7 }))).toBe(true);
  });

  test("two runs with different trace digests make a nondeterministic seed (exit 127)", () => {
    const result = (traceHash: string): SimulationResult => ({
      exitCode: 0, ticks: 100, outcome: "passed", details: "", parameters: { replicas: 3 }, traceHash, faults: noFaults(),
      repairs: noRepairs(), requestsReplied: 5, probes: {},
    });
    let runs = 0;
    const flaky: RunSeed = () => result(runs++ === 0 ? "aaaa" : "bbbb");
    const steady: RunSeed = () => result("cccc");
    expect(runChecked(steady, 5n, false)).toMatchObject({ exitCode: 0, rechecked: false, recheckWallMs: 0 });
    expect(runChecked(steady, 5n, true)).toMatchObject({ exitCode: 0, outcome: "passed", rechecked: true, traceHash: "cccc" });
    const differing = runChecked(flaky, 5n, true);
    expect(differing).toMatchObject({ exitCode: 127, rechecked: true, outcome: "nondeterministic: trace digests differ (aaaa vs bbbb)" });
    expect(differing.details).toContain("first run: exit 0, 100 ticks, passed");
  });
});
