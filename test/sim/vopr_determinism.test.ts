// DESIGN.md "Same seed + same code ⇒ identical event trace": two runs of each seed, in lite and
// default mode, must end with the same trace hash (every log line and every delivered message's
// checksum), the same tick count and the same outcome; different seeds must differ. This holds
// for failing runs too, so it does not depend on which seeds the replica passes today.
import { describe, expect, test } from "vitest";
import { runSimulation, type SimulationOptions } from "../../src/sim/runner/simulator.js";

const seeds = Array.from({ length: 20 }, (_, index) => BigInt(index) * 7919n + 3n);

function options(lite: boolean): SimulationOptions {
  return {
    lite, log: "none", stateMachine: "testing", write: () => {},
    // Short budgets: determinism shows within a few thousand ticks, and the suite stays fast.
    requestsMax: 12, ticksMaxRequests: 1500, ticksMaxConvergence: 1500,
  };
}

function fingerprint(seed: bigint, lite: boolean): string {
  const result = runSimulation(seed, options(lite));
  return `${result.traceHash}/${result.ticks}/${result.exitCode}/${result.outcome}`;
}

describe("VOPR determinism", () => {
  for (const lite of [true, false]) {
    test(`${lite ? "lite" : "default"} mode: the same seed twice gives the same trace`, () => {
      const first = seeds.map((seed) => fingerprint(seed, lite));
      const second = seeds.map((seed) => fingerprint(seed, lite));
      expect(second).toEqual(first);
      // Different seeds explore different runs.
      expect(new Set(first.map((entry) => entry.split("/")[0])).size).toBe(seeds.length);
    });
  }

  test("the full log is the trace of the short log plus messages, and does not change the run", () => {
    const lines: string[] = [];
    const full = runSimulation(seeds[1]!, { ...options(true), log: "full", write: (line) => lines.push(line) });
    const none = runSimulation(seeds[1]!, options(true));
    expect(full.traceHash).toBe(none.traceHash);
    expect(lines[0]).toBe(`SEED=${seeds[1]}`);
    expect(lines.some((line) => line.startsWith("replica_crash_probability="))).toBe(true);
    expect(lines.at(-1)).toMatch(/^(PASSED|FAILED)/);
  });
});

// Replicas sleep through the ticks they promise are quiet (Replica.quietTicksAhead, Cluster's
// sleepWhenQuiet) and catch their counters up before anything reaches them. That must not
// change a run: every delivered message, tick count and outcome is the same as ticking every tick.
// The seeds cover clock skew and jumps (half of all seeds), crashes, pauses and state sync.
describe("sleeping replicas and clients change nothing", () => {
  const budget = { log: "none", stateMachine: "testing", write: () => {}, ticksMaxRequests: 20_000, ticksMaxConvergence: 20_000 } as const;
  const crashHeavy = { crashRatio: { numerator: 1, denominator: 20_000 }, restartRatio: { numerator: 1, denominator: 2_000 } };
  const runs: [string, bigint, SimulationOptions][] = [
    ...[3n, 7922n, 15841n, 2026n, 31337n].map((seed): [string, bigint, SimulationOptions] => ["default", seed, budget]),
    ...[5n, 77n].map((seed): [string, bigint, SimulationOptions] => ["crash-heavy", seed, { ...budget, ...crashHeavy }]),
  ];
  for (const [profile, seed, options] of runs) {
    test(`${profile} seed ${seed}`, () => {
      const awake = runSimulation(seed, { ...options, sleepWhenQuiet: false });
      const sleeping = runSimulation(seed, { ...options, sleepWhenQuiet: true });
      expect(sleeping.traceHash).toBe(awake.traceHash);
      expect(sleeping.ticks).toBe(awake.ticks);
      expect(sleeping.outcome).toBe(awake.outcome);
    });
  }
});
