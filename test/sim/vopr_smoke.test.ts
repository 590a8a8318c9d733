// A fixed list of seeds must pass in lite and default mode (spec/vopr.md §4, §6): the safety
// phase reaches requests_max replies with no crash or correctness failure, and the default mode
// converges (or proves a legitimate non-liveness). Budgets are small so the file stays under
// ~60 s on two cores; a failure prints the replay command.
import { describe, expect, test } from "vitest";
import { runSimulation, type SimulationOptions } from "../../src/sim/runner/simulator.js";

// Seeds that pass today with the default 96 requests (WAL wraps, several checkpoints), chosen
// among 1..60 for short runs; a regression fails here.
const seeds = {
  lite: [8n, 9n, 14n, 16n, 35n, 36n, 37n, 39n, 46n, 57n],
  default: [3n, 7n, 10n, 13n, 27n, 31n, 39n, 44n, 46n, 56n],
};
const budget = { requestsMax: 96, ticksMaxRequests: 100_000, ticksMaxConvergence: 100_000 } as const;

function run(seed: bigint, lite: boolean): string {
  const options: SimulationOptions = { lite, log: "none", stateMachine: "testing", write: () => {}, ...budget };
  const result = runSimulation(seed, options);
  // A pass must be a real one: "no liveness" and "unimplemented" endings are passes that prove less.
  if (result.exitCode === 0 && result.outcome === "passed") return "ok";
  const flags = `${lite ? "--lite " : ""}--requests-max=${budget.requestsMax} --ticks-max-requests=${budget.ticksMaxRequests}` +
    ` --ticks-max-convergence=${budget.ticksMaxConvergence}`;
  return `seed ${seed}: exit ${result.exitCode} after ${result.ticks} ticks: ${result.outcome}\n` +
    `  replay: scarab vopr ${flags} --state-machine=testing ${seed}`;
}

describe("VOPR smoke seeds", () => {
  for (const lite of [true, false]) {
    test(`${lite ? "lite" : "default"} mode`, () => {
      const list = lite ? seeds.lite : seeds.default;
      const failures = list.map((seed) => run(seed, lite)).filter((outcome) => outcome !== "ok");
      expect(failures).toEqual([]);
    });
  }
});
