// The WAL (spec/vsr.md §11): format and recovery, the write order (§11.2) under crashes, the
// recovery table (§11.3) on corrupt and torn slots, the torn-write rule (§11.4), verified reads,
// wrapping, truncation, the IOP bounds, and a crash property test against a model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { Command, Operation } from "../../src/core/command.js";
import { testConfig } from "../../src/core/config.js";
import { PrepareHeader, setChecksums } from "../../src/core/header.js";
import { Zone } from "../../src/io/storage.js";
import { checkpointMath } from "../../src/replica/checkpoint_math.js";
import { Journal, type JournalRecovered, type JournalRecovery } from "../../src/replica/journal/journal.js";
import { rootPrepare } from "../../src/replica/superblock/superblock.js";
import { percent, ratioZero } from "../../src/sim/ratio.js";
import { performanceStorageOptions } from "../../src/sim/world/storage_options.js";
import { StorageSim } from "../../src/sim/world/storage_sim.js";
import { drainSim } from "../sim/helpers.js";
import { MemoryStorage } from "./memory_storage.js";
import type { Storage } from "../../src/io/storage.js";

const config = testConfig; // 32 slots, 4 KiB messages, 2 write IOPs, 3 read IOPs
const cluster = 0xabcdef_0123_4567_89abn;
const math = checkpointMath(config);
const slotCount = config.journalSlotCount;

/** A valid prepare for `op` in `view`, with a body that depends on both. */
function prepare(op: number, view = 0, bodySize = 64 + ((op * 37) % 900)): Uint8Array {
  const size = 256 + bodySize;
  const bytes = new Uint8Array(size);
  const header = new PrepareHeader(bytes, 0);
  header.command = Command.prepare;
  header.cluster = cluster;
  header.size = size;
  header.view = view;
  header.op = op;
  header.commit = op - 1;
  header.timestamp = BigInt(op) * 1000n + BigInt(view);
  header.operation = Operation.noop;
  for (let i = 256; i < size; i++) bytes[i] = (op * 31 + view * 7 + i) & 0xff;
  setChecksums(bytes, 0, size);
  return bytes;
}

function checksumOf(message: Uint8Array): bigint {
  return new PrepareHeader(message, 0).checksum;
}

/** The (opCheckpoint, opPrepareMax) pair of the first checkpoint whose window covers `opHead`. */
function window(opHead: number): { opCheckpoint: number; opPrepareMax: number } {
  let opCheckpoint = 0;
  while (math.opPrepareMax(opCheckpoint) < opHead) opCheckpoint = math.checkpointAfter(opCheckpoint);
  return { opCheckpoint, opPrepareMax: math.opPrepareMax(opCheckpoint) };
}

function formatted(storage: MemoryStorage, replicaCount = 3): Journal {
  const journal = new Journal({ storage, config, cluster, replicaCount });
  let done = false;
  journal.format(() => { done = true; });
  storage.run();
  expect(done).toBe(true);
  return journal;
}

/** The checkpoint a replica would hold with ops up to `opDurable` durable, and its prepare window. */
function checkpointFor(opDurable: number): { opCheckpoint: number; opPrepareMax: number } {
  let opCheckpoint = 0;
  while (math.checkpointAfter(opCheckpoint) <= opDurable) opCheckpoint = math.checkpointAfter(opCheckpoint);
  return { opCheckpoint, opPrepareMax: math.opPrepareMax(opCheckpoint) };
}

function recover(storage: Storage, replicaCount = 3, opHead: number | { opCheckpoint: number; opPrepareMax: number } = 0):
  { journal: Journal; result: JournalRecovery } {
  const journal = new Journal({ storage, config, cluster, replicaCount });
  let result: JournalRecovery | undefined;
  journal.recover(typeof opHead === "number" ? window(opHead) : opHead, (recovered) => { result = recovered; });
  if (storage instanceof MemoryStorage) storage.run();
  else drainSim(storage as StorageSim);
  expect(result).not.toBeUndefined();
  return { journal, result: result! };
}

function recovered(result: JournalRecovery): JournalRecovered {
  if (typeof result === "string") throw new Error(`recovery failed: ${result}`);
  return result;
}

/** Writes and runs the storage until idle; returns what the callback reported. */
function write(journal: Journal, storage: MemoryStorage, message: Uint8Array): boolean {
  let written: boolean | undefined;
  journal.writePrepare(message, (ok) => { written = ok; });
  storage.run();
  expect(written).not.toBeUndefined();
  return written!;
}

function writeAll(journal: Journal, storage: MemoryStorage, ops: number[], view = 0): Map<number, Uint8Array> {
  const messages = new Map<number, Uint8Array>();
  for (const op of ops) {
    const message = prepare(op, view);
    expect(write(journal, storage, message)).toBe(true);
    messages.set(op, message);
  }
  return messages;
}

function read(journal: Journal, storage: MemoryStorage, op: number, checksum: bigint): Uint8Array | null {
  let message: Uint8Array | null | undefined;
  journal.readPrepare(op, checksum, (result) => { message = result; });
  storage.run();
  expect(message).not.toBeUndefined();
  return message!;
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

function prepareOffset(op: number): number {
  return (op % slotCount) * config.messageSizeMax;
}

/** Recovery never loads a header into a slot and marks that slot faulty (§11.3). */
function expectNoLoadedFaultySlot(journal: Journal): void {
  for (let slot = 0; slot < slotCount; slot++) {
    if (journal.isFaulty(slot)) expect(journal.headerForSlot(slot).operation).toBe(Operation.reserved);
  }
}

describe("journal format and recovery", () => {
  it("recovers a formatted WAL as an empty log holding only the root prepare", () => {
    const storage = new MemoryStorage(config);
    formatted(storage);
    const { journal, result } = recover(storage);
    expect(recovered(result)).toMatchObject({ opMax: 0, headCertain: true, faultyCount: 0, dirtyCount: 0, torn: 0 });
    expect(recovered(result).cases).toMatchObject({ P: 1, L: slotCount - 1 });
    expect(journal.header(0)!.bytes()).toEqual(rootPrepare(cluster));
    expect(journal.hasPrepare(0, checksumOf(rootPrepare(cluster)))).toBe(true);
    for (let slot = 1; slot < slotCount; slot++) {
      expect(journal.header(slot)).toBeNull();
      const reserved = journal.headerForSlot(slot);
      expect([reserved.operation, reserved.op]).toEqual([Operation.reserved, slot]);
    }
  });

  it("a never-formatted WAL is invalid", () => {
    expect(recover(new MemoryStorage(config)).result).toBe("WALInvalid");
  });

  it("recovers exactly the headers and prepares written", () => {
    const storage = new MemoryStorage(config, { order: "shuffled", seed: 3 });
    const messages = writeAll(formatted(storage), storage, range(1, 10));
    const { journal, result } = recover(storage, 3, 10);
    expect(recovered(result)).toMatchObject({ opMax: 10, headCertain: true, faultyCount: 0, dirtyCount: 0 });
    expect(recovered(result).cases).toMatchObject({ P: 11, L: slotCount - 11 });
    for (const [op, message] of messages) {
      expect(journal.header(op)!.bytes()).toEqual(message.subarray(0, 256));
      expect(journal.hasPrepare(op, checksumOf(message))).toBe(true);
      expect(read(journal, storage, op, checksumOf(message))).toEqual(message);
    }
  });

  it("keeps only the newest op per slot when the log wraps (ops 1..70, 32 slots)", () => {
    const storage = new MemoryStorage(config, { order: "shuffled", seed: 4 });
    const journal = formatted(storage);
    const messages = writeAll(journal, storage, range(1, 70));
    const check = (j: Journal): void => {
      for (let op = 1; op <= 70; op++) {
        const newest = op > 70 - slotCount;
        expect(j.header(op)?.checksum ?? null).toBe(newest ? checksumOf(messages.get(op)!) : null);
      }
      expect(j.opMax).toBe(70);
    };
    check(journal);
    const { journal: reopened, result } = recover(storage, 3, 70);
    expect(recovered(result)).toMatchObject({ opMax: 70, headCertain: true, faultyCount: 0 });
    expect(recovered(result).cases.P).toBe(slotCount);
    check(reopened);
  });
});

describe("journal write order (§11.2) and crashes", () => {
  function crashBetweenWrites(storage: MemoryStorage, journal: Journal, message: Uint8Array): void {
    let called = false;
    journal.writePrepare(message, () => { called = true; });
    // The header sector is written only once the prepare landed: crash with it still pending.
    storage.runUntil(() => storage.pending.some((io) => io.write && io.zone === Zone.wal_headers));
    expect(called).toBe(false);
    storage.crash();
  }

  it("fresh slot: prepare landed, header lost → case G, fix", () => {
    const storage = new MemoryStorage(config);
    const journal = formatted(storage);
    writeAll(journal, storage, range(1, 3));
    const message = prepare(4);
    crashBetweenWrites(storage, journal, message);
    const { journal: reopened, result } = recover(storage, 3, 4);
    expect(recovered(result).cases.G).toBe(1);
    expect(recovered(result)).toMatchObject({ opMax: 4, faultyCount: 0, dirtyCount: 0, headCertain: true });
    expect(reopened.hasPrepare(4, checksumOf(message))).toBe(true);
    // The fix rewrote the redundant header: the next recovery finds the slot intact.
    expect(recovered(recover(storage, 3, 4).result).cases).toMatchObject({ G: 0, P: 5 });
  });

  it("wrapped slot: prepare landed over the previous wrap, header lost → case M, fix (keep the higher op)", () => {
    const storage = new MemoryStorage(config);
    const journal = formatted(storage);
    writeAll(journal, storage, range(1, 40));
    const message = prepare(41);
    crashBetweenWrites(storage, journal, message);
    const { journal: reopened, result } = recover(storage, 3, 41);
    expect(recovered(result).cases.M).toBe(1);
    expect(recovered(result)).toMatchObject({ opMax: 41, faultyCount: 0, dirtyCount: 0 });
    expect(reopened.hasPrepare(41, checksumOf(message))).toBe(true);
    expect(reopened.header(9)).toBeNull();
  });

  it("both writes landed → case P, eql; nothing landed → the previous state", () => {
    const storage = new MemoryStorage(config);
    const journal = formatted(storage);
    writeAll(journal, storage, range(1, 5));
    const sixth = prepare(6);
    journal.writePrepare(sixth, () => {});
    storage.runUntil(() => storage.pending.some((io) => io.write && io.zone === Zone.wal_prepares));
    storage.crash(); // the prepare write is dropped whole
    const before = recover(storage, 3, 6);
    expect(recovered(before.result)).toMatchObject({ opMax: 5, faultyCount: 0 });
    expect(before.journal.header(6)).toBeNull();
    expect(write(before.journal, storage, sixth)).toBe(true);
    const after = recover(storage, 3, 6);
    expect(recovered(after.result).cases).toMatchObject({ P: 7, L: slotCount - 7 });
    expect(after.journal.hasPrepare(6, checksumOf(sixth))).toBe(true);
  });
});

describe("journal corruption (§11.3) and torn writes (§11.4)", () => {
  it("a corrupt prepare below the head is faulty with R = 3 and fatal with R = 1", () => {
    for (const replicaCount of [3, 1]) {
      const storage = new MemoryStorage(config);
      writeAll(formatted(storage, replicaCount), storage, range(1, 5));
      storage.corrupt(Zone.wal_prepares, prepareOffset(3) + 300);
      const { journal, result } = recover(storage, replicaCount, 5);
      if (replicaCount === 1) {
        expect(result).toBe("WALCorrupt");
        continue;
      }
      expect(recovered(result)).toMatchObject({ opMax: 5, headCertain: true, faultyCount: 1, dirtyCount: 1 });
      expect(recovered(result).cases.C).toBe(1);
      expect([journal.isFaulty(3), journal.isDirty(3), journal.header(3)]).toEqual([true, true, null]);
      expectNoLoadedFaultySlot(journal);
    }
  });

  it("a corrupt redundant header sector: fix with R = 1, repair with R = 3 (except the head prepare)", () => {
    for (const replicaCount of [1, 3]) {
      const storage = new MemoryStorage(config);
      writeAll(formatted(storage, replicaCount), storage, range(1, 5));
      for (let slot = 0; slot < 16; slot++) storage.corrupt(Zone.wal_headers, 0, slot * 256 + 100);
      const { journal, result } = recover(storage, replicaCount, 5);
      const cases = recovered(result).cases;
      if (replicaCount === 1) {
        expect(cases).toMatchObject({ D: 10, E: 5, F: 1 }); // reserved slots 6..15, ops 0..4, op 5
        expect(recovered(result)).toMatchObject({ opMax: 5, faultyCount: 0, dirtyCount: 0 });
      } else {
        // Faulty slots above the head: op_max is uncertain until a peer tells (§11.4).
        expect(recovered(result)).toMatchObject({ opMax: 5, faultyCount: 15, headCertain: false });
        expect(journal.header(5)).not.toBeNull(); // F: the head prepare fixes its own header
        expectNoLoadedFaultySlot(journal);
      }
    }
  });

  it("a torn append after a wrap is truncated (R = 1 and R = 3)", () => {
    for (const replicaCount of [1, 3]) {
      const storage = new MemoryStorage(config);
      const journal = formatted(storage, replicaCount);
      writeAll(journal, storage, range(1, 40));
      journal.writePrepare(prepare(41), () => {});
      storage.runUntil(() => storage.pending.some((io) => io.write && io.zone === Zone.wal_prepares));
      storage.crash((io) => io.zone === Zone.wal_prepares);
      const { journal: reopened, result } = recover(storage, replicaCount, 41);
      expect(recovered(result)).toMatchObject({ opMax: 40, headCertain: true, torn: 1, faultyCount: 0, dirtyCount: 0 });
      expect(recovered(result).cases.C).toBe(1);
      expect(reopened.header(41)).toBeNull();
      expect(reopened.header(9)).toBeNull(); // the previous wrap's op is not resurrected
    }
  });

  it("a torn append in the first wrap is truncated, even on a solo replica (reserved header, torn prepare)", () => {
    for (const replicaCount of [3, 1]) {
      const storage = new MemoryStorage(config);
      const journal = formatted(storage, replicaCount);
      writeAll(journal, storage, range(1, 5));
      journal.writePrepare(prepare(6), () => {});
      storage.runUntil(() => storage.pending.some((io) => io.write && io.zone === Zone.wal_prepares));
      storage.crash((io) => io.zone === Zone.wal_prepares);
      const { result } = recover(storage, replicaCount, 6);
      expect(recovered(result)).toMatchObject({ opMax: 5, headCertain: true, torn: 1 });
    }
  });

  it("readPrepare detects a corrupt prepare, marks the slot faulty, and the fault survives a crash", () => {
    const storage = new MemoryStorage(config);
    const journal = formatted(storage);
    const messages = writeAll(journal, storage, range(1, 5));
    const second = checksumOf(messages.get(2)!);
    storage.corrupt(Zone.wal_prepares, prepareOffset(2) + 280);
    expect(read(journal, storage, 2, second)).toBeNull();
    expect([journal.isFaulty(2), journal.isDirty(2), journal.hasPrepare(2, second)]).toEqual([true, true, false]);
    expect(journal.canReadPrepare(2, second)).toBe(false);
    expect(read(journal, storage, 3, checksumOf(messages.get(3)!))).toEqual(messages.get(3));
    // Unknown checksums are not faults.
    expect(read(journal, storage, 4, 12345n)).toBeNull();
    expect(journal.isFaulty(4)).toBe(false);
    // Slot 2 shares its header sector with op 6: that write zeroes slot 2's redundant header.
    expect(write(journal, storage, prepare(6))).toBe(true);
    const { journal: reopened, result } = recover(storage, 3, 6);
    expect(recovered(result).cases.A).toBe(1);
    expect(reopened.isFaulty(2)).toBe(true);
    // Repairing the slot clears the fault.
    expect(write(reopened, storage, messages.get(2)!)).toBe(true);
    expect([reopened.isFaulty(2), reopened.isDirty(2)]).toEqual([false, false]);
    expect(recovered(recover(storage, 3, 6).result)).toMatchObject({ faultyCount: 0, opMax: 6 });
  });
});

describe("journal truncation, headers and supersession", () => {
  it("truncateAfter forgets later headers; rewriting the sector cleans them", () => {
    const storage = new MemoryStorage(config);
    const journal = formatted(storage);
    writeAll(journal, storage, range(1, 10));
    journal.truncateAfter(6);
    expect(journal.opMax).toBe(6);
    for (const op of range(7, 10)) expect([journal.header(op), journal.isDirty(op)]).toEqual([null, true]);
    const seventh = prepare(7, 1);
    expect(write(journal, storage, seventh)).toBe(true);
    expect(journal.dirtyCount).toBe(0); // the sector write carried reserved headers for 8..10
    // After a crash the old prepares 8..10 come back (§11.3 G: reserved header, valid prepare);
    // the replica drops them again against its durable view headers (§11.4 item 6).
    const { journal: reopened, result } = recover(storage, 3, 10);
    expect(recovered(result).cases.G).toBe(3);
    expect(reopened.header(7)!.checksum).toBe(checksumOf(seventh));
    reopened.truncateAfter(7);
    expect(reopened.opMax).toBe(7);
  });

  it("setHeader installs a dirty header; writing its prepare cleans it", () => {
    const storage = new MemoryStorage(config);
    const journal = formatted(storage);
    const message = prepare(3);
    journal.setHeader(message.subarray(0, 256));
    expect(journal.header(3)!.checksum).toBe(checksumOf(message));
    expect([journal.isDirty(3), journal.hasPrepare(3, checksumOf(message))]).toEqual([true, false]);
    expect(journal.canReadPrepare(3, checksumOf(message))).toBe(false);
    expect(write(journal, storage, message)).toBe(true);
    expect(journal.hasPrepare(3, checksumOf(message))).toBe(true);
    // A newer op may replace an older one, never the reverse.
    expect(() => journal.setHeader(prepare(3 - slotCount + 64).subarray(0, 256))).not.toThrow();
    expect(() => journal.setHeader(message.subarray(0, 256))).toThrow(AssertionError);
  });

  it("a newer prepare for a slot supersedes a queued one and replacements report false", () => {
    const storage = new MemoryStorage(config, { order: "shuffled", seed: 9 });
    const journal = formatted(storage);
    const results: string[] = [];
    journal.writePrepare(prepare(1), (ok) => results.push(`1:${ok}`));
    journal.writePrepare(prepare(2), (ok) => results.push(`2:${ok}`));
    journal.writePrepare(prepare(5, 0), (ok) => results.push(`5v0:${ok}`)); // queued: both IOPs busy
    journal.writePrepare(prepare(5, 1), (ok) => results.push(`5v1:${ok}`));
    expect(journal.writing).toBe(true);
    expect(journal.isWriting(5, checksumOf(prepare(5, 0)))).toBe(false);
    expect(journal.isWriting(5, checksumOf(prepare(5, 1)))).toBe(true);
    expect(() => journal.writePrepare(prepare(5, 1), () => {})).toThrow(AssertionError);
    storage.run();
    expect(results.sort()).toEqual(["1:true", "2:true", "5v0:false", "5v1:true"]);
    expect(journal.writing).toBe(false);
    const { journal: reopened } = recover(storage, 3, 5);
    expect(reopened.header(5)!.view).toBe(1);
  });

  it("a write replaced while in flight reports false and does not clean the slot", () => {
    const storage = new MemoryStorage(config);
    const journal = formatted(storage);
    let first: boolean | undefined;
    journal.writePrepare(prepare(4, 0), (ok) => { first = ok; });
    storage.runUntil(() => storage.pending.some((io) => io.zone === Zone.wal_headers));
    journal.truncateAfter(3);
    journal.setHeader(prepare(4, 1).subarray(0, 256));
    storage.run();
    expect(first).toBe(false);
    expect(journal.isDirty(4)).toBe(true);
    expect(journal.header(4)!.view).toBe(1);
  });
});

describe("journal IOP bounds", () => {
  it("never has more than journal_iops_write_max writes in flight, nor two on one sector", () => {
    for (const [replicaCount, bound] of [[3, config.journalIopsWriteMax], [1, 1]] as const) {
      const storage = new MemoryStorage(config, { order: "shuffled", seed: 11 });
      const journal = formatted(storage, replicaCount);
      storage.writesInFlightMax = 0;
      const results: boolean[] = [];
      for (const op of range(1, 31)) journal.writePrepare(prepare(op), (ok) => results.push(ok));
      storage.run(); // MemoryStorage throws on overlapping writes in flight
      expect(results).toEqual(new Array(31).fill(true));
      expect(storage.writesInFlightMax).toBeLessThanOrEqual(bound);
      expect(storage.writesInFlightMax).toBe(bound);
      expect(journal.dirtyCount).toBe(0);
    }
  });

  it("bounds concurrent reads by journal_iops_read_max and queues the rest", () => {
    const storage = new MemoryStorage(config, { order: "shuffled", seed: 12 });
    const journal = formatted(storage);
    const messages = writeAll(journal, storage, range(1, 20));
    let readsInFlightMax = 0;
    const results = new Map<number, Uint8Array | null>();
    for (const [op, message] of messages) journal.readPrepare(op, checksumOf(message), (m) => results.set(op, m));
    for (let step = 0; step < 1000 && storage.stepOne(); step++) {
      readsInFlightMax = Math.max(readsInFlightMax, storage.pending.filter((io) => !io.write).length);
    }
    expect(readsInFlightMax).toBeLessThanOrEqual(config.journalIopsReadMax);
    for (const [op, message] of messages) expect(results.get(op)).toEqual(message);
  });

  it("peers' reads take at most half the read queue: the replica's own reads always find room", () => {
    const storage = new MemoryStorage(config, { order: "shuffled", seed: 13 });
    const journal = formatted(storage);
    const messages = [...writeAll(journal, storage, range(1, 31))];
    let peerReads = 0;
    for (const [op, message] of messages) {
      if (!journal.canQueuePeerRead) break;
      journal.readPrepare(op, checksumOf(message), () => {});
      peerReads += 1;
    }
    // Three reads go straight to the IOPs; the queue behind them holds half of its 32 entries.
    expect(peerReads).toBe(config.journalIopsReadMax + slotCount / 2);
    // The rest of the queue is the replica's own: every remaining op can still be read.
    const own = new Map<number, Uint8Array | null>();
    for (const [op, message] of messages.slice(peerReads)) journal.readPrepare(op, checksumOf(message), (m) => own.set(op, m));
    storage.run();
    expect(own.size).toBe(messages.length - peerReads);
    expect(journal.canQueuePeerRead).toBe(true);
  });
});

describe("journal crash property", () => {
  type Command =
    | { kind: "append"; count: number }
    | { kind: "replace"; back: number }
    | { kind: "steps"; count: number }
    | { kind: "crash"; tear: boolean };

  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("append" as const), count: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("replace" as const), back: fc.integer({ min: 0, max: 4 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("steps" as const), count: fc.integer({ min: 1, max: 12 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("crash" as const), tear: fc.boolean() }) },
  );

  it("acknowledged prepares survive crashes unless overwritten; no loaded slot is faulty", () => {
    fc.assert(fc.property(fc.array(command, { minLength: 1, maxLength: 40 }), fc.nat(10_000), (commands, seed) => {
      const storage = new MemoryStorage(config, { order: "shuffled", seed: seed + 1 });
      let journal = formatted(storage);
      let head = 0;
      let view = 0;
      /** The highest op acknowledged and not truncated since: the replica's checkpoint is below it. */
      let opDurable = 0;
      /** Only tears and view changes may leave faults: a plain crash must recover cleanly. */
      let faultsPossible = false;
      /** Per slot: the last acknowledged prepare, until a later write to the slot is issued. */
      const acknowledged = new Map<number, Uint8Array>();
      const issue = (op: number): void => {
        const message = prepare(op, view);
        const slot = op % slotCount;
        acknowledged.delete(slot);
        const current = journal;
        journal.writePrepare(message, (ok) => {
          if (ok && current === journal && current.header(op)?.checksum === checksumOf(message)) {
            acknowledged.set(slot, message);
            opDurable = Math.max(opDurable, op);
          }
        });
      };
      const check = (): void => {
        storage.crash();
        const result = recover(storage, 3, checkpointFor(opDurable));
        const state = recovered(result.result);
        journal = result.journal;
        expectNoLoadedFaultySlot(journal);
        expect(state.faultyCount).toBe(journal.faultyCount);
        if (!faultsPossible) expect(state).toMatchObject({ faultyCount: 0, headCertain: true });
        for (const message of acknowledged.values()) {
          const header = new PrepareHeader(message, 0);
          expect(journal.hasPrepare(header.op, header.checksum)).toBe(true);
          expect(read(journal, storage, header.op, header.checksum)).toEqual(message);
        }
        expect(state.opMax).toBeGreaterThanOrEqual(opDurable);
        // What the replica does with its durable view headers: drop anything past its head.
        journal.truncateAfter(head);
        // A replica continues from the head it recovered: an op whose write the crash lost is
        // prepared again, never skipped (the model once appended after a lost op 1 and then
        // claimed op 1 durable: seed -37347672, path "174:4:6:6:17:21:27:29:30").
        head = Math.min(head, state.opMax);
      };
      for (const step of commands) {
        if (step.kind === "append") {
          for (let index = 0; index < step.count && head < 60; index++) issue(++head);
        } else if (step.kind === "replace" && head > 0) {
          // A view change: truncate and re-prepare op head − back in a newer view.
          faultsPossible = true;
          view += 1;
          head = Math.max(1, head - step.back);
          opDurable = Math.min(opDurable, head - 1);
          journal.truncateAfter(head - 1);
          for (let slot = 0; slot < slotCount; slot++) {
            const message = acknowledged.get(slot);
            if (message !== undefined && new PrepareHeader(message, 0).op >= head) acknowledged.delete(slot);
          }
          issue(head);
        } else if (step.kind === "steps") {
          for (let index = 0; index < step.count; index++) storage.stepOne();
        } else if (step.kind === "crash") {
          faultsPossible ||= step.tear && storage.pending.some((io) => io.write && io.zone === Zone.wal_prepares);
          storage.crash((io) => step.tear && io.zone === Zone.wal_prepares);
          check();
        }
        expect(storage.writesInFlightMax).toBeLessThanOrEqual(config.journalIopsWriteMax);
      }
      storage.run();
      check();
    }), { numRuns: 200 });
  });
});

describe("journal on StorageSim", () => {
  it("recovers every acknowledged prepare after crashes with torn writes", () => {
    for (let seed = 1n; seed <= 10n; seed++) {
      const storage = new StorageSim({
        ...performanceStorageOptions, writeLatencyMinMs: 10, writeLatencyMeanMs: 50, readLatencyMinMs: 0,
        readLatencyMeanMs: 10, crashFaultProbability: percent(90), readFaultProbability: ratioZero,
        config, sizeBytes: config.zones.gridOffset + 16 * config.blockSize, replicaIndex: 0, seed, faultAtlas: null,
      });
      let journal = new Journal({ storage, config, cluster, replicaCount: 3 });
      journal.format(() => {});
      drainSim(storage);
      const acknowledged = new Map<number, Uint8Array>();
      let head = 0;
      for (let round = 0; round < 4; round++) {
        for (let index = 0; index < 6; index++) {
          const op = ++head;
          const message = prepare(op);
          acknowledged.delete(op % slotCount);
          journal.writePrepare(message, (ok) => { if (ok) acknowledged.set(op % slotCount, message); });
        }
        const ticks = Number((seed * 5n + BigInt(round)) % 7n);
        for (let tick = 0; tick < ticks; tick++) {
          while (storage.step()) { /* drain */ }
          storage.tick();
        }
        storage.crash();
        // vopr.md §8 restart rule 1: one crash can tear both header sectors in the simulator.
        storage.unfaultWalHeaders();
        const result = recover(storage, 3, head);
        const state = recovered(result.result);
        journal = result.journal;
        expectNoLoadedFaultySlot(journal);
        for (const message of acknowledged.values()) {
          const header = new PrepareHeader(message, 0);
          expect(journal.hasPrepare(header.op, header.checksum)).toBe(true);
        }
        expect(state.opMax).toBeGreaterThanOrEqual(Math.max(0, ...[...acknowledged.values()].map((m) => new PrepareHeader(m, 0).op)));
      }
    }
  });
});
