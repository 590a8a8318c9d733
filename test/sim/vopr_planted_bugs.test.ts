// Self-check of the testbed: each planted protocol bug (src/replica/planted_bugs.ts) must make
// the VOPR fail within 200 seeds. A VOPR that passes a broken replica proves nothing. Seeds run
// until the first failure, so a caught bug costs only the seeds before it.
import { afterEach, describe, expect, test } from "vitest";
import { clearPlantedBugs, plantedBugs, type PlantedBugs } from "../../src/replica/planted_bugs.js";
import { runSimulation } from "../../src/sim/runner/simulator.js";

const seedsMax = 200;
const budget = { requestsMax: 96, ticksMaxRequests: 60_000, ticksMaxConvergence: 60_000 } as const;

function run(seed: number): { exitCode: number; outcome: string } {
  return runSimulation(BigInt(seed), { log: "none", stateMachine: "testing", write: () => {}, ...budget });
}

/** The first seed (1, 2, …) whose run fails, with how it failed; null if all 200 pass. */
function firstFailure(): { seed: number; exitCode: number; outcome: string } | null {
  for (let seed = 1; seed <= seedsMax; seed++) {
    const result = run(seed);
    if (result.exitCode !== 0) return { seed, ...result };
  }
  return null;
}

afterEach(clearPlantedBugs);

describe("planted bugs are caught within 200 seeds", () => {
  const bugs: (keyof PlantedBugs)[] = [
    "commitWithoutQuorum", "truncateWithoutNackQuorum", "ackBeforeDurable", "logChoiceByHighestOp",
  ];
  for (const bug of bugs) {
    test(bug, () => {
      plantedBugs[bug] = true;
      const failure = firstFailure();
      expect(failure, `${bug} was not caught in ${seedsMax} seeds`).not.toBeNull();
      // A correctness (129) or assertion (127) failure, not a liveness verdict.
      expect([127, 129], failure!.outcome).toContain(failure!.exitCode);
      // Control: the same seed passes with the bug removed, so it was the bug that was caught.
      clearPlantedBugs();
      expect(run(failure!.seed).exitCode).toBe(0);
    }, 600_000);
  }
});
