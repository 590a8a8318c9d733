// Storage swarm parameters (spec/vopr.md §3.3) and the per-replica options of StorageSim.
// Latencies are in ms as the spec states them; StorageSim floors them to whole ticks.
import type { Config } from "../../core/config.js";
import type { Prng } from "../../core/prng.js";
import type { FaultAtlas } from "./fault_atlas.js";
import type { DeviceTicks } from "./device_ticks.js";
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
  /** Per landed write inside a faulty atlas chunk: land it in another such chunk instead (§7 item 3). */
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
  /** The cluster's device tick count (device_ticks.ts); without it, the storage counts its own tick() calls. */
  readonly ticks?: DeviceTicks;
}

/**
 * Draws spec/vopr.md §3.3 in the table's order. Read, write and misdirect faults land only where
 * the fault atlas allows (fault_atlas.ts); crash faults anywhere.
 */
export function swarmStorageOptions(prng: Prng): StorageFaultOptions {
  const readLatencyMinMs = prng.range(0, 30);
  const writeLatencyMinMs = prng.range(0, 30);
  const readLatencyMeanMs = prng.range(readLatencyMinMs, 100);
  const writeLatencyMeanMs = prng.range(writeLatencyMinMs, 1000);
  const readFaultProbability = percent(prng.range(0, 10));
  const writeFaultProbability = percent(prng.range(0, 10));
  const writeMisdirectProbability = percent(prng.range(0, 10));
  const crashFaultProbability = percent(prng.range(80, 100));
  return {
    readLatencyMinMs,
    readLatencyMeanMs,
    writeLatencyMinMs,
    writeLatencyMeanMs,
    readFaultProbability,
    writeFaultProbability,
    writeMisdirectProbability,
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
