// The forfeit rule of a would-be primary behind a join_view's checkpoint (spec/vsr.md §6.3.4, as
// TigerBeetle's on_join_view): it gives way unconditionally only when the checkpoint after its
// own is durable; otherwise only while the replicas ahead have not yet had their chance to lead
// (view − log_view < replica count). Forfeiting for ever deadlocked the cluster when the replicas
// ahead could not lead (VOPR seed 15831440626752243155: both holders of checkpoint 59 lacked one
// of its grid blocks, and the three replicas at checkpoint 39 kept forfeiting to them).
import { describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { encodeEvents, operationCodecs } from "../../src/core/ledger/object_codec.js";
import { Zone } from "../../src/io/storage.js";
import { acct } from "../ledger/helpers.js";
import { scenario, type Scenario, type ScenarioReplica } from "./scenario_harness.js";
import { createMany } from "./stories.js";

const { createAccounts } = operationCodecs;

/** One create_accounts request from each client at once: they share one pipeline of prepares. */
function oneEachAtOnce(t: Scenario, firstId: number): void {
  t.clients.forEach((client, c) => client.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(BigInt(firstId + c))]])));
}

/** Stops `r` and corrupts every grid block its checkpoint holds. */
function stopAndCorruptGrid(r: ScenarioReplica): void {
  const grid = r.replica.grid;
  const acquired: number[] = [];
  for (let address = 1; address <= grid.blocksLimit; address++) if (grid.freeSet.isAcquired(address)) acquired.push(address);
  r.stop();
  for (const address of acquired) r.storage.corruptBytes(Zone.grid, (address - 1) * testConfig.blockSize, 16);
}

describe("forfeit", () => {
  test("a would-be primary a checkpoint behind leads once the replica ahead, at a checkpoint not durable, " +
    "had its chance and could not", () => {
    const t = scenario({ replicas: 3, clients: 4, stateMachine: "ledger" });
    oneEachAtOnce(t, 900);
    t.runUntilQuiet();
    const [r0, r1, r2] = [t.replica("R0"), t.replica("R1"), t.replica("R2")];
    createMany(t, 1, 17 - r0.commitMax);
    expect(r0.commitMax).toBe(17);
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
