// The portable Storage backend: a data file accessed with node:fs positional reads and writes
// (the io_uring + O_DIRECT backend comes with the production binary). Writes are made durable
// with fdatasync before their callback runs, so "written" means what the replica needs it to mean.
import { closeSync, fdatasync, ftruncateSync, openSync, read, write, type PathLike } from "node:fs";
import { assert } from "../core/assert.js";
import { sectorSize, type Config } from "../core/config.js";
import { isSectorAligned, Zone, type Storage } from "./storage.js";

export class FileStorage implements Storage {
  private readonly fd: number;
  private readonly zoneOffsets: readonly number[];

  /** Opens (or with `create`, creates and sizes) the data file. Throws a clear error on failure. */
  constructor(path: PathLike, private readonly config: Config, options: { create?: boolean; sizeBytes?: number } = {}) {
    this.fd = openSync(path, options.create ? "w+" : "r+");
    if (options.create) {
      assert(options.sizeBytes !== undefined && isSectorAligned(options.sizeBytes));
      ftruncateSync(this.fd, options.sizeBytes);
    }
    const zones = config.zones;
    this.zoneOffsets = [zones.superblock.offset, zones.walHeaders.offset, zones.walPrepares.offset,
      zones.clientReplies.offset, zones.gridOffset];
  }

  read(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    assert(isSectorAligned(offset) && buffer.length % sectorSize === 0, "unaligned read");
    read(this.fd, buffer, 0, buffer.length, this.zoneOffsets[zone]! + offset, (error, bytesRead) => {
      if (error) throw error;
      // Past the end of the file reads as zeros, like a fresh sparse file.
      if (bytesRead < buffer.length) buffer.fill(0, bytesRead);
      callback();
    });
  }

  write(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    assert(isSectorAligned(offset) && buffer.length % sectorSize === 0, "unaligned write");
    write(this.fd, buffer, 0, buffer.length, this.zoneOffsets[zone]! + offset, (error) => {
      if (error) throw error;
      fdatasync(this.fd, (syncError) => {
        if (syncError) throw syncError;
        callback();
      });
    });
  }

  nextTick(callback: () => void): void {
    setImmediate(callback);
  }

  close(): void {
    closeSync(this.fd);
  }

  get zoneConfig(): Config {
    return this.config;
  }
}
