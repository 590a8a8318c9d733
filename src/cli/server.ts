// `scarab format` and `scarab start`: run a replica on this machine with the portable backends
// (node:fs data file with fdatasync, node:net). The io_uring + O_DIRECT backend is a later step;
// these commands keep the same flags so deployments will not change.
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { parseArgs } from "node:util";
import { FatalError } from "../core/assert.js";
import { productionConfig, testConfig, type Config } from "../core/config.js";
import { parseAddress, type Address } from "../io/tcp_client_bus.js";
import { createLogger } from "./logger.js";
import { ReplicaMetrics, serveMetrics } from "./metrics.js";
import { dataFileSize, formatDataFile, StartAborted, startReplica } from "./replica_host.js";
import { UsageError } from "./usage_error.js";

export const formatHelp = `Usage: scarab format --cluster=<u128> --replica=<index> --replica-count=<n> [--development] <path>

Creates a new data file for one replica. Refuses to overwrite an existing file.

Options:
  --cluster N         cluster id (decimal u128; clients use the same id)
  --replica I         this replica's index, 0 .. replica-count - 1
  --replica-count N   replicas in the cluster, 1 .. 6
  --development       small sizes (4 KiB messages) for experiments; not for production
  --help              print this help`;

export const startHelp = `Usage: scarab start --addresses=<a,b,c> [--cluster=<u128>] [--replica=<index>] [options] <path>

Serves clients (tigerbeetle-node 0.17.9 or Scarab's own) and peers from a formatted data file.
--addresses lists every replica's address in index order ("port", "host:port" or "[ipv6]:port").
The data file knows its cluster, replica index and replica count; --cluster and --replica, if
given, are checked against it. The file is locked while the replica runs: a second start of the
same file fails at once and touches nothing. SIGTERM or SIGINT stops it cleanly (exit 0).
Logs are JSON lines on stderr (human-readable on a terminal).

Options:
  --cluster N         check that the file belongs to this cluster
  --replica I         check that the file is this replica's
  --addresses LIST    comma-separated replica addresses, this replica's included
  --development       the data file was formatted with --development
  --log-debug         also log why the replica drops each message it ignores (verbose)
  --metrics-address A serve Prometheus metrics on A ("port" or "host:port") at /metrics
  --limit-storage S   the most the data file may grow to, e.g. 500GiB (default 16TiB); it grows
                      on demand, and the replica stops with a clear message at the limit
  --cache-grid S      memory for the ledger's pages of transfers, their links, history and id
                      index, e.g. 4GiB (default 1GiB), allocated at start-up; the rest stays on
                      disk and is read on demand
  --help              print this help`;

interface FormatArgs {
  readonly path: string;
  readonly cluster: bigint;
  readonly replica: number;
  readonly replicaCount: number;
  readonly config: Config;
}

function parseFormatArgs(args: string[]): FormatArgs | null {
  const { values, positionals } = parseFlags(args, {
    cluster: { type: "string" }, replica: { type: "string" }, "replica-count": { type: "string" },
    development: { type: "boolean" }, help: { type: "boolean" },
  });
  if (values.help) return null;
  const path = onePath(positionals);
  const cluster = clusterFlag(values.cluster);
  const replicaCount = integerFlag(values["replica-count"], "replica-count", 1, 6);
  const replica = integerFlag(values.replica, "replica", 0, replicaCount - 1);
  return { path, cluster, replica, replicaCount, config: values.development ? testConfig : productionConfig };
}

export function runFormat(args: string[]): Promise<number> {
  const parsed = parseFormatArgs(args);
  if (parsed === null) {
    console.log(formatHelp);
    return Promise.resolve(0);
  }
  if (existsSync(parsed.path)) throw new UsageError(`${parsed.path} already exists; refusing to overwrite a data file`);
  const addresses: Address[] = Array.from({ length: parsed.replicaCount }, () => ({ host: "127.0.0.1", port: 0 }));
  return new Promise((resolve) => {
    formatDataFile({ path: parsed.path, cluster: parsed.cluster, replica: parsed.replica, addresses, config: parsed.config }, (error) => {
      if (error !== null) {
        console.error(`scarab: format failed: ${error.message}`);
        return resolve(1);
      }
      const mib = Math.round(dataFileSize(parsed.config) / (1024 * 1024));
      console.log(`formatted ${parsed.path}: cluster ${parsed.cluster}, replica ${parsed.replica} of ${parsed.replicaCount}, ${mib} MiB (sparse)`);
      resolve(0);
    });
  });
}

/**
 * Signals caught before the replica is ready: bin/scarab.js installs the process handlers first
 * thing (before loading modules, which can take a second on a busy machine), records what
 * arrives in `pending`, and forwards to `handler` once runStart sets one.
 */
export interface SignalRelay {
  readonly pending: string[];
  handler: ((signal: string) => void) | null;
}

export function runStart(args: string[], signals?: SignalRelay): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    addresses: { type: "string" }, development: { type: "boolean" }, help: { type: "boolean" },
    replica: { type: "string" }, cluster: { type: "string" }, "log-debug": { type: "boolean" },
    "metrics-address": { type: "string" }, "limit-storage": { type: "string" }, "cache-grid": { type: "string" },
  });
  if (values.help) {
    console.log(startHelp);
    return Promise.resolve(0);
  }
  const path = onePath(positionals);
  if (!existsSync(path)) throw new UsageError(`${path} does not exist; create it with 'scarab format'`);
  const addresses = addressesFlag(values.addresses);
  const replica = values.replica === undefined ? undefined
    : integerFlag(values.replica, "replica", 0, addresses.length - 1);
  let cluster: bigint | undefined;
  if (values.cluster !== undefined) {
    if (!/^\d{1,39}$/.test(String(values.cluster))) throw new UsageError("--cluster must be a decimal u128");
    cluster = BigInt(String(values.cluster));
  }
  const config = values.development ? testConfig : productionConfig;
  const limitStorageBytes = values["limit-storage"] === undefined ? undefined : sizeFlag(values["limit-storage"], "limit-storage", config);
  const cacheGridBytes = values["cache-grid"] === undefined ? undefined : cacheFlag(values["cache-grid"], config);
  const metricsAddress = values["metrics-address"] === undefined ? null : addressFlag(values["metrics-address"], "metrics-address");
  const logger = createLogger({ debug: values["log-debug"] === true });
  const metrics = metricsAddress === null ? undefined : new ReplicaMetrics();
  return new Promise((resolve) => {
    // Signals are handled from the start. One that arrives while the replica opens (a supervisor
    // stopping a replica it just restarted, mid-way through replaying its WAL) aborts the start at
    // once: peers and the file close as at a crash, which recovery is built for, and it exits 0.
    let stopNow: ((signal: string) => void) | null = null;
    const starting = new AbortController();
    const onSignal = (signal: string): void => {
      if (stopNow !== null) return stopNow(signal);
      if (starting.signal.aborted) return;
      logger.info({ signal }, "stop requested while starting: abandoning the start");
      starting.abort();
    };
    // A fatal condition outside our code (storage limit, full disk) ends the process with its
    // one-line message; anything else thrown is a bug and keeps its stack trace.
    process.on("uncaughtException", (error) => {
      if (error instanceof FatalError) logger.fatal(error.message);
      else logger.fatal({ err: error }, `bug: ${error.message}`);
      process.exit(1);
    });
    if (signals === undefined) {
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    } else {
      signals.handler = onSignal;
      for (const signal of signals.pending.splice(0)) onSignal(signal);
    }
    startReplica({
      path, cluster, replica, addresses, config, logger, metrics, limitStorageBytes, cacheGridBytes, signal: starting.signal,
    }, (error, host) => {
      if (error instanceof StartAborted) {
        logger.info("stopped before serving; the data file is as a crash would leave it, and opens again");
        return resolve(0);
      }
      if (error !== null) {
        logger.fatal(error.message);
        return resolve(1);
      }
      let metricsServer: Server | null = null;
      if (metrics !== undefined && metricsAddress !== null) {
        serveMetrics(metrics, metricsAddress, (metricsError, server) => {
          if (metricsError !== null) return logger.error(`metrics: cannot listen on ${metricsAddress.host}:${metricsAddress.port}: ${metricsError.message}`);
          metricsServer = server;
          logger.info(`metrics: Prometheus text on http://${metricsAddress.host}:${metricsAddress.port}/metrics`);
        });
      }
      const self = host!.replica;
      const address = addresses[self.replica]!;
      logger.info({ replica: self.replica, cluster: String(self.cluster), port: host!.port },
        `replica ${self.replica} of ${self.replicaCount} listening on ${address.host}:${host!.port}`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ replica: self.replica, signal }, "stopping: letting in-flight IO land");
        // A stop that cannot finish (a wedged disk) must not keep a supervisor waiting forever.
        setTimeout(() => {
          logger.error({ replica: self.replica }, "stop timed out after 10 s; exiting");
          resolve(1);
        }, 10_000).unref();
        // A scraper's keep-alive connection must not keep the process up after it stopped.
        metricsServer?.closeAllConnections();
        metricsServer?.close();
        host!.stop(() => {
          logger.info({ replica: self.replica }, "stopped");
          resolve(0);
        });
      };
      stopNow = stop;
    });
  });
}

type FlagOptions = Record<string, { type: "string" | "boolean" }>;

export function parseFlags(args: string[], options: FlagOptions): {
  values: Record<string, string | boolean | undefined>; positionals: string[];
} {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A required --cluster: a decimal u128. */
export function clusterFlag(text: unknown): bigint {
  if (text === undefined || !/^\d{1,39}$/.test(String(text))) {
    throw new UsageError("--cluster is required: a decimal u128 cluster id");
  }
  const cluster = BigInt(String(text));
  if (cluster >= 1n << 128n) throw new UsageError("--cluster must fit in 128 bits");
  return cluster;
}

/** A required --addresses: every replica's address, comma-separated, in index order. */
export function addressesFlag(text: unknown): Address[] {
  if (text === undefined) throw new UsageError("--addresses is required");
  return String(text).split(",").map((item) => {
    try {
      return parseAddress(item);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  });
}

export function onePath(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError("expected exactly one data file path");
  return positionals[0]!;
}

function addressFlag(text: unknown, name: string): Address {
  try {
    return parseAddress(String(text));
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

const sizeUnits: Record<string, number> = { "": 1, B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** A size such as 500GiB in bytes, NaN when it is not one. */
function parseSize(text: unknown): number {
  const match = /^(\d+)(B|KiB|MiB|GiB|TiB)?$/.exec(String(text));
  return match === null ? NaN : Number(match[1]) * sizeUnits[match[2] ?? ""]!;
}

function sizeFlag(text: unknown, name: string, config: Config): number {
  const bytes = parseSize(text);
  // Room for a few checkpoints' roots beyond the refusal reserve (Grid.storageNearlyFull).
  const minimum = config.zones.gridOffset + 256 * config.blockSize;
  if (!Number.isSafeInteger(bytes) || bytes < minimum) {
    throw new UsageError(`--${name} must be a size such as 500GiB, at least ${Math.ceil(minimum / 2 ** 20)}MiB (got '${String(text)}')`);
  }
  return bytes;
}

/** --cache-grid: a size of at least 16 blocks (a prepare's pages must fit with room to spare). */
function cacheFlag(text: unknown, config: Config): number {
  const bytes = parseSize(text);
  const minimum = 16 * config.blockSize;
  if (!Number.isSafeInteger(bytes) || bytes < minimum) {
    throw new UsageError(`--cache-grid must be a size such as 4GiB, at least ${Math.ceil(minimum / 2 ** 20)}MiB (got '${String(text)}')`);
  }
  return bytes;
}

export function integerFlag(text: unknown, name: string, min: number, max: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}] (got '${String(text)}')`);
  }
  return value;
}
