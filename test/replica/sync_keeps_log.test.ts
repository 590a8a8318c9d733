// A backup that cannot commit (it never receives one prepare) keeps preparing and acknowledging
// what follows, until its repair is found stuck while the cluster's next checkpoint is durable,
// and it state-syncs to that checkpoint (TigerBeetle's repair_sync and likely_stuck; before those,
// it waited until the cluster was past what its WAL may hold). The prepares it acknowledged above
// that checkpoint are still its log: it keeps them (vsr.md §8), and its join_view vouches for
// them. It used to drop them, and a join_view that ends below an acknowledged prepare counts as a
// nack of it.
import { describe, expect, test } from "vitest";
import { scenario } from "./scenario_harness.js";

describe("state sync keeps the log above the synced checkpoint", () => {
  test("a backup stuck one checkpoint behind keeps the prepares it acknowledged above it", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet();
    const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
    t.dropPrepare("*", b2.name, 5); // b2 never gets op 5: it commits nothing past op 4
    // Ops 5..31: the others checkpoint at 19, which is durable once they commit 31.
    t.requests(28).runUntil(() => b2.events().includes("sync_start"));
    expect([b2.commitMin, b2.op, a0.opCheckpoint, a0.commitMax]).toEqual([4, 31, 19, 31]);
    const acknowledged = Array.from({ length: 12 }, (_, i) => 20 + i); // ops 20..31, above the checkpoint
    const checksums = acknowledged.map((op) => a0.checksumOf(op)!);

    t.runUntil(() => b2.events().includes("sync_done"));
    expect(b2.opCheckpoint).toBe(19);
    expect(b2.replica.logDiscardedBySync).toBe(false);
    expect(b2.op).toBeGreaterThanOrEqual(31);
    acknowledged.forEach((op, i) => expect(b2.replica.journal.hasPrepare(op, checksums[i]!), `op ${op}`).toBe(true));

    // A view change without the primary keeps them all.
    t.requests(1).runUntilQuiet().expectCommit(32);
    a0.stop();
    t.requests(1).runUntilQuiet().expectCommit(33, [b1.name, b2.name]);
    acknowledged.forEach((op, i) => expect(b1.checksumOf(op)).toBe(checksums[i]));
  });
});
