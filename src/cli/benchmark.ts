// `scarab benchmark`: load a real cluster — a temporary one it formats, starts and removes, or a
// running one (--addresses) — through Scarab's TypeScript client, and print TigerBeetle-style
// figures: load accepted, batch latency percentiles, replica RSS, data-file size and grid bytes
// written per checkpoint. `--embedded` keeps the in-process pg-ledger workload and its JSON line.
//   benchmark_cluster.ts   the temporary cluster (format, start, wait, stop, clean up)
//   benchmark_load.ts      accounts, then transfers, every result checked
//   benchmark_scrape.ts    the replicas' Prometheus figures during the run
//   benchmark_report.ts    text lines or one JSON line
//   benchmark_progress.ts  progress bar (terminal) or a line every 10 s (logs)
//   benchmark_embedded.ts  the in-process pg-ledger workload
import { parseArgs } from "node:util";
import { createClient, RequestError, type Client } from "../client/index.js";
import { batchEventsMax, productionConfig, testConfig } from "../core/config.js";
import { parseAddress, type Address } from "../io/tcp_client_bus.js";
import { TemporaryCluster } from "./benchmark_cluster.js";
import { runEmbedded } from "./benchmark_embedded.js";
import { BenchmarkFailure, runLoad, type IdOrder } from "./benchmark_load.js";
import { Milestones } from "./benchmark_milestones.js";
import { Progress } from "./benchmark_progress.js";
import { reportJson, reportLines } from "./benchmark_report.js";
import { ReplicaSampler } from "./benchmark_scrape.js";
import { UsageError } from "./usage_error.js";

/**
 * Transfers (128 bytes each) in one request of a --development cluster (4 KiB messages): the body
 * also carries the multi-batch trailer, one element's size for a single batch (wire.md).
 */
const developmentBatchMax = Math.floor(testConfig.messageBodySizeMax / 128) - 1;

export const benchmarkHelp = `Usage: scarab benchmark [options]

Loads a cluster with uniform single-phase transfers between random distinct accounts through
Scarab's TypeScript client, checks that every account and transfer is created, and prints the load
accepted (tx/s), batch latency p50/p99/p100, replica RSS, data-file size and grid bytes written per
checkpoint. Without --addresses it formats and starts a temporary cluster on loopback (scarab
format + scarab start, files in a temporary directory), then stops it and deletes its files.
Progress goes to stderr (a bar on a terminal, a line every 10 s otherwise); figures to stdout.
Exit code 0 when every transfer was created, 1 otherwise (or on a usage error), 130 on Ctrl-C.

Options:
  --addresses LIST         load this running cluster ("port", "host:port", comma-separated, in
                           replica order) instead of a temporary one
  --metrics LIST           with --addresses: each replica's --metrics-address, same order, for
                           RSS and grid figures (without it they are reported as unknown)
  --cluster N              cluster id (default 0)
  --replica-count N        replicas of the temporary cluster, 1..6 (default 1)
  --development            format the temporary cluster with --development: 4 KiB messages (at
                           most ${developmentBatchMax} transfers per batch), a checkpoint every ${testConfig.vsrCheckpointOps} ops
  --account-count N        accounts created first, at least 2 (default 10000)
  --transfer-count N       transfers created (default 1000000)
  --transfer-batch-size N  transfers per request, 1..${batchEventsMax} (default ${batchEventsMax}; ${developmentBatchMax} with --development)
  --clients N              concurrent clients, each with one request in flight, 1..${productionConfig.clientsMax} (default 1)
  --calls-per-client N     calls each client keeps outstanding, 1..8 (default 1): with 2, the next
                           batch is encoded and queued in the client while the current one is in
                           flight (still one request at a time per client), so encoding leaves the
                           critical path; latency then includes the wait behind the call before
  --id-order ORDER         sequential: ids from id(), time-ordered as TigerBeetle recommends;
                           random: uniformly random u128 ids (default sequential)
  --seed N                 seed (u64) for account choice, amounts and random ids (default 42)
  --rate N                 offer N transfers per second (batch k waits for its time slot; one due
                           late goes at once), to measure latency at that load; default: as fast as
                           the cluster answers
  --json                   print one JSON line with every figure instead of the text lines
  --embedded               instead: the pg-ledger workload on the in-process embedded ledger (no
                           cluster, no disk; one JSON line; takes the three count/size flags)
  --help                   print this help`;

interface ClusterOptions {
  readonly addresses: Address[] | null;
  readonly metrics: Address[] | null;
  readonly cluster: bigint;
  readonly replicaCount: number;
  readonly development: boolean;
  readonly accountCount: number;
  readonly transferCount: number;
  readonly transferBatchSize: number;
  readonly clients: number;
  readonly callsPerClient: number;
  readonly idOrder: IdOrder;
  readonly seed: bigint;
  /** Transfers per second offered (--rate), or null for as fast as the cluster answers. */
  readonly rate: number | null;
  readonly json: boolean;
}

const flags = {
  addresses: { type: "string" }, metrics: { type: "string" }, cluster: { type: "string" },
  "replica-count": { type: "string" }, development: { type: "boolean" }, "account-count": { type: "string" },
  "transfer-count": { type: "string" }, "transfer-batch-size": { type: "string" }, clients: { type: "string" },
  "calls-per-client": { type: "string" },
  "id-order": { type: "string" }, seed: { type: "string" }, rate: { type: "string" }, json: { type: "boolean" }, embedded: { type: "boolean" },
  help: { type: "boolean" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof flags }>>["values"];

function integer(text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}] (got '${text}')`);
  }
  return value;
}

function unsigned(text: string | undefined, name: string, fallback: bigint, bits: number): bigint {
  if (text === undefined) return fallback;
  if (!/^\d{1,39}$/.test(text) || BigInt(text) >= 1n << BigInt(bits)) {
    throw new UsageError(`--${name} must be a decimal u${bits} (got '${text}')`);
  }
  return BigInt(text);
}

function addressList(text: string, name: string): Address[] {
  const items = text.split(",");
  if (items.length > 6) throw new UsageError(`--${name} lists at most 6 replicas (got ${items.length})`);
  return items.map((item) => {
    try {
      return parseAddress(item);
    } catch (error) {
      throw new UsageError(`--${name}: ${(error as Error).message}`);
    }
  });
}

function refuse(values: Values, names: (keyof Values)[], reason: string): void {
  for (const name of names) if (values[name] !== undefined) throw new UsageError(`--${name} cannot be used ${reason}`);
}

/** Flags → options; null for --help. Every mistake is one UsageError line. */
export function parseBenchmarkArgs(args: string[]): ClusterOptions | { embedded: true; accountCount: number; transferCount: number; batchSize: number } | null {
  let values: Values;
  try {
    ({ values } = parseArgs({ args, options: flags, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  const development = values.development === true;
  const batchMax = development ? developmentBatchMax : batchEventsMax;
  const accountCount = integer(values["account-count"], "account-count", 10_000, 2, 100_000_000);
  const transferCount = integer(values["transfer-count"], "transfer-count", 1_000_000, 1, 1e12);
  const transferBatchSize = integer(values["transfer-batch-size"], "transfer-batch-size", batchMax, 1, batchMax);
  if (values.embedded) {
    refuse(values, ["addresses", "metrics", "cluster", "replica-count", "development", "clients", "calls-per-client", "id-order", "seed", "rate", "json"],
      "with --embedded (it runs in process and always prints JSON)");
    return { embedded: true, accountCount, transferCount, batchSize: transferBatchSize };
  }
  const addresses = values.addresses === undefined ? null : addressList(values.addresses, "addresses");
  if (addresses !== null) refuse(values, ["replica-count", "development"], "with --addresses (they describe a temporary cluster)");
  const metrics = values.metrics === undefined ? null : addressList(values.metrics, "metrics");
  if (metrics !== null && addresses === null) throw new UsageError("--metrics needs --addresses (a temporary cluster is always scraped)");
  if (metrics !== null && metrics.length !== addresses!.length) {
    throw new UsageError(`--metrics must list one address per replica (${addresses!.length}), got ${metrics.length}`);
  }
  const idOrder = values["id-order"] ?? "sequential";
  if (idOrder !== "sequential" && idOrder !== "random") throw new UsageError(`--id-order must be sequential or random (got '${idOrder}')`);
  return {
    addresses, metrics, development, accountCount, transferCount, transferBatchSize, idOrder,
    cluster: unsigned(values.cluster, "cluster", 0n, 128),
    replicaCount: addresses?.length ?? integer(values["replica-count"], "replica-count", 1, 1, 6),
    clients: integer(values.clients, "clients", 1, 1, (development ? testConfig : productionConfig).clientsMax),
    callsPerClient: integer(values["calls-per-client"], "calls-per-client", 1, 1, 8),
    seed: unsigned(values.seed, "seed", 42n, 64),
    rate: values.rate === undefined ? null : integer(values.rate, "rate", 0, 1, 1e9),
    json: values.json === true,
  };
}

export async function runBenchmark(args: string[]): Promise<number> {
  const options = parseBenchmarkArgs(args);
  if (options === null) {
    console.log(benchmarkHelp);
    return 0;
  }
  if ("embedded" in options) return runEmbedded(options);
  return runCluster(options);
}

/** Ends a run early: a replica exited, or Ctrl-C. Resolves (never rejects) so nothing dangles. */
class Stop {
  reason: { message: string; code: number } | null = null;
  private resolve: () => void = () => {};
  readonly stopped = new Promise<void>((resolve) => { this.resolve = resolve; });

  stop(message: string, code: number): void {
    if (this.reason !== null) return;
    this.reason = { message, code };
    this.resolve();
  }

  /** `work`, unless the run is stopped first (then a BenchmarkFailure with the reason). */
  async race<T>(work: Promise<T>): Promise<T> {
    work.catch(() => {}); // if the stop wins, work's own failure (closed clients) is expected
    const result = await Promise.race([work, this.stopped.then(() => null)]);
    if (this.reason !== null) throw new BenchmarkFailure(this.reason.message);
    return result as T;
  }
}

async function runCluster(options: ClusterOptions): Promise<number> {
  const log = (line: string) => console.error(`benchmark: ${line}`);
  const stop = new Stop();
  const onSignal = (signal: NodeJS.Signals) => stop.stop(`interrupted by ${signal}`, 130);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let cluster: TemporaryCluster | null = null;
  let sampler: ReplicaSampler | null = null;
  const clients: Client[] = [];
  const progress = new Progress(options.transferCount, process.stderr);
  try {
    if (options.addresses === null) {
      cluster = new TemporaryCluster(options.replicaCount, options.cluster, options.development);
      log(`starting a temporary ${options.replicaCount}-replica cluster in ${cluster.directory}`);
      await stop.race(cluster.start((message) => stop.stop(message, 1)));
    }
    const addresses = cluster?.addresses ?? options.addresses!;
    const replicaAddresses = addresses.map((address) => `${address.host}:${address.port}`);
    sampler = new ReplicaSampler(cluster?.metricsAddresses ?? options.metrics ?? addresses.map(() => null));
    await stop.race(sampler.start(1000));
    for (let i = 0; i < options.clients; i++) {
      clients.push(createClient({ cluster_id: options.cluster, replica_addresses: replicaAddresses }));
    }
    const milestones = new Milestones(options.transferCount, sampler.figures);
    log(`${replicaAddresses.join(",")}: ${options.accountCount} accounts, then ${options.transferCount} transfers ` +
      `in batches of ${options.transferBatchSize}, ${options.clients} client(s) with ${options.callsPerClient} ` +
      `call(s) outstanding each, ids ${options.idOrder}`);
    // Each client runs callsPerClient load loops: its calls queue in it, one request in flight.
    const loops = clients.flatMap((client) => Array.from({ length: options.callsPerClient }, () => client));
    const load = await stop.race(runLoad(loops, {
      accountCount: options.accountCount, transferCount: options.transferCount, transferBatchSize: options.transferBatchSize,
      batchEventsMax: options.development ? developmentBatchMax : batchEventsMax, idOrder: options.idOrder, seed: options.seed,
      rate: options.rate,
      onTransfersStart: () => {
        progress.start();
        milestones.start();
      },
      onProgress: (done) => {
        progress.update(done);
        milestones.update(done);
      },
    }));
    progress.stop();
    await sampler.stop();
    const report = {
      cluster: cluster === null ? "existing" as const : "temporary" as const, replicaCount: options.replicaCount,
      clients: options.clients, callsPerClient: options.callsPerClient, idOrder: options.idOrder, accountCount: options.accountCount,
      transferCount: options.transferCount, transferBatchSize: options.transferBatchSize, rate: options.rate, load,
      replicas: sampler.figures, milestones: milestones.passed,
      dataFiles: sampler.figures.map((figures) => cluster?.dataFileSize(figures.replica) ?? null),
    };
    console.log(options.json ? reportJson(report) : reportLines(report).join("\n"));
    return 0;
  } catch (error) {
    progress.stop();
    if (error instanceof BenchmarkFailure || error instanceof RequestError) {
      console.error(`scarab benchmark: ${error instanceof RequestError ? `request failed: ${error.message}` : error.message}`);
      return stop.reason?.code ?? 1;
    }
    throw error;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    for (const client of clients) client.destroy();
    sampler?.cancel();
    if (cluster !== null) {
      log("stopping the temporary cluster and deleting its files");
      await cluster.stop();
    }
  }
}
