// `scarab vopr` argument parsing, replay commands and the fleet's seeds and summary
// (spec/vopr.md §1 seeds, §13.1 exit codes, §13.3 flags).
import { describe, expect, test } from "vitest";
import { parseVoprArgs, replayCommand, runVopr } from "../../src/cli/vopr.js";
import { fleetSeeds, summary } from "../../src/cli/vopr_fleet.js";
import { UsageError } from "../../src/cli/usage_error.js";
import { noFaults, noRepairs } from "../../src/sim/runner/fault_counts.js";

describe("scarab vopr arguments", () => {
  test("a decimal seed or a commit hash (low 64 bits), flags in both spellings", () => {
    const args = parseVoprArgs(["--lite", "--requests-max=10", "--ticks-max-requests", "500", "--replicas", "2", "42"]);
    expect(args.seed).toBe(42n);
    expect(args.lite).toBe(true);
    expect(args.requestsMax).toBe(10);
    expect(args.ticksMaxRequests).toBe(500);
    expect(args.replicaCount).toBe(2);
    expect(args.stateMachine).toBe("accounting");
    expect(args.log).toBe("short");
    const hash = "0123456789abcdef0123456789abcdef00000000";
    expect(parseVoprArgs([hash]).seed).toBe(0x89abcdef00000000n);
    expect(parseVoprArgs(["18446744073709551615"]).seed).toBe(2n ** 64n - 1n);
    expect(parseVoprArgs(["--packet-loss-ratio=1/3"]).packetLoss).toEqual({ numerator: 1, denominator: 3 });
    const heavy = parseVoprArgs(["--crash-ratio=1/20000", "--restart-ratio", "1/2000", "9"]);
    expect([heavy.crashRatio, heavy.restartRatio]).toEqual([{ numerator: 1, denominator: 20000 }, { numerator: 1, denominator: 2000 }]);
    expect(replayCommand(9n, heavy)).toBe("scarab vopr --crash-ratio=1/20000 --restart-ratio=1/2000 9");
    const skewed = parseVoprArgs(["--skew-clocks", "9"]);
    expect(skewed.skewClocks).toBe(true);
    expect(replayCommand(9n, skewed)).toBe("scarab vopr --skew-clocks 9");
    expect(parseVoprArgs(["9"]).skewClocks).toBeUndefined();
  });

  test("mistakes are one clear UsageError", () => {
    const bad: string[][] = [
      ["--bogus"], ["18446744073709551616"], ["1", "2"], ["--replicas", "7"], ["--replicas"],
      ["--log", "loud"], ["--state-machine=ledger"], ["--lite", "--performance"], ["--seeds", "5", "3"],
      ["--jobs", "2"], ["--lite=yes"], ["--requests-max=-1"], ["--packet-loss-ratio=3/2"], ["--replica-missing=1"],
      ["--crash-ratio=2/1"], ["--restart-ratio=x"], ["--skew-clocks=yes"],
    ];
    for (const args of bad) expect(() => parseVoprArgs(args), args.join(" ")).toThrow(UsageError);
    expect(() => parseVoprArgs(["--replicas", "9"])).toThrow(/--replicas must be an integer in \[1, 6\]/);
    expect(() => parseVoprArgs(["--crash-ratio=2/1"])).toThrow("--crash-ratio must be A/B with 0 ≤ A ≤ B (got '2/1')");
  });

  test("the replay command repeats the run-changing flags, normalised", () => {
    const args = parseVoprArgs(["--log", "none", "--lite", "--ticks-max-requests", "500", "7"]);
    expect(replayCommand(7n, args)).toBe("scarab vopr --lite --ticks-max-requests=500 7");
    // accounting is the default state machine; testing (echo) is a run-changing flag.
    expect(replayCommand(7n, parseVoprArgs(["--state-machine", "accounting", "7"]))).toBe("scarab vopr 7");
    expect(replayCommand(7n, parseVoprArgs(["--state-machine=testing", "--lite", "7"])))
      .toBe("scarab vopr --lite --state-machine=testing 7");
  });

  test("--help exits 0; misuse exits 1", async () => {
    expect(await runVopr(["--help"])).toBe(0);
    expect(await runVopr(["--bogus"])).toBe(1);
  });
});

describe("scarab vopr --seeds", () => {
  test("seeds derive deterministically from the base", () => {
    expect(fleetSeeds(5n, 4)).toEqual(fleetSeeds(5n, 4));
    expect(new Set(fleetSeeds(5n, 100)).size).toBe(100);
    expect(fleetSeeds(5n, 3)).not.toEqual(fleetSeeds(6n, 3));
  });

  test("the summary lists coverage and every failing seed with its replay command", () => {
    const faults = { ...noFaults(), crashes: 1, partitions: 3, packetsDropped: 9, packetsReplayed: 2, latentErrors: 4 };
    const repairs = { ...noRepairs(), gridBlocks: 3 };
    const reports = [
      { seed: "1", exitCode: 0, ticks: 1000, outcome: "passed", parameters: { replicas: 3, standbys: 0 }, faults, repairs,
        rechecked: true, replay: "scarab vopr --lite 1" },
      { seed: "2", exitCode: 129, ticks: 500, outcome: "correctness: boom", parameters: { replicas: 5, standbys: 1 }, faults,
        repairs: noRepairs(), rechecked: false, replay: "scarab vopr --lite 2" },
    ];
    const lines = summary({ base: 9n, flags: ["--lite"], seeds: 4, shard: { index: 1, count: 2 } }, reports, 2000, 2);
    const text = lines.join("\n");
    expect(text).toContain("2 seeds in 2.0 s");
    expect(text).toContain("simulated 1500 ticks");
    expect(text).toContain("8x real time, 4x per core");
    expect(text).toContain("replicas: 3:1 5:1");
    expect(text).toContain("crashes 2 (2 seeds)");
    expect(text).toContain("latentErrors 8 (2 seeds)");
    expect(text).toContain("repairs: walHeaders 0 (0 seeds), walPrepares 0 (0 seeds), gridBlocks 3 (1 seeds), " +
      "scrubFaults 0 (0 seeds), replies 0 (0 seeds), superblocks 0 (0 seeds), stateSyncs 0 (0 seeds), statesDeferred 0 (0 seeds)");
    expect(text).toContain("FAILED: 1 seed(s)");
    expect(text).toContain("seed 2 exit 129: correctness: boom");
    expect(text).toContain("replay: scarab vopr --lite 2");
    expect(text).toContain("again: scarab vopr --seeds 4 --from 9 --shard 1/2 --lite");
    expect(text).toContain("rechecked: 1 seed(s) run twice, trace digests equal");
  });
});
