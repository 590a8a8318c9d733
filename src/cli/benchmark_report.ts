// The figures of a `scarab benchmark` run: plain `name = value` lines in TigerBeetle's benchmark
// style, or (--json) one JSON line with the same figures for scripts. A figure the benchmark could
// not observe (no metrics endpoint for an existing cluster) is "unknown" / null, never a guess.
import { summary } from "./benchmark_latency.js";
import type { LoadResult } from "./benchmark_load.js";
import { milestoneLines, type Milestone } from "./benchmark_milestones.js";
import type { ReplicaFigures } from "./benchmark_scrape.js";

export interface DataFileSize {
  readonly bytes: number;
  readonly allocatedBytes: number;
}

export interface BenchmarkReport {
  readonly cluster: "temporary" | "existing";
  readonly replicaCount: number;
  readonly clients: number;
  readonly callsPerClient: number;
  readonly idOrder: string;
  readonly accountCount: number;
  readonly transferCount: number;
  readonly transferBatchSize: number;
  /** Transfers per second offered (--rate), or null for as fast as the cluster answers. */
  readonly rate: number | null;
  readonly load: LoadResult;
  readonly replicas: readonly ReplicaFigures[];
  /** Per replica; null when the file is not on this machine (an existing cluster). */
  readonly dataFiles: readonly (DataFileSize | null)[];
  /** Throughput and RSS at each tenth of the transfers (benchmark_milestones.ts). */
  readonly milestones?: readonly Milestone[];
}

const percentiles = [50, 99, 100] as const;

export function loadAccepted(report: BenchmarkReport): number {
  return report.load.transferSeconds > 0 ? Math.round(report.load.transfersCreated / report.load.transferSeconds) : 0;
}

function bytes(value: number | null): string {
  if (value === null) return "unknown";
  return value >= 1024 * 1024 ? `${value} bytes (${(value / (1024 * 1024)).toFixed(1)} MiB)` : `${value} bytes`;
}

/** The largest of a per-replica figure and which replica had it, or null if none is known. */
function largest(values: readonly (number | null)[]): { value: number; replica: number } | null {
  let best: { value: number; replica: number } | null = null;
  values.forEach((value, replica) => {
    if (value !== null && (best === null || value > best.value)) best = { value, replica };
  });
  return best;
}

function largestText(values: readonly (number | null)[], replicaCount: number): string {
  const best = largest(values);
  if (best === null) return "unknown";
  return replicaCount > 1 ? `${bytes(best.value)}, replica ${best.replica}` : bytes(best.value);
}

export function reportLines(report: BenchmarkReport): string[] {
  const { load, replicas } = report;
  const lines = [
    `${report.accountCount} accounts created in ${load.accountSeconds.toFixed(2)} s`,
    `${load.batches} batches in ${load.transferSeconds.toFixed(2)} s`,
    `transfer batch size = ${report.transferBatchSize} txs`,
    `clients = ${report.clients}, calls outstanding per client = ${report.callsPerClient}`,
    `transfers created = ${load.transfersCreated}`,
    ...(report.rate === null ? [] : [`load offered = ${report.rate} tx/s`]),
    `load accepted = ${loadAccepted(report)} tx/s`,
    ...percentiles.map((p) => `batch latency p${p} = ${load.latency.percentileMs(p).toFixed(1)} ms`),
    `rss peak = ${largestText(replicas.map((r) => r.rssPeakBytes), report.replicaCount)}`,
    `rss final = ${largestText(replicas.map((r) => r.rssFinalBytes), report.replicaCount)}`,
    `datafile = ${largestText(report.dataFiles.map((file) => file?.bytes ?? null), report.replicaCount)}`,
    `datafile allocated = ${largestText(report.dataFiles.map((file) => file?.allocatedBytes ?? null), report.replicaCount)}`,
    `grid bytes written = ${largestText(replicas.map((r) => r.gridBytesWritten), report.replicaCount)}`,
    `checkpoints = ${replicas.some((r) => r.scrapes > 0) ? Math.max(...replicas.map((r) => r.checkpoints)) : "unknown"}`,
    `bytes written per checkpoint = ${checkpointText(replicas)}`,
  ];
  if (report.replicaCount > 1) {
    for (const figures of replicas) {
      const file = report.dataFiles[figures.replica];
      lines.push(`replica ${figures.replica}: rss peak = ${bytes(figures.rssPeakBytes)}, rss final = ${bytes(figures.rssFinalBytes)}, ` +
        `datafile allocated = ${bytes(file?.allocatedBytes ?? null)}, checkpoints = ${figures.checkpoints}`);
    }
  }
  lines.push(...milestoneLines(report.milestones ?? []));
  return lines;
}

/** Samples of every replica together: each replica writes its own checkpoints. */
function checkpointText(replicas: readonly ReplicaFigures[]): string {
  const samples = replicas.flatMap((r) => r.checkpointBytesSamples);
  const figures = summary(samples);
  if (figures === null) {
    return replicas.some((r) => r.scrapes > 0) ? "none (no checkpoint during the run)" : "unknown";
  }
  return `min ${figures.min}, median ${figures.median}, max ${figures.max} bytes (${samples.length} samples)`;
}

export function reportJson(report: BenchmarkReport): string {
  const { load, replicas } = report;
  const checkpointBytes = summary(replicas.flatMap((r) => r.checkpointBytesSamples));
  return JSON.stringify({
    system: "scarab", cluster: report.cluster, replicas: report.replicaCount, clients: report.clients,
    calls_per_client: report.callsPerClient,
    id_order: report.idOrder, accounts: report.accountCount, transfers: report.transferCount,
    transfers_created: load.transfersCreated, transfer_batch_size: report.transferBatchSize, batches: load.batches,
    account_seconds: round(load.accountSeconds, 3), seconds: round(load.transferSeconds, 3),
    transfers_per_second: loadAccepted(report), rate: report.rate,
    batch_p50_ms: round(load.latency.percentileMs(50), 2), batch_p99_ms: round(load.latency.percentileMs(99), 2),
    batch_p100_ms: round(load.latency.percentileMs(100), 2),
    rss_peak_bytes: largest(replicas.map((r) => r.rssPeakBytes))?.value ?? null,
    rss_final_bytes: largest(replicas.map((r) => r.rssFinalBytes))?.value ?? null,
    checkpoint_bytes_written: checkpointBytes,
    milestones: (report.milestones ?? []).map((m) => ({
      transfers: m.transfers, segment_transfers_per_second: m.segmentTransfersPerSecond, rss_bytes: m.rssBytes,
    })),
    replica: replicas.map((r) => ({
      replica: r.replica, rss_peak_bytes: r.rssPeakBytes, rss_final_bytes: r.rssFinalBytes,
      datafile_bytes: report.dataFiles[r.replica]?.bytes ?? null,
      datafile_allocated_bytes: report.dataFiles[r.replica]?.allocatedBytes ?? null,
      grid_bytes_written: r.gridBytesWritten, grid_blocks_acquired: r.gridBlocksAcquired,
      checkpoints: r.checkpoints, checkpoint_bytes_written_samples: r.checkpointBytesSamples,
    })),
  });
}

function round(value: number, digits: number): number {
  return +value.toFixed(digits);
}
