// Repair and state sync (spec/vsr.md §7, §8, §9): a backup that missed prepares repairs them from
// peers while the cluster still holds them in its WAL; one that fell a whole checkpoint behind
// after the cluster wrapped its 32-slot WAL adopts a newer checkpoint by state sync instead.
import { describe, expect, test } from "vitest";
import { scenario } from "./scenario_harness.js";

describe("repair", () => {
  test("a backup that lost a few prepares repairs them from its peers", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet();
    const b2 = t.replica("B2");
    t.drop("A0", b2.name, "prepare", "commit");
    t.requests(5).runUntilQuiet();
    expect(b2.op).toBe(1);
    t.heal().requests(1).runUntilQuiet().expectCommit(7);
    expect(t.deliveries(b2.name, "*", "get_prepare")).toBeGreaterThan(0);
    expect(b2.events()).not.toContain("sync_start");
  });

  test("a backup restarted a few ops behind catches up by WAL repair, not state sync", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet();
    const b2 = t.replica("B2").stop();
    t.requests(10).runUntilQuiet();
    b2.open();
    t.runUntilQuiet().expectCommit(13);
    expect(b2.events()).not.toContain("sync_start");
  });

  test("a backup that missed two checkpoints state-syncs after the cluster wrapped its WAL", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.runUntilQuiet();
    const b2 = t.replica("B2").stop();
    t.requests(48).runUntilQuiet(); // ops 3..50: checkpoints at 19 and 39, the WAL wrapped
    expect(t.replica("A0").opCheckpoint).toBe(39);
    b2.open();
    t.runUntilQuiet().expectCommit(50);
    expect(b2.events()).toContain("sync_done");
    expect(b2.opCheckpoint).toBe(39);
    expect(b2.replica.checkpointId()).toBe(t.replica("A0").replica.checkpointId());
    t.requests(4).runUntilQuiet().expectCommit(54);
  });

  test("a crash after a sync switched the superblock, before its staged blocks moved: the restart completes it", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.requests(20).runUntilQuiet().expectCommit(22); // ops 1..2 register the two clients
    const b2 = t.replica("B2");
    expect(b2.opCheckpoint).toBe(19);
    b2.stop();
    t.requests(48).runUntilQuiet().expectCommit(70); // checkpoints at 39 and 59; the WAL wrapped
    expect(t.replica("A0").opCheckpoint).toBe(59);
    b2.open();
    // The target's blocks reuse addresses of B2's own checkpoint 19: those are staged, and the
    // superblock switches to 59 naming them before they move home. Crash right then.
    const staged = (): boolean => b2.up && (b2.replica.superblock.working?.vsr_state.sync_moves_address ?? 0) !== 0;
    t.runUntil(staged);
    expect(b2.opCheckpoint).toBe(19); // not yet installed
    b2.crash();
    b2.open();
    t.runUntilQuiet().expectCommit(70);
    expect(b2.events()).toContain("sync_resumed: completing the state sync to checkpoint 59 that a crash interrupted: " +
      "moving its staged blocks home");
    expect(b2.replica.superblock.working!.vsr_state.sync_moves_address).toBe(0);
    expect(b2.opCheckpoint).toBe(59);
    expect(b2.replica.checkpointId()).toBe(t.replica("A0").replica.checkpointId());
    t.requests(4).runUntilQuiet().expectCommit(74);
  });

  test("a backup one checkpoint behind, the cluster past what its WAL may hold: it syncs to that checkpoint", () => {
    const t = scenario({ replicas: 3 });
    t.requests(14).runUntilQuiet();
    const b2 = t.replica("B2").stop();
    t.requests(20).runUntilQuiet().expectCommit(35);
    expect(t.replica("A0").opCheckpoint).toBe(19); // durable: held by the two others
    b2.open();
    t.runUntilQuiet().expectCommit(35);
    expect(b2.events()).toContain("sync_done");
    expect(b2.opCheckpoint).toBe(19);
  });

  test("a replica partitioned during a checkpoint catches up by repair and checkpoints the same state", () => {
    const t = scenario({ replicas: 3 });
    t.requests(15).runUntilQuiet().expectCommit(16);
    const b1 = t.replica("B1");
    t.partition(b1.name, ["A0", "B2"]);
    t.requests(8).runUntilQuiet(); // ops 17..24: the others checkpoint at 19 without b1
    expect(b1.commitMin).toBe(16);
    expect(t.replica("A0").opCheckpoint).toBe(19);
    t.heal().runUntilQuiet().expectCommit(24);
    expect(b1.opCheckpoint).toBe(19);
    expect(b1.replica.checkpointId()).toBe(t.replica("A0").replica.checkpointId());
    expect(b1.events()).not.toContain("sync_start");
  });
});
