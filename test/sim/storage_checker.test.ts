// The storage checker (src/sim/checkers/storage_checker.ts): replicas at the same checkpoint must
// hold the same acquired grid blocks, byte for byte, at the same addresses.
import { describe, expect, it } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { headerSize } from "../../src/core/config.js";
import { FlatSpace } from "../../src/core/flat_space.js";
import type { PersistentState } from "../../src/core/persistent_state.js";
import { Grid } from "../../src/grid/grid.js";
import { Zone } from "../../src/io/storage.js";
import { CorrectnessError } from "../../src/sim/checkers/state_checker.js";
import { StorageChecker } from "../../src/sim/checkers/storage_checker.js";
import { performanceStorageOptions } from "../../src/sim/world/storage_options.js";
import { StorageSim } from "../../src/sim/world/storage_sim.js";

const blocks = 256;
const sizeBytes = testConfig.zones.gridOffset + blocks * testConfig.blockSize;

/** A state of one space holding `bytes`, every unit dirty until cleared. */
function stateOf(bytes: Uint8Array): PersistentState {
  let dirty = true;
  const units = { isDirty: () => dirty, clear: () => { dirty = false; } };
  const space = new FlatSpace(() => bytes, () => bytes.length, () => units, testConfig.blockSize - headerSize);
  return {
    configurePages: () => {}, spaces: () => [space], meta: () => new Uint8Array(8), restoreBegin: () => {}, restoreFinish: () => {},
  };
}

/** A grid on its own simulated storage, checkpointed once with `bytes` as its only space. */
function checkpointed(replica: number, bytes: Uint8Array): { grid: Grid; storage: StorageSim } {
  const storage = new StorageSim({
    ...performanceStorageOptions, config: testConfig, sizeBytes, replicaIndex: replica, seed: BigInt(replica + 1), faultAtlas: null,
  });
  const grid = new Grid(storage, testConfig, 1n, blocks);
  grid.reset(1);
  let done = false;
  grid.checkpoint(stateOf(bytes), new Uint8Array(16), () => { done = true; });
  for (let rounds = 0; !done && rounds < 10_000; rounds++) if (!storage.step()) storage.tick();
  expect(done).toBe(true);
  grid.checkpointWritten();
  grid.checkpointDurable();
  return { grid, storage };
}

describe("storage checker", () => {
  const state = new Uint8Array(3 * testConfig.blockSize).map((_, i) => i * 7);

  it("accepts replicas that hold the same blocks at a checkpoint", () => {
    const checker = new StorageChecker();
    for (const replica of [0, 1, 2]) {
      const { grid, storage } = checkpointed(replica, state);
      checker.check(replica, 19, grid, storage);
    }
  });

  it("catches one byte of difference in one page, and a block torn on disk", () => {
    const checker = new StorageChecker();
    const a = checkpointed(0, state);
    checker.check(0, 19, a.grid, a.storage);
    const other = state.slice();
    other[5000] ^= 1;
    const b = checkpointed(1, other);
    expect(() => checker.check(1, 19, b.grid, b.storage)).toThrow(CorrectnessError);
    // The same state, but one acquired block's header damaged on disk.
    const c = checkpointed(2, state);
    c.storage.corruptBytes(Zone.grid, 20, 1); // a byte of block 1's header
    expect(() => checker.check(2, 19, c.grid, c.storage)).toThrow(/bad header/);
  });
});
