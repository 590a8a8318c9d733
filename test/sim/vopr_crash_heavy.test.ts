// Crash-heavy seeds that once stalled a cluster (exit 128) or asserted (127), and must not again:
// a crash every ~20,000 ticks per replica, a restart within ~2,000 (`--crash-ratio=1/20000
// --restart-ratio=1/2000`, the fleet of docs/storage_faults.md), at small budgets.
// - 835791073117046069: a primary back in its own view with its head in a faulty slot entered a
//   view change it could not join (it can neither vouch for nor nack that op); it now waits in
//   recovering_head (replica.ts openFinish) until a view reaches it.
// - 9400690418971263029: a new primary's read of a surviving prepare back into its pipeline
//   failed, the entry stayed empty, and the op was never sent again (normal.ts resendPrepares).
// - 5093316227051821357: a primary restarted in its own view (96) with an uncertain head and waited
//   in recovering_head for a view only it could start, while the others ran view 95. Its pings now
//   bring them to view 96 (view_change.ts joinNewerView), whose change fails over to view 97.
// - 835791073117046069 again, under the schedule of session 17's process dice: a backup's
//   join_view carried a stale header below a break in its log, and the new primary asserted
//   "chooseLog: canonical fork" (view_change.ts buildJoinView now sends no header that does not
//   chain to the one above it).
// - 29, with 48 requests (the probe test's crash-heavy swarm): a new primary's read-back of a
//   prepare completed after the prepare timeout had filled the pipeline entry from the prepare
//   cache, and filled it again ("a pipeline entry filled with another prepare", pipeline.ts).
// - 6311786364354787720 (of `--from 4242`): a misdirected write left an old prepare visible in its
//   slot, WAL recovery fixed the slot's header from it, and the durability checker, which compared
//   only with the pristine (newer) prepare, took that for a header written before its prepare.
// - 15831440626752243155 (of `--from 9999`): a replica a checkpoint behind forfeited every view it
//   would have led to the only replicas at the newer, not yet durable checkpoint, which could not
//   execute from it (a grid block lost on both); it now leads once they had their chance
//   (view_change.ts forfeit, as TigerBeetle's on_join_view).
// - 10973424217410457325 (of `--from 9999`): a replica acked op 46 in view 84, wrote view 99's op 46
//   before its log_view 99 was durable, crashed, and nacked op 46 in its join_view with log_view
//   84 — safely (view 99's log ended below 46), as TigerBeetle does; the durability checker now
//   drops an acknowledgement superseded by a later view's prepare of the op.
// - 12391088162272855483 (of `--from 4242`): a backup at checkpoint 79 waited forever for grid
//   blocks that its peers had freed, though checkpoint 99 was durable; it now asks for a `view`
//   when its repair is stuck and syncs to a durable checkpoint (repair.ts tickRepairSync, sync.ts
//   repairStuck, as TigerBeetle's repair_sync_timeout and likely_stuck). Once it asked, the run of
//   6311786364354787720 changed: a misdirected rewrite of a WAL slot left the old, shorter prepare
//   visible, and the durability checker read its padding from the newer pristine bytes.
// - 2499564323358898837 (of `--from 777`): a backup at checkpoint 79 waited for a grid block that its
//   peers, at checkpoint 99, had already freed; 99 was not yet durable (the cluster committed 107,
//   durable from 108), so the backup could neither repair nor sync. Peers now free a checkpoint's
//   releases only once it is durable, at the same op everywhere (grid/free_set.ts), as TigerBeetle.
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
    [6311786364354787720n, "passed"],
    [15831440626752243155n, "passed"],
    [10973424217410457325n, "passed"],
    [12391088162272855483n, "passed"],
    [2499564323358898837n, "passed"],
  ])("seed %s ends: %s", (seed, outcome) => {
    const result = runSimulation(seed, crashHeavy);
    expect([result.exitCode, result.outcome]).toEqual([0, outcome]);
  }, 60_000);

  test("seed 29 with 48 requests: passed", () => {
    const result = runSimulation(29n, { ...crashHeavy, requestsMax: 48 });
    expect([result.exitCode, result.outcome]).toEqual([0, "passed"]);
  }, 60_000);
});
