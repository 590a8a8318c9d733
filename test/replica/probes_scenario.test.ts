// Coverage probes (src/core/probes.ts) at the points they name: each story below drives the cluster
// into one situation and expects its probe, and, where a near miss is easy to stage, expects the
// probe not to fire for it. The VOPR counts the same hits per seed (test/sim/vopr_probes.test.ts).
import { describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { encodeEvents, operationCodecs } from "../../src/core/ledger/object_codec.js";
import { AccountFlags, TransferFlags } from "../../src/core/layouts.js";
import { Zone } from "../../src/io/storage.js";
import { acct, xfer } from "../ledger/helpers.js";
import { scenario, type ScenarioReplica } from "./scenario_harness.js";
import { createMany, nackQuorumStory } from "./stories.js";

const { createAccounts, createTransfers } = operationCodecs;

/** The grid blocks the replica's checkpoint holds (read before it is stopped). */
function acquiredBlocks(r: ScenarioReplica): number[] {
  const grid = r.replica.grid;
  const acquired: number[] = [];
  for (let address = 1; address <= grid.blocksLimit; address++) if (grid.freeSet.isAcquired(address)) acquired.push(address);
  return acquired;
}

/** Writes `block` at grid `address` of a stopped replica, as a misdirected write would have left it. */
function writeBlock(r: ScenarioReplica, address: number, block: Uint8Array): void {
  const storage = r.storage;
  let done = false;
  storage.write(Zone.grid, (address - 1) * testConfig.blockSize, block, () => { done = true; });
  for (let rounds = 0; !done; rounds++) {
    if (rounds === 100_000) throw new Error("the write never lands");
    if (!storage.step()) storage.tick();
  }
}

describe("coverage probes", () => {
  test("view_change_truncated: a nack quorum discards an op a backup held; a view change that keeps every op does not", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    // b1 holds op 4 above a gap at op 3; b2's log ends at 2.
    const [a0] = nackQuorumStory(t);
    expect(t.probes.view_change_truncated).toBeUndefined();
    a0.stop();
    t.heal().runUntilQuiet().expectCommit(4);
    expect(t.probes.view_change_truncated).toBe(1);
    expect(t.probes.view_change_by_timeout).toBeGreaterThan(0);

    const kept = scenario({ replicas: 3, clients: 2 });
    kept.runUntilQuiet().expectCommit(2);
    const primary = kept.replica("A0");
    kept.drop("*", primary.name, "prepare_ok");
    kept.requests(2).runUntil(() => kept.replica("B1").op === 4 && kept.replica("B2").op === 4);
    primary.crash();
    kept.heal().runUntilQuiet().expectCommit(4);
    expect(kept.probes.view_change_by_timeout).toBeGreaterThan(0);
    expect(kept.probes.view_change_truncated).toBeUndefined();
  });

  test("recovering_head_entered: a torn prepare and header at the head leave the head uncertain", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    expect(t.probes.recovering_head_entered).toBeUndefined();
    const b1 = t.replica("B1").stop();
    b1.corruptWalPrepare(3).corruptWalHeader(3);
    b1.open();
    t.runUntil(() => b1.status !== "recovering");
    expect(b1.status).toBe("recovering_head");
    expect(t.probes.recovering_head_entered).toBe(1);
    t.requests(2).runUntilQuiet().expectCommit(5);
  });

  test("wal_faulty_slot_recovered and wal_prepare_repaired: a corrupt prepare below an intact header", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    const b1 = t.replica("B1").stop();
    b1.corruptWalPrepare(3);
    b1.open();
    t.runUntilQuiet().expectCommit(3);
    expect(t.probes.wal_faulty_slot_recovered).toBe(1);
    expect(t.probes.wal_prepare_repaired).toBe(1);
    expect(t.probes.recovering_head_entered).toBeUndefined(); // the head was certain
  });

  test("superblock_copy_repaired: open rewrites two corrupt copies from the quorum of the other two", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet();
    const b1 = t.replica("B1").stop();
    b1.open();
    t.runUntil(() => b1.status === "normal");
    expect(t.probes.superblock_copy_repaired).toBeUndefined(); // a clean restart repairs nothing
    b1.stop().corruptSuperblockCopy(0).corruptSuperblockCopy(1);
    b1.open();
    t.runUntil(() => b1.status === "normal");
    expect(t.probes.superblock_copy_repaired).toBe(1);
  });

  test("misdirected_write_repaired: a grid block that reads back as another block is told from a corrupt one", () => {
    for (const fault of ["misplaced", "corrupt"] as const) {
      const t = scenario({ replicas: 3, stateMachine: "ledger" });
      createMany(t, 1, 24); // past the checkpoint at op 19
      const r2 = t.replica("R2");
      const acquired = acquiredBlocks(r2);
      r2.stop();
      if (fault === "misplaced") {
        // Each block's home holds its neighbour's block, intact: what misdirected writes leave.
        const blocks = acquired.map((address) => {
          const block = new Uint8Array(testConfig.blockSize);
          r2.storage.readPristine(Zone.grid, (address - 1) * testConfig.blockSize, block);
          return block;
        });
        acquired.forEach((address, i) => writeBlock(r2, address, blocks[(i + 1) % blocks.length]!));
      } else {
        for (const address of acquired) r2.storage.corruptBytes(Zone.grid, (address - 1) * testConfig.blockSize, 16);
      }
      r2.open();
      createMany(t, 1000, 40); // R2 executes ops over repaired pages
      expect(r2.commitMin).toBe(t.replica("R0").commitMin);
      const repaired = t.probes.grid_block_repaired ?? 0;
      expect(repaired, fault).toBeGreaterThan(0);
      expect(t.probes.misdirected_write_repaired ?? 0, fault).toBe(fault === "misplaced" ? repaired : 0);
    }
  });

  test("client_session_evicted: a register more than the session table holds evicts the oldest session", () => {
    const clientsMax = testConfig.clientsMax;
    // Every client registers at start: as many as the table holds, then one more.
    const full = scenario({ replicas: 3, clients: clientsMax });
    full.runUntilQuiet().expectCommit(clientsMax);
    expect(full.probes.client_session_evicted).toBeUndefined();
    const over = scenario({ replicas: 3, clients: clientsMax + 1 });
    over.runUntilQuiet().expectCommit(clientsMax + 1);
    expect(over.probes.client_session_evicted).toBe(3); // every replica executes the register
  });

  test("linked_chain_rolled_back and pending_transfer_expired: the ledger's probes, once per replica", () => {
    const t = scenario({ replicas: 3, stateMachine: "ledger" });
    const c0 = t.client("C0");
    const linked = AccountFlags.linked;
    // A chain whose second event fails (ledger 0): the first account is rolled back.
    c0.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(1n, { flags: linked }), acct(2n, { ledger: 0 })]]));
    // A chain that fails at its first event rolls nothing back.
    c0.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(3n, { flags: linked, ledger: 0 }), acct(4n)]]));
    t.runUntilQuiet();
    expect(t.probes.linked_chain_rolled_back).toBe(3);
    c0.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(5n), acct(6n)]]));
    c0.send(createTransfers.operation, encodeEvents(createTransfers, [[xfer(10n, 5n, 6n, 7n, { flags: TransferFlags.pending, timeout: 1 })]]));
    t.runUntil(() => c0.replies.length === 4);
    expect(t.probes.pending_transfer_expired).toBeUndefined();
    t.runUntilQuiet(); // longer than the timeout of 1 s: the primary's pulse expires it
    expect(t.probes.pending_transfer_expired).toBe(3);
  });
});
