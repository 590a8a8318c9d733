// The WAL read path: read one prepare by (op, checksum) and trust nothing without its checksums
// (DESIGN.md "Checksums"). A prepare that fails verification while the journal still expects it
// marks the slot faulty (spec/vsr.md §11.1), so that it is repaired and never nacked (§6.2).
// At most `journal_iops_read_max` reads are in flight; the rest queue (bounded by slot_count).
import { assert } from "../../core/assert.js";
import { bytesEqual } from "../../core/bytes.js";
import { type Config, headerSize } from "../../core/config.js";
import { verifyBodyChecksum } from "../../core/header.js";
import { type Storage, Zone } from "../../io/storage.js";
import { opOf, sizeOf, slotHeaderValid } from "./prepare_headers.js";
import type { JournalSlots } from "./slots.js";
import { sectorCeil } from "./writer.js";

interface ReadRequest {
  op: number;
  slot: number;
  readonly checksum: Uint8Array;
  callback: ((message: Uint8Array | null) => void) | null;
}

interface ReadIop {
  readonly buffer: Uint8Array;
  request: ReadRequest | null;
  length: number;
  readonly onRead: () => void;
}

export class JournalReader {
  private readonly storage: Storage;
  private readonly slots: JournalSlots;
  private readonly messageSizeMax: number;
  private readonly iops: ReadIop[] = [];
  private readonly idle: ReadIop[] = [];
  private readonly requestsFree: ReadRequest[] = [];
  private readonly queue: (ReadRequest | null)[];
  private queueHead = 0;
  private queueLength = 0;

  constructor(storage: Storage, slots: JournalSlots, config: Config, buffers: readonly Uint8Array[]) {
    assert(buffers.length === config.journalIopsReadMax && buffers.length > 0);
    this.storage = storage;
    this.slots = slots;
    this.messageSizeMax = config.messageSizeMax;
    for (const buffer of buffers) {
      assert(buffer.length === config.messageSizeMax);
      const iop: ReadIop = { buffer, request: null, length: 0, onRead: () => this.onRead(iop) };
      this.iops.push(iop);
      this.idle.push(iop);
    }
    this.queue = new Array<ReadRequest | null>(slots.slotCount).fill(null);
    for (let index = 0; index < slots.slotCount + buffers.length; index++) {
      this.requestsFree.push({ op: 0, slot: 0, checksum: new Uint8Array(16), callback: null });
    }
  }

  /**
   * Whether a peer's read may be queued: peers' reads (get_prepare) fill at most half of the
   * bounded queue, so the replica's own reads (commits, the pipeline after a view change), which
   * may not be dropped, always find room. Peers ask again on their repair timeout.
   */
  get canQueueForPeer(): boolean {
    const reserved = Math.floor(this.queue.length / 2);
    return this.requestsFree.length > reserved && this.queueLength < this.queue.length - reserved;
  }

  get reading(): boolean {
    return this.idle.length !== this.iops.length || this.queueLength > 0;
  }

  /**
   * Reads the prepare (op, checksum) into an IOP buffer and hands the caller a copy of exactly the
   * message (callers keep prepares in the pipeline and the prepare cache).
   */
  read(op: number, checksum: Uint8Array, callback: (message: Uint8Array | null) => void): void {
    const slot = this.slots.slotForOp(op);
    if (!this.slots.prepareMatches(slot, op, checksum, 0)) {
      // Not on disk (never written, being written, or known corrupt): nothing to read.
      this.storage.nextTick(() => callback(null));
      return;
    }
    const request = this.requestsFree.pop();
    assert(request !== undefined && this.queueLength < this.queue.length, "readPrepare: read queue full");
    request.op = op;
    request.slot = slot;
    request.checksum.set(checksum.subarray(0, 16));
    request.callback = callback;
    this.queue[(this.queueHead + this.queueLength) % this.queue.length] = request;
    this.queueLength += 1;
    this.pump();
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queueLength > 0) {
      const request = this.queue[this.queueHead]!;
      this.queue[this.queueHead] = null;
      this.queueHead = (this.queueHead + 1) % this.queue.length;
      this.queueLength -= 1;
      const iop = this.idle.pop()!;
      iop.request = request;
      // The exact size is known when the in-memory header is this prepare's; else read it all.
      const slot = request.slot;
      iop.length = this.slots.holdsOpChecksum(slot, request.op, request.checksum, 0)
        ? sectorCeil(sizeOf(this.slots.headers, slot * headerSize)) : this.messageSizeMax;
      this.storage.read(Zone.wal_prepares, slot * this.messageSizeMax, iop.buffer.subarray(0, iop.length), iop.onRead);
    }
  }

  private onRead(iop: ReadIop): void {
    const request = iop.request!;
    const { op, slot, checksum } = request;
    let message: Uint8Array | null = null;
    if (this.slots.prepareMatches(slot, op, checksum, 0)) {
      if (this.verify(iop, request)) {
        message = iop.buffer.slice(0, sizeOf(iop.buffer, 0));
      } else {
        // The disk copy is bad: stop offering it, and repair the slot if it is still wanted.
        this.slots.forgetPrepare(slot);
        if (this.slots.holdsOpChecksum(slot, op, checksum, 0)) this.slots.markFaulty(slot);
        this.slots.assertSlot(slot);
      }
    } // else the prepare was overwritten while being read: not a fault.
    const callback = request.callback!;
    request.callback = null;
    this.requestsFree.push(request);
    iop.request = null;
    this.idle.push(iop);
    callback(message);
    this.pump();
  }

  private verify(iop: ReadIop, request: ReadRequest): boolean {
    const buffer = iop.buffer;
    // Header checksum, cluster, command and slot first; only then are other fields trusted.
    if (!slotHeaderValid(buffer, 0, request.slot, this.slots.context)) return false;
    if (!bytesEqual(buffer, 0, request.checksum, 0, 16)) return false; // misdirected or stale
    if (opOf(buffer, 0) !== request.op) return false;
    const size = sizeOf(buffer, 0);
    if (size > iop.length) return false;
    return verifyBodyChecksum(buffer, 0);
  }
}
