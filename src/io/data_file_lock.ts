// The data file's exclusive lock, taken before anything in the file is read or written, and held
// for the life of the process: a second `scarab start`, `format` or `inspect` of a file in use
// fails with one line and touches nothing.
//
// With the native addon: flock(LOCK_EX | LOCK_NB) on a read-only descriptor; the kernel drops it
// however the process ends (kill -9 included). Without the addon (it could not be built): a
// `<file>.lock` file created exclusively, holding our pid; a lock file whose process is gone is
// stale and taken over.
import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { nativeAddon } from "../core/native_addon.js";

/** A user-facing failure to lock: the message is one line and says what to do. */
export class DataFileLockError extends Error {}

export interface DataFileLock {
  /** A read-only descriptor of the data file (the one that holds the flock, if any). */
  readonly fd: number;
  release(): void;
}

const ewouldblock = new Set([11, 35]); // EAGAIN/EWOULDBLOCK on Linux, macOS

export function lockDataFile(path: string): DataFileLock {
  const fd = openReadOnly(path);
  const flock = nativeAddon?.flockExclusive;
  if (flock !== undefined) {
    const errno = flock(fd);
    if (errno === 0) return { fd, release: () => closeSync(fd) };
    closeSync(fd);
    if (ewouldblock.has(errno)) throw inUse(path);
    throw new DataFileLockError(`cannot lock ${path}: flock failed with errno ${errno}`);
  }
  const lockPath = `${path}.lock`;
  try {
    takeLockFile(lockPath);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return {
    fd,
    release: () => {
      closeSync(fd);
      try {
        unlinkSync(lockPath);
      } catch {
        // Already gone: nothing to release.
      }
    },
  };
}

function openReadOnly(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataFileLockError(`${path} does not exist; create it with 'scarab format'`);
    if (code === "EACCES") throw new DataFileLockError(`${path}: permission denied`);
    if (code === "EISDIR") throw new DataFileLockError(`${path} is a directory, not a data file`);
    throw new DataFileLockError(`cannot open ${path}: ${(error as Error).message}`);
  }
}

function inUse(path: string): DataFileLockError {
  return new DataFileLockError(`${path} is in use by another scarab process (it holds the data file's lock)`);
}

/** The fallback: an exclusively created lock file with our pid; a dead owner's file is stale. */
function takeLockFile(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) throw inUse(lockPath.slice(0, -".lock".length));
    unlinkSync(lockPath); // stale: its process is gone
  }
  throw new DataFileLockError(`cannot take ${lockPath}: another process keeps re-creating it`);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
