// Runs one replica in this process: the data file on io_uring + O_DIRECT where available, else
// node:fs (src/io/data_file/open_storage.ts), and node:net for the network. The host loop of
// DESIGN.md, `replica.tick()` every 10 ms, with IO completing in between through Node's event loop
// (the ring wakes it; the replica's sockets share the loop, so the host does not block inside
// io_uring). Used by `scarab start` and by the end-to-end client tests.
import { randomBytes } from "node:crypto";
import { headerSize, productionConfig, releaseCurrent, testConfig, type Config } from "../core/config.js";
import { Prng } from "../core/prng.js";
import { readSuperblockCopies } from "../io/data_file/disk.js";
import { openDataFileStorage, StorageSelectionError, storageLogLine, type DataFileStorage } from "../io/data_file/open_storage.js";
import { RealTime } from "../io/real_time.js";
import { tickMs } from "../io/time.js";
import type { Address } from "../io/tcp_client_bus.js";
import { TcpServerBus } from "../io/tcp_server_bus.js";
import { DataFileLockError, lockDataFile, type DataFileLock } from "../io/data_file_lock.js";
import type { MessageBus } from "../io/message_bus.js";
import { identifyDataFile, identityMismatch, type DataFileIdentity } from "../replica/superblock/identify.js";
import { Replica, type ReplicaEvent, type ReplicaOptions } from "../replica/replica.js";
import { warmUpLedger } from "./ledger_warm_up.js";
import type { Logger } from "./logger.js";
import type { ReplicaMetrics } from "./metrics.js";
import { PrepareHeader } from "../core/header.js";
import { LedgerStateMachine } from "../replica/state_machine.js";

export interface HostOptions {
  readonly path: string;
  /** Expected cluster: checked against the data file (which knows its own). */
  readonly cluster?: bigint;
  /** Expected replica index: checked against the data file. */
  readonly replica?: number;
  /** Every replica's address in index order; the data file says which one is ours. */
  readonly addresses: readonly Address[];
  readonly config?: Config;
  /** The operator's log; without one the host is silent (tests). */
  readonly logger?: Logger;
  /** Counters and gauges for `--metrics-address`. */
  readonly metrics?: ReplicaMetrics;
  /** The most the data file may grow to (`--limit-storage`); default gridBlocksLimitDefault. */
  readonly limitStorageBytes?: number;
  /** Bytes of grid pages kept in memory (`--cache-grid`); default gridCacheBytesDefault. */
  readonly cacheGridBytes?: number;
  /**
   * Aborts a start that has not finished (a supervisor's SIGTERM while the WAL replays): peers and
   * the file are closed as at a crash, which recovery is built for, and the callback gets
   * `StartAborted`. A start that has finished is stopped with `ReplicaHost.stop` instead.
   */
  readonly signal?: AbortSignal;
}

/** The error a start aborted by `HostOptions.signal` reports. */
export class StartAborted extends Error {
  constructor() {
    super("stopped before the replica had opened its data file");
  }
}

export interface FormatOptions extends HostOptions {
  readonly cluster: bigint;
  readonly replica: number;
  /** `scarab recover`: the view to format in (Replica.format); 0 for a new cluster. */
  readonly recoverView?: number;
}

export interface ReplicaHost {
  readonly replica: Replica;
  readonly port: number;
  /** Stops ticking and accepting, lets in-flight IO land, closes peers and the file. */
  stop(callback?: () => void): void;
}

/** A fresh data file's size: every zone before the grid; the grid grows as blocks are acquired. */
export function dataFileSize(config: Config): number {
  return config.zones.gridOffset;
}

function replicaOptions(
  identity: { cluster: bigint; replica: number; replicaCount: number }, config: Config, storage: DataFileStorage,
  bus: MessageBus, time: RealTime, observers: { logger?: Logger; metrics?: ReplicaMetrics; limitStorageBytes?: number; cacheGridBytes?: number } = {},
): ReplicaOptions {
  const { logger, metrics, limitStorageBytes, cacheGridBytes } = observers;
  const debug = logger !== undefined && logger.isLevelEnabled("debug");
  return {
    cluster: identity.cluster, replica: identity.replica, replicaCount: identity.replicaCount,
    standbyCount: 0, config, release: releaseCurrent, time, storage, bus,
    prng: new Prng(BigInt("0x" + randomBytes(8).toString("hex"))),
    stateMachine: new LedgerStateMachine(),
    ...(limitStorageBytes !== undefined && {
      gridBlocksLimit: Math.floor((limitStorageBytes - config.zones.gridOffset) / config.blockSize),
    }),
    ...(cacheGridBytes !== undefined && { gridCacheBytes: cacheGridBytes }),
    reserveGridCache: true,
    onEvent: (replica: Replica, event: ReplicaEvent, detail?: string) => {
      if (logger) logEvent(logger, replica, event, detail);
      metrics?.onEvent(event);
    },
    ...(metrics && { onCommit: (replica: Replica, prepare: Uint8Array) => countCommit(metrics, replica, prepare) }),
    ...(debug && { trace: (replica: number, line: string) => logger.debug({ replica }, line) }),
  };
}

function countCommit(metrics: ReplicaMetrics, replica: Replica, prepare: Uint8Array): void {
  const header = new PrepareHeader(prepare, 0);
  const operation = header.operation;
  const events = replica.stateMachine.isOperation(operation)
    ? replica.stateMachine.eventCount(operation, prepare.subarray(headerSize, header.size)) : 0;
  metrics.onCommit(replica, operation, events, header.timestamp);
}

/** One log line for each transition an operator cares about (commits are counted, not logged). */
function logEvent(logger: Logger, replica: Replica, event: ReplicaEvent, detail?: string): void {
  const fields = { replica: replica.replica, view: replica.view, status: replica.status };
  switch (event) {
    case "open": return logger.info({ ...fields, op: replica.op, commit_min: replica.commitMin,
      checkpoint: replica.opCheckpoint }, "data file opened: replaying the WAL");
    case "status": return logger.info({ ...fields, primary: replica.isPrimary }, `status ${replica.status}`);
    case "view": return logger.info({ ...fields, primary: replica.primaryOf(replica.view) }, `view ${replica.view}`);
    case "checkpoint_start": return logger.debug({ ...fields, op: replica.commitMin }, "checkpoint started");
    case "checkpoint_done": return logger.info({ ...fields, checkpoint: replica.opCheckpoint }, "checkpoint durable");
    case "sync_start": return logger.warn({ ...fields, target: replica.syncing?.targetOp },
      "state sync started: too far behind to repair the WAL");
    case "sync_cancel": return logger.warn(fields, "state sync abandoned: no peer served its target for a while (a newer one follows)");
    case "sync_done": return logger.info({ ...fields, checkpoint: replica.opCheckpoint }, "state sync done");
    case "eviction": return logger.info(fields, detail ?? "client evicted");
    case "storage_full": return logger.error(fields, detail ?? "storage limit nearly reached");
    case "storage_ok": return logger.info(fields, detail ?? "storage available again");
    case "sync_resumed": return logger.warn(fields, detail ?? "completing an interrupted state sync");
    case "repair_prepare":
    case "repair_headers":
    case "repair_block":
    case "repair_reply": return logger.info(fields, detail ?? "repaired from a peer");
    case "repair_superblock": return logger.warn(fields, detail ?? "superblock copies rewritten");
    case "reply_faulty": return logger.error(fields, detail ?? "a stored reply is corrupt and cannot be repaired");
    case "scrub_fault": return logger.warn(fields, detail ?? "the scrubber found a faulty grid block");
    case "clock_unsynchronized": return logger.warn(fields, detail ?? "cluster time unknown");
    case "clock_synchronized": return logger.info(fields, detail ?? "cluster time agreed again");
    case "state_deferred": return logger.warn(fields, detail ?? "running without the checkpoint's state until it is repaired");
    case "state_loaded": return logger.info(fields, detail ?? "checkpoint state loaded");
    case "commit": return;
  }
}

const silentBus: MessageBus = { sendToReplica: () => {}, sendToClient: () => {} };

/** Creates (never over an existing file), locks and formats a data file. */
export function formatDataFile(options: FormatOptions, callback: (error: Error | null) => void): void {
  const config = options.config ?? productionConfig;
  let storage: DataFileStorage;
  let lock: DataFileLock;
  try {
    storage = openDataFileStorage(options.path, config, { create: true, sizeBytes: dataFileSize(config) }).storage;
    lock = lockDataFile(options.path);
  } catch (error) {
    return callback(fileError(options.path, error));
  }
  const identity = { cluster: options.cluster, replica: options.replica, replicaCount: options.addresses.length };
  Replica.format(replicaOptions(identity, config, storage, silentBus, new RealTime()), () => {
    storage.close(() => {
      lock.release();
      callback(null);
    });
  }, options.recoverView ?? 0);
}

/**
 * Starts a replica from its data file, in an order that cannot damage it: lock the file (a second
 * process stops here), identify it from its superblock (read only), bind the port (a port in use
 * stops here), and only then open the file for writing and recover.
 */
export function startReplica(options: HostOptions, callback: (error: Error | null, host: ReplicaHost | null) => void): void {
  const config = options.config ?? productionConfig;
  let lock: DataFileLock;
  let identity: DataFileIdentity;
  try {
    lock = lockDataFile(options.path);
  } catch (error) {
    return callback(fileError(options.path, error), null);
  }
  try {
    identity = identify(options, config, lock.fd);
  } catch (error) {
    lock.release();
    return callback(error as Error, null);
  }
  if (options.signal?.aborted) {
    lock.release();
    return callback(new StartAborted(), null);
  }
  const time = new RealTime();
  let replica: Replica | null = null;
  const bus = new TcpServerBus({
    replica: identity.replica, addresses: options.addresses, messageSizeMax: config.messageSizeMax,
    cluster: identity.cluster, onMessage: (message) => replica?.onMessage(message),
    ...(options.logger && { log: options.logger.child({ replica: identity.replica }) }),
  });
  bus.listen((listenError) => {
    if (listenError !== null || options.signal?.aborted) {
      bus.close();
      lock.release();
      return callback(listenError ?? new StartAborted(), null);
    }
    let storage: DataFileStorage;
    try {
      const opened = openDataFileStorage(options.path, config, {
        onUnreadable: (offset, sectors) => options.logger?.warn({ replica: options.replica, offset, sectors },
          `the disk failed to read ${sectors} sector(s) from offset ${offset} (EIO): treated as corrupt and repaired from a peer where there is one`),
      });
      storage = opened.storage;
      options.logger?.info({ replica: identity.replica, backend: opened.backend }, storageLogLine(opened));
    } catch (error) {
      bus.close();
      lock.release();
      return callback(fileError(options.path, error), null);
    }
    const warmUpMs = warmUpLedger({ config });
    options.logger?.info({ replica: identity.replica, ms: Math.round(warmUpMs) }, "ledger code warmed up");
    replica = new Replica(replicaOptions(identity, config, storage, bus, time, options));
    options.metrics?.attach(replica);
    openAndRun(replica, { bus, storage, lock, time, path: options.path, signal: options.signal }, callback);
  });
}

interface HostResources {
  readonly bus: TcpServerBus;
  readonly storage: DataFileStorage;
  readonly lock: DataFileLock;
  readonly time: RealTime;
  readonly path: string;
  readonly signal: AbortSignal | undefined;
}

function openAndRun(replica: Replica, resources: HostResources, callback: (error: Error | null, host: ReplicaHost | null) => void): void {
  const { bus, storage, lock, time, signal } = resources;
  // The replica ticks from the start: opening may wait for grid blocks that peers repair.
  const timer = setInterval(() => {
    time.tick();
    replica.tick();
  }, tickMs);
  const release = (done: () => void) => {
    clearInterval(timer);
    bus.close();
    storage.close(() => {
      lock.release();
      done();
    });
  };
  // Aborted while opening: the storage refuses new IO and drops the continuations of what lands,
  // so the open stops where it is, as at a crash; the file closes once its in-flight IO lands.
  let aborted = false;
  const abort = (): void => {
    aborted = true;
    release(() => callback(new StartAborted(), null));
  };
  signal?.addEventListener("abort", abort, { once: true });
  replica.open((error) => {
    signal?.removeEventListener("abort", abort);
    if (aborted) return;
    if (error !== null) {
      return release(() => callback(new Error(`cannot open ${resources.path}: ${error}`), null));
    }
    let stopped = false;
    callback(null, {
      replica,
      port: bus.port,
      stop: (done) => {
        if (stopped) return done?.();
        stopped = true;
        release(() => done?.());
      },
    });
  });
}

/** Reads the superblock copies through the lock's descriptor and checks them against the flags. */
function identify(options: HostOptions, config: Config, fd: number): DataFileIdentity {
  const identification = identifyDataFile(readSuperblockCopies(fd, config), config);
  if (identification.kind === "unidentified") {
    const other = config.name === "production" ? testConfig : productionConfig;
    if (identifyDataFile(readSuperblockCopies(fd, other), other).kind === "identified") {
      const hint = other.name === "production" ? "without --development" : "with --development";
      throw new Error(`${options.path} was formatted ${hint}; start it ${hint}`);
    }
    throw new Error(`${options.path}: ${identification.reason}`);
  }
  const identity = identification.identity;
  const mismatch = identityMismatch(identity, {
    cluster: options.cluster, replica: options.replica, replicaCount: options.addresses.length,
  });
  if (mismatch !== null) throw new Error(`${options.path}: ${mismatch}`);
  return identity;
}


function fileError(path: string, error: unknown): Error {
  if (error instanceof DataFileLockError || error instanceof StorageSelectionError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EEXIST") return new Error(`${path} already exists; refusing to overwrite a data file`);
  if (code === "ENOENT") return new Error(`${path} does not exist; create it with 'scarab format'`);
  return new Error(`${path}: ${(error as Error).message}`);
}
