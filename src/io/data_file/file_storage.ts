// The portable Storage backend: a data file accessed with node:fs positional reads and writes,
// used where the io_uring + O_DIRECT backend (uring_storage.ts) is unavailable. Writes are made durable
// with fdatasync before their callback runs, so "written" means what the replica needs it to mean.
//
// Group sync: a write that lands joins the writes waiting for durability, and one fdatasync,
// started after all of them landed, releases them all. A burst of grid writes at a bar's end
// then costs a couple of fdatasyncs instead of one each, and no longer fills libuv's thread pool
// with syncs that WAL writes (a commit's latency) would queue behind.
//
// A read that fails with EIO (a latent sector error of the disk) is narrowed to the sectors that
// fail on their own: those read as zeros, which no checksum accepts, so the replica treats them
// as corrupt and repairs them from its peers like any other fault (docs/storage_faults.md).
// Both this and the rule for a full disk are shared with UringStorage (disk.ts).
import { closeSync, fdatasync, openSync, read as fsRead, write, type PathLike } from "node:fs";
import { assert } from "../../core/assert.js";
import { sectorSize, type Config } from "../../core/config.js";
import { isSectorAligned, Zone, type Storage } from "../storage.js";
import { createDataFile, GroupSync, narrowReadError, writeError } from "./disk.js";

/** node:fs's positional read, replaceable in tests (to inject EIO). */
export type PositionalRead = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number,
  callback: (error: NodeJS.ErrnoException | null, bytesRead: number) => void) => void;

export interface FileStorageOptions {
  /** Create the file (never over an existing one) with this size. */
  create?: boolean;
  sizeBytes?: number;
  /** Told of sectors that failed with EIO even when read alone (absolute file offset, sector count). */
  onUnreadable?: (offset: number, sectors: number) => void;
  /** As UringStorageOptions.onError: a failed IO is reported here instead of thrown. */
  onError?: (error: Error) => void;
  /** Tests only: the read to use instead of node:fs's. */
  read?: PositionalRead;
}

export class FileStorage implements Storage {
  /** Sectors that failed with EIO when read alone, since open (each read back as zeros). */
  sectorsUnreadable = 0;
  private readonly positionalRead: PositionalRead;
  private readonly fd: number;
  private readonly zoneOffsets: readonly number[];
  /** Reads and writes submitted and not completed. */
  private pending = 0;
  /** Set by close(): new IO is refused (as at a crash) and the file closes once pending IO lands. */
  private closing = false;
  private closed = false;
  private onDrained: (() => void) | null = null;
  /** Writes landed, waiting for the next fdatasync. */
  private readonly group = new GroupSync(() => fdatasync(this.fd, (error) => {
    if (error) return this.ioFailed(writeError(error), this.group.synced().length);
    for (const callback of this.group.synced()) this.complete(callback);
  }));

  /**
   * Opens (or with `create`, creates — never over an existing file — and sizes) the data file.
   * Throws on failure.
   */
  constructor(path: PathLike, private readonly config: Config, private readonly options: FileStorageOptions = {}) {
    this.positionalRead = options.read ?? fsRead;
    if (options.create) {
      assert(options.sizeBytes !== undefined);
      createDataFile(path, options.sizeBytes);
    }
    this.fd = openSync(path, "r+");
    const zones = config.zones;
    this.zoneOffsets = [zones.superblock.offset, zones.walHeaders.offset, zones.walPrepares.offset,
      zones.clientReplies.offset, zones.gridOffset];
  }

  read(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    assert(isSectorAligned(offset) && buffer.length % sectorSize === 0, "unaligned read");
    if (this.closing) return; // shutting down: like a crash, the IO never completes
    this.pending += 1;
    const position = this.zoneOffsets[zone]! + offset;
    this.positionalRead(this.fd, buffer, 0, buffer.length, position, (error, bytesRead) => {
      if (error?.code === "EIO") return this.narrow(buffer, position, () => this.complete(callback));
      if (error) return this.ioFailed(error, 1);
      // Past the end of the file reads as zeros, like a fresh sparse file.
      if (bytesRead < buffer.length) buffer.fill(0, bytesRead);
      this.complete(callback);
    });
  }

  /** Re-reads a read that failed with EIO one sector at a time; a sector that fails alone reads as zeros. */
  private narrow(buffer: Uint8Array, position: number, done: () => void): void {
    const readSector = (at: number, sectorDone: (bytesRead: number) => void): void =>
      this.positionalRead(this.fd, buffer, at, sectorSize, position + at, (error, bytesRead) => {
        if (error !== null && error.code !== "EIO") return this.ioFailed(error, 1);
        sectorDone(error === null ? bytesRead : -1);
      });
    narrowReadError(buffer, position, readSector, (firstUnreadable, unreadable) => {
      if (unreadable > 0) {
        this.sectorsUnreadable += unreadable;
        this.options.onUnreadable?.(firstUnreadable, unreadable);
      }
      done();
    });
  }

  write(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    assert(isSectorAligned(offset) && buffer.length % sectorSize === 0, "unaligned write");
    if (this.closing) return; // shutting down: like a crash, the write never happened
    this.pending += 1;
    write(this.fd, buffer, 0, buffer.length, this.zoneOffsets[zone]! + offset, (error) => {
      if (error) return this.ioFailed(writeError(error), 1);
      this.group.landed(callback);
    });
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

  nextTick(callback: () => void): void {
    setImmediate(callback);
  }

  /**
   * Refuses new IO, lets what is in flight land, then closes the file (never a write on a closed
   * or reused descriptor). `callback` runs once the file is closed.
   */
  close(callback?: () => void): void {
    if (this.closed) return callback?.();
    this.onDrained = callback ?? null;
    this.closing = true;
    if (this.pending === 0) this.finishClose();
  }

  private finishClose(): void {
    assert(this.closing && this.pending === 0 && !this.closed);
    this.closed = true;
    closeSync(this.fd);
    const callback = this.onDrained;
    this.onDrained = null;
    callback?.();
  }

  get zoneConfig(): Config {
    return this.config;
  }
}
