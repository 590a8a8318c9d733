// The durable embedded ledger's replica: a one-replica Scarab cluster inside the calling process,
// on a data file, running the same replica code as `scarab start` (WAL, checkpoints, grid,
// scrubber) with the wall clock and a real 10 ms tick. Clients reach it through an in-process
// bus instead of TCP; everything else is the cluster an operator would run.
//
// The file is formatted on first use, atomically: formatting writes `<path>.formatting-<pid>-<n>` and
// links it into place once it is durable, so a process killed while formatting leaves either no
// data file or a whole one, never a half-formatted file that the next open cannot identify; of
// two processes formatting at once, the first to link wins and both open its file.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { productionConfig, releaseCurrent, type Config } from "../core/config.js";
import { Prng } from "../core/prng.js";
import { DataFileLockError, lockDataFile, type DataFileLock } from "../io/data_file_lock.js";
import { readSuperblockCopies } from "../io/data_file/disk.js";
import { openDataFileStorage, type DataFileStorage } from "../io/data_file/open_storage.js";
import type { MessageBus, MessageHandler } from "../io/message_bus.js";
import type { Storage } from "../io/storage.js";
import { RealTime } from "../io/real_time.js";
import { tickMs } from "../io/time.js";
import { Replica, type ReplicaOptions } from "../replica/replica.js";
import { LedgerStateMachine } from "../replica/state_machine.js";
import { identifyDataFile, identityMismatch } from "../replica/superblock/identify.js";

/** The embedded cluster: cluster 0, one replica. */
const cluster = 0n;

export interface EmbeddedReplicaOptions {
  readonly path: string;
  /** Bytes of grid pages kept in memory (default 64 MiB: an embedded ledger shares its process). */
  readonly cacheGridBytes?: number;
  /** The most the data file may grow to (default: the replica's, 16 TiB of grid). */
  readonly limitStorageBytes?: number;
  readonly config?: Config;
}

export const embeddedCacheGridBytesDefault = 64 * 2 ** 20;

/** A user's mistake opening the file (in use, not a ledger file, another cluster's): one line. */
export class EmbeddedOpenError extends Error {
  override name = "EmbeddedOpenError";
}

/**
 * The embedded replica stopped for good while running: the disk is full, the storage limit is
 * reached, an IO failed, or (a bug) an assertion failed. The host process goes on; every call
 * fails with this error, and what was acknowledged before is durable in the file.
 */
export class LedgerStoppedError extends Error {
  override name = "LedgerStoppedError";

  constructor(path: string, readonly reason: Error) {
    super(`the ledger in ${path} stopped: ${reason.message}. Calls acknowledged before are durable; ` +
      "it was closed and can be reopened once the cause is removed");
  }
}

/**
 * Delivers messages between the replica and the one embedded client, never inside the send call
 * (both sides must see a callback-free send, as over TCP), copying at the boundary as the
 * MessageBus contract says.
 */
class InProcessBus {
  replica: MessageHandler | null = null;
  client: MessageHandler | null = null;
  closed = false;

  /** Messages to the replica are handled inside `barrier`. */
  constructor(private readonly barrier: FaultBarrier) {}

  readonly replicaSide: MessageBus = {
    sendToReplica: () => {}, // a one-replica cluster has no peer
    sendToClient: (_client, message) => this.deliver(this.client, message),
  };

  readonly clientSide: MessageBus = {
    sendToReplica: (_replica, message) => this.deliver(this.replica, message, this.barrier),
    sendToClient: () => {},
  };

  private deliver(handler: MessageHandler | null, message: Uint8Array, barrier?: FaultBarrier): void {
    if (handler === null || this.closed) return; // like a message sent before the connection is up
    const copy = message.slice();
    setImmediate(() => {
      if (this.closed) return;
      if (barrier === undefined) return handler.onMessage(copy);
      barrier.run(() => handler.onMessage(copy));
    });
  }
}

/**
 * Runs replica code and catches what it throws, so that a failure inside the embedded replica
 * stops the ledger, not the host process. Every way into the replica goes through it: the tick,
 * delivered messages and storage completions.
 */
class FaultBarrier {
  stopped: Error | null = null;
  onStop: ((error: Error) => void) | null = null;

  run(body: () => void): void {
    if (this.stopped !== null) return; // a stopped replica runs nothing more
    try {
      body();
    } catch (error) {
      this.stop(error instanceof Error ? error : new Error(String(error)));
    }
  }

  stop(error: Error): void {
    if (this.stopped !== null) return;
    this.stopped = error;
    this.onStop?.(error);
  }

  /** `storage` with every completion run inside the barrier. */
  guard(storage: Storage): Storage {
    return {
      read: (zone, offset, buffer, callback) => storage.read(zone, offset, buffer, () => this.run(callback)),
      write: (zone, offset, buffer, callback) => storage.write(zone, offset, buffer, () => this.run(callback)),
      nextTick: (callback) => storage.nextTick(() => this.run(callback)),
      submitQueued: () => storage.submitQueued?.(),
    };
  }
}

export class EmbeddedReplica {
  private open = true;

  private constructor(
    readonly replica: Replica, private readonly bus: InProcessBus, private readonly storage: DataFileStorage,
    private readonly lock: DataFileLock, private readonly timer: NodeJS.Timeout, private readonly barrier: FaultBarrier,
    private readonly path: string,
  ) {
    barrier.onStop = (error) => this.stopped(error);
  }

  /**
   * Formats the file if it does not exist, locks it, checks it is an embedded ledger's, and
   * opens the replica (WAL replay). A user's mistake (the file in use, not a ledger's) comes back
   * as an EmbeddedOpenError or DataFileLockError with a one-line message.
   */
  static open(options: EmbeddedReplicaOptions, callback: (error: Error | null, replica: EmbeddedReplica | null) => void): void {
    const config = options.config ?? productionConfig;
    if (existsSync(options.path)) return EmbeddedReplica.openExisting(options, config, callback);
    formatAtomically(options, config, (error) => {
      if (error !== null) return callback(error, null);
      EmbeddedReplica.openExisting(options, config, callback);
    });
  }

  private static openExisting(options: EmbeddedReplicaOptions, config: Config,
    callback: (error: Error | null, replica: EmbeddedReplica | null) => void): void {
    let lock: DataFileLock;
    let storage: DataFileStorage;
    const barrier = new FaultBarrier();
    try {
      lock = lockDataFile(options.path);
    } catch (error) {
      return callback(openError(options.path, error), null);
    }
    try {
      checkIdentity(options.path, config, lock.fd);
      storage = openDataFileStorage(options.path, config, { onError: (error) => barrier.stop(error) }).storage;
    } catch (error) {
      lock.release();
      return callback(openError(options.path, error), null);
    }
    const bus = new InProcessBus(barrier);
    const time = new RealTime();
    const replica = new Replica({
      ...replicaOptions(options, config, barrier.guard(storage), bus.replicaSide, time),
      // A server refuses creations near its storage limit until an operator restarts it with a
      // larger one, while clients retry; an embedded caller would wait forever: stop, and say why.
      onEvent: (_replica, event, detail) => {
        if (event === "storage_full") barrier.stop(new Error(`storage limit reached (limitStorageBytes): ${detail}`));
      },
    });
    bus.replica = replica;
    const timer = setInterval(() => barrier.run(() => {
      time.tick();
      replica.tick();
    }), tickMs);
    const embedded = new EmbeddedReplica(replica, bus, storage, lock, timer, barrier, options.path);
    embedded.setRef(false);
    // Stopped while opening (an IO error reading the WAL): the open fails with the cause.
    embedded.openFailure = (error) => callback(new EmbeddedOpenError(`cannot open ${options.path}: ${error.message}`), null);
    barrier.run(() => replica.open((error) => {
      embedded.openFailure = null;
      if (error === null) return callback(null, embedded);
      embedded.close(() => callback(new EmbeddedOpenError(`cannot open ${options.path}: ${error}`), null));
    }));
  }

  /** Set while opening: a stop before the replica opened fails the open instead. */
  private openFailure: ((error: Error) => void) | null = null;
  private onStop: ((error: LedgerStoppedError) => void) | null = null;

  private stopped(error: Error): void {
    clearInterval(this.timer);
    this.bus.closed = true;
    const openFailure = this.openFailure;
    if (openFailure !== null) {
      this.openFailure = null;
      return this.close(() => openFailure(error));
    }
    this.onStop?.(new LedgerStoppedError(this.path, error));
  }

  /**
   * The bus of the one embedded client (messages to it go to `handler`); `onStop` is told if the
   * replica stops for good while running (LedgerStoppedError).
   */
  connect(handler: MessageHandler, onStop: (error: LedgerStoppedError) => void): MessageBus {
    this.bus.client = handler;
    this.onStop = onStop;
    if (this.barrier.stopped !== null) onStop(new LedgerStoppedError(this.path, this.barrier.stopped));
    return this.bus.clientSide;
  }

  /** Keep the process alive (calls in flight) or not: an idle embedded ledger must not. */
  setRef(ref: boolean): void {
    if (ref) this.timer.ref();
    else this.timer.unref();
  }

  /** Stops ticking and delivering, lets in-flight IO land, closes and unlocks the file. */
  close(callback?: () => void): void {
    if (!this.open) return callback?.();
    this.open = false;
    clearInterval(this.timer);
    this.bus.closed = true;
    this.storage.close(() => {
      this.lock.release();
      callback?.();
    });
  }
}

function replicaOptions(options: EmbeddedReplicaOptions, config: Config, storage: Storage, bus: MessageBus,
  time: RealTime): ReplicaOptions {
  return {
    cluster, replica: 0, replicaCount: 1, standbyCount: 0, config, release: releaseCurrent, time, storage, bus,
    prng: new Prng(BigInt("0x" + randomBytes(8).toString("hex"))),
    stateMachine: new LedgerStateMachine(),
    gridCacheBytes: options.cacheGridBytes ?? embeddedCacheGridBytesDefault,
    ...(options.limitStorageBytes !== undefined && {
      gridBlocksLimit: Math.floor((options.limitStorageBytes - config.zones.gridOffset) / config.blockSize),
    }),
  };
}

/**
 * Formats `<path>.formatting-<pid>-<n>`, makes it durable, then links it to `path`, which fails if
 * `path` appeared meanwhile (another process formatted it first: its file wins, ours goes).
 */
function formatAtomically(options: EmbeddedReplicaOptions, config: Config, callback: (error: Error | null) => void): void {
  formatsStarted += 1;
  const staging = `${options.path}.formatting-${process.pid}-${formatsStarted}`;
  let storage: DataFileStorage;
  try {
    removeAbandonedStaging(options.path);
    storage = openDataFileStorage(staging, config, { create: true, sizeBytes: config.zones.gridOffset }).storage;
  } catch (error) {
    return callback(openError(options.path, error));
  }
  const bus: MessageBus = { sendToReplica: () => {}, sendToClient: () => {} };
  Replica.format(replicaOptions(options, config, storage, bus, new RealTime()), () => {
    storage.close(() => {
      try {
        linkOrRename(staging, options.path);
        syncDirectory(dirname(options.path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
          rmSync(staging, { force: true });
          return callback(openError(options.path, error));
        }
      }
      rmSync(staging, { force: true });
      callback(null);
    });
  });
}

/** Formats begun by this process: each has its own staging file. */
let formatsStarted = 0;

/** Links `from` to `to` (EEXIST if `to` exists); where hard links are refused, a checked rename. */
function linkOrRename(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw error;
    if (existsSync(to)) throw Object.assign(new Error(`${to} exists`), { code: "EEXIST" });
    renameSync(from, to);
  }
}

/** Staging files of processes that died while formatting (never a ledger: safe to delete). */
function removeAbandonedStaging(path: string): void {
  const prefix = `${basename(path)}.formatting-`;
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    // Ours are in progress (a failed one removes its own); another live process's too.
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

/** Makes a new link durable: the directory entry is metadata of the directory. */
function syncDirectory(directory: string): void {
  const fd = openSync(directory, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function checkIdentity(path: string, config: Config, fd: number): void {
  const identification = identifyDataFile(readSuperblockCopies(fd, config), config);
  if (identification.kind === "unidentified") throw new EmbeddedOpenError(`${path}: ${identification.reason}`);
  const mismatch = identityMismatch(identification.identity, { cluster, replica: 0, replicaCount: 1 });
  if (mismatch !== null) {
    throw new EmbeddedOpenError(`${path}: ${mismatch} (openLedger opens only files it formatted: one replica of cluster 0)`);
  }
}

function openError(path: string, error: unknown): Error {
  if (error instanceof EmbeddedOpenError || error instanceof DataFileLockError) return error;
  return new EmbeddedOpenError(`${path}: ${(error as Error).message}`);
}
