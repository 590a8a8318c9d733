// Storage swarm parameters (spec/vopr.md §3.3) and the per-replica options of StorageSim.
// Latencies are in ms as the spec states them; StorageSim floors them to whole ticks.
import type { Config } from "../../core/config.js";
import type { Prng } from "../../core/prng.js";
import type { FaultAtlas } from "./fault_atlas.js";
import { formatRatio as r, percent, ratioZero, type Ratio } from "../ratio.js";

/** Drawn once per run and shared by every replica's storage (TigerBeetle does the same). */
export interface StorageFaultOptions {
  readonly readLatencyMinMs: number;
  readonly readLatencyMeanMs: number;
  readonly writeLatencyMinMs: number;
  readonly writeLatencyMeanMs: number;
  /** Per completed read: mark one sector of the read faulty, within an atlas chunk (§7 item 1). */
  readonly readFaultProbability: Ratio;
  /** Per landed write: mark one sector of the write faulty, within an atlas chunk (§7 item 2). */
  readonly writeFaultProbability: Ratio;
  /** §7 item 3. Not implemented yet: must be zero (see StorageSim's todoMisdirectedWrites). */
  readonly writeMisdirectProbability: Ratio;
  /** Per pending write at a crash: tear one sector of its target, any zone (§7 item 5). */
  readonly crashFaultProbability: Ratio;
}

export interface StorageSimOptions extends StorageFaultOptions {
  readonly config: Config;
  /** The data-file size (storage_size_limit, §3.1), sector-aligned; the grid takes the rest. */
  readonly sizeBytes: number;
  /** This storage's replica; the atlas decides which chunks it may fault. */
  readonly replicaIndex: number;
  /** Seed of the storage's own PRNG and of its never-written sector contents. */
  readonly seed: bigint;
  readonly faultAtlas: FaultAtlas | null;
  /** Whether faults are visible from the start (spec/vopr.md §8 "Start-up"). Default true. */
  readonly faulty?: boolean;
}

/**
 * Draws spec/vopr.md §3.3 in the table's order. The misdirect probability is drawn, so that the
 * draw order is already final, but zeroed until misdirected writes exist.
 */
export function swarmStorageOptions(prng: Prng): StorageFaultOptions {
  const readLatencyMinMs = prng.range(0, 30);
  const writeLatencyMinMs = prng.range(0, 30);
  const readLatencyMeanMs = prng.range(readLatencyMinMs, 100);
  const writeLatencyMeanMs = prng.range(writeLatencyMinMs, 1000);
  // Read, write and misdirection faults are drawn (so the draw order is already final) but
  // zeroed: repairing corrupt WAL slots, replies and grid blocks from peers is the storage-fault
  // issue. Crash faults (pending writes lost, a torn sector) are process faults and stay on.
  // TODO(storage faults issue): use the drawn values.
  const drawnReadFault = prng.range(0, 10);
  const drawnWriteFault = prng.range(0, 10);
  const drawnMisdirect = prng.range(0, 10);
  const crashFaultProbability = percent(prng.range(80, 100));
  void drawnReadFault;
  void drawnWriteFault;
  void drawnMisdirect;
  return {
    readLatencyMinMs,
    readLatencyMeanMs,
    writeLatencyMinMs,
    writeLatencyMeanMs,
    readFaultProbability: ratioZero,
    writeFaultProbability: ratioZero,
    writeMisdirectProbability: ratioZero,
    crashFaultProbability,
  };
}

/** `--performance` (spec/vopr.md §4): zero latency and no faults. */
export const performanceStorageOptions: StorageFaultOptions = {
  readLatencyMinMs: 0,
  readLatencyMeanMs: 0,
  writeLatencyMinMs: 0,
  writeLatencyMeanMs: 0,
  readFaultProbability: ratioZero,
  writeFaultProbability: ratioZero,
  writeMisdirectProbability: ratioZero,
  crashFaultProbability: ratioZero,
};

export function describeStorageOptions(o: StorageFaultOptions): string {
  return [
    `read_latency_min=${o.readLatencyMinMs}ms read_latency_mean=${o.readLatencyMeanMs}ms`,
    `write_latency_min=${o.writeLatencyMinMs}ms write_latency_mean=${o.writeLatencyMeanMs}ms`,
    `read_fault_probability=${r(o.readFaultProbability)} write_fault_probability=${r(o.writeFaultProbability)}`,
    `write_misdirect_probability=${r(o.writeMisdirectProbability)}`,
    `crash_fault_probability=${r(o.crashFaultProbability)}`,
  ].join("\n");
}
