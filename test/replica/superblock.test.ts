// The superblock (spec/vsr.md §10): format/open round trips, the sequence/parent hash chain, the
// open quorum against torn, corrupt and misdirected copies, and crashes in the middle of an update.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { testConfig } from "../../src/core/config.js";
import { PrepareHeader, setChecksums } from "../../src/core/header.js";
import { Command, Operation } from "../../src/core/command.js";
import { Zone } from "../../src/io/storage.js";
import { ratioZero, percent } from "../../src/sim/ratio.js";
import { performanceStorageOptions } from "../../src/sim/world/storage_options.js";
import { StorageSim } from "../../src/sim/world/storage_sim.js";
import {
  type CheckpointState, SuperBlock, SuperblockCopyReader, type SuperBlockOpenError, type SuperBlockState, checkpointId,
  rootPrepare, superblockCopyOf,
} from "../../src/replica/superblock/superblock.js";
import { decodeSuperBlock, encodeSuperBlock } from "../../src/replica/superblock/layout.js";
import { drainSim } from "../sim/helpers.js";
import { MemoryStorage } from "./memory_storage.js";
import type { Storage } from "../../src/io/storage.js";

const config = testConfig;
const cluster = 0x1234_5678_9abc_def0_1122_3344_5566_7788n;
const copySize = config.superblockCopySize;

function superblock(storage: Storage, replica = 1, replicaCount = 3): SuperBlock {
  return new SuperBlock({ storage, config, cluster, replica, replicaCount });
}

function formatted(storage: MemoryStorage): SuperBlock {
  const sb = superblock(storage);
  let done = false;
  sb.format(() => { done = true; });
  storage.run();
  expect(done).toBe(true);
  return sb;
}

function open(storage: MemoryStorage | StorageSim, replica = 1, replicaCount = 3): { sb: SuperBlock; error: SuperBlockOpenError | null } {
  const sb = superblock(storage, replica, replicaCount);
  let result: SuperBlockOpenError | null | undefined;
  sb.open((error) => { result = error; });
  if (storage instanceof MemoryStorage) storage.run();
  else drainSim(storage);
  expect(result).not.toBeUndefined();
  return { sb, error: result! };
}

/** A prepare header of this cluster with op and view (for view headers and checkpoints). */
function prepareHeader(op: number, view = 0): Uint8Array {
  const bytes = new Uint8Array(256);
  const header = new PrepareHeader(bytes, 0);
  header.command = Command.prepare;
  header.cluster = cluster;
  header.size = 256;
  header.view = view;
  header.op = op;
  header.commit = op - 1;
  header.timestamp = BigInt(op) * 1000n;
  header.operation = Operation.noop;
  setChecksums(bytes, 0, 256);
  return bytes;
}

function checkpointAt(previous: CheckpointState, op: number): CheckpointState {
  return {
    ...previous, header: prepareHeader(op), parent_checkpoint_id: checkpointId(previous),
    grandparent_checkpoint_id: previous.parent_checkpoint_id, manifest_address: op, manifest_checksum: BigInt(op) * 7n,
    manifest_size: 4096 * op,
  };
}

function viewChange(sb: SuperBlock, storage: MemoryStorage, view: number, logView = view): void {
  let done = false;
  sb.updateViewChange({ view, log_view: logView, view_headers: [prepareHeader(view, view)] }, () => { done = true; });
  storage.run();
  expect(done).toBe(true);
}

function checkpoint(sb: SuperBlock, storage: MemoryStorage, op: number): void {
  let done = false;
  const working = sb.working!;
  sb.updateCheckpoint({
    checkpoint: checkpointAt(working.vsr_state.checkpoint, op), commit_max: op + 3, sync_op_min: 0, sync_op_max: 0,
    view_headers: working.view_headers,
  }, () => { done = true; });
  storage.run();
  expect(done).toBe(true);
}

function copyBytes(storage: MemoryStorage, slot: number): Uint8Array {
  return storage.bytes(Zone.superblock, slot * copySize, copySize);
}

function decodedCopy(storage: MemoryStorage, slot: number) {
  return decodeSuperBlock(copyBytes(storage, slot).slice(), config, cluster);
}

describe("superblock format and open", () => {
  it("round-trips the formatted state", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    const working = sb.working!;
    expect(working.sequence).toBe(1);
    expect(working.vsr_state).toMatchObject({ view: 0, log_view: 0, commit_max: 0, replica_count: 3 });
    expect(working.vsr_state.checkpoint.header).toEqual(rootPrepare(cluster));
    expect(new PrepareHeader(working.vsr_state.checkpoint.header, 0).operation).toBe(Operation.root);
    const { sb: reopened, error } = open(storage);
    expect(error).toBeNull();
    expect(reopened.working).toEqual(working);
  });

  it("encodes every copy with the same checksum; only the copy index differs", () => {
    const storage = new MemoryStorage(config);
    formatted(storage);
    const copies = [0, 1, 2, 3].map((slot) => decodedCopy(storage, slot)!);
    expect(copies.map((copy) => copy.copy)).toEqual([0, 1, 2, 3]);
    expect(new Set(copies.map((copy) => copy.state.checksum)).size).toBe(1);
  });

  it("SuperblockCopyReader reads each copy as superblockCopyOf does, reusing what a checksum already named", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    viewChange(sb, storage, 3);
    const reader = new SuperblockCopyReader(config, cluster);
    const bytesOf = (slot: number): Uint8Array => copyBytes(storage, slot).slice();
    for (const slot of [0, 1, 2, 3, 2, 0]) {
      expect(reader.copyOf(bytesOf(slot))).toEqual(superblockCopyOf(bytesOf(slot), config, cluster));
      expect(reader.copyOf(bytesOf(slot))!.copy).toBe(slot);
    }
    // What the checksum does not cover must still be checked: the padding after it, and the
    // checksum itself against the bytes.
    const padded = bytesOf(1);
    padded[20] = 1;
    expect(superblockCopyOf(padded, config, cluster)).toBeNull();
    expect(reader.copyOf(padded)).toBeNull();
    const changed = bytesOf(2);
    changed[copySize - 1]! ^= 1;
    expect(reader.copyOf(changed)).toBeNull();
    const misplaced = bytesOf(3);
    misplaced[32] = 0; // a copy index, which the checksum does not cover
    expect(reader.copyOf(misplaced)).toEqual({ ...superblockCopyOf(bytesOf(3), config, cluster), copy: 0 });
  });

  it("the root prepare is a valid op-0 prepare of the cluster", () => {
    const root = new PrepareHeader(rootPrepare(cluster), 0);
    expect(root.verifyChecksum() && root.verifyBodyChecksum()).toBe(true);
    expect([root.op, root.command, root.operation, root.cluster, root.size]).toEqual(
      [0, Command.prepare, Operation.root, cluster, 256]);
    expect(rootPrepare(cluster)).toEqual(rootPrepare(cluster));
  });

  it("rejects a data file of another replica", () => {
    const storage = new MemoryStorage(config);
    formatted(storage);
    expect(open(storage, 2).error).toBe("ReplicaMismatch");
    expect(open(storage, 1, 5).error).toBe("ReplicaMismatch");
  });

  it("finds nothing on a blank disk or another cluster's disk", () => {
    expect(open(new MemoryStorage(config)).error).toBe("NotFound");
    const storage = new MemoryStorage(config);
    formatted(storage);
    const other = new SuperBlock({ storage, config, cluster: cluster + 1n, replica: 1, replicaCount: 3 });
    let result: SuperBlockOpenError | null | undefined;
    other.open((error) => { result = error; });
    storage.run();
    expect(result).toBe("NotFound");
  });
});

describe("superblock updates", () => {
  it("chain sequence and parent, and reopen at the newest state", () => {
    const storage = new MemoryStorage(config, { order: "shuffled", seed: 7 });
    const sb = formatted(storage);
    const states: SuperBlockState[] = [sb.working!];
    viewChange(sb, storage, 1, 0);
    states.push(sb.working!);
    viewChange(sb, storage, 1, 1);
    states.push(sb.working!);
    checkpoint(sb, storage, 19);
    states.push(sb.working!);
    states.forEach((state, index) => {
      expect(state.sequence).toBe(index + 1);
      if (index > 0) expect(state.parent).toBe(states[index - 1]!.checksum);
    });
    expect(sb.working!.vsr_state).toMatchObject({ view: 1, log_view: 1, commit_max: 22 });
    const { sb: reopened, error } = open(storage);
    expect(error).toBeNull();
    expect(reopened.working).toEqual(sb.working);
    expect(checkpointId(reopened.working!.vsr_state.checkpoint)).toBe(checkpointId(sb.working!.vsr_state.checkpoint));
  });

  it("persists a state sync's moves chain with its checkpoint, outside the checkpoint id, and clears it", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    const target = checkpointAt(sb.working!.vsr_state.checkpoint, 59);
    const update = (sync_moves_address: number): void => {
      sb.updateCheckpoint({
        checkpoint: target, commit_max: 62, sync_op_min: 3, sync_op_max: 59, sync_moves_address,
        view_headers: sb.working!.view_headers,
      }, () => {});
      storage.run();
    };
    update(4321);
    const staged = open(storage).sb.working!.vsr_state;
    expect(staged.sync_moves_address).toBe(4321);
    expect(staged.sync_op_min).toBe(3);
    sb.forgetSyncMoves(() => {});
    storage.run();
    const moved = open(storage).sb.working!.vsr_state;
    expect(moved).toEqual({ ...staged, sync_moves_address: 0 });
    expect(checkpointId(moved.checkpoint)).toBe(checkpointId(staged.checkpoint));
    expect(() => sb.forgetSyncMoves(() => {})).toThrow(AssertionError);
  });

  it("asserts one update at a time and monotonic state", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    viewChange(sb, storage, 3);
    sb.updateViewChange({ view: 4, log_view: 3, view_headers: [prepareHeader(1)] }, () => {});
    expect(sb.updating).toBe(true);
    expect(() => sb.updateViewChange({ view: 5, log_view: 3, view_headers: [prepareHeader(1)] }, () => {}))
      .toThrow(AssertionError);
    storage.run();
    expect(() => sb.updateViewChange({ view: 2, log_view: 2, view_headers: [prepareHeader(1)] }, () => {}))
      .toThrow(AssertionError);
    checkpoint(sb, storage, 19);
    const working = sb.working!;
    expect(() => sb.updateCheckpoint({ checkpoint: checkpointAt(working.vsr_state.checkpoint, 3), commit_max: 30,
      sync_op_min: 0, sync_op_max: 0, view_headers: working.view_headers }, () => {})).toThrow(AssertionError);
    expect(() => sb.updateCheckpoint({ checkpoint: checkpointAt(working.vsr_state.checkpoint, 39), commit_max: 5,
      sync_op_min: 0, sync_op_max: 0, view_headers: working.view_headers }, () => {})).toThrow(AssertionError);
  });

  it("retries the write until three copies verify", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    let done = false;
    sb.updateViewChange({ view: 1, log_view: 1, view_headers: [prepareHeader(1, 1)] }, () => { done = true; });
    // Let the four copy writes land, then corrupt two of them before they are read back.
    storage.runUntil(() => storage.pending.some((io) => !io.write));
    storage.corrupt(Zone.superblock, 1 * copySize);
    storage.corrupt(Zone.superblock, 2 * copySize);
    storage.run();
    expect(done).toBe(true);
    expect(sb.verifyRetries).toBe(1);
    expect([0, 1, 2, 3].every((slot) => decodedCopy(storage, slot)?.state.sequence === 2)).toBe(true);
  });
});

describe("superblock open quorum", () => {
  it("tolerates a corrupt copy and rewrites it", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    viewChange(sb, storage, 2);
    storage.corrupt(Zone.superblock, 2 * copySize + 4096);
    expect(decodedCopy(storage, 2)).toBeNull();
    const { sb: reopened, error } = open(storage);
    expect(error).toBeNull();
    expect(reopened.working).toEqual(sb.working);
    expect(decodedCopy(storage, 2)).toMatchObject({ copy: 2, state: { checksum: sb.working!.checksum } });
  });

  it("detects a misdirected copy (copy 0 written into slot 1) and rewrites the slot", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    viewChange(sb, storage, 2);
    copyBytes(storage, 1).set(copyBytes(storage, 0).slice());
    expect(decodedCopy(storage, 1)).toMatchObject({ copy: 0 }); // checksum still valid: only the index tells
    const { error } = open(storage);
    expect(error).toBeNull();
    expect(decodedCopy(storage, 1)).toMatchObject({ copy: 1, state: { checksum: sb.working!.checksum } });
  });

  it("a misdirected copy cannot fake a quorum for the newest sequence", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    viewChange(sb, storage, 1);
    const older = sb.working!;
    const newer = { ...older, sequence: older.sequence + 1, parent: older.checksum,
      vsr_state: { ...older.vsr_state, view: 2, log_view: 2 } };
    // Sequence n+1 landed in slot 0 only; a misdirected write put the same copy into slot 1.
    const bytes = new Uint8Array(copySize);
    encodeSuperBlock(newer, 0, bytes, config);
    copyBytes(storage, 0).set(bytes);
    copyBytes(storage, 1).set(bytes);
    const { sb: reopened, error } = open(storage);
    expect(error).toBeNull();
    expect(reopened.working!.checksum).toBe(older.checksum);
    expect([0, 1, 2, 3].map((slot) => decodedCopy(storage, slot)!.state.sequence)).toContain(older.sequence);
  });

  it("picks the newest sequence that has a quorum", () => {
    const storage = new MemoryStorage(config);
    const sb = formatted(storage);
    viewChange(sb, storage, 1);
    const n = sb.working!;
    viewChange(sb, storage, 2);
    const n1 = sb.working!;
    // Copies {n+1, n+1, n, n}: both sequences have 2 of 4; the newer one wins.
    const bytes = new Uint8Array(copySize);
    for (const slot of [2, 3]) {
      encodeSuperBlock(n, slot, bytes, config);
      copyBytes(storage, slot).set(bytes);
    }
    const { sb: reopened, error } = open(storage);
    expect(error).toBeNull();
    expect(reopened.working!.checksum).toBe(n1.checksum);
    expect([0, 1, 2, 3].map((slot) => decodedCopy(storage, slot)!.state.sequence)).toEqual([3, 3, 3, 3]);
  });
});

describe("superblock crashes", () => {
  /**
   * Crashes an update after `steps` IO completions, tearing the pending copy write (if any), then
   * reopens. Returns the sequence opened and whether the update's callback had run.
   */
  function crashDuringUpdate(steps: number, tear: boolean, order: "fifo" | "shuffled", seed: number) {
    const storage = new MemoryStorage(config, { order, seed });
    const sb = formatted(storage);
    viewChange(sb, storage, 1);
    const before = sb.working!;
    let acknowledged = false;
    sb.updateViewChange({ view: 2, log_view: 2, view_headers: [prepareHeader(2, 2)] }, () => { acknowledged = true; });
    for (let step = 0; step < steps && storage.stepOne(); step++) { /* advance */ }
    storage.crash(() => tear);
    const { sb: reopened, error } = open(storage);
    return { error, before, opened: reopened.working, acknowledged, storage };
  }

  it("opens at n or n+1 after a crash at any point of an update, never losing an acknowledged one", () => {
    for (const tear of [false, true]) {
      for (let steps = 0; steps <= 10; steps++) {
        const { error, before, opened, acknowledged, storage } = crashDuringUpdate(steps, tear, "fifo", 1);
        expect(error).toBeNull();
        expect([before.sequence, before.sequence + 1]).toContain(opened!.sequence);
        if (acknowledged) expect(opened!.sequence).toBe(before.sequence + 1);
        // Open repaired every copy, and reopening again gives the same state.
        expect(open(storage).sb.working).toEqual(opened);
      }
    }
  });

  it("survives random crash points, tears and completion orders (property)", () => {
    fc.assert(fc.property(
      fc.array(fc.record({ steps: fc.nat(12), tear: fc.boolean() }), { minLength: 1, maxLength: 6 }),
      fc.nat(1000),
      (crashes, seed) => {
        const storage = new MemoryStorage(config, { order: "shuffled", seed: seed + 1 });
        let sb = formatted(storage);
        let acknowledgedSequence = 1;
        let view = 0;
        for (const crash of crashes) {
          view += 1;
          const target = sb.working!.sequence + 1;
          sb.updateViewChange({ view, log_view: view, view_headers: [prepareHeader(view, view)] }, () => {
            acknowledgedSequence = target;
          });
          for (let step = 0; step < crash.steps && storage.stepOne(); step++) { /* advance */ }
          storage.crash(() => crash.tear);
          const reopened = open(storage);
          expect(reopened.error).toBeNull();
          const sequence = reopened.sb.working!.sequence;
          expect(sequence).toBeGreaterThanOrEqual(acknowledgedSequence);
          expect(sequence).toBeLessThanOrEqual(target);
          acknowledgedSequence = sequence;
          sb = reopened.sb;
          view = sb.working!.vsr_state.view;
        }
      },
    ), { numRuns: 150 });
  });

  it("survives crashes with torn writes on StorageSim", () => {
    for (let seed = 1n; seed <= 12n; seed++) {
      const storage = new StorageSim({
        ...performanceStorageOptions, writeLatencyMinMs: 10, writeLatencyMeanMs: 40, readLatencyMinMs: 10,
        readLatencyMeanMs: 20, crashFaultProbability: percent(100), readFaultProbability: ratioZero,
        config, sizeBytes: config.zones.gridOffset + 16 * config.blockSize, replicaIndex: 0, seed, faultAtlas: null,
      });
      const sb = superblock(storage);
      sb.format(() => {});
      drainSim(storage);
      let acknowledged = 1;
      let current = sb;
      for (let round = 1; round <= 5; round++) {
        const target = current.working!.sequence + 1;
        const view = current.working!.vsr_state.view + 1;
        current.updateViewChange({ view, log_view: view, view_headers: [prepareHeader(view, view)] },
          () => { acknowledged = target; });
        // Crash after a seed-dependent number of ticks: before, during or after the update.
        const ticks = Number((seed * 7n + BigInt(round) * 3n) % 9n);
        for (let tick = 0; tick < ticks; tick++) {
          while (storage.step()) { /* drain */ }
          storage.tick();
        }
        storage.crash();
        const reopened = open(storage);
        expect(reopened.error).toBeNull();
        expect(reopened.sb.working!.sequence).toBeGreaterThanOrEqual(acknowledged);
        expect(reopened.sb.working!.sequence).toBeLessThanOrEqual(target);
        current = reopened.sb;
      }
    }
  });
});
