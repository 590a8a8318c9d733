// Self-check of the testbed: each planted protocol bug (src/replica/bugs.ts) must make
// the VOPR fail within 200 seeds (the bound is 500). Bugs in what a replica promises about
// its disk are caught by the durability checker, the moment the promise is made. Bugs in the storage engine need the ledger (the echo state
// machine writes no grid blocks); the others run the faster echo machine. A VOPR that passes a broken replica proves nothing. Seeds run
// until the first failure, so a caught bug costs only the seeds before it.
import { describe, expect, test } from "vitest";
import { noBugs, plantBugs, plantedBugNames, type PlantedBugName, type PlantedBugs } from "../../src/replica/bugs.js";
import { runSimulation } from "../../src/sim/runner/simulator.js";

const seedsMax = 200;
const budget = { requestsMax: 96, ticksMaxRequests: 60_000, ticksMaxConvergence: 60_000 } as const;

type StateMachine = "testing" | "accounting";
const stateMachineOf: Partial<Record<PlantedBugName, StateMachine>> = { gridReadWithoutBodyChecksum: "accounting" };

function run(seed: number, bugs: PlantedBugs, stateMachine: StateMachine): { exitCode: number; outcome: string } {
  return runSimulation(BigInt(seed), { log: "none", stateMachine, write: () => {}, bugs, ...budget });
}

/** The first seed (1, 2, …) whose run fails, with how it failed; null if all 200 pass. */
function firstFailure(bugs: PlantedBugs, stateMachine: StateMachine): { seed: number; exitCode: number; outcome: string } | null {
  for (let seed = 1; seed <= seedsMax; seed++) {
    const result = run(seed, bugs, stateMachine);
    if (result.exitCode !== 0) return { seed, ...result };
  }
  return null;
}

describe("planted bugs are caught within 200 seeds", () => {
  for (const bug of plantedBugNames) {
    test(bug, () => {
      const stateMachine = stateMachineOf[bug] ?? "testing";
      const failure = firstFailure(plantBugs(bug), stateMachine);
      expect(failure, `${bug} was not caught in ${seedsMax} seeds`).not.toBeNull();
      // A correctness (129) or assertion (127) failure, not a liveness verdict.
      expect([127, 129], failure!.outcome).toContain(failure!.exitCode);
      // Control: the same seed passes with the bug removed, so it was the bug that was caught.
      expect(run(failure!.seed, noBugs, stateMachine).exitCode).toBe(0);
    }, 600_000);
  }
});
