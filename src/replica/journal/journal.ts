// The write-ahead log (spec/vsr.md §11): two rings of slot_count slots, slot = op mod slot_count.
//   wal_headers:  slot_count × 256 B redundant headers, written as whole 4 KiB sectors of 16;
//   wal_prepares: slot_count × message_size_max, one prepare per slot, zero padded to a sector.
// In memory: the header per slot, the dirty and faulty bitsets, and the checksum of the prepare
// held in each slot (so get_prepare can be served even when a redundant header is broken).
//
// This is the facade. The pieces live beside it in journal/: slots.ts (state and the sector image),
// writer.ts (§11.2 write order), reader.ts (verified reads), recover.ts (§11.3–§11.5),
// format.ts (§11.1), prepare_headers.ts (root, reserved and slot validity).
import { assert } from "../../core/assert.js";
import { bytesEqual } from "../../core/bytes.js";
import { type Config, headerSize, sectorSize } from "../../core/config.js";
import { FrameField, type PrepareHeader, verifyHeaderChecksum } from "../../core/header.js";
import { Command } from "../../core/command.js";
import type { Storage } from "../../io/storage.js";
import { initializeFormatted, writeFormatted } from "./format.js";
import { isReservedPrepare, opOf } from "./prepare_headers.js";
import { JournalReader } from "./reader.js";
import { type JournalRecoverOptions, type JournalRecovery, JournalRecoverer } from "./recover.js";
import { JournalSlots } from "./slots.js";
import { JournalWriter } from "./writer.js";

export type {
  HeadUncertainReason, JournalRecoverOptions, JournalRecovered, JournalRecovery, JournalRecoveryError,
} from "./recover.js";

export interface JournalOptions {
  readonly storage: Storage;
  readonly config: Config;
  readonly cluster: bigint;
  readonly replicaCount: number;
}

export type JournalStatus = "init" | "formatting" | "recovering" | "ready" | "failed";

export class Journal {
  readonly slotCount: number;
  private statusValue: JournalStatus = "init";
  private readonly storage: Storage;
  private readonly config: Config;
  private readonly replicaCount: number;
  private readonly slots: JournalSlots;
  /** Exposed for the planted bug headerBeforePrepare only (replica/bugs.ts). */
  readonly writer: JournalWriter;
  /** True only for the planted bug truncateAtFaultySlot (replica/bugs.ts). */
  truncateAtFaultySlot = false;
  private readonly reader: JournalReader;
  private readonly readBuffers: readonly Uint8Array[];
  private readonly sectorBuffers: readonly Uint8Array[];
  /** For converting bigint checksums at the API edge without allocating. */
  private readonly checksumScratch = new Uint8Array(16);
  private readonly checksumScratchView = new DataView(this.checksumScratch.buffer);

  constructor(options: JournalOptions) {
    const { storage, config, cluster, replicaCount } = options;
    assert(Number.isInteger(replicaCount) && replicaCount >= 1 && replicaCount <= config.replicasMax);
    assert(config.zones.walHeaders.size === config.journalSlotCount * headerSize);
    assert(config.zones.walPrepares.size === config.journalSlotCount * config.messageSizeMax);
    this.storage = storage;
    this.config = config;
    this.replicaCount = replicaCount;
    this.slots = new JournalSlots(config, cluster);
    this.slotCount = this.slots.slotCount;
    const readBuffers: Uint8Array[] = [];
    for (let index = 0; index < config.journalIopsReadMax; index++) readBuffers.push(new Uint8Array(config.messageSizeMax));
    this.readBuffers = readBuffers;
    // One image buffer per header sector: at most one write of a sector is ever in flight.
    const sectors = new Uint8Array(config.zones.walHeaders.size);
    this.sectorBuffers = Array.from({ length: this.slots.sectorCount },
      (_, sector) => sectors.subarray(sector * sectorSize, (sector + 1) * sectorSize));
    this.writer = new JournalWriter(storage, this.slots, config, this.iopsWriteMax, this.sectorBuffers);
    this.reader = new JournalReader(storage, this.slots, config, readBuffers);
  }

  get status(): JournalStatus {
    return this.statusValue;
  }

  /**
   * Prepare writes in flight at a time. A solo replica writes one at a time: with two in flight a
   * crash could tear a prepare below the head, which no peer could repair (§11.4 needs the torn
   * slot above op_max).
   */
  get iopsWriteMax(): number {
    return this.replicaCount === 1 ? 1 : this.config.journalIopsWriteMax;
  }

  /** Writes an empty WAL (§11.1): reserved headers everywhere, the root prepare in slot 0. */
  format(callback: () => void): void {
    assert(this.statusValue === "init", "journal: format needs a fresh journal");
    this.statusValue = "formatting";
    initializeFormatted(this.slots);
    writeFormatted({
      storage: this.storage, slots: this.slots, messageSizeMax: this.config.messageSizeMax,
      iopsWriteMax: this.iopsWriteMax, sectorBuffers: this.sectorBuffers,
    }, () => {
      this.statusValue = "ready";
      callback();
    });
  }

  /** Reads and decides the whole WAL (§11.3–§11.5); see JournalRecovery. */
  recover(options: JournalRecoverOptions, callback: (result: JournalRecovery) => void): void {
    assert(this.statusValue === "init", "journal: recover needs a fresh journal");
    this.statusValue = "recovering";
    const recoverer = new JournalRecoverer({
      storage: this.storage, slots: this.slots, config: this.config, soloReplica: this.replicaCount === 1,
      iopsWriteMax: this.iopsWriteMax, readBuffers: this.readBuffers, sectorBuffer: this.sectorBuffers[0]!,
      truncateAtFaultySlot: this.truncateAtFaultySlot,
    }, options, (result) => {
      this.statusValue = typeof result === "string" ? "failed" : "ready";
      callback(result);
    });
    recoverer.start();
  }

  // ---- queries ----

  /** Changes whenever any slot's header does (JournalSlots.headersVersion). */
  get headersVersion(): number {
    return this.slots.headersVersion;
  }

  /** The slot's header if it is not reserved and its op is `op`; a read-only view. */
  header(op: number): PrepareHeader | null {
    const slot = this.slots.slotForOp(op);
    return this.slots.opAt(slot) === op ? this.slots.accessor(slot) : null;
  }

  /** The slot's header, reserved or not; a read-only view that changes with the slot. */
  headerForSlot(slot: number): PrepareHeader {
    assert(Number.isInteger(slot) && slot >= 0 && slot < this.slotCount, "journal: bad slot");
    return this.slots.accessor(slot);
  }

  /** The prepare (op, checksum) is durable here: its slot is clean and holds that header. */
  hasPrepare(op: number, checksum: bigint): boolean {
    const slot = this.slots.slotForOp(op);
    return !this.slots.dirty.has(slot) && this.slots.holdsOpChecksum(slot, op, this.checksumBytes(checksum), 0);
  }

  /** readPrepare(op, checksum) would find an intact prepare on disk (e.g. to answer get_prepare). */
  canReadPrepare(op: number, checksum: bigint): boolean {
    return this.slots.prepareMatches(this.slots.slotForOp(op), op, this.checksumBytes(checksum), 0);
  }

  isDirty(op: number): boolean {
    return this.slots.dirty.has(this.slots.slotForOp(op));
  }

  isFaulty(op: number): boolean {
    return this.slots.faulty.has(this.slots.slotForOp(op));
  }

  /** The highest op among the headers held (0 when only the root is). Scans every slot. */
  get opMax(): number {
    return this.slots.opMax();
  }

  get dirtyCount(): number {
    return this.slots.dirty.count;
  }

  get faultyCount(): number {
    return this.slots.faulty.count;
  }

  /** Any prepare write queued or in flight. */
  get writing(): boolean {
    return this.writer.writing;
  }

  /** A write of this exact prepare is queued or in flight (do not write it again). */
  isWriting(op: number, checksum: bigint): boolean {
    return this.writer.isWriting(op, this.checksumBytes(checksum), 0);
  }

  // ---- writes ----

  /**
   * Appends or repairs a prepare (§5 step 2.4, §11.2). The message is a prepare whose checksums
   * the caller verified; it is copied, so the caller may reuse its buffer. The slot's header is
   * installed and marked dirty at once; `callback(true)` runs once both the prepare and its
   * redundant header are durable and the slot still holds this header, `callback(false)` when
   * the slot was replaced or truncated meanwhile. Never called inside this call.
   */
  writePrepare(message: Uint8Array, callback: (written: boolean) => void): void {
    assert(this.statusValue === "ready", "journal: not ready");
    this.writer.write(message, callback);
  }

  /**
   * Whether a read for a peer (get_prepare) can be queued now: reads are bounded, and peers may
   * take only half of the queue, so that our own reads always find room.
   */
  get canQueuePeerRead(): boolean {
    return this.reader.canQueueForPeer;
  }

  /**
   * Reads the prepare (op, checksum) and verifies it; null when it is not on disk or corrupt (a
   * corrupt slot becomes faulty). The message is a fresh copy the caller may keep.
   */
  readPrepare(op: number, checksum: bigint, callback: (message: Uint8Array | null) => void): void {
    assert(this.statusValue === "ready", "journal: not ready");
    this.reader.read(op, this.checksumBytes(checksum), callback);
  }

  /**
   * Installs a header learned from a view change or header repair for a slot whose prepare is
   * missing: the slot becomes dirty until the prepare is written. A faulty slot stays faulty: it
   * may have held this very prepare, so it must still never be nacked (§6.2, §17.7).
   */
  setHeader(header: Uint8Array): void {
    assert(this.statusValue === "ready", "journal: not ready");
    assert(header.length >= headerSize && verifyHeaderChecksum(header, 0), "setHeader: bad checksum");
    assert(header[FrameField.command] === Command.prepare && !isReservedPrepare(header, 0), "setHeader: not a prepare");
    assert(bytesEqual(header, FrameField.cluster, this.slots.context.cluster, 0, 16), "setHeader: wrong cluster");
    const op = opOf(header, 0);
    const slot = this.slots.slotForOp(op);
    if (this.slots.holds(slot, header, 0)) return; // already held (dirty or clean)
    const existing = this.slots.opAt(slot);
    assert(existing === null || existing <= op, "setHeader: slot holds a newer op");
    this.slots.install(slot, header, 0);
    this.slots.assertSlot(slot);
  }

  /**
   * Forgets every header with op > `op` (a view change truncated them): the slot holds a reserved
   * header again, and is dirty until that reserved header reaches the disk with the next write of
   * its sector. A prepare left on disk is harmless: after a crash it is at most an uncommitted op
   * of an older view, which the replica discards against its durable view headers (§11.4 item 6).
   * Faulty slots stay faulty: what they lost may be an op at or below `op`.
   */
  truncateAfter(op: number): void {
    assert(this.statusValue === "ready", "journal: not ready");
    assert(Number.isSafeInteger(op) && op >= 0);
    for (let slot = 0; slot < this.slotCount; slot++) {
      const slotOp = this.slots.opAt(slot);
      if (slotOp !== null && slotOp > op) this.forgetSlot(slot);
    }
  }

  /** Forgets the header of `op` alone, as truncateAfter does (an entry of an aborted view). */
  removeEntry(op: number): void {
    assert(this.statusValue === "ready", "journal: not ready");
    const slot = this.slots.slotForOp(op);
    assert(this.slots.opAt(slot) === op, "removeEntry: the slot holds another op");
    this.forgetSlot(slot);
  }

  private forgetSlot(slot: number): void {
    const slots = this.slots;
    slots.resetToReserved(slot, slots.headers);
    slots.resetToReserved(slot, slots.redundant);
    slots.dirty.set(slot);
    slots.landed.clear(slot);
    slots.assertSlot(slot);
  }

  private checksumBytes(checksum: bigint): Uint8Array {
    assert(checksum >= 0n && checksum < 1n << 128n, "journal: checksum out of range");
    this.checksumScratchView.setBigUint64(0, checksum & 0xffff_ffff_ffff_ffffn, true);
    this.checksumScratchView.setBigUint64(8, checksum >> 64n, true);
    return this.checksumScratch;
  }
}
