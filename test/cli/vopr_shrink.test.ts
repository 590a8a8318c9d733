// `scarab vopr shrink` (src/cli/vopr_shrink.ts) and the run flags it varies: --clients,
// --faults-off, --plant-bug (what they do to a run: test/sim/fault_classes.test.ts). The search is
// checked on a fake runner (exact, instant) and on a real planted bug.
import { describe, expect, test, vi } from "vitest";
import { UsageError } from "../../src/cli/usage_error.js";
import { loadSimulation, parseVoprArgs, replayCommand, runVopr, type VoprArgs } from "../../src/cli/vopr.js";
import {
  describeReduction, failureSignature, loadShrinkRunner, normaliseOutcome, parseShrinkArgs, shrink,
  type ShrinkOptions, type ShrinkRun,
} from "../../src/cli/vopr_shrink.js";
import { faultClasses } from "../../src/sim/runner/fault_classes.js";

describe("outcome normalisation", () => {
  test("numbers, hex and checksums become '#'; words stay", () => {
    expect(normaliseOutcome("correctness: state checker: replica 2: op 16 has checksum 9d1b8eb46cc22fd9c3d1db8990c124a0, canonical 2921e77bef1d2d42fc22bac36f8a10be"))
      .toBe("correctness: state checker: replica #: op # has checksum #, canonical #");
    expect(normaliseOutcome("no state convergence: replica 0 commit_min=12, cluster commit=0x1f")).toBe("no state convergence: replica # commit_min=#, cluster commit=#");
    expect(normaliseOutcome("crash: assertion: a bad face in u128 decode")).toBe("crash: assertion: a bad face in u128 decode");
  });

  test("the signature keeps the exit code and the kind of failure apart", () => {
    const a = failureSignature({ exitCode: 129, outcome: "correctness: state checker: replica 2: op 6 has checksum 88, canonical 10" });
    expect(failureSignature({ exitCode: 129, outcome: "correctness: state checker: replica 0: op 3 has checksum 7f, canonical 1a" })).toBe(a);
    expect(failureSignature({ exitCode: 127, outcome: "correctness: state checker: replica 0: op 3 has checksum 7f, canonical 1a" })).not.toBe(a);
    expect(failureSignature({ exitCode: 129, outcome: "correctness: workload: op 3: balance 5 wrong" })).not.toBe(a);
  });
});

describe("run flags: --clients, --faults-off, --plant-bug", () => {
  test("parsed, replayed in canonical order; mistakes are UsageErrors listing the choices", () => {
    const args = parseVoprArgs(["--faults-off=pauses,crashes", "--clients", "2", "--plant-bug", "commitWithoutQuorum", "9"]);
    expect([args.clientCount, args.faultsOff, args.plantBug]).toEqual([2, ["crashes", "pauses"], "commitWithoutQuorum"]);
    expect(replayCommand(9n, args)).toBe("scarab vopr --clients=2 --faults-off=crashes,pauses --plant-bug=commitWithoutQuorum 9");
    expect(() => parseVoprArgs(["--faults-off=crashes,gremlins"])).toThrow(UsageError);
    expect(() => parseVoprArgs(["--faults-off=gremlins"])).toThrow(`valid: ${faultClasses.join(", ")}`);
    expect(() => parseVoprArgs(["--plant-bug=nope"])).toThrow(/--plant-bug must be one of commitWithoutQuorum, /);
    expect(() => parseVoprArgs(["--clients=0"])).toThrow(UsageError);
    expect(() => parseVoprArgs(["--clients=14"])).toThrow(UsageError);
  });
});

/** A fake cluster: fails the same way iff requests ≥ 7, replicas ≥ 3 and partitions are on. */
function fakeRun(_seed: bigint, args: VoprArgs): ShrinkRun {
  const requestsMax = args.requestsMax ?? 96;
  const replicas = args.replicaCount ?? 5;
  const clients = args.clientCount ?? 9;
  const off = args.faultsOff ?? [];
  const faults = (["packet-loss", "partitions", "crashes", "pauses"] as const).filter((name) => !off.includes(name));
  const ticks = 100 * requestsMax + 10 * replicas;
  const config = { replicas, clients, requestsMax, faults, ticksMaxRequests: args.ticksMaxRequests ?? 40_000_000,
    ticksMaxConvergence: args.ticksMaxConvergence ?? 10_000_000 };
  if (clients === 1) return { ...config, exitCode: 127, outcome: "crash: assertion: something else", ticks: 5 };
  const fails = requestsMax >= 7 && replicas >= 3 && !off.includes("partitions");
  return { ...config, ticks, exitCode: fails ? 129 : 0, outcome: fails ? `correctness: state checker: replica ${replicas - 1}: op ${requestsMax}` : "passed" };
}

function fakeOptions(run: ShrinkOptions["run"], args: Partial<VoprArgs> = {}): ShrinkOptions {
  return { seed: 5n, args: { ...parseVoprArgs(["5"]), ...args }, run, budgetMs: 60_000, candidatesMax: 200, now: () => 0, progress: () => {} };
}

describe("the search", () => {
  test("finds the smallest failing configuration of a fake, and says what it removed", async () => {
    const lines: string[] = [];
    const result = await shrink({ ...fakeOptions(fakeRun), progress: (line) => lines.push(line) });
    if (result.kind !== "shrunk") throw new Error("expected a reproduction");
    expect([result.best.requestsMax, result.best.replicas, result.best.clients]).toEqual([7, 3, 2]);
    expect(result.args.faultsOff).toEqual(["packet-loss", "crashes", "pauses"]);
    expect([result.args.ticksMaxRequests, result.args.ticksMaxConvergence]).toEqual([731, 731]);
    expect(result.stopped).toBe(false);
    expect(describeReduction(result.best, result.args, result.best, result.args)).toBe("nothing could be removed");
    expect(describeReduction(result.original, fakeOptions(fakeRun).args, result.best, result.args)).toBe(
      "requests-max 96 → 7, replicas 5 → 3, clients 9 → 2, faults off: packet-loss, crashes, pauses, " +
      "ticks-max-requests 40000000 → 731, ticks-max-convergence 10000000 → 731, failing tick 9650 → 730");
    expect(lines).toContain("try requests-max=6: passes [0.0 s]");
    expect(lines).toContain("try clients=1: fails differently: exit 127: crash: assertion: something else [0.0 s]");
    expect(lines).toContain("try faults-off=packet-loss,partitions: passes [0.0 s]");
  });

  test("a liveness failure has its convergence budget lowered; the search respects its budgets", async () => {
    // No convergence within the budget B ⇔ B < 20 000 (a stall that heals then); failing tick = 500 + B.
    const stall = (_seed: bigint, args: VoprArgs): ShrinkRun => {
      const budget = args.ticksMaxConvergence ?? 10_000_000;
      return { ...fakeRun(_seed, { ...args, requestsMax: 1, replicaCount: 1, clientCount: 1 }), ticksMaxRequests: args.ticksMaxRequests ?? 40_000_000,
        ticksMaxConvergence: budget, exitCode: budget < 20_000 ? 128 : 0, outcome: "no state convergence: replica 1 commit_min=3", ticks: 500 + budget };
    };
    const result = await shrink(fakeOptions(stall, { ticksMaxConvergence: 19_999 }));
    if (result.kind !== "shrunk") throw new Error("expected a reproduction");
    expect(result.best.ticksMaxConvergence).toBeLessThan(19_999 / 8);
    expect(result.best.ticks).toBe(500 + result.best.ticksMaxConvergence);
    const capped = await shrink({ ...fakeOptions(fakeRun), candidatesMax: 3 });
    expect(capped.kind === "shrunk" && capped.stopped && capped.candidates === 3).toBe(true);
    let clock = 0;
    const timed = await shrink({ ...fakeOptions(fakeRun), budgetMs: 5, now: () => clock++ });
    expect(timed.kind === "shrunk" && timed.stopped && timed.candidates < 5).toBe(true);
  });

  test("shrink arguments: a SEED is required, --seeds refused, budgets parsed", () => {
    expect(() => parseShrinkArgs(["--lite"], parseVoprArgs)).toThrow("shrink needs the failing SEED");
    expect(() => parseShrinkArgs(["--seeds", "4"], parseVoprArgs)).toThrow(UsageError);
    expect(() => parseShrinkArgs(["--shrink-budget=0", "1"], parseVoprArgs)).toThrow(UsageError);
    const parsed = parseShrinkArgs(["--shrink-budget", "30", "--shrink-candidates=9", "--lite", "7"], parseVoprArgs);
    expect([parsed.budgetSeconds, parsed.candidatesMax, parsed.args.seed, parsed.args.lite]).toEqual([30, 9, 7n, true]);
  });
});

describe("shrinking a planted bug", () => {
  const flags = ["--plant-bug=commitWithoutQuorum", "--state-machine=testing", "--ticks-max=60000"];

  test("commitWithoutQuorum, seed 1: a smaller run that fails the same way when replayed", async () => {
    const run = await loadShrinkRunner(loadSimulation);
    const options: ShrinkOptions = { ...fakeOptions(run), seed: 1n, args: parseVoprArgs([...flags, "1"]), now: () => performance.now() };
    const result = await shrink(options);
    if (result.kind !== "shrunk") throw new Error("seed 1 should fail with commitWithoutQuorum");
    // Caught by the state checker (129) or by an assertion of the replica (127), as the run goes:
    // in session 18's runs seed 1 tripped chooseLog's "commit_max beyond the canonical head" first;
    // since a stuck backup asks for a `view` (session 19), the state checker sees the bad commit.
    expect([127, 129]).toContain(result.original.exitCode);
    const fewerRequests = result.best.requestsMax < result.original.requestsMax;
    const fewerFaults = result.best.faults.length < result.original.faults.length;
    expect(fewerRequests || fewerFaults).toBe(true);
    const replayed = await run(1n, parseVoprArgs(replayCommand(1n, result.args).split(" ").slice(2)));
    expect(failureSignature(replayed)).toBe(failureSignature(result.original));
    expect(replayed.ticks).toBe(result.best.ticks);
  }, 60_000);

  test("the command prints the comparison and the replay command, exit 0", async () => {
    const out: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: string) => { out.push(line); });
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await runVopr(["shrink", ...flags, "--shrink-candidates=2", "1"])).toBe(0);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    expect(out[0]).toBe("original: scarab vopr --ticks-max-requests=60000 --ticks-max-convergence=60000 --state-machine=testing --plant-bug=commitWithoutQuorum 1");
    expect(out).toContain("shrunk (2 candidates, search stopped by its budget):");
    expect(out).toContain("removed: requests-max 96 → 48, ticks-max-requests 60000 → 1791, ticks-max-convergence 60000 → 1791");
    expect(out.at(-1)).toBe("replay: scarab vopr --requests-max=48 --ticks-max-requests=1791 --ticks-max-convergence=1791 --state-machine=testing --plant-bug=commitWithoutQuorum 1");
  }, 60_000);

  test("a passing seed is refused (exit 1); --help and a missing seed", async () => {
    const run = await loadShrinkRunner(loadSimulation);
    const passing = await shrink({ ...fakeOptions(run), seed: 3n, args: parseVoprArgs([...flags, "3"]) });
    expect(passing.kind).toBe("passes");
    expect(await runVopr(["shrink", ...flags, "3"])).toBe(1);
    expect(await runVopr(["shrink", "--help"])).toBe(0);
    expect(await runVopr(["shrink", "--lite"])).toBe(1);
  }, 60_000);
});
