// Runs one replica in this process on the portable backends (node:fs data file, node:net
// transport): the host loop of DESIGN.md, `replica.tick()` every 10 ms with IO completing in
// between. Used by `scarab start` and by the end-to-end client tests.
import { randomBytes } from "node:crypto";
import { productionConfig, releaseCurrent, type Config } from "../core/config.js";
import { Prng } from "../core/prng.js";
import { FileStorage } from "../io/file_storage.js";
import { RealTime } from "../io/real_time.js";
import { tickMs } from "../io/time.js";
import type { Address } from "../io/tcp_client_bus.js";
import { TcpServerBus } from "../io/tcp_server_bus.js";
import { Replica, type ReplicaOptions } from "../replica/replica.js";
import { LedgerStateMachine } from "../replica/state_machine.js";

export interface HostOptions {
  readonly path: string;
  readonly cluster: bigint;
  readonly replica: number;
  readonly addresses: readonly Address[];
  readonly config?: Config;
  readonly log?: (line: string) => void;
  /** Receives the replica's trace (why each message was dropped): `scarab start --log-debug`. */
  readonly trace?: (replica: number, line: string) => void;
}

export interface ReplicaHost {
  readonly replica: Replica;
  readonly port: number;
  stop(): void;
}

/** Data-file size: every zone, plus two grid areas for checkpoints (grid_snapshot.ts). */
export function dataFileSize(config: Config): number {
  const areaBlocks = config.name === "production" ? 2048 : 4096;
  return config.zones.gridOffset + 2 * areaBlocks * config.blockSize;
}

function replicaOptions(options: HostOptions, storage: FileStorage, bus: TcpServerBus | null, time: RealTime): ReplicaOptions {
  const config = options.config ?? productionConfig;
  return {
    cluster: options.cluster, replica: options.replica, replicaCount: options.addresses.length,
    standbyCount: 0, config, release: releaseCurrent, time, storage,
    bus: bus ?? { sendToReplica: () => {}, sendToClient: () => {} },
    prng: new Prng(BigInt("0x" + randomBytes(8).toString("hex"))),
    stateMachine: new LedgerStateMachine(),
    trace: options.trace,
  };
}

/** Creates and formats a data file. */
export function formatDataFile(options: HostOptions, callback: (error: Error | null) => void): void {
  const config = options.config ?? productionConfig;
  let storage: FileStorage;
  try {
    storage = new FileStorage(options.path, config, { create: true, sizeBytes: dataFileSize(config) });
  } catch (error) {
    return callback(error as Error);
  }
  Replica.format(replicaOptions(options, storage, null, new RealTime()), () => {
    storage.close();
    callback(null);
  });
}

/** Opens the data file, binds the port, and ticks the replica until stop(). */
export function startReplica(options: HostOptions, callback: (error: Error | null, host: ReplicaHost | null) => void): void {
  const config = options.config ?? productionConfig;
  let storage: FileStorage;
  try {
    storage = new FileStorage(options.path, config);
  } catch (error) {
    return callback(error as Error, null);
  }
  const time = new RealTime();
  let replica: Replica | null = null;
  const bus = new TcpServerBus({
    replica: options.replica, addresses: options.addresses, messageSizeMax: config.messageSizeMax,
    onMessage: (message) => replica?.onMessage(message), ...(options.log && { log: options.log }),
  });
  replica = new Replica(replicaOptions(options, storage, bus, time));
  const opened = replica;
  opened.open((error) => {
    if (error !== null) return callback(new Error(`cannot open ${options.path}: ${error}`), null);
    bus.listen((listenError) => {
      if (listenError !== null) return callback(listenError, null);
      const timer = setInterval(() => {
        time.tick();
        opened.tick();
      }, tickMs);
      callback(null, {
        replica: opened,
        port: bus.port,
        stop: () => {
          clearInterval(timer);
          bus.close();
          storage.close();
        },
      });
    });
  });
}
