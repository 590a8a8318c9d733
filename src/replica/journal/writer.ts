// The WAL write path (spec/vsr.md §11.2): write the prepare to its slot, THEN rewrite the whole
// redundant-header sector holding the slot (copy-on-write from memory), THEN clear dirty and
// faulty, but only if the slot still holds the same header. A crash between the two writes leaves
// a state the recovery table (§11.3) resolves; the reverse order would leak a redundant header
// whose prepare was never written.
//
// Limits: at most `iopsMax` writes in flight (each holds one IOP from its prepare write until its
// header write lands); beyond that writes queue, at most one per slot (a newer write for the slot
// replaces a queued one), so the queue is bounded by slot_count. One prepare write per slot and one
// write per header sector are in flight at a time, so writes to one place never race.
import { assert } from "../../core/assert.js";
import { bytesEqual } from "../../core/bytes.js";
import { Command } from "../../core/command.js";
import { type Config, headerSize, sectorSize } from "../../core/config.js";
import { FrameField, verifyHeaderChecksum } from "../../core/header.js";
import { type Storage, Zone } from "../../io/storage.js";
import {
  checksumsEqual, isReservedPrepare, opOf, sizeOf,
} from "./prepare_headers.js";
import { type JournalSlots, headersPerSector } from "./slots.js";

type WriteStage = "free" | "queued" | "prepare" | "sector" | "cancelled";

interface Write {
  /** A private copy of the prepare, zero padded to a sector: the caller may reuse its buffer. */
  readonly buffer: Uint8Array;
  size: number;
  op: number;
  slot: number;
  stage: WriteStage;
  /** Set when its header sector lands: the sector image held this prepare's header. */
  written: boolean;
  callback: ((written: boolean) => void) | null;
  readonly onPrepareWritten: () => void;
  readonly onCancelled: () => void;
}

export function sectorCeil(size: number): number {
  return Math.ceil(size / sectorSize) * sectorSize;
}

export class JournalWriter {
  /** True only for the planted bug headerBeforePrepare (replica/bugs.ts). */
  headerBeforePrepare = false;
  readonly iopsMax: number;
  private readonly storage: Storage;
  private readonly slots: JournalSlots;
  private readonly messageSizeMax: number;
  private readonly writesMax: number;
  private readonly all: Write[] = [];
  private readonly free: Write[] = [];
  /** FIFO ring of queued writes; one per slot at most. */
  private readonly queue: (Write | null)[];
  private queueHead = 0;
  private queueLength = 0;
  private readonly queuedForSlot: (Write | null)[];
  /** The write whose prepare write is in flight, per slot. */
  private readonly prepareWriting: (Write | null)[];
  private active = 0;
  private readonly sectorBuffers: readonly Uint8Array[];
  private readonly sectorBusy: boolean[];
  /** Per sector: writes whose prepare landed, waiting for the next sector write. */
  private readonly sectorWaiting: Write[][];
  /** Per sector: writes whose header is in the sector write in flight. */
  private readonly sectorWriting: Write[][];
  /** Per sector: a spare list, so that finishing writes never allocates. */
  private readonly sectorSpare: Write[][];
  private readonly sectorDone: (() => void)[];

  constructor(storage: Storage, slots: JournalSlots, config: Config, iopsMax: number, sectorBuffers: readonly Uint8Array[]) {
    assert(iopsMax >= 1 && sectorBuffers.length === slots.sectorCount);
    this.storage = storage;
    this.slots = slots;
    this.iopsMax = iopsMax;
    this.messageSizeMax = config.messageSizeMax;
    // Active writes, one queued write per slot, and cancelled writes whose callback is pending.
    this.writesMax = iopsMax + 2 * slots.slotCount;
    this.queue = new Array<Write | null>(slots.slotCount).fill(null);
    this.queuedForSlot = new Array<Write | null>(slots.slotCount).fill(null);
    this.prepareWriting = new Array<Write | null>(slots.slotCount).fill(null);
    this.sectorBuffers = sectorBuffers;
    this.sectorBusy = new Array<boolean>(slots.sectorCount).fill(false);
    this.sectorWaiting = [];
    this.sectorWriting = [];
    this.sectorSpare = [];
    this.sectorDone = [];
    for (let sector = 0; sector < slots.sectorCount; sector++) {
      this.sectorWaiting.push([]);
      this.sectorWriting.push([]);
      this.sectorSpare.push([]);
      this.sectorDone.push(() => this.onSectorWritten(sector));
    }
    for (let index = 0; index < iopsMax; index++) this.free.push(this.newWrite());
  }

  /** Any write queued or in flight. */
  get writing(): boolean {
    return this.all.length !== this.free.length;
  }

  /** Storage writes in flight on behalf of prepares (for tests and assertions). */
  get activeCount(): number {
    return this.active;
  }

  /** A write of this exact prepare is queued or in flight, and the slot still holds its header. */
  isWriting(op: number, checksum: Uint8Array, at: number): boolean {
    const slot = this.slots.slotForOp(op);
    if (!this.slots.holdsOpChecksum(slot, op, checksum, at)) return false;
    for (const write of this.all) {
      if (write.stage === "free" || write.stage === "cancelled") continue;
      if (write.op === op && bytesEqual(write.buffer, FrameField.checksum, checksum, at, 16)) return true;
    }
    return false;
  }

  /** See Journal.writePrepare. `message` is a prepare whose header checksum was verified. */
  write(message: Uint8Array, callback: (written: boolean) => void): void {
    const size = sizeOf(message, 0);
    assert(size >= headerSize && size <= this.messageSizeMax && size <= message.length, "writePrepare: bad size");
    assert(verifyHeaderChecksum(message, 0) && message[FrameField.command] === Command.prepare, "writePrepare: not a prepare");
    assert(bytesEqual(message, FrameField.cluster, this.slots.context.cluster, 0, 16), "writePrepare: wrong cluster");
    assert(!isReservedPrepare(message, 0), "writePrepare: a reserved header is not a prepare");
    const op = opOf(message, 0);
    const slot = this.slots.slotForOp(op);
    const existing = this.slots.opAt(slot);
    // Replacing a newer op by an older one would uncommit it.
    assert(existing === null || existing <= op, "writePrepare: slot holds a newer op");
    if (!this.slots.dirty.has(slot) && this.slots.holds(slot, message, 0)) {
      this.storage.nextTick(() => callback(true)); // already durable
      return;
    }
    assert(!this.isWriting(op, message, 0), "writePrepare: this prepare is already being written");
    this.slots.install(slot, message, 0);

    let write = this.queuedForSlot[slot];
    if (write !== null) {
      // Superseded before it started: the newer prepare takes its place in the queue.
      const superseded = write.callback!;
      this.storage.nextTick(() => superseded(false));
    } else {
      write = this.acquire();
      this.enqueue(write);
      this.queuedForSlot[slot] = write;
    }
    write.buffer.set(message.subarray(0, size), 0);
    write.buffer.fill(0, size, sectorCeil(size));
    write.size = size;
    write.op = op;
    write.slot = slot;
    write.callback = callback;
    this.slots.assertSlot(slot);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.active < this.iopsMax && this.queueLength > 0) {
      const write = this.queue[this.queueHead]!;
      if (!this.slots.holds(write.slot, write.buffer, 0)) {
        // Truncated or replaced while queued: never write a prepare the replica no longer wants.
        this.dequeue();
        write.stage = "cancelled";
        this.storage.nextTick(write.onCancelled);
        continue;
      }
      // Head-of-line: a second prepare for a slot waits until the first one has landed.
      if (this.prepareWriting[write.slot] !== null) break;
      this.dequeue();
      if (this.slots.landed.has(write.slot)) {
        // An earlier write of this very prepare landed meanwhile (it was superseded, then the
        // same header reinstalled and written again): only the header sector is left to write.
        this.startSectorOnly(write);
        continue;
      }
      this.startPrepare(write);
    }
  }

  private startSectorOnly(write: Write): void {
    this.active += 1;
    assert(this.active <= this.iopsMax);
    write.stage = "sector";
    const sector = Math.floor(write.slot / headersPerSector);
    this.sectorWaiting[sector]!.push(write);
    if (!this.sectorBusy[sector]) this.startSector(sector);
  }

  private startPrepare(write: Write): void {
    const slot = write.slot;
    this.active += 1;
    assert(this.active <= this.iopsMax);
    write.stage = "prepare";
    this.prepareWriting[slot] = write;
    // The slot's prepare is in flux until this write lands.
    this.slots.forgetPrepare(slot);
    this.slots.assertSlot(slot);
    this.storage.write(Zone.wal_prepares, slot * this.messageSizeMax,
      write.buffer.subarray(0, sectorCeil(write.size)), write.onPrepareWritten);
    if (this.headerBeforePrepare) {
      // The planted bug: the redundant header may reach the disk before its prepare.
      this.slots.redundant.set(write.buffer.subarray(0, headerSize), slot * headerSize);
      const sector = Math.floor(slot / headersPerSector);
      if (!this.sectorBusy[sector]) this.startSector(sector);
    }
  }

  private onPrepareWritten(write: Write): void {
    const slot = write.slot;
    assert(write.stage === "prepare" && this.prepareWriting[slot] === write);
    this.prepareWriting[slot] = null;
    this.slots.recordPrepare(slot, write.buffer, 0);
    if (!this.slots.holds(slot, write.buffer, 0)) {
      this.finish(write, false); // replaced or truncated while the prepare was being written
      return;
    }
    // Only now may the redundant header reach the disk.
    this.slots.redundant.set(write.buffer.subarray(0, headerSize), slot * headerSize);
    this.slots.landed.set(slot);
    this.slots.assertSlot(slot);
    write.stage = "sector";
    const sector = Math.floor(slot / headersPerSector);
    this.sectorWaiting[sector]!.push(write);
    if (!this.sectorBusy[sector]) this.startSector(sector);
    this.dispatch();
  }

  private startSector(sector: number): void {
    assert(!this.sectorBusy[sector] && this.sectorWriting[sector]!.length === 0);
    this.sectorBusy[sector] = true;
    const waiting = this.sectorWaiting[sector]!;
    this.sectorWaiting[sector] = this.sectorWriting[sector]!;
    this.sectorWriting[sector] = waiting;
    // One image serves every write waiting for this sector: each header landed before the copy.
    this.slots.snapshotSector(sector, this.sectorBuffers[sector]!);
    this.storage.write(Zone.wal_headers, sector * sectorSize, this.sectorBuffers[sector]!, this.sectorDone[sector]!);
  }

  private onSectorWritten(sector: number): void {
    assert(this.sectorBusy[sector]!);
    this.sectorBusy[sector] = false;
    const image = this.sectorBuffers[sector]!;
    const writers = this.sectorWriting[sector]!;
    for (const write of writers) write.written = this.markClean(write, image);
    this.cleanReservedSlots(sector, image);
    // Swap before starting the next sector write, which reuses the image buffer and the list.
    this.sectorWriting[sector] = this.sectorSpare[sector]!;
    this.sectorSpare[sector] = writers;
    if (this.sectorWaiting[sector]!.length > 0) this.startSector(sector);
    for (let index = 0; index < writers.length; index++) this.finish(writers[index]!, writers[index]!.written);
    writers.length = 0;
  }

  /** Both writes landed: clean, if the slot still holds this header and the image carried it. */
  private markClean(write: Write, image: Uint8Array): boolean {
    const slot = write.slot;
    const index = slot % headersPerSector;
    const durable = this.slots.holds(slot, write.buffer, 0) &&
      this.slots.prepareMatches(slot, write.op, write.buffer, 0) &&
      checksumsEqual(image, index * headerSize, write.buffer, 0);
    if (!durable) return false;
    // The disk now holds this header and prepare, even if the slot was truncated and the same
    // header reinstalled while the sector was in flight: make memory say so again.
    this.slots.redundant.set(write.buffer.subarray(0, headerSize), slot * headerSize);
    this.slots.landed.set(slot);
    this.slots.dirty.clear(slot);
    this.slots.faulty.clear(slot);
    this.slots.assertSlot(slot);
    return true;
  }

  /** Truncated (reserved) slots are clean once their reserved header is on disk. */
  private cleanReservedSlots(sector: number, image: Uint8Array): void {
    const slots = this.slots;
    for (let index = 0; index < headersPerSector; index++) {
      const slot = sector * headersPerSector + index;
      if (!slots.dirty.has(slot) || slots.faulty.has(slot) || !slots.isReserved(slot)) continue;
      if (bytesEqual(image, index * headerSize, slots.headers, slot * headerSize, headerSize)) slots.dirty.clear(slot);
    }
  }

  private finish(write: Write, written: boolean): void {
    if (write.stage === "prepare" || write.stage === "sector") this.active -= 1;
    assert(this.active >= 0);
    const callback = write.callback!;
    write.callback = null;
    write.stage = "free";
    write.written = false;
    this.free.push(write);
    callback(written);
    this.dispatch();
  }

  private acquire(): Write {
    const write = this.free.pop() ?? this.newWrite();
    assert(write.stage === "free");
    return write;
  }

  private newWrite(): Write {
    assert(this.all.length < this.writesMax, "journal: too many writes");
    const write: Write = {
      buffer: new Uint8Array(this.messageSizeMax), size: 0, op: 0, slot: 0, stage: "free", written: false,
      callback: null,
      onPrepareWritten: () => this.onPrepareWritten(write),
      onCancelled: () => this.finish(write, false),
    };
    this.all.push(write);
    return write;
  }

  private enqueue(write: Write): void {
    assert(this.queueLength < this.queue.length, "journal: write queue full");
    write.stage = "queued";
    this.queue[(this.queueHead + this.queueLength) % this.queue.length] = write;
    this.queueLength += 1;
  }

  private dequeue(): void {
    const write = this.queue[this.queueHead]!;
    this.queue[this.queueHead] = null;
    this.queueHead = (this.queueHead + 1) % this.queue.length;
    this.queueLength -= 1;
    this.queuedForSlot[write.slot] = null;
  }
}
