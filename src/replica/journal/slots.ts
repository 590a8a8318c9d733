// The journal's in-memory state, one entry per WAL slot (spec/vsr.md §11.1): the header the
// replica believes in, the redundant header that header-sector writes put on disk, the dirty and
// faulty bitsets, and what is known to sit in the prepare ring. Shared by the write, read and
// recovery paths, which live in their own modules.
import { assert } from "../../core/assert.js";
import { bytesEqual } from "../../core/bytes.js";
import { type Config, headerSize, sectorSize } from "../../core/config.js";
import { PrepareHeader } from "../../core/header.js";
import { BitSet } from "./bitset.js";
import {
  type SlotHeaderContext, checksumsEqual, clusterBytes, isReservedPrepare, opOf, reservedPrepareInto,
} from "./prepare_headers.js";

export const headersPerSector = sectorSize / headerSize;

export class JournalSlots {
  readonly slotCount: number;
  readonly sectorCount: number;
  readonly cluster: bigint;
  readonly context: SlotHeaderContext;
  /** The header per slot as the replica sees it; reserved when the slot is empty. */
  readonly headers: Uint8Array;
  /**
   * The redundant header per slot, as the next header-sector write will put it on disk. It changes
   * only once the slot's prepare has landed (or by recovery and truncation), so a redundant header
   * is never written before its prepare (§11.2).
   */
  readonly redundant: Uint8Array;
  /** The reserved header of every slot, precomputed so that resetting a slot costs a copy. */
  readonly reserved: Uint8Array;
  /** Must be written or repaired (§11.1). Always a superset of `faulty`. */
  readonly dirty: BitSet;
  /** Written once, then lost or corrupt (§11.1). Never nacked; kept until the slot is rewritten. */
  readonly faulty: BitSet;
  /** The prepare ring holds an intact, non-reserved prepare with this checksum and op (§11.1). */
  readonly prepareInhabited: BitSet;
  readonly prepareChecksums: Uint8Array;
  readonly prepareOps: Float64Array;
  /** The current header's prepare has landed and `redundant` holds that header. */
  readonly landed: BitSet;
  /**
   * Bumped by every change to `headers` (install, reset, format, recovery): what is computed from
   * the headers alone (Replica.canonicalFrom) is reused while it stands still.
   */
  headersVersion = 0;
  /** Read-only accessors over `headers`, one per slot, so queries do not allocate. */
  private readonly accessors: PrepareHeader[] = [];

  constructor(config: Config, cluster: bigint) {
    const slotCount = config.journalSlotCount;
    assert(slotCount > 0 && slotCount % headersPerSector === 0, "journal: slots must fill whole sectors");
    this.slotCount = slotCount;
    this.sectorCount = slotCount / headersPerSector;
    this.cluster = cluster;
    this.context = { cluster: clusterBytes(cluster), slotCount, messageSizeMax: config.messageSizeMax };
    this.headers = new Uint8Array(slotCount * headerSize);
    this.redundant = new Uint8Array(slotCount * headerSize);
    this.reserved = new Uint8Array(slotCount * headerSize);
    for (let slot = 0; slot < slotCount; slot++) reservedPrepareInto(this.reserved, slot * headerSize, cluster, slot);
    this.dirty = new BitSet(slotCount);
    this.faulty = new BitSet(slotCount);
    this.prepareInhabited = new BitSet(slotCount);
    this.prepareChecksums = new Uint8Array(slotCount * 16);
    this.prepareOps = new Float64Array(slotCount);
    this.landed = new BitSet(slotCount);
    for (let slot = 0; slot < slotCount; slot++) this.accessors.push(new PrepareHeader(this.headers, slot * headerSize));
  }

  slotForOp(op: number): number {
    assert(Number.isSafeInteger(op) && op >= 0, "journal: bad op");
    return op % this.slotCount;
  }

  /** The accessor over a slot's in-memory header (read-only for callers). */
  accessor(slot: number): PrepareHeader {
    return this.accessors[slot]!;
  }

  isReserved(slot: number): boolean {
    return isReservedPrepare(this.headers, slot * headerSize);
  }

  /** The op of the slot's in-memory header, or null when the slot is reserved. */
  opAt(slot: number): number | null {
    return this.isReserved(slot) ? null : opOf(this.headers, slot * headerSize);
  }

  /** The slot holds (in memory) the header with the checksum at buffer[offset..]. */
  holds(slot: number, buffer: Uint8Array, offset: number): boolean {
    return !this.isReserved(slot) && checksumsEqual(this.headers, slot * headerSize, buffer, offset);
  }

  /** The slot holds a non-reserved header with this op and checksum (16 bytes at checksum[at..]). */
  holdsOpChecksum(slot: number, op: number, checksum: Uint8Array, at: number): boolean {
    return this.opAt(slot) === op && bytesEqual(this.headers, slot * headerSize, checksum, at, 16);
  }

  /** Installs a header in memory; the disk no longer matches, so the slot is dirty. */
  install(slot: number, source: Uint8Array, offset: number): void {
    this.headers.set(source.subarray(offset, offset + headerSize), slot * headerSize);
    this.headersVersion += 1;
    this.dirty.set(slot);
    this.landed.clear(slot);
  }

  resetToReserved(slot: number, target: Uint8Array): void {
    target.set(this.reserved.subarray(slot * headerSize, (slot + 1) * headerSize), slot * headerSize);
    if (target === this.headers) this.headersVersion += 1;
  }

  /** The prepare ring now holds this (intact) prepare. */
  recordPrepare(slot: number, header: Uint8Array, offset: number): void {
    assert(!isReservedPrepare(header, offset));
    this.prepareInhabited.set(slot);
    this.prepareChecksums.set(header.subarray(offset, offset + 16), slot * 16);
    this.prepareOps[slot] = opOf(header, offset);
  }

  forgetPrepare(slot: number): void {
    this.prepareInhabited.clear(slot);
    this.prepareChecksums.fill(0, slot * 16, slot * 16 + 16);
    this.prepareOps[slot] = 0;
  }

  /** The prepare ring holds an intact prepare with this op and checksum. */
  prepareMatches(slot: number, op: number, checksum: Uint8Array, at: number): boolean {
    return this.prepareInhabited.has(slot) && this.prepareOps[slot] === op &&
      bytesEqual(this.prepareChecksums, slot * 16, checksum, at, 16);
  }

  /** A prepare of this slot was found lost or corrupt: it must be repaired from peers. */
  markFaulty(slot: number): void {
    this.dirty.set(slot);
    this.faulty.set(slot);
    this.landed.clear(slot);
  }

  /**
   * Copy-on-write image of one redundant-header sector (§11.2). A faulty slot gets a zeroed,
   * invalid header, so that it stays faulty after a crash (a reserved or stale header could
   * otherwise turn it into an empty or intact slot); the exception is a faulty slot whose
   * rewritten prepare has just landed, which is exactly what this write is for.
   */
  snapshotSector(sector: number, target: Uint8Array): void {
    assert(sector >= 0 && sector < this.sectorCount && target.length === sectorSize);
    const first = sector * headersPerSector;
    for (let index = 0; index < headersPerSector; index++) {
      const slot = first + index;
      if (this.faulty.has(slot) && !this.landed.has(slot)) {
        target.fill(0, index * headerSize, (index + 1) * headerSize);
      } else {
        target.set(this.redundant.subarray(slot * headerSize, (slot + 1) * headerSize), index * headerSize);
      }
    }
  }

  /** The highest op among the headers held in memory (0 when only the root or nothing). */
  opMax(): number {
    let max = 0;
    for (let slot = 0; slot < this.slotCount; slot++) {
      const op = this.opAt(slot);
      if (op !== null && op > max) max = op;
    }
    return max;
  }

  /** Cheap consistency checks of one slot; called after every state change of that slot. */
  assertSlot(slot: number): void {
    const offset = slot * headerSize;
    if (this.faulty.has(slot)) assert(this.dirty.has(slot), "journal: faulty implies dirty");
    if (this.landed.has(slot)) {
      assert(!this.isReserved(slot) && checksumsEqual(this.redundant, offset, this.headers, offset));
      assert(this.prepareMatches(slot, opOf(this.headers, offset), this.headers, offset));
    }
    if (!this.dirty.has(slot) && !this.isReserved(slot)) {
      assert(this.prepareMatches(slot, opOf(this.headers, offset), this.headers, offset),
        "journal: a clean slot holds its prepare");
    }
  }

  assertAll(): void {
    for (let slot = 0; slot < this.slotCount; slot++) this.assertSlot(slot);
  }
}
