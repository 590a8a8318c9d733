// Network swarm parameters (spec/vopr.md §3.2) and the partition/command-filter vocabulary of the
// packet simulator (§9). Options are kept in the spec's units (ms, ticks, ratios); the packet
// simulator converts milliseconds to ticks at the point of use.
import { assert } from "../../core/assert.js";
import type { Prng } from "../../core/prng.js";
import { formatRatio as r, percent, type Ratio } from "../ratio.js";

export const PartitionMode = { none: 0, uniform_size: 1, uniform_partition: 2, isolate_single: 3 } as const;
export type PartitionMode = (typeof PartitionMode)[keyof typeof PartitionMode];
export const partitionModeNames: readonly string[] = ["none", "uniform_size", "uniform_partition", "isolate_single"];

export const PartitionSymmetry = { symmetric: 0, asymmetric: 1 } as const;
export type PartitionSymmetry = (typeof PartitionSymmetry)[keyof typeof PartitionSymmetry];
export const partitionSymmetryNames: readonly string[] = ["symmetric", "asymmetric"];

/** A link's command filter: bit c set ⇔ command c may pass. Commands are 0..24 (wire.md §3). */
export const commandMaskAll = 0xffff_ffff;
export const commandMaskNone = 0;

export function commandMask(commands: readonly number[]): number {
  let mask = 0;
  for (const command of commands) {
    assert(Number.isInteger(command) && command >= 0 && command < 32, "commandMask: bad command");
    mask = (mask | (1 << command)) >>> 0;
  }
  return mask;
}

export function commandAllowed(mask: number, command: number): boolean {
  return command < 32 && ((mask >>> command) & 1) === 1;
}

/** The automatic partitions' parameters (NetworkPartition). */
export interface PartitionOptions {
  readonly partitionMode: PartitionMode;
  readonly partitionSymmetry: PartitionSymmetry;
  readonly partitionProbability: Ratio;
  readonly unpartitionProbability: Ratio;
  /** Minimum partitioned duration, in ticks. */
  readonly partitionStabilityTicks: number;
  /** Minimum healed duration, in ticks. */
  readonly unpartitionStabilityTicks: number;
}

export interface PacketSimulatorOptions extends PartitionOptions {
  /** Active replicas: nodes 0..replicaCount−1. */
  readonly replicaCount: number;
  /** Standbys: nodes replicaCount..replicaCount+standbyCount−1. Partitioned like replicas. */
  readonly standbyCount: number;
  /** Client nodes follow the replicas and standbys; they are never partitioned. */
  readonly clientCount: number;
  /** Seed of the network's own PRNG (a sub-seed, spec/vopr.md §1). */
  readonly seed: bigint;
  /** Largest message; sizes the pooled packet buffers. */
  readonly messageSizeMax: number;
  readonly oneWayDelayMinMs: number;
  readonly oneWayDelayMeanMs: number;
  readonly packetLossProbability: Ratio;
  readonly packetReplayProbability: Ratio;
  readonly pathMaximumCapacity: number;
  readonly pathClogDurationMeanMs: number;
  readonly pathClogProbability: Ratio;
}

/**
 * Draws the network options of spec/vopr.md §3.2 in the table's order, then the network seed.
 * The caller draws the cluster first and the storage after (§1 "fixed order").
 */
export function swarmNetworkOptions(
  prng: Prng,
  replicaCount: number,
  standbyCount: number,
  clientCount: number,
  messageSizeMax: number,
): PacketSimulatorOptions {
  const oneWayDelayMinMs = prng.range(0, 30);
  const oneWayDelayMeanMs = prng.range(30, 100);
  const packetLossProbability = percent(prng.range(0, 30));
  const packetReplayProbability = percent(prng.range(0, 50));
  const pathMaximumCapacity = prng.range(2, 20);
  const pathClogDurationMeanMs = prng.range(0, 5000);
  const pathClogProbability = percent(prng.range(0, 2));
  const partitionMode = prng.range(0, 3) as PartitionMode;
  const partitionSymmetry = prng.range(0, 1) as PartitionSymmetry;
  const partitionProbability = percent(prng.range(0, 3));
  const unpartitionProbability = percent(prng.range(1, 10));
  const partitionStabilityTicks = 100 + prng.range(0, 100);
  const unpartitionStabilityTicks = prng.range(0, 20);
  return {
    replicaCount,
    standbyCount,
    clientCount,
    seed: prng.next(),
    messageSizeMax,
    oneWayDelayMinMs,
    oneWayDelayMeanMs,
    packetLossProbability,
    packetReplayProbability,
    pathMaximumCapacity,
    pathClogDurationMeanMs,
    pathClogProbability,
    partitionMode,
    partitionSymmetry,
    partitionProbability,
    unpartitionProbability,
    partitionStabilityTicks,
    unpartitionStabilityTicks,
  };
}

/**
 * `--performance` mode (spec/vopr.md §4): constant 50 ms mean delay, no loss, replay,
 * partitions or clogging.
 */
export function performanceNetworkOptions(
  seed: bigint,
  replicaCount: number,
  clientCount: number,
  messageSizeMax: number,
): PacketSimulatorOptions {
  const zero = percent(0);
  return {
    replicaCount,
    standbyCount: 0,
    clientCount,
    seed,
    messageSizeMax,
    oneWayDelayMinMs: 50,
    oneWayDelayMeanMs: 50,
    packetLossProbability: zero,
    packetReplayProbability: zero,
    pathMaximumCapacity: 20,
    pathClogDurationMeanMs: 0,
    pathClogProbability: zero,
    partitionMode: PartitionMode.none,
    partitionSymmetry: PartitionSymmetry.symmetric,
    partitionProbability: zero,
    unpartitionProbability: percent(1),
    partitionStabilityTicks: 100,
    unpartitionStabilityTicks: 0,
  };
}

/** One line per option, for the VOPR's start-up banner (spec/vopr.md §1 "a failing seed describes itself"). */
export function describeNetworkOptions(o: PacketSimulatorOptions): string {
  return [
    `one_way_delay_min=${o.oneWayDelayMinMs}ms one_way_delay_mean=${o.oneWayDelayMeanMs}ms`,
    `packet_loss_probability=${r(o.packetLossProbability)}`,
    `packet_replay_probability=${r(o.packetReplayProbability)}`,
    `path_maximum_capacity=${o.pathMaximumCapacity} path_clog_duration_mean=${o.pathClogDurationMeanMs}ms`,
    `path_clog_probability=${r(o.pathClogProbability)}`,
    `partition_mode=${partitionModeNames[o.partitionMode]}`,
    `partition_symmetry=${partitionSymmetryNames[o.partitionSymmetry]}`,
    `partition_probability=${r(o.partitionProbability)} unpartition_probability=${r(o.unpartitionProbability)}`,
    `partition_stability=${o.partitionStabilityTicks} unpartition_stability=${o.unpartitionStabilityTicks}`,
  ].join("\n");
}
