// Crash-heavy seeds that once stalled a 2-replica cluster (exit 128) and must not again: a crash
// every ~20,000 ticks per replica, a restart within ~2,000 (`--crash-ratio=1/20000
// --restart-ratio=1/2000`, the fleet of docs/storage_faults.md), at small budgets.
// - 835791073117046069: a primary back in its own view with its head in a faulty slot entered a
//   view change it could not join (it can neither vouch for nor nack that op); it now waits in
//   recovering_head (replica.ts openFinish) until a view reaches it.
// - 9400690418971263029: a new primary's read of a surviving prepare back into its pipeline
//   failed, the entry stayed empty, and the op was never sent again (normal.ts resendPrepares).
// - 5093316227051821357: a primary restarted in its own view (96) with an uncertain head and waited
//   in recovering_head for a view only it could start, while the others ran view 95. Its pings now
//   bring them to view 96 (view_change.ts joinNewerView), whose change fails over to view 97.
// Each outcome is the one of the code that fixed it; a change of the simulator's schedule (any
// change of a run's trace) may turn a pinned seed into another legitimate outcome.
import { describe, expect, test } from "vitest";
import { runSimulation } from "../../src/sim/runner/simulator.js";

const crashHeavy = {
  log: "none", stateMachine: "accounting", write: () => {},
  crashRatio: { numerator: 1, denominator: 20_000 }, restartRatio: { numerator: 1, denominator: 2_000 },
  ticksMaxRequests: 60_000, ticksMaxConvergence: 60_000,
} as const;

describe("crash-heavy VOPR seeds", () => {
  test.each([
    [835791073117046069n, "passed"],
    [9400690418971263029n, "passed"],
    [5093316227051821357n, "passed"],
  ])("seed %s ends without a stall: %s", (seed, outcome) => {
    const result = runSimulation(seed, crashHeavy);
    expect([result.exitCode, result.outcome]).toEqual([0, outcome]);
  }, 60_000);
});
