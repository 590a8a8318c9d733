// The grid across restarts (src/grid/grid.ts, free_set.ts):
// 1. determinism: a grid that reopened from a checkpoint mid-way (dropping the flush writes still in
//    flight, completing IO in another order) and replayed the same requests takes checkpoints with
//    the same manifest references (address and checksum) as one that ran continuously; since every
//    reference carries its block's checksum, equal manifest references mean equal checkpoints;
// 2. the release rule: after checkpoint N is taken and before it is durable, no block of N−1 has
//    been overwritten and N−1 still opens, also after a crash in the middle of N's writes;
// 3. corruption: a flipped byte in a page, a directory block, a blob or the manifest (or a
//    misdirected block) makes open() call back with an error naming what is wrong, never throw.
import { LedgerSpace } from "../../src/core/ledger/prefetch.js";
import { describe, expect, it } from "vitest";
import { Zone } from "../../src/io/storage.js";
import { blockBody } from "../../src/grid/block.js";
import { blockBytes as blockAt } from "./harness.js";
import {
  LedgerDriver, allReferences, bytesEqual, expectOpened, gridStorage, makeRequests, newGrid, openFresh,
  walkCheckpoint, type CheckpointBlocks,
} from "./harness.js";
import type { ManifestReference } from "../../src/grid/grid.js";
import type { MemoryStorage } from "../replica/memory_storage.js";

const blocksLimit = 2048;
const checkpointOps = 16;

function copyBlocks(storage: MemoryStorage, blocks: CheckpointBlocks): Map<number, Uint8Array> {
  return new Map(allReferences(blocks).map((r) => [r.address, blockAt(storage, r.address).slice()]));
}

describe("Grid determinism", () => {
  it("a grid reopened mid-way and replaying the same requests takes identical checkpoints", () => {
    const requests = makeRequests(21, checkpointOps * 6);
    const continuous = gridStorage(blocksLimit);
    const a = new LedgerDriver(newGrid(continuous, blocksLimit), continuous);
    a.run(requests);
    expect(a.checkpoints.map((c) => c.op)).toEqual([15, 31, 47, 63, 79, 95]);

    for (const crashAfter of [37, 33, 47, 50]) {
      // B: another storage completing IO in a shuffled order; it crashes after op `crashAfter`
      // with its last bar flush still in flight, reopens the last durable checkpoint, and replays.
      const storage = gridStorage(blocksLimit, { order: "shuffled", seed: crashAfter });
      const b = new LedgerDriver(newGrid(storage, blocksLimit), storage);
      b.run(requests.slice(0, crashAfter + 1));
      const resume = b.lastCheckpoint;
      expect(b.checkpoints.map((c) => c.manifest)).toEqual(a.checkpoints.slice(0, b.checkpoints.length).map((c) => c.manifest));
      storage.crash();
      const opened = openFresh(storage, blocksLimit, resume.manifest);
      expect(expectOpened(opened.result)).toEqual(resume.sessions);
      const replay = new LedgerDriver(opened.grid, storage, { machine: opened.machine, op: resume.op + 1 });
      replay.run(requests.slice(resume.op + 1));
      const expected = a.checkpoints.filter((c) => c.op > resume.op);
      expect(replay.checkpoints.map((c) => c.op)).toEqual(expected.map((c) => c.op));
      replay.checkpoints.forEach((c, i) => {
        expect(c.manifest, `crash after op ${crashAfter}: the checkpoint after op ${c.op}`).toEqual(expected[i]!.manifest);
        expect(bytesEqual(c.snapshot, expected[i]!.snapshot)).toBe(true);
      });
      expect(replay.grid.storageSizeBytes()).toBe(a.grid.storageSizeBytes());
    }
  });

  it("also with large requests (tables that grow by reallocation, directories of several runs)", () => {
    const requests = makeRequests(23, checkpointOps * 3, 600);
    const continuous = gridStorage(blocksLimit);
    const a = new LedgerDriver(newGrid(continuous, blocksLimit), continuous);
    a.run(requests);
    expect(a.machine.transferCount).toBeGreaterThan(2000);
    const storage = gridStorage(blocksLimit, { order: "shuffled", seed: 3 });
    const b = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    b.run(requests.slice(0, 22));
    storage.crash();
    const resume = b.lastCheckpoint;
    const opened = openFresh(storage, blocksLimit, resume.manifest);
    expectOpened(opened.result);
    const replay = new LedgerDriver(opened.grid, storage, { machine: opened.machine, op: resume.op + 1 });
    replay.run(requests.slice(resume.op + 1));
    expect(replay.checkpoints.map((c) => c.manifest)).toEqual(a.checkpoints.slice(1).map((c) => c.manifest));
  });

  it("the same requests on two grids give identical blocks at identical addresses", () => {
    const requests = makeRequests(22, checkpointOps * 3);
    const storages = [gridStorage(blocksLimit), gridStorage(blocksLimit, { order: "shuffled", seed: 9 })];
    const drivers = storages.map((s) => new LedgerDriver(newGrid(s, blocksLimit), s));
    for (const d of drivers) d.run(requests);
    const [x, y] = drivers.map((d) => d.lastCheckpoint.manifest);
    expect(x).toEqual(y);
    const blocks = walkCheckpoint(storages[0]!, x!);
    for (const reference of allReferences(blocks)) {
      expect(bytesEqual(blockAt(storages[0]!, reference.address), blockAt(storages[1]!, reference.address))).toBe(true);
    }
  });
});

describe("Grid release rule", () => {
  it("checkpoint N−1 stays intact and opens until checkpoint N is durable", () => {
    const requests = makeRequests(31, checkpointOps * 4);
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    driver.run(requests.slice(0, 32));
    const previous = driver.lastCheckpoint;
    const blocks = walkCheckpoint(storage, previous.manifest);
    const before = copyBlocks(storage, blocks);

    driver.durable = false;
    driver.run(requests.slice(32, 48)); // three bar flushes and checkpoint N, not yet durable
    expect(driver.lastCheckpoint.op).toBe(47);
    for (const [address, bytes] of before) {
      expect(bytesEqual(blockAt(storage, address), bytes), `block ${address} of checkpoint N−1 unchanged`).toBe(true);
    }
    const opened = openFresh(storage, blocksLimit, previous.manifest);
    expect(expectOpened(opened.result)).toEqual(previous.sessions);
    expect(bytesEqual(opened.machine.snapshot(), previous.snapshot)).toBe(true);
    // N opens too.
    const latest = openFresh(storage, blocksLimit, driver.lastCheckpoint.manifest);
    expect(bytesEqual(latest.machine.snapshot(), driver.machine.snapshot())).toBe(true);

    // Control: once N is durable the blocks N released are reused, and N−1 is gone (which is
    // what makes the check above meaningful).
    driver.grid.checkpointDurable();
    driver.durable = true;
    driver.run(requests.slice(48, 64));
    const reused = [...before.keys()].filter((address) => !bytesEqual(blockAt(storage, address), before.get(address)!));
    expect(reused.length).toBeGreaterThan(0);
    expect("error" in openFresh(storage, blocksLimit, previous.manifest).result).toBe(true);
  });

  it("a crash in the middle of checkpoint N's writes (some torn) leaves N−1 intact", () => {
    const requests = makeRequests(32, checkpointOps * 3);
    for (const landedPercent of [0, 10, 50, 90]) {
      const storage = gridStorage(blocksLimit, { order: "shuffled", seed: landedPercent + 1 });
      const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
      driver.run(requests.slice(0, 32));
      const previous = driver.lastCheckpoint;
      driver.run(requests.slice(32, 47));
      let called = false;
      driver.grid.checkpoint(driver.machine, new Uint8Array(5000).fill(1), () => (called = true));
      // Some of the checkpoint's writes land, never all of them (then it would call back).
      const writes = storage.pending.filter((io) => io.write).length;
      expect(writes).toBeGreaterThan(4);
      const landed = Math.floor((writes * landedPercent) / 100);
      for (let i = 0; i < landed; i++) storage.stepOne();
      let torn = 0;
      storage.crash(() => ++torn % 2 === 0);
      expect(called).toBe(false);
      const opened = openFresh(storage, blocksLimit, previous.manifest);
      expect(expectOpened(opened.result), `after ${landed} writes landed`).toEqual(previous.sessions);
      expect(bytesEqual(opened.machine.snapshot(), previous.snapshot)).toBe(true);
    }
  });
});

describe("Grid corruption", () => {
  const requests = makeRequests(41, checkpointOps * 3, 200);

  function setup(): { storage: MemoryStorage; manifest: ManifestReference; blocks: CheckpointBlocks; snapshot: Uint8Array } {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    driver.run(requests);
    const { manifest, snapshot } = driver.lastCheckpoint;
    return { storage, manifest, blocks: walkCheckpoint(storage, manifest), snapshot };
  }

  /** Opens with every call and completion checked not to throw; returns the error. */
  function openError(storage: MemoryStorage, manifest: { address: number; checksum: bigint }): string {
    let result: { sessions: Uint8Array } | { error: string } | undefined;
    expect(() => {
      result = openFresh(storage, blocksLimit, manifest).result;
    }).not.toThrow();
    expect(result).toBeDefined();
    expect("error" in result!, "open reports the corruption").toBe(true);
    return (result as { error: string }).error;
  }

  /** "checkpoint" for a space open loads, "grid" for a paged one read on demand. */
  function whoReads(space: number): string {
    const paged: number[] = [LedgerSpace.transfers, LedgerSpace.side, LedgerSpace.history, LedgerSpace.tree];
    return paged.includes(space) ? "grid" : "checkpoint";
  }

  function flip(storage: MemoryStorage, address: number, byte: number): () => void {
    const offset = (address - 1) * 4096 + byte;
    storage.zones[Zone.grid]![offset] ^= 0x20;
    return () => {
      storage.zones[Zone.grid]![offset] ^= 0x20;
    };
  }

  it("the intact checkpoint opens (the control)", () => {
    const { storage, manifest, snapshot, blocks } = setup();
    expect(blocks.directories.length).toBeGreaterThan(0);
    expect(blocks.pages.length).toBeGreaterThan(20);
    const opened = openFresh(storage, blocksLimit, manifest);
    expectOpened(opened.result);
    expect(bytesEqual(opened.machine.snapshot(), snapshot)).toBe(true);
  });

  it("names a corrupt manifest, also a wrong checksum or address in the reference", () => {
    const { storage, manifest } = setup();
    for (const byte of [3, 100, 300]) {
      const undo = flip(storage, manifest.address, byte);
      expect(openError(storage, manifest)).toBe(`manifest block ${manifest.address} missing or corrupt`);
      undo();
    }
    expect(openError(storage, { ...manifest, checksum: manifest.checksum ^ 1n })).toMatch(/^manifest block \d+ missing or corrupt$/);
    expect(openError(storage, { ...manifest, address: manifest.address - 1 })).toMatch(/^manifest block \d+ missing or corrupt$/);
  });

  it("names corrupt metadata blobs (ledger meta, sessions, free set)", () => {
    const { storage, manifest, blocks } = setup();
    for (const [index, blob] of blocks.blobs.entries()) {
      for (const reference of blob) {
        const undo = flip(storage, reference.address, 260);
        expect(openError(storage, manifest), `blob ${index}, block ${reference.address}`).toBe("checkpoint metadata blocks missing or corrupt");
        undo();
      }
    }
  });

  it("names corrupt directory blocks", () => {
    const { storage, manifest, blocks } = setup();
    for (const { reference } of blocks.directories) {
      const undo = flip(storage, reference.address, 256 + 12);
      expect(openError(storage, manifest)).toBe("checkpoint directory blocks missing or corrupt");
      undo();
    }
  });

  it("names a corrupt page: its page number, space and block", () => {
    const { storage, manifest, blocks } = setup();
    const picks = [blocks.pages[0]!, blocks.pages[Math.floor(blocks.pages.length / 2)]!, blocks.pages[blocks.pages.length - 1]!];
    for (const { space, page, reference } of picks) {
      const bodyBytes = blockBody(blockAt(storage, reference.address)).length;
      // A byte in the header, the first and the last byte of the body (the zero padding after the
      // body is not covered by the checksum and never read).
      for (const byte of [40, 256, 256 + bodyBytes - 1]) {
        const undo = flip(storage, reference.address, byte);
        // Open reads the resident spaces and leaves the paged ones to the first read that needs a
        // page (the harness reads them all after open); each names the page.
        expect(openError(storage, manifest)).toBe(`${whoReads(space)} page ${page} of space ${space} (block ${reference.address}) missing or corrupt`);
        undo();
      }
    }
  });

  it("names a misdirected page (another valid block at its address)", () => {
    const { storage, manifest, blocks } = setup();
    const target = blocks.pages[1]!;
    const saved = blockAt(storage, target.reference.address).slice();
    blockAt(storage, target.reference.address).set(blockAt(storage, blocks.pages[2]!.reference.address));
    expect(openError(storage, manifest)).toBe(
      `${whoReads(target.space)} page ${target.page} of space ${target.space} (block ${target.reference.address}) missing or corrupt`);
    blockAt(storage, target.reference.address).set(saved);
    expect("sessions" in openFresh(storage, blocksLimit, manifest).result).toBe(true);
  });
});

describe("Grid open and the storage limit", () => {
  // A user can restart a replica with a smaller --limit-storage than its data file already uses
  // (src/cli/server.ts → gridBlocksLimit). DESIGN.md: user-caused errors get a clear message, never
  // a stack trace; open() reports problems through its callback.
  it("open() of a checkpoint that uses blocks beyond this grid's limit calls back with an error", () => {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    driver.run(makeRequests(61, checkpointOps * 2));
    const extent = driver.grid.freeSet.highestAcquired();
    expect(extent).toBeGreaterThan(20);
    let result: { sessions: Uint8Array } | { error: string } | undefined;
    expect(() => {
      result = openFresh(storage, extent - 1, driver.lastCheckpoint.manifest).result;
    }).not.toThrow();
    expect(result).toBeDefined();
    expect("error" in result! ? result.error : "opened").toMatch(/limit/);
    // At exactly its extent it opens.
    expectOpened(openFresh(storage, extent, driver.lastCheckpoint.manifest).result);
  });
});
