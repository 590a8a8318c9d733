// What the two data-file backends (FileStorage on node:fs, UringStorage on io_uring) share, so that
// they behave the same where it matters: how the file is created, how a read that fails with EIO
// is narrowed to the sectors that are really bad, and how a full disk is reported.
import { closeSync, ftruncateSync, openSync, readSync, type PathLike } from "node:fs";
import { constants } from "node:os";
import { assert, FatalError } from "../../core/assert.js";
import { sectorSize, type Config } from "../../core/config.js";
import { isSectorAligned } from "../storage.js";

/** Creates the data file (never over an existing one: EEXIST) and sizes it. Sparse until written. */
export function createDataFile(path: PathLike, sizeBytes: number): void {
  assert(isSectorAligned(sizeBytes));
  const fd = openSync(path, "wx+");
  try {
    ftruncateSync(fd, sizeBytes);
  } finally {
    closeSync(fd);
  }
}

/**
 * The four superblock copies read through `fd` (a short read gives an empty copy), for
 * identifyDataFile before anything opens the file for writing.
 */
export function readSuperblockCopies(fd: number, config: Config): Uint8Array[] {
  const size = config.superblockCopySize;
  return [0, 1, 2, 3].map((copy) => {
    const bytes = new Uint8Array(size);
    const read = readSync(fd, bytes, 0, size, config.zones.superblock.offset + copy * size);
    return read === size ? bytes : new Uint8Array(0);
  });
}

/** A sector's re-read: `bytesRead`, or -1 when it failed with EIO on its own. */
export type SectorRead = (at: number, done: (bytesRead: number) => void) => void;

/**
 * Re-reads a read that failed with EIO one sector at a time (`readSector` reads
 * buffer[at, at + sectorSize) from the file); a sector that fails alone reads as zeros, which no
 * checksum accepts, so the replica repairs it from a peer like any other corruption. `done` gets
 * the first unreadable sector's file offset (or -1) and how many sectors were unreadable.
 */
export function narrowReadError(buffer: Uint8Array, position: number, readSector: SectorRead,
  done: (firstUnreadable: number, unreadable: number) => void): void {
  assert(buffer.length % sectorSize === 0);
  let sector = 0;
  let unreadable = 0;
  let firstUnreadable = -1;
  const next = (): void => {
    if (sector === buffer.length / sectorSize) return done(firstUnreadable, unreadable);
    const at = sector * sectorSize;
    readSector(at, (bytesRead) => {
      if (bytesRead < 0) {
        buffer.fill(0, at, at + sectorSize);
        if (firstUnreadable < 0) firstUnreadable = position + at;
        unreadable += 1;
      } else if (bytesRead < sectorSize) {
        buffer.fill(0, at + bytesRead, at + sectorSize); // past the end of the file: zeros
      }
      sector += 1;
      next(); // each re-read completes in a later callback, so this never nests deeply
    });
  };
  next();
}

/** A full disk is the operator's to fix, not a bug: a one-line fatal error. Others stay as they are. */
export function writeError(error: NodeJS.ErrnoException): Error {
  if (error.code !== "ENOSPC" && error.code !== "EDQUOT") return error;
  return new FatalError(`the disk holding the data file is full (${error.code}); free space and restart ` +
    "(nothing acknowledged is lost: the WAL replays it)");
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, number]) => [number, name]));

/** The errno of an io_uring result (-errno) as node:fs would report it: code, errno, syscall. */
export function errnoError(result: number, syscall: string): NodeJS.ErrnoException {
  assert(result < 0);
  const code = errnoNames.get(-result) ?? `errno ${-result}`;
  return Object.assign(new Error(`${code}: ${syscall} failed on the data file`), { code, errno: result, syscall });
}

/** -EIO, as io_uring reports a latent sector error. */
export const resultEio = -constants.errno.EIO;

/**
 * Group sync: a write that lands joins the writes waiting for durability, and one fdatasync,
 * started after all of them landed, releases them all; writes landing meanwhile wait for the
 * next. `start` begins one fdatasync, whose completion calls synced().
 */
export class GroupSync {
  private waiting: (() => void)[] = [];
  private syncing: (() => void)[] | null = null;

  constructor(private readonly start: () => void) {}

  /** A write landed: `callback` runs (through the owner) once an fdatasync after it is done. */
  landed(callback: () => void): void {
    this.waiting.push(callback);
    if (this.syncing === null) this.begin();
  }

  /** The fdatasync begun last is done: returns its writes' callbacks (the next one has begun if any waited). */
  synced(): (() => void)[] {
    assert(this.syncing !== null, "group sync: no fdatasync in flight");
    const batch = this.syncing;
    this.syncing = null;
    if (this.waiting.length > 0) this.begin();
    return batch;
  }

  private begin(): void {
    assert(this.syncing === null && this.waiting.length > 0);
    this.syncing = this.waiting;
    this.waiting = [];
    this.start();
  }
}
