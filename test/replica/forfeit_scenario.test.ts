// The forfeit rule of a would-be primary behind a join_view's checkpoint (spec/vsr.md §6.3.4, as
// TigerBeetle's on_join_view): it gives way unconditionally only when the checkpoint after its
// own is durable; otherwise only while the replicas ahead have not yet had their chance to lead
// (view − log_view < replica count). Forfeiting for ever deadlocked the cluster when the replicas
// ahead could not lead (VOPR seed 15831440626752243155: both holders of checkpoint 59 lacked one
// of its grid blocks, and the three replicas at checkpoint 39 kept forfeiting to them).
import { describe, expect, test } from "vitest";
import { createMany, oneEachAtOnce, stopAndCorruptGrid, threeReplicasAtCommit17 } from "./stories.js";

describe("forfeit", () => {
  test("a would-be primary a checkpoint behind leads once the replica ahead, at a checkpoint not durable, " +
    "had its chance and could not", () => {
    const { t, r0, r1, r2 } = threeReplicasAtCommit17();
    // Ops 18..21 go out together, each saying commit 17: R2, hearing no commit heartbeat, writes
    // them all but executes none, and stays at checkpoint 0 while R0 and R1 pass checkpoint 19.
    t.drop("*", r2.name, "commit");
    oneEachAtOnce(t, 2000);
    t.runUntil(() => r2.op === 21 && r0.commitMin === 21 && r1.commitMin === 21);
    expect([r0.opCheckpoint, r1.opCheckpoint, r2.opCheckpoint, r2.commitMin]).toEqual([19, 19, 0, 17]);
    expect(r0.replica.math.checkpointDurable(19, 21)).toBe(false);
    r2.stop();
    t.heal();
    r1.stop(); // the only other holder of checkpoint 19's blocks
    stopAndCorruptGrid(r0); // R0 is ahead but cannot execute: it waits for blocks nobody up holds
    r0.open();
    r2.open();
    // R2 first gives way to R0 (forfeits), whose views never start; then it leads itself: it
    // executes from its own WAL, writes checkpoint 19 again, and R0 repairs its blocks from R2.
    t.runUntil(() => [r0, r2].every((r) => r.status === "normal" && r.commitMin === 21), 20_000);
    expect(t.probes["primary_forfeited"]).toBeGreaterThan(0);
    expect(t.probes["open_without_state"]).toBe(1);
    expect(r2.isPrimary).toBe(true);
    expect(r2.opCheckpoint).toBe(19);
    expect(r0.events().some((event) => event.startsWith("repair_block"))).toBe(true);
    expect(r0.replica.checkpointId()).toBe(r2.replica.checkpointId());
    createMany(t, 3000, 2);
    expect([r0.commitMin, r2.commitMin]).toEqual([23, 23]);
  });
});
