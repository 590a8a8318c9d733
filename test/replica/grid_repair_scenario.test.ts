// Grid repair from peers (src/grid/grid_repair.ts): a replica whose grid blocks read back corrupt
// fetches them by (address, checksum) from another replica and writes them back, whether the read
// is part of opening its checkpoint or of executing an op; alone, it cannot, and says so.
import { describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { decodeResults, encodeEvents, operationCodecs } from "../../src/core/ledger/object_codec.js";
import { BlockType, blockType, verifyBlockAt } from "../../src/grid/block.js";
import { scrubPace } from "../../src/grid/grid_scrubber.js";
import { Zone } from "../../src/io/storage.js";
import { acct } from "../ledger/helpers.js";
import { scenario, type ScenarioReplica } from "./scenario_harness.js";
import { createMany } from "./stories.js";

const { createAccounts, lookupAccounts } = operationCodecs;

/**
 * Every grid block the replica's checkpoint holds (or only its pages), corrupted (checksum bytes
 * flipped) on disk.
 */
function corruptWholeGrid(r: ScenarioReplica, only: "all" | "pages" = "all"): number[] {
  const grid = r.replica.grid;
  const acquired: number[] = [];
  for (let address = 1; address <= grid.blocksLimit; address++) if (grid.freeSet.isAcquired(address)) acquired.push(address);
  r.stop();
  const block = new Uint8Array(testConfig.blockSize);
  const chosen = acquired.filter((address) => {
    r.storage.readPristine(Zone.grid, (address - 1) * testConfig.blockSize, block);
    return only === "all" || blockType(block) === BlockType.page;
  });
  for (const address of chosen) r.storage.corruptBytes(Zone.grid, (address - 1) * testConfig.blockSize, 16);
  return chosen;
}

function repairedBlocks(r: ScenarioReplica): number[] {
  return r.events().flatMap((event) => /^repair_block: repaired grid block (\d+)/.exec(event)?.[1] ?? []).map(Number);
}

describe("grid repair", () => {
  test("a replica whose whole grid is corrupt repairs it from peers, at open and on demand, and catches up", () => {
    const t = scenario({ replicas: 3, stateMachine: "ledger" });
    createMany(t, 1, 24); // past the checkpoint at op 19
    const r2 = t.replica("R2");
    expect(r2.opCheckpoint).toBe(19);
    const corrupted = corruptWholeGrid(r2);
    expect(corrupted.length).toBeGreaterThan(8); // more than the 8-page cache: some are read only on demand
    r2.open();
    createMany(t, 1000, 40); // past the checkpoints at 39 and 59: R2 executes ops over repaired pages
    expect(r2.status).toBe("normal");
    expect(r2.commitMin).toBe(t.replica("R0").commitMin);
    const repaired = repairedBlocks(r2);
    // Whatever was read was repaired, each block once, and only blocks that were corrupted.
    expect(repaired.length).toBeGreaterThan(0);
    expect(new Set(repaired).size).toBe(repaired.length);
    for (const address of repaired) expect(corrupted).toContain(address);
    // The next checkpoints are identical everywhere (the storage checker compared their blocks too).
    expect(r2.opCheckpoint).toBeGreaterThanOrEqual(59);
    expect(r2.replica.checkpointId()).toBe(t.replica("R0").replica.checkpointId());
    // And what R2 serves is right: a lookup answered by the cluster sees every account.
    const client = t.client("C0");
    client.send(lookupAccounts.operation, encodeEvents(lookupAccounts, [[1n, 480n, 1000n, 1799n]]));
    t.runUntilQuiet();
    const accounts = decodeResults(lookupAccounts, client.replies.at(-1)!);
    if (typeof accounts === "string") throw new Error(accounts);
    expect(accounts[0]!.map((account) => account.id)).toEqual([1n, 480n, 1000n, 1799n]);
  });

  // Pages only: open gets past the checkpoint's metadata and starts restoring before it waits, so
  // the sync must drop a restore half done.
  test.each(["all", "pages"] as const)("when peers no longer hold its checkpoint's blocks (%s corrupt), a replica " +
    "joins without its state and state-syncs", (only) => {
    const t = scenario({ replicas: 3, stateMachine: "ledger" });
    createMany(t, 1, 24); // past the checkpoint at op 19
    const r2 = t.replica("R2");
    expect(r2.opCheckpoint).toBe(19);
    expect(corruptWholeGrid(r2, only).length).toBeGreaterThan(0);
    createMany(t, 1000, 50); // the others pass checkpoints 39, 59 and reuse checkpoint 19's blocks
    expect(t.replica("R0").opCheckpoint).toBeGreaterThanOrEqual(59);
    r2.open();
    t.runUntil(() => r2.up && r2.status === "normal" && r2.commitMin === t.replica("R0").commitMin, 20_000);
    const events = r2.events();
    const deferred = events.findIndex((event) => event.startsWith("state_deferred: checkpoint 19: grid blocks still unrepaired"));
    expect(deferred).toBeGreaterThanOrEqual(0);
    expect(events.indexOf("sync_done", deferred)).toBeGreaterThan(deferred);
    expect(events.some((event) => event.startsWith("state_loaded"))).toBe(false); // the sync replaced it
    createMany(t, 3000, 25); // and it executes again, through the next checkpoint, in step with the others
    expect(r2.commitMin).toBe(t.replica("R0").commitMin);
    expect(r2.replica.checkpointId()).toBe(t.replica("R0").replica.checkpointId());
  });

  test("a replica whose repairs take long joins without its state, then loads it once they arrive", () => {
    const t = scenario({ replicas: 3, stateMachine: "ledger" });
    createMany(t, 1, 24);
    const r2 = t.replica("R2");
    corruptWholeGrid(r2);
    t.drop("*", "R2", "block");
    r2.open();
    t.runUntil(() => r2.events().some((event) => event.startsWith("state_deferred")), 2_000);
    t.runUntil(() => r2.up && r2.status === "normal", 2_000);
    expect(r2.commitMin).toBe(19); // joined, executing nothing
    t.heal();
    t.runUntil(() => r2.events().some((event) => event.startsWith("state_loaded")), 2_000);
    createMany(t, 1000, 5);
    expect(r2.commitMin).toBe(t.replica("R0").commitMin);
    expect(r2.events().includes("sync_done")).toBe(false); // its own checkpoint, repaired
  });

  test("a replica alone cannot repair: opening on a corrupt block fails with what is wrong", () => {
    const t = scenario({ replicas: 1, stateMachine: "ledger" });
    createMany(t, 1, 24);
    const r0 = t.replica("R0");
    expect(r0.opCheckpoint).toBe(19);
    corruptWholeGrid(r0);
    expect(() => r0.open() && t.tick(100)).toThrow(/replica 0: open failed: manifest block \d+ missing or corrupt/);
  });

  describe("the scrubber", () => {
    /** Corrupts, on the running replica, every block of its state that holds a page; returns their addresses. */
    function corruptPagesInPlace(r: ScenarioReplica): number[] {
      const grid = r.replica.grid;
      const pages: number[] = [];
      for (let space = 0; space < grid.spaceCount; space++) {
        for (let page = 0; grid.livePage(space, page) !== null; page++) pages.push(grid.livePage(space, page)!.address);
      }
      for (const address of pages) r.storage.corruptBytes(Zone.grid, (address - 1) * testConfig.blockSize, 16);
      return pages;
    }

    /**
     * Ticks for the scrubber to walk the replica's whole state `tours` times: a grid this small is
     * read at the slowest pace, one block per intervalTicksMax (grid_scrubber.ts ScrubPace).
     */
    function scrubTours(r: ScenarioReplica, tours: number): number {
      const grid = r.replica.grid;
      let blocks = 0;
      while (grid.liveRoot(blocks) !== null) blocks += 1;
      for (let space = 0; space < grid.spaceCount; space++) {
        for (let page = 0; grid.livePage(space, page) !== null; page++) blocks += 1;
      }
      return tours * blocks * scrubPace("test").intervalTicksMax;
    }

    function intactOnDisk(r: ScenarioReplica, address: number): boolean {
      const block = new Uint8Array(testConfig.blockSize);
      r.storage.readPristine(Zone.grid, (address - 1) * testConfig.blockSize, block);
      return verifyBlockAt(block, address, 0x5ce4a710n); // the scenario harness's cluster id
    }

    test("finds faulty blocks nothing reads and repairs them from a peer, with no request in flight", () => {
      const t = scenario({ replicas: 3, stateMachine: "ledger" });
      createMany(t, 1, 24);
      const r2 = t.replica("R2");
      const corrupted = corruptPagesInPlace(r2);
      expect(corrupted.length).toBeGreaterThan(2);
      for (const address of corrupted) expect(intactOnDisk(r2, address)).toBe(false);
      t.tick(scrubTours(r2, 2) + 1_000); // idle: no request reads a page; the scrubber walks the whole state
      const found = r2.events().filter((event) => event.startsWith("scrub_fault"));
      expect(found.length).toBe(corrupted.length);
      expect(found[0]).toMatch(/^scrub_fault: grid block \d+ read back corrupt or misdirected by the scrubber: repairing it from a peer$/);
      expect(repairedBlocks(r2).sort((a, b) => a - b)).toEqual(corrupted.slice().sort((a, b) => a - b));
      for (const address of corrupted) expect(intactOnDisk(r2, address)).toBe(true);
      expect(r2.replica.scrubber.stats.cyclesCompleted).toBeGreaterThan(1);
      // Nothing is found twice: the next cycles read the repaired blocks.
      t.tick(scrubTours(r2, 1));
      expect(r2.events().filter((event) => event.startsWith("scrub_fault")).length).toBe(corrupted.length);
    });

    test("alone, it reports a faulty block it cannot repair", () => {
      const t = scenario({ replicas: 1, stateMachine: "ledger" });
      createMany(t, 1, 24);
      const r0 = t.replica("R0");
      const corrupted = corruptPagesInPlace(r0);
      t.tick(scrubTours(r0, 1) + 1_000);
      const found = r0.events().filter((event) => event.startsWith("scrub_fault"));
      expect(found.length).toBeGreaterThanOrEqual(corrupted.length);
      expect(found[0]).toMatch(/no peer to repair it from$/);
    });
  });
});
