// State sync by blocks (src/grid/grid_sync.ts): replica B, behind at an earlier checkpoint of the
// same op history, walks replica A's latest checkpoint from its manifest, finds most blocks locally
// (same address, same checksum) and fetches only the ones it lacks, served from A's storage by
// reference. After stage() and move(), B's grid opens A's checkpoint into the same snapshot as A's
// and then takes the same checkpoints as A. Blocks that do not match their reference are refused.
// A crash after stage() leaves B's own checkpoint intact; a crash after the superblock switched to
// the target (before move()) is completed by replayMoves from the staged blocks.
import { describe, expect, it } from "vitest";
import { BlockType, buildBlock, verifyBlock, type BlockReference } from "../../src/grid/block.js";
import type { Grid } from "../../src/grid/grid.js";
import { GridSync } from "../../src/grid/grid_sync.js";
import { replayMoves } from "../../src/grid/sync_moves.js";
import type { MemoryStorage } from "../replica/memory_storage.js";
import {
  LedgerDriver, allReferences, blockBytes, blockSize, bytesEqual, cluster, complete, expectOpened, gridStorage,
  makeRequests, newGrid, openFresh, walkCheckpoint, prefetchAll,
} from "./harness.js";

const blocksLimit = 2048;

/** A's side: reads a block by reference through A's grid (verified there too). */
function serve(storage: MemoryStorage, grid: Grid, reference: BlockReference): Uint8Array {
  const block = complete<Uint8Array | null>(storage, (done) => grid.read(reference, done));
  expect(block, `A holds block ${reference.address}`).not.toBeNull();
  return block!;
}

/** The target's blocks that `storage` does not hold intact (what B must fetch). */
function lacking(source: MemoryStorage, target: BlockReference, local: MemoryStorage): Set<number> {
  const missing = new Set<number>();
  for (const reference of allReferences(walkCheckpoint(source, target))) {
    if (!verifyBlock(blockBytes(local, reference.address), reference, cluster)) missing.add(reference.address);
  }
  return missing;
}

/** Runs the sync loop: B's local checks, then up to `batch` wanted blocks from A, until complete. */
function runSync(sync: GridSync, storageB: MemoryStorage, serveBlock: (reference: BlockReference) => Uint8Array,
  batch = 8): number[] {
  const fetched: number[] = [];
  for (let round = 0; round < 10_000; round++) {
    storageB.run();
    expect(sync.failure).toBeNull();
    if (sync.complete) return fetched;
    const wanted = sync.nextWanted(batch);
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.length).toBeLessThanOrEqual(batch);
    for (const reference of wanted) {
      expect(sync.receive(serveBlock(reference))).toBeNull();
      fetched.push(reference.address);
    }
  }
  throw new Error("sync did not complete");
}

const targetId = 0x5eed_c0de_0000_0000_0000_0000_0000_0001n;

/** stage(), then (where the replica would switch its superblock) move(); returns the chain address. */
function finish(sync: GridSync, storage: MemoryStorage): number {
  const movesAddress = complete<number>(storage, (done) => sync.stage(targetId, (address, inPlace) => {
    expect(inPlace).toBe(false);
    done(address);
  }));
  complete<void>(storage, (done) => sync.move(() => done(undefined)));
  return movesAddress;
}

function setup(behindOps: number, aheadOps: number, seed = 51): {
  requests: ReturnType<typeof makeRequests>; a: LedgerDriver; b: LedgerDriver; storageA: MemoryStorage; storageB: MemoryStorage;
} {
  const requests = makeRequests(seed, 96);
  const storageA = gridStorage(blocksLimit);
  const storageB = gridStorage(blocksLimit, { order: "shuffled", seed });
  const a = new LedgerDriver(newGrid(storageA, blocksLimit), storageA);
  const b = new LedgerDriver(newGrid(storageB, blocksLimit), storageB);
  a.run(requests.slice(0, aheadOps));
  b.run(requests.slice(0, behindOps));
  return { requests, a, b, storageA, storageB };
}

describe("GridSync", () => {
  it("fetches only the blocks B lacks; B then opens A's checkpoint with A's snapshot", () => {
    // B: checkpoints after ops 15 and 31, then two bar flushes of its own (ops 32..39) in flight.
    const { requests, a, b, storageA, storageB } = setup(40, 64);
    const target = a.lastCheckpoint;
    expect(target.op).toBe(63);
    const own = b.lastCheckpoint;
    expect(own.op).toBe(31);
    const sync = new GridSync(b.grid, target.manifest, cluster);
    storageB.run(); // B's flush writes land first (the sync waits for them before looking locally)
    const missing = lacking(storageA, target.manifest, storageB);
    const total = allReferences(walkCheckpoint(storageA, target.manifest)).length;
    const fetched = runSync(sync, storageB, (reference) => serve(storageA, a.grid, reference));

    expect(new Set(fetched)).toEqual(missing);
    expect(fetched.length).toBe(missing.size);
    expect(sync.blocksFetched).toBe(missing.size);
    expect(sync.blocksKnown).toBe(total);
    expect(sync.blocksLocal).toBe(total - missing.size);
    expect(sync.blocksFetched).toBeLessThan(sync.blocksKnown);
    expect(sync.blocksLocal).toBeGreaterThan(0);
    expect(sync.nextWanted(8)).toEqual([]);

    // Until finish(), B's own durable checkpoint is still intact (blocks for addresses it still
    // uses were held back).
    const before = openFresh(storageB, blocksLimit, own.manifest);
    expect(expectOpened(before.result)).toEqual(own.sessions);
    expect(bytesEqual(before.machine.snapshot(), own.snapshot)).toBe(true);

    const movesAddress = complete<number>(storageB, (done) => sync.stage(targetId, (address) => done(address)));
    // Some of A's blocks belong where B's own checkpoint lives: those were staged, and B's own
    // checkpoint still opens (a crash here loses nothing: the superblock has not switched).
    expect(movesAddress).toBeGreaterThan(0);
    const staged = openFresh(storageB, blocksLimit, own.manifest);
    expect(expectOpened(staged.result)).toEqual(own.sessions);
    expect(bytesEqual(staged.machine.snapshot(), own.snapshot)).toBe(true);
    complete<void>(storageB, (done) => sync.move(() => done(undefined)));
    for (const reference of allReferences(walkCheckpoint(storageA, target.manifest))) {
      expect(bytesEqual(blockBytes(storageB, reference.address), blockBytes(storageA, reference.address))).toBe(true);
    }
    // B's own grid (as a replica would) and a fresh one both open A's checkpoint.
    const result = complete<{ sessions: Uint8Array } | { error: string }>(storageB, (done) =>
      b.grid.open(target.manifest, b.machine, done));
    expect(expectOpened(result)).toEqual(target.sessions);
    expect(prefetchAll(b.grid, storageB, b.machine)).toBeNull();
    expect(bytesEqual(b.machine.snapshot(), target.snapshot)).toBe(true);
    const fresh = openFresh(storageB, blocksLimit, target.manifest);
    expect(bytesEqual(fresh.machine.snapshot(), target.snapshot)).toBe(true);

    // B carries on from the synced checkpoint and takes the same checkpoints as A, which marked
    // it durable right after taking it: so does B, right after installing it.
    b.grid.checkpointDurable();
    const carryOn = new LedgerDriver(b.grid, storageB, { machine: b.machine, op: 64 });
    carryOn.run(requests.slice(64));
    a.run(requests.slice(64));
    expect(carryOn.checkpoints.map((c) => c.manifest)).toEqual(a.checkpoints.slice(4).map((c) => c.manifest));
  });

  it("a replica with an empty grid fetches every block", () => {
    const { a, storageA } = setup(0, 48);
    const storageB = gridStorage(blocksLimit);
    const grid = newGrid(storageB, blocksLimit);
    const target = a.lastCheckpoint;
    const sync = new GridSync(grid, target.manifest, cluster);
    const fetched = runSync(sync, storageB, (reference) => serve(storageA, a.grid, reference), 64);
    const total = allReferences(walkCheckpoint(storageA, target.manifest)).length;
    expect(fetched.length).toBe(total);
    expect(sync.blocksLocal).toBe(0);
    expect(sync.blocksKnown).toBe(total);
    finish(sync, storageB);
    const opened = openFresh(storageB, blocksLimit, target.manifest);
    expect(expectOpened(opened.result)).toEqual(target.sessions);
    expect(bytesEqual(opened.machine.snapshot(), target.snapshot)).toBe(true);
  });

  it("blocks fetched for an abandoned target are found locally by the next sync", () => {
    // A recovered replica (empty grid) starts syncing to A's checkpoint at op 47; the cluster moves
    // on to op 63 before it is done, and the sync is replaced by one to the newer checkpoint.
    const { requests, a, storageA } = setup(0, 48);
    const storageB = gridStorage(blocksLimit);
    const grid = newGrid(storageB, blocksLimit);
    const first = new GridSync(grid, a.lastCheckpoint.manifest, cluster);
    const fetchedFirst: BlockReference[] = [];
    for (let round = 0; round < 3 && !first.complete; round++) {
      storageB.run();
      for (const reference of first.nextWanted(8)) {
        expect(first.receive(serve(storageA, a.grid, reference))).toBeNull();
        fetchedFirst.push(reference);
      }
    }
    storageB.run();
    expect(first.complete).toBe(false);
    expect(fetchedFirst.length).toBeGreaterThan(0);
    a.run(requests.slice(48, 64));
    const target = a.lastCheckpoint;
    expect(target.op).toBe(63);
    const targetReferences = allReferences(walkCheckpoint(storageA, target.manifest));
    const kept = fetchedFirst.filter((fetched) => targetReferences.some((reference) =>
      reference.address === fetched.address && reference.checksum === fetched.checksum));
    expect(kept.length).toBeGreaterThan(0);

    const second = new GridSync(grid, target.manifest, cluster);
    const fetchedSecond = runSync(second, storageB, (reference) => serve(storageA, a.grid, reference), 64);
    // What the first attempt fetched and the new target still references is not fetched again.
    for (const reference of kept) expect(fetchedSecond).not.toContain(reference.address);
    expect(second.blocksLocal).toBe(kept.length);
    expect(fetchedSecond.length).toBe(targetReferences.length - kept.length);
    finish(second, storageB);
    const opened = openFresh(storageB, blocksLimit, target.manifest);
    expect(expectOpened(opened.result)).toEqual(target.sessions);
    expect(bytesEqual(opened.machine.snapshot(), target.snapshot)).toBe(true);
  });

  it("a replica already at the target fetches nothing", () => {
    const { a, b, storageB } = setup(48, 48);
    expect(b.lastCheckpoint.manifest).toEqual(a.lastCheckpoint.manifest);
    const sync = new GridSync(b.grid, a.lastCheckpoint.manifest, cluster);
    storageB.run();
    expect(sync.complete).toBe(true);
    expect(sync.blocksFetched).toBe(0);
    expect(sync.blocksLocal).toBe(sync.blocksKnown);
    expect(sync.nextWanted(4)).toEqual([]);
  });

  it("refuses blocks that do not match their reference, and takes the right one after", () => {
    const { a, b, storageA, storageB } = setup(32, 64, 52);
    const target = a.lastCheckpoint;
    const sync = new GridSync(b.grid, target.manifest, cluster);
    storageB.run();
    expect(sync.complete).toBe(false);
    const [reference] = sync.nextWanted(1);
    expect(reference).toBeDefined();
    const good = serve(storageA, a.grid, reference!);

    const flipped = good.slice();
    flipped[300] ^= 1;
    expect(sync.receive(flipped)).toBe("checksum mismatch");
    const header = good.slice();
    header[20] ^= 1; // inside the header checksum's coverage
    expect(sync.receive(header)).toBe("checksum mismatch");
    // B's own (stale) block at that address, if it holds a valid one, or a rebuilt block of the same
    // address with other contents: intact blocks, but not the one referenced.
    const stale = buildBlock(blockSize, cluster, reference!.address, BlockType.page, new Uint8Array(10).fill(1));
    expect(sync.receive(stale)).toBe("checksum mismatch");
    // The right bytes for another cluster.
    const foreign = buildBlock(blockSize, cluster + 1n, reference!.address, BlockType.blob, new Uint8Array(0));
    expect(sync.receive(foreign)).toBe("checksum mismatch");
    // A block at an address the target does not use.
    const unknown = buildBlock(blockSize, cluster, blocksLimit, BlockType.page, new Uint8Array(1));
    expect(sync.receive(unknown)).toBe("not a block of the target");
    expect(sync.blocksFetched).toBe(0);
    // Still wanted; the right block is taken, once.
    expect(sync.nextWanted(1_000).map((r) => r.address)).toContain(reference!.address);
    expect(sync.receive(good)).toBeNull();
    expect(sync.receive(good)).toBe("already have it");
    expect(sync.blocksFetched).toBe(1);
    expect(sync.failure).toBeNull();

    runSync(sync, storageB, (r) => serve(storageA, a.grid, r));
    finish(sync, storageB);
    const opened = openFresh(storageB, blocksLimit, target.manifest);
    expect(bytesEqual(opened.machine.snapshot(), target.snapshot)).toBe(true);
  });

  it("nextWanted rotates, so a lost reply is asked for again", () => {
    const { a, b, storageA, storageB } = setup(16, 64, 53);
    const sync = new GridSync(b.grid, a.lastCheckpoint.manifest, cluster);
    storageB.run();
    // The walk is top-down: at first only the manifest is wanted; take levels until several are.
    for (let level = 0; level < 3 && sync.nextWanted(100_000).length < 5; level++) {
      for (const reference of sync.nextWanted(100_000)) expect(sync.receive(serve(storageA, a.grid, reference))).toBeNull();
      storageB.run();
    }
    expect(sync.nextWanted(100_000).length).toBeGreaterThanOrEqual(5);
    const first = sync.nextWanted(2).map((r) => r.address);
    const second = sync.nextWanted(2).map((r) => r.address);
    expect(first.length).toBe(2);
    expect(second).not.toEqual(first);
    // Asking for more than is wanted returns each wanted reference once.
    const all = sync.nextWanted(100_000).map((r) => r.address);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(first));
  });

  it("stage() asserts the sync is complete", () => {
    const { a, b, storageB } = setup(16, 48, 54);
    const sync = new GridSync(b.grid, a.lastCheckpoint.manifest, cluster);
    storageB.run();
    expect(sync.complete).toBe(false);
    expect(() => sync.stage(targetId, () => {})).toThrow();
  });

  it("a crash after the switch, before move(): replayMoves completes the checkpoint from the staged blocks", () => {
    const { a, b, storageA, storageB } = setup(40, 64, 55);
    const target = a.lastCheckpoint;
    const sync = new GridSync(b.grid, target.manifest, cluster);
    runSync(sync, storageB, (reference) => serve(storageA, a.grid, reference));
    const movesAddress = complete<number>(storageB, (done) => sync.stage(targetId, (address) => done(address)));
    expect(movesAddress).toBeGreaterThan(0);
    // The crash: move() never runs. The target does not open yet (blocks of B's old checkpoint are
    // where some of its blocks belong).
    expect("error" in openFresh(storageB, blocksLimit, target.manifest).result).toBe(true);
    // A restart that is told the wrong checkpoint refuses the chain and changes nothing.
    const wrong = newGrid(storageB, blocksLimit);
    expect(complete<string | null>(storageB, (done) => replayMoves(wrong, movesAddress, targetId + 1n, done)))
      .toMatch(/belongs to another checkpoint/);
    // The restart replays the chain (twice: a crash during the replay is harmless) and opens the target.
    for (let replay = 0; replay < 2; replay++) {
      const grid = newGrid(storageB, blocksLimit);
      expect(complete<string | null>(storageB, (done) => replayMoves(grid, movesAddress, targetId, done))).toBeNull();
    }
    const opened = openFresh(storageB, blocksLimit, target.manifest);
    expect(expectOpened(opened.result)).toEqual(target.sessions);
    expect(bytesEqual(opened.machine.snapshot(), target.snapshot)).toBe(true);
  });

  it("a staged block that is damaged makes the replay fail with what is wrong", () => {
    const { a, b, storageA, storageB } = setup(40, 64, 56);
    const sync = new GridSync(b.grid, a.lastCheckpoint.manifest, cluster);
    runSync(sync, storageB, (reference) => serve(storageA, a.grid, reference));
    const movesAddress = complete<number>(storageB, (done) => sync.stage(targetId, (address) => done(address)));
    expect(movesAddress).toBeGreaterThan(0);
    // The chain's first entry names the first staged block (see sync_moves.ts for the layout).
    const chain = blockBytes(storageB, movesAddress);
    const view = new DataView(chain.buffer, chain.byteOffset, chain.length);
    const staging = Number(view.getBigUint64(256 + 48, true));
    blockBytes(storageB, staging)[20] ^= 0xff; // inside the header checksum's coverage
    const grid = newGrid(storageB, blocksLimit);
    expect(complete<string | null>(storageB, (done) => replayMoves(grid, movesAddress, targetId, done)))
      .toMatch(new RegExp(`staged at ${staging} by an interrupted state sync, is missing or corrupt`));
    chain[20] ^= 0xff;
    expect(complete<string | null>(storageB, (done) => replayMoves(newGrid(storageB, blocksLimit), movesAddress, targetId, done)))
      .toMatch(/moves block .* is missing or corrupt/);
  });
});
