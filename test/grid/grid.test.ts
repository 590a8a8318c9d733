// The grid (src/grid/grid.ts) with real state machines: the ledger's StateMachine driven by random
// requests (accounts, transfers, pending/post/void, linked chains that roll back, expiry pulses)
// with a flush at every bar end and a checkpoint every 4 bars, and a test-only byte state for
// shapes the ledger never makes. Each checkpoint is opened into a fresh StateMachine through a
// fresh Grid on the same storage and must give a byte-identical snapshot() and sessions. Also:
// the data extent stays bounded when the state stops growing (blocks are reused), and the bytes a
// checkpoint writes are proportional to what changed.
import { describe, expect, it } from "vitest";
import { FatalError } from "../../src/core/assert.js";
import { headerSize } from "../../src/core/config.js";
import type { Transfer } from "../../src/core/layouts.js";
import { Prng } from "../../src/core/prng.js";
import { BlockType, blockType, verifyBlock } from "../../src/grid/block.js";
import { decodeManifest } from "../../src/grid/manifest.js";
import type { ManifestReference } from "../../src/grid/grid.js";
import { ByteState } from "./byte_state.js";
import {
  LedgerDriver, barOps, blockBytes, blockSize, bytesEqual, cluster, complete, config, expectOpened, gridStorage,
  makeRequests, newGrid, openFresh, sessionsBytes,
} from "./harness.js";

const blocksLimit = 4096;

describe("Grid with the ledger", () => {
  it("the latest checkpoint opens into a fresh StateMachine with an identical snapshot and sessions", () => {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    driver.run(makeRequests(1, 16 * 8));
    expect(driver.checkpoints.length).toBe(8);
    expect(driver.machine.transferCount).toBeGreaterThan(100);
    // Only the latest checkpoint is guaranteed intact (older ones' blocks are reused): the next
    // test opens each one right after it is taken.
    const last = driver.lastCheckpoint;
    expect(bytesEqual(last.snapshot, driver.machine.snapshot())).toBe(true);
    const opened = openFresh(storage, blocksLimit, last.manifest);
    const sessions = expectOpened(opened.result);
    expect(bytesEqual(opened.machine.snapshot(), last.snapshot)).toBe(true);
    expect(sessions).toEqual(last.sessions);
    expect(opened.machine.transferCount).toBe(driver.machine.transferCount);
    expect(opened.machine.accountCount).toBe(driver.machine.accountCount);
  });

  it("opens each checkpoint right after it is durable, across several seeds", () => {
    for (const seed of [2, 3, 4]) {
      const storage = gridStorage(blocksLimit, { order: "shuffled", seed });
      const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
      const requests = makeRequests(seed, 16 * 6);
      for (let i = 0; i < requests.length; i++) {
        driver.execute(requests[i]!);
        if ((i + 1) % 16 !== 0) continue;
        const checkpoint = driver.lastCheckpoint;
        expect(checkpoint.op).toBe(i);
        const opened = openFresh(storage, blocksLimit, checkpoint.manifest);
        expect(expectOpened(opened.result)).toEqual(checkpoint.sessions);
        expect(bytesEqual(opened.machine.snapshot(), checkpoint.snapshot), `seed ${seed}, checkpoint after op ${i}`).toBe(true);
        // The opened grid agrees with the writer's about which blocks are in use.
        const writer: number[] = [];
        const reader: number[] = [];
        driver.grid.freeSet.forEachAcquired((a) => writer.push(a));
        opened.grid.freeSet.forEachAcquired((a) => reader.push(a));
        expect(reader).toEqual(writer);
      }
    }
  });

  it("a ledger opened from a checkpoint executes on exactly like the original", () => {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    const requests = makeRequests(5, 16 * 5);
    driver.run(requests.slice(0, 48));
    const opened = openFresh(storage, blocksLimit, driver.lastCheckpoint.manifest);
    expectOpened(opened.result);
    const copy = new LedgerDriver(opened.grid, storage, { machine: opened.machine, op: 48 });
    driver.run(requests.slice(48));
    copy.run(requests.slice(48));
    expect(bytesEqual(copy.machine.snapshot(), driver.machine.snapshot())).toBe(true);
    // Both grids also took the same checkpoints (same blocks, same addresses).
    expect(copy.checkpoints.map((c) => c.manifest)).toEqual(driver.checkpoints.slice(3).map((c) => c.manifest));
  });

  it("a large ledger (directories of several runs, multi-block blobs) round-trips", () => {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    driver.run(makeRequests(6, 48, 800));
    const { manifest, snapshot, sessions } = driver.lastCheckpoint;
    expect(driver.machine.transferCount).toBeGreaterThan(160 * 30); // > 160 pages of 30 rows
    const root = decodeManifest(blockBytes(storage, manifest.address).subarray(headerSize, manifest.size))!;
    expect(root).not.toBeNull();
    expect(Math.max(...root.spaces.map((s) => s.directory.length))).toBeGreaterThanOrEqual(2);
    expect(root.spaces.map((s) => s.usedBytes)).toEqual(driver.machine.spaces().map((s) => s.usedBytes()));
    const opened = openFresh(storage, blocksLimit, manifest);
    expect(expectOpened(opened.result)).toEqual(sessions);
    expect(bytesEqual(opened.machine.snapshot(), snapshot)).toBe(true);
  });

  it("a checkpoint after one small request writes far fewer bytes than the whole state", () => {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    driver.run(makeRequests(7, 48, 800));
    const grid = driver.grid;
    const stateBlocks = grid.freeSet.acquiredAfterReleases();
    expect(stateBlocks).toBeGreaterThan(300);
    // Nothing changed: the checkpoint writes only its roots (meta, sessions, free set, manifest).
    const unchanged = driver.checkpoint(100);
    const sessionBlocks = Math.max(1, Math.ceil(sessionsBytes(100).length / grid.pageSize));
    const freeSetBlocks = Math.max(1, Math.ceil(Math.ceil(grid.freeSet.highestAcquired() / 32) * 4 / grid.pageSize));
    expect(grid.stats.checkpointBytesWritten).toBe((1 + sessionBlocks + freeSetBlocks + 1) * blockSize);
    expect(unchanged.address).toBeGreaterThan(0);
    // One request of one transfer between two existing accounts.
    const [result] = driver.ledger.createTransfers([makeTransfer(999_999n)]);
    expect(result?.status).toBe(0xffff_ffff); // created
    driver.checkpoint(101);
    const written = grid.stats.checkpointBytesWritten;
    expect(written).toBeGreaterThan((3 + sessionBlocks) * blockSize);
    expect(written / blockSize).toBeLessThan(40);
    expect(written * 10).toBeLessThan(stateBlocks * blockSize);
    const opened = openFresh(storage, blocksLimit, driver.lastCheckpoint.manifest);
    expectOpened(opened.result);
    expect(bytesEqual(opened.machine.snapshot(), driver.machine.snapshot())).toBe(true);
  });

  it("the extent stays bounded and blocks are reused once the state stops growing", () => {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage);
    driver.run(makeRequests(8, 48));
    const extent = driver.grid.storageSizeBytes();
    expect(extent).toBe(config.zones.gridOffset + driver.grid.freeSet.highestAcquired() * blockSize);
    // Requests that change nothing (a transfer whose id exists, a pulse with nothing due):
    // 100 more checkpoints rewrite only their roots, into the blocks the previous ones freed.
    const existing = makeTransfer(1000n);
    driver.ledger.createTransfers([existing]); // created now if it failed in the workload
    const transfers = driver.machine.transferCount;
    const blocksWrittenBefore = driver.grid.stats.blocksWritten;
    for (let c = 0; c < 100; c++) {
      driver.ledger.createTransfers([existing]);
      driver.checkpoint(1000 + c);
    }
    expect(driver.machine.transferCount).toBe(transfers);
    expect(driver.grid.stats.blocksWritten - blocksWrittenBefore).toBeGreaterThanOrEqual(100 * 4);
    expect(driver.grid.storageSizeBytes()).toBeLessThanOrEqual(extent + 8 * blockSize);
    const opened = openFresh(storage, blocksLimit, driver.lastCheckpoint.manifest);
    expectOpened(opened.result);
    expect(bytesEqual(opened.machine.snapshot(), driver.machine.snapshot())).toBe(true);
  });
});

/** A plain transfer of 1 from account 1 to account 2 (both exist in every workload). */
function makeTransfer(id: bigint): Transfer {
  return {
    id, debit_account_id: 1n, credit_account_id: 2n, amount: 1n, pending_id: 0n, user_data_128: 0n, user_data_64: 0n,
    user_data_32: 0, timeout: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n,
  };
}

// ---- a byte state: shapes the ledger never makes ----

function checkpointOf(storage: ReturnType<typeof gridStorage>, grid: ReturnType<typeof newGrid>, state: ByteState,
  sessions: Uint8Array, durable = true): ManifestReference {
  const manifest = complete<ManifestReference>(storage, (done) => grid.checkpoint(state, sessions, done));
  grid.checkpointWritten();
  if (durable) grid.checkpointDurable();
  return manifest;
}

function openBytes(storage: ReturnType<typeof gridStorage>, limit: number, manifest: ManifestReference, spaceCount: number):
{ state: ByteState; result: { sessions: Uint8Array } | { error: string }; grid: ReturnType<typeof newGrid> } {
  const grid = newGrid(storage, limit);
  const state = new ByteState(spaceCount);
  const result = complete<{ sessions: Uint8Array } | { error: string }>(storage, (done) => grid.open(manifest, state, done));
  return { state, result, grid };
}

/** Byte-for-byte equal spaces (toEqual on large typed arrays is slow). */
function expectContents(actual: ByteState, expected: ByteState, what: string): void {
  const a = actual.contents();
  const e = expected.contents();
  expect(a.map((bytes) => bytes.length), what).toEqual(e.map((bytes) => bytes.length));
  a.forEach((bytes, i) => expect(bytesEqual(bytes, e[i]!), `${what}: space ${i}`).toBe(true));
}

describe("Grid: mid-bar flushes (flushBehindTails)", () => {
  /** Runs the requests; returns the blocks written by the bar-end ops, the driver and its storage. */
  function run(requests: ReturnType<typeof makeRequests>, midBarFlush: boolean) {
    const storage = gridStorage(blocksLimit);
    const driver = new LedgerDriver(newGrid(storage, blocksLimit), storage, { midBarFlush });
    let atBarEnds = 0;
    requests.forEach((request, i) => {
      const before = driver.grid.stats.blocksWritten;
      driver.execute(request);
      if ((i + 1) % barOps === 0) atBarEnds += driver.grid.stats.blocksWritten - before;
    });
    return { atBarEnds, driver, storage };
  }

  it("take page writes off a bar's last op, and every checkpoint opens the same", () => {
    const requests = makeRequests(11, 16 * 6);
    const spread = run(requests, true);
    const barEndOnly = run(requests, false);
    // (This random workload touches pages all over; production's appends gain far more.)
    expect(spread.atBarEnds).toBeLessThan(barEndOnly.atBarEnds);
    expect(spread.driver.grid.stats.blocksWritten).toBeGreaterThan(spread.atBarEnds);
    for (const { driver, storage } of [spread, barEndOnly]) {
      const opened = openFresh(storage, blocksLimit, driver.lastCheckpoint.manifest);
      expectOpened(opened.result);
      expect(bytesEqual(opened.machine.snapshot(), driver.machine.snapshot())).toBe(true);
    }
    // The state is the same whichever way it was written.
    expect(bytesEqual(spread.driver.machine.snapshot(), barEndOnly.driver.machine.snapshot())).toBe(true);
  });

  it("are a function of the requests: two grids acquire the same blocks with the same contents", () => {
    const requests = makeRequests(12, 16 * 3);
    const [a, b] = [run(requests, true), run(requests, true)];
    const acquired = (driver: LedgerDriver) => {
      const addresses: number[] = [];
      driver.grid.freeSet.forEachAcquired((address) => addresses.push(address));
      return addresses;
    };
    expect(acquired(a.driver)).toEqual(acquired(b.driver));
    expect(a.driver.lastCheckpoint.manifest).toEqual(b.driver.lastCheckpoint.manifest);
  });
});

describe("Grid with a byte state", () => {
  const pageSize = blockSize - headerSize;

  it("round-trips empty spaces, exact page boundaries, growth and shrinking", () => {
    const storage = gridStorage(1024);
    const grid = newGrid(storage, 1024);
    const state = new ByteState(4);
    const prng = new Prng(11);
    const fill = (n: number): Uint8Array => {
      const bytes = new Uint8Array(n);
      prng.fill(bytes);
      return bytes;
    };
    // An empty state checkpoints and opens too.
    const shapes: ((s: ByteState) => void)[] = [
      () => {},
      (s) => s.write(1, 0, fill(pageSize)), // exactly one page
      (s) => s.write(2, 0, fill(3 * pageSize + 1)), // one byte into a fourth page
      (s) => s.resize(2, 2 * pageSize), // shrink to a page boundary: two pages dropped
      (s) => s.resize(1, 100), // shrink inside a page
      (s) => s.resize(1, pageSize + 5), // grow again: the bytes past the old end are zeros
      (s) => s.write(3, 5 * pageSize - 10, fill(20)), // a sparse growth across a boundary
      (s) => s.resize(3, 0), // empty again
      (s) => s.write(0, 0, fill(200 * pageSize)), // two directory runs (160 references a block)
      (s) => s.write(0, 170 * pageSize, fill(1)), // one page in the second run
      (s) => s.resize(0, 150 * pageSize), // back to one run
    ];
    for (const [step, shape] of shapes.entries()) {
      shape(state);
      if (step % 2 === 0) grid.flush(state.spaces()); // a bar end in between, sometimes
      const sessions = fill(step * 1000);
      const manifest = checkpointOf(storage, grid, state, sessions);
      const opened = openBytes(storage, 1024, manifest, 4);
      expect(expectOpened(opened.result), `step ${step}`).toEqual(sessions);
      expectContents(opened.state, state, `step ${step}`);
      expect(opened.state.meta()).toEqual(state.meta());
    }
  });

  it("writes only the changed pages at a flush, copy-on-write", () => {
    const storage = gridStorage(1024);
    const grid = newGrid(storage, 1024);
    const state = new ByteState(1);
    state.write(0, 0, new Uint8Array(10 * pageSize).fill(1));
    checkpointOf(storage, grid, state, new Uint8Array(0));
    const before = grid.stats.blocksWritten;
    grid.flush(state.spaces());
    expect(grid.stats.blocksWritten).toBe(before); // nothing dirty
    state.write(0, 3 * pageSize + 7, new Uint8Array([9])); // one byte in page 3
    grid.flush(state.spaces());
    // The 4 KiB dirty unit of that byte overlaps pages 3 (3*3840 = 11520 .. 15360) only if it
    // starts inside it; the unit [8192, 12288) overlaps pages 2 and 3: at most two pages move.
    const flushed = grid.stats.blocksWritten - before;
    expect(flushed).toBeGreaterThanOrEqual(1);
    expect(flushed).toBeLessThanOrEqual(2);
    storage.run();
  });

  it("the extent stays bounded over 200 checkpoints that rewrite pages without growing", () => {
    const limit = 2048;
    const storage = gridStorage(limit);
    const grid = newGrid(storage, limit);
    const state = new ByteState(3);
    const prng = new Prng(12);
    for (let i = 0; i < 3; i++) {
      const bytes = new Uint8Array((40 + 30 * i) * pageSize);
      prng.fill(bytes);
      state.write(i, 0, bytes);
    }
    let manifest = checkpointOf(storage, grid, state, new Uint8Array(10));
    const live = grid.freeSet.acquiredAfterReleases();
    const extents: number[] = [];
    for (let c = 0; c < 200; c++) {
      for (let bar = 0; bar < 4; bar++) {
        state.scribble(prng, 1 + prng.int(6));
        if (bar < 3) grid.flush(state.spaces());
      }
      manifest = checkpointOf(storage, grid, state, new Uint8Array(10));
      extents.push(grid.freeSet.highestAcquired());
      expect(grid.freeSet.acquiredAfterReleases()).toBe(live); // same shape, same number of blocks
    }
    // Each interval rewrites at most ~4 × 6 × 2 pages plus roots: the extent never exceeds the live
    // blocks plus one interval's worth, and it stopped growing long ago.
    expect(Math.max(...extents)).toBeLessThanOrEqual(live + 4 * 6 * 2 + 3 * 3 + 8);
    // Blocks were reused: far more were written than the extent holds.
    expect(grid.stats.blocksWritten).toBeGreaterThan(5 * Math.max(...extents));
    const opened = openBytes(storage, limit, manifest, 3);
    expectOpened(opened.result);
    expectContents(opened.state, state, "after 200 checkpoints");
  });

  it("near its limit the grid asks for refusal while it has room; at the limit it stops with a FatalError", () => {
    const limit = 400;
    const storage = gridStorage(limit);
    const driver = new LedgerDriver(newGrid(storage, limit), storage);
    const requests = makeRequests(5, 16 * 200);
    let refusedAt = -1;
    let fatal: unknown = null;
    try {
      for (let i = 0; i < requests.length; i++) {
        driver.execute(requests[i]!);
        if (refusedAt < 0 && driver.grid.storageNearlyFull()) refusedAt = i;
      }
    } catch (error) {
      fatal = error;
    }
    // The refusal came first, while the grid still had room for the next interval.
    expect(refusedAt).toBeGreaterThan(0);
    expect(driver.checkpoints.some((checkpoint) => checkpoint.op > refusedAt)).toBe(true);
    // Ignoring it (this driver does not refuse) ends at the limit with a one-line fatal error.
    expect(fatal).toBeInstanceOf(FatalError);
    expect((fatal as Error).message).toMatch(/^storage limit reached: all 400 grid blocks .* --limit-storage/);
  });

  it("checkpoint calls back only after every grid write of the interval is durable", () => {
    const storage = gridStorage(256);
    const grid = newGrid(storage, 256);
    const state = new ByteState(2);
    state.write(0, 0, new Uint8Array(5 * pageSize).fill(3));
    grid.flush(state.spaces());
    state.write(1, 0, new Uint8Array(2 * pageSize).fill(4));
    let manifest: ManifestReference | null = null;
    grid.checkpoint(state, new Uint8Array(0), (m) => (manifest = m));
    expect(manifest).toBeNull();
    expect(storage.pending.length).toBeGreaterThan(0);
    storage.runUntil(() => manifest !== null);
    expect(storage.writesInFlight).toBe(0);
    const m = manifest as unknown as ManifestReference;
    // The reference names an intact manifest block whose header size the superblock records.
    const block = blockBytes(storage, m.address);
    expect(verifyBlock(block, m, cluster)).toBe(true);
    expect(blockType(block)).toBe(BlockType.manifest);
    expect(m.size).toBeGreaterThan(headerSize);
    expect(m.size).toBeLessThanOrEqual(blockSize);
    grid.checkpointWritten();
    grid.checkpointDurable();
    expect(grid.stats.blocksAcquired).toBe(grid.freeSet.acquiredCount);
  });

  it("open refuses a checkpoint whose space count differs from the state machine's", () => {
    const storage = gridStorage(64);
    const grid = newGrid(storage, 64);
    const state = new ByteState(2);
    state.write(0, 0, new Uint8Array(100).fill(1));
    const manifest = checkpointOf(storage, grid, state, new Uint8Array(0));
    // A 3-space state reads a 2-space meta as malformed, so give it the same meta layout size.
    const other = newGrid(storage, 64);
    const three = new ByteState(3);
    three.restoreBegin = (): void => {}; // keep three spaces whatever the meta says
    const result = complete<{ sessions: Uint8Array } | { error: string }>(storage, (done) => other.open(manifest, three, done));
    expect(result).toEqual({ error: "checkpoint of 2 spaces, state machine of 3" });
  });

  it("open of a checkpoint after reset() on the same grid replaces everything", () => {
    const storage = gridStorage(256);
    const grid = newGrid(storage, 256);
    const state = new ByteState(2);
    state.write(0, 0, new Uint8Array(3 * pageSize).fill(5));
    const manifest = checkpointOf(storage, grid, state, new Uint8Array([1, 2, 3]));
    state.write(1, 0, new Uint8Array(4 * pageSize).fill(6));
    grid.flush(state.spaces());
    storage.run();
    grid.reset(2);
    expect(grid.freeSet.acquiredCount).toBe(0);
    const restored = new ByteState(2);
    const result = complete<{ sessions: Uint8Array } | { error: string }>(storage, (done) => grid.open(manifest, restored, done));
    expect(expectOpened(result)).toEqual(new Uint8Array([1, 2, 3]));
    expect(restored.contents()[0]).toEqual(new Uint8Array(3 * pageSize).fill(5));
    expect(restored.contents()[1]!.length).toBe(0);
    // The grid continues from the opened checkpoint (durable, as its writer marked it): the next
    // checkpoint opens too.
    grid.checkpointDurable();
    restored.write(1, 0, new Uint8Array(10).fill(7));
    const next = checkpointOf(storage, grid, restored, new Uint8Array(0));
    const opened = openBytes(storage, 256, next, 2);
    expectOpened(opened.result);
    expectContents(opened.state, restored, "after reopen");
  });
});

