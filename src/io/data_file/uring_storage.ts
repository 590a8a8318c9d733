// The production Storage backend: the data file opened with O_DIRECT (no page cache: the replica
// has its own block cache, and a write that completes is on the device, not in memory), read and
// written through an io_uring ring (uring_ring.ts, native/io_uring.c) whose completions reach JS
// through Node's event loop, so the replica's sockets on node:net keep working beside it.
//
// Same contract as FileStorage: a write's callback runs once it is durable. Grid writes are made
// durable by one fdatasync for every grid write landed so far (group sync, through the ring);
// writes to the zones before the grid go through a second descriptor opened O_DSYNC;
// a read past the end of the file reads zeros; a read that fails with EIO is narrowed to the
// sectors that fail alone, which read as zeros (disk.ts); a full disk is a one-line FatalError;
// close() refuses new IO, lets what is in flight land, then closes. At most two grid writes are in
// the ring at once, the rest wait here in order, so a WAL write never queues behind a bar's flush.
//
// Why both (measured here, a virtio disk with a write-back cache and no FUA; median of 5
// interleaved rounds): O_DSYNC makes every write flush the device cache and, past the end of the
// file, commit the journal on its own. Growing the file with 16 concurrent 4 KiB writes, O_DSYNC
// gave 22 MB/s against 54 for one fdatasync per group: the grid grows, so it keeps the group.
// Over written blocks O_DSYNC was 10-20% ahead, and the zones before the grid are only
// overwritten (the file is created that large). A prepare's WAL write is on every request's
// critical path, and O_DSYNC makes it durable in the kernel as it completes, instead of after a
// round trip through this thread for the fdatasync: scarab benchmark, 1 replica, 3M transfers,
// interleaved before/after, 444k/459k, 433k/489k, 397k/455k tx/s (p99 40-47 ms / 37-40 ms).
// `durability: "dsync"` (every write O_DSYNC) stays for scripts/bench-storage.mjs.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, type PathLike } from "node:fs";
import { assert } from "../../core/assert.js";
import { sectorSize, type Config } from "../../core/config.js";
import { nativeIoUringOff, type NativeAddon } from "../../core/native_addon.js";
import { isSectorAligned, Zone, type Storage } from "../storage.js";
import { createDataFile, errnoError, GroupSync, narrowReadError, resultEio, writeError } from "./disk.js";
import { uringAddon, UringRing } from "./uring_ring.js";

/** io_uring or O_DIRECT cannot be used for this file: the reason says which and why. */
export class UringUnavailable extends Error {}

export interface UringStorageOptions {
  /** Create the file (never over an existing one) with this size. */
  readonly create?: boolean;
  readonly sizeBytes?: number;
  /** Told of sectors that failed with EIO even when read alone (absolute file offset, sector count). */
  readonly onUnreadable?: (offset: number, sectors: number) => void;
  /** "fdatasync" (grouped, the default) or "dsync" (O_DSYNC: every write durable alone). */
  readonly durability?: "fdatasync" | "dsync";
  /** The file grows in steps of this many bytes, one fallocate each, ahead of the grid's writes (0: as written). */
  readonly growStepBytes?: number;
  /**
   * Where a failed IO (a full disk, an IO error) is reported instead of thrown from the completion
   * handler. That IO's callback never runs; close() still drains and closes. For a host that must
   * survive it (the embedded ledger); a server lets the error end the process.
   */
  readonly onError?: (error: Error) => void;
  /** Tests only: replaces an IO's result (bytes or -errno), e.g. -EIO for a read over a bad sector. */
  readonly injectResult?: (kind: "read" | "write", position: number, length: number, result: number) => number;
  /** Grid writes in the ring at once; more wait in this storage's queue (see gridWritesInFlightDefault). */
  readonly gridWritesInFlightMax?: number;
  /** Tests only: the ring waits with IORING_OP_TIMEOUT (the pre-5.11 kernel path). */
  readonly timeoutOp?: boolean;
}

const enum Purpose { read = 1, write = 2, sync = 3, sectorRead = 4, probe = 5, writeDsync = 6 }
const growStepDefault = 16 * 1024 * 1024;
/**
 * A bar's end hands the grid about 40 blocks (20 MiB) at once on every replica. All in the ring,
 * they fill the device's queue, and the next prepare's WAL write, on every request's critical
 * path, waits behind them: 3 replicas on loopback, 250k transfers/s, the WAL writes of the two ops
 * after a bar's end took 12-20 ms on average (max 70 ms) against 4-7 ms for the others. Measured
 * on this VM's disk, a 1 MiB O_DSYNC write behind 60 MiB of 512 KiB direct writes at 4 or 16 in
 * flight took 19-27 ms, behind one at a time 1.0-1.7 ms, and the 60 MiB took about as long either way.
 */
const gridWritesInFlightDefault = 2;
const probeTimeoutNs = 5e9;

export class UringStorage implements Storage {
  /** Sectors that failed with EIO when read alone, since open (each read back as zeros). */
  sectorsUnreadable = 0;
  private readonly ring: UringRing;
  private readonly fd: number;
  /**
   * The same file opened O_DSYNC as well: writes to the zones before the grid (superblock, WAL,
   * client replies) overwrite space the file already has, so O_DSYNC makes each durable in the
   * kernel as it completes, without waiting for this thread to issue the group's fdatasync (a
   * prepare's WAL write is on every request's critical path). The grid grows the file: its
   * writes keep the group fdatasync (see the header).
   */
  private readonly fdDsync: number;
  private readonly zoneOffsets: readonly number[];
  private readonly dsync: boolean;
  private readonly fallocate: NativeAddon["fallocateFile"];
  private growStepBytes: number;
  /** The file's size: a write beyond it grows the file first. */
  private allocatedEnd: number;
  /** Where the last byte written ends (or the size at open): close trims the file back to it. */
  private writtenEnd: number;
  /** Reads and writes submitted and not completed (a write completes once durable). */
  private pending = 0;
  private closing = false;
  private closed = false;
  private onDrained: (() => void) | null = null;
  /** Grid writes landed, waiting for the next fdatasync (the O_DSYNC ones never wait). */
  private readonly group = new GroupSync(() => this.ring.fsync(this.fd, Purpose.sync, null));
  private readonly gridWritesInFlightMax: number;
  /** Grid writes in the ring, not yet landed. */
  private gridWritesInFlight = 0;
  /** Grid writes waiting for a place in the ring, in the order they came. */
  private readonly gridWritesQueued: { buffer: Uint8Array; position: number; callback: () => void }[] = [];

  /** Opens (or creates) the data file with O_DIRECT on a new ring. Throws UringUnavailable if either fails. */
  constructor(path: PathLike, private readonly config: Config, addon: NativeAddon | null,
    private readonly options: UringStorageOptions = {}) {
    const functions = uringAddon(addon);
    if (functions === null) throw new UringUnavailable(nativeIoUringOff ?? "the native addon has no io_uring support (an older build)");
    this.ring = openRing(functions, (purpose, result, buffer, position, context) =>
      this.onCompletion(purpose, result, buffer!, position, context));
    this.dsync = options.durability === "dsync";
    try {
      if (options.create) createDataFile(path, options.sizeBytes!);
      this.fd = openDirect(path, this.dsync);
    } catch (error) {
      this.ring.close();
      throw error;
    }
    try {
      this.fdDsync = this.dsync ? this.fd : openDirect(path, true);
    } catch (error) {
      this.ring.close();
      closeSync(this.fd);
      throw error;
    }
    this.fallocate = addon!.fallocateFile;
    this.growStepBytes = options.growStepBytes ?? growStepDefault;
    this.gridWritesInFlightMax = options.gridWritesInFlightMax ?? gridWritesInFlightDefault;
    assert(this.gridWritesInFlightMax >= 1, "at least one grid write in flight");
    this.allocatedEnd = fstatSync(this.fd).size;
    this.writtenEnd = this.allocatedEnd;
    const zones = config.zones;
    this.zoneOffsets = [zones.superblock.offset, zones.walHeaders.offset, zones.walPrepares.offset,
      zones.clientReplies.offset, zones.gridOffset];
    this.probe();
  }

  /** One direct read through the ring before anything depends on it: some filesystems accept
   * O_DIRECT at open and refuse it at the first read. */
  private probe(): void {
    const buffer = new Uint8Array(sectorSize);
    let result: number | null = null;
    this.ring.read(this.fd, buffer, 0, Purpose.probe, (bytesRead: number) => { result = bytesRead; });
    this.ring.wait(probeTimeoutNs);
    if (result !== null && result >= 0) return;
    const reason = result === null ? "no completion within 5 s" : errnoError(result, "read").code;
    if (result !== null) this.ring.close();
    closeSync(this.fd);
    if (this.fdDsync !== this.fd) closeSync(this.fdDsync);
    throw new UringUnavailable(`an O_DIRECT read through io_uring failed: ${reason}`);
  }

  read(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    assert(isSectorAligned(offset) && buffer.length % sectorSize === 0, "unaligned read");
    if (this.closing) return; // shutting down: like a crash, the IO never completes
    this.pending += 1;
    this.ring.read(this.fd, buffer, this.zoneOffsets[zone]! + offset, Purpose.read, callback);
  }

  write(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    assert(isSectorAligned(offset) && buffer.length % sectorSize === 0, "unaligned write");
    if (this.closing) return; // shutting down: like a crash, the write never happened
    this.pending += 1;
    const position = this.zoneOffsets[zone]! + offset;
    this.growFor(position + buffer.length);
    if (zone !== Zone.grid || this.dsync) return this.ring.write(this.fdDsync, buffer, position, Purpose.writeDsync, callback);
    if (this.gridWritesInFlight < this.gridWritesInFlightMax) return this.writeGrid(buffer, position, callback);
    this.gridWritesQueued.push({ buffer, position, callback });
  }

  private writeGrid(buffer: Uint8Array, position: number, callback: () => void): void {
    this.gridWritesInFlight += 1;
    this.ring.write(this.fd, buffer, position, Purpose.write, callback);
  }

  /** A grid write left the ring (landed or failed): the next queued one takes its place. */
  private gridWriteLeft(): void {
    this.gridWritesInFlight -= 1;
    const next = this.gridWritesQueued.shift();
    if (next !== undefined) this.writeGrid(next.buffer, next.position, next.callback);
  }

  nextTick(callback: () => void): void {
    setImmediate(callback);
  }

  /** Hands the queued submissions to the kernel now, not at the end of this event-loop turn. */
  submitQueued(): void {
    if (!this.closed) this.ring.submit();
  }

  /**
   * Refuses new IO, lets what is in flight land, then closes the ring and the file. `callback`
   * runs once they are closed.
   */
  close(callback?: () => void): void {
    if (this.closed) return callback?.();
    this.onDrained = callback ?? null;
    this.closing = true;
    if (this.pending === 0) this.finishClose();
  }

  /** Sleeps in the ring until a completion or `timeoutNs`: for a host that ticks between waits. */
  waitForIo(timeoutNs: number): number {
    return this.ring.wait(timeoutNs);
  }

  get zoneConfig(): Config {
    return this.config;
  }

  get waitMethod(): "ext_arg" | "timeout_op" {
    return this.ring.waitMethod;
  }

  /**
   * Grows the file ahead of a write past its end, a step at a time (fallocate, which also extends
   * the size). A direct write past the end of the file is slow on ext4: it extends the size under
   * the inode's exclusive lock and waits for the device, one write at a time (measured: 1000
   * concurrent 4 KiB appends 64-76 ms, within the size 16 ms). Within the size, writes proceed in
   * parallel. The step's unwritten tail reads as zeros, as an unwritten grid block does anyway,
   * and close() trims it, so a stopped replica's file ends at its last write, as with FileStorage.
   */
  private growFor(end: number): void {
    if (end > this.writtenEnd) this.writtenEnd = end;
    if (end <= this.allocatedEnd || this.growStepBytes === 0 || this.fallocate === undefined) return;
    const target = Math.ceil(end / this.growStepBytes) * this.growStepBytes;
    const errno = this.fallocate(this.fd, false, this.allocatedEnd, target - this.allocatedEnd);
    if (errno === 0) {
      this.allocatedEnd = target;
      return;
    }
    // Refused (a filesystem without fallocate, or too little space for a whole step): writes
    // extend the file themselves, and a full disk surfaces as a write's ENOSPC.
    this.growStepBytes = 0;
    this.allocatedEnd = fstatSync(this.fd).size; // a refused fallocate may have grown it part way
  }

  private onCompletion(purpose: number, result: number, buffer: Uint8Array, position: number, context: unknown): void {
    switch (purpose) {
      case Purpose.read: return this.readDone(this.inject("read", position, buffer, result), buffer, position, context as () => void);
      case Purpose.write:
      case Purpose.writeDsync:
        return this.writeDone(this.inject("write", position, buffer, result), buffer, position, purpose, context as () => void);
      case Purpose.sync: return this.syncDone(result);
      case Purpose.sectorRead: return (context as (result: number) => void)(this.inject("read", position, buffer, result));
      case Purpose.probe: return (context as (result: number) => void)(result);
    }
    assert(false, `unknown io_uring purpose ${purpose}`);
  }

  private inject(kind: "read" | "write", position: number, buffer: Uint8Array, result: number): number {
    return this.options.injectResult?.(kind, position, buffer.length, result) ?? result;
  }

  private readDone(result: number, buffer: Uint8Array, position: number, callback: () => void): void {
    // The addon has already zeroed what a short read (past the end of the file) left unread.
    if (result === resultEio) return this.narrow(buffer, position, () => this.complete(callback));
    if (result < 0) return this.ioFailed(errnoError(result, "read"), 1);
    this.complete(callback);
  }

  /** Re-reads a read that failed with EIO one sector at a time; a sector that fails alone reads as zeros. */
  private narrow(buffer: Uint8Array, position: number, done: () => void): void {
    const readSector = (at: number, sectorDone: (bytesRead: number) => void): void => {
      const sector = buffer.subarray(at, at + sectorSize);
      this.ring.read(this.fd, sector, position + at, Purpose.sectorRead, (result: number) => {
        if (result < 0 && result !== resultEio) return this.ioFailed(errnoError(result, "read"), 1);
        sectorDone(result < 0 ? -1 : result);
      });
    };
    narrowReadError(buffer, position, readSector, (firstUnreadable, unreadable) => {
      if (unreadable > 0) {
        this.sectorsUnreadable += unreadable;
        this.options.onUnreadable?.(firstUnreadable, unreadable);
      }
      done();
    });
  }

  private writeDone(result: number, buffer: Uint8Array, position: number, purpose: number, callback: () => void): void {
    const dsync = purpose === Purpose.writeDsync;
    if (!dsync && (result < 0 || result >= buffer.length)) this.gridWriteLeft();
    if (result < 0) return this.ioFailed(writeError(errnoError(result, "write")), 1);
    if (result < buffer.length) {
      // A short write (rare: the disk filling up): write the rest; its error, if any, says why.
      return this.ring.write(dsync ? this.fdDsync : this.fd, buffer.subarray(result), position + result, purpose, callback);
    }
    if (dsync) return this.complete(callback); // O_DSYNC: durable when it completes
    this.group.landed(callback);
  }

  private syncDone(result: number): void {
    if (result < 0) return this.ioFailed(writeError(errnoError(result, "fdatasync")), this.group.synced().length);
    for (const callback of this.group.synced()) this.complete(callback);
  }

  /** `ios` IOs failed with `error`: thrown, or with onError, reported and counted as done (no callback). */
  private ioFailed(error: Error, ios: number): void {
    if (this.options.onError === undefined) throw error;
    this.pending -= ios;
    this.options.onError(error);
    if (this.closing && this.pending === 0 && !this.closed) this.finishClose();
  }

  private complete(callback: () => void): void {
    this.pending -= 1;
    if (!this.closing) return callback();
    // Shutting down: what landed is durable; its continuation would only start more IO.
    if (this.pending === 0) this.finishClose();
  }

  private finishClose(): void {
    assert(this.closing && this.pending === 0 && !this.closed && this.ring.inFlight === 0);
    this.closed = true;
    this.ring.close();
    // The unwritten rest of the last growth step goes: the file ends where its data ends.
    if (this.allocatedEnd > this.writtenEnd) ftruncateSync(this.fd, this.writtenEnd);
    closeSync(this.fd);
    if (this.fdDsync !== this.fd) closeSync(this.fdDsync);
    const callback = this.onDrained;
    this.onDrained = null;
    callback?.();
  }
}

function openRing(functions: NonNullable<ReturnType<typeof uringAddon>>, onCompletion: ConstructorParameters<typeof UringRing>[1]): UringRing {
  try {
    return new UringRing(functions, onCompletion);
  } catch (error) {
    throw new UringUnavailable((error as Error).message);
  }
}

/** O_DIRECT (and with `dsync`, O_DSYNC). A filesystem without O_DIRECT refuses with EINVAL. */
function openDirect(path: PathLike, dsync: boolean): number {
  const flags = constants.O_RDWR | constants.O_DIRECT | (dsync ? constants.O_DSYNC : 0);
  try {
    return openSync(path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EINVAL" || code === "EOPNOTSUPP") throw new UringUnavailable(`O_DIRECT refused by the filesystem (${code})`);
    throw error;
  }
}
