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
 * Delivers messages between the replica and the one embedded client, never inside the send call
 * (both sides must see a callback-free send, as over TCP), copying at the boundary as the
 * MessageBus contract says.
 */
class InProcessBus {
  replica: MessageHandler | null = null;
  client: MessageHandler | null = null;
  closed = false;

  readonly replicaSide: MessageBus = {
    sendToReplica: () => {}, // a one-replica cluster has no peer
    sendToClient: (_client, message) => this.deliver(this.client, message),
  };

  readonly clientSide: MessageBus = {
    sendToReplica: (_replica, message) => this.deliver(this.replica, message),
    sendToClient: () => {},
  };

  private deliver(handler: MessageHandler | null, message: Uint8Array): void {
    if (handler === null || this.closed) return; // like a message sent before the connection is up
    const copy = message.slice();
    setImmediate(() => !this.closed && handler.onMessage(copy));
  }
}

export class EmbeddedReplica {
  private open = true;

  private constructor(
    readonly replica: Replica, private readonly bus: InProcessBus, private readonly storage: DataFileStorage,
    private readonly lock: DataFileLock, private readonly timer: NodeJS.Timeout,
  ) {}

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
    try {
      lock = lockDataFile(options.path);
    } catch (error) {
      return callback(openError(options.path, error), null);
    }
    try {
      checkIdentity(options.path, config, lock.fd);
      storage = openDataFileStorage(options.path, config).storage;
    } catch (error) {
      lock.release();
      return callback(openError(options.path, error), null);
    }
    const bus = new InProcessBus();
    const time = new RealTime();
    const replica = new Replica(replicaOptions(options, config, storage, bus.replicaSide, time));
    bus.replica = replica;
    const timer = setInterval(() => {
      time.tick();
      replica.tick();
    }, tickMs);
    const embedded = new EmbeddedReplica(replica, bus, storage, lock, timer);
    embedded.setRef(false);
    replica.open((error) => {
      if (error === null) return callback(null, embedded);
      embedded.close(() => callback(new EmbeddedOpenError(`cannot open ${options.path}: ${error}`), null));
    });
  }

  /** The bus of the one embedded client (messages to it go to `handler`). */
  connect(handler: MessageHandler): MessageBus {
    this.bus.client = handler;
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

function replicaOptions(options: EmbeddedReplicaOptions, config: Config, storage: DataFileStorage, bus: MessageBus,
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
