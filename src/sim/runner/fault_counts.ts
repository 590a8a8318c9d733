// What a seed injected and what its replicas repaired (spec/vopr.md §7, §10): printed per seed
// and summed by the fleet. Kept apart from the simulator so the CLI can print them without
// loading it.

export interface FaultCounts {
  crashes: number;
  restarts: number;
  pauses: number;
  partitions: number;
  evictions: number;
  packetsDropped: number;
  packetsReplayed: number;
  /** Storage faults (StorageSim.stats, summed over the nodes). */
  latentErrors: number;
  writeCorruptions: number;
  misdirectedWrites: number;
  tornWrites: number;
  /** Nodes whose clock was drawn off ideal, and step jumps that happened (swarm_clocks.ts). */
  clocksSkewed: number;
  clockJumps: number;
  /** Data files lost and recovered (spec/vopr.md §8 "Reformat"). */
  reformats: number;
}

export const faultCountKeys: readonly (keyof FaultCounts)[] = [
  "crashes", "restarts", "pauses", "partitions", "evictions", "packetsDropped", "packetsReplayed",
  "latentErrors", "writeCorruptions", "misdirectedWrites", "tornWrites", "clocksSkewed", "clockJumps", "reformats",
];

export function noFaults(): FaultCounts {
  return Object.fromEntries(faultCountKeys.map((key) => [key, 0])) as unknown as FaultCounts;
}

/** What the replicas repaired, from their notices and events. */
export interface RepairCounts {
  /** WAL headers installed from peers (repair_headers notices). */
  walHeaders: number;
  /** WAL prepares written from peers (repair_prepare notices). */
  walPrepares: number;
  /** Grid blocks fetched and written back (repair_block notices). */
  gridBlocks: number;
  /** Faulty grid blocks the scrubber found (scrub_fault notices; their repairs count in gridBlocks). */
  scrubFaults: number;
  /** Client replies fetched from peers and written back (repair_reply notices). */
  replies: number;
  /** Opens that rewrote superblock copies (repair_superblock notices). */
  superblocks: number;
  /** State syncs completed. */
  stateSyncs: number;
  /** Opens that went on without the checkpoint's state, its blocks unrepaired (state_deferred notices). */
  statesDeferred: number;
}

export const repairCountKeys: readonly (keyof RepairCounts)[] = [
  "walHeaders", "walPrepares", "gridBlocks", "scrubFaults", "replies", "superblocks", "stateSyncs", "statesDeferred",
];

export function noRepairs(): RepairCounts {
  return { walHeaders: 0, walPrepares: 0, gridBlocks: 0, scrubFaults: 0, replies: 0, superblocks: 0, stateSyncs: 0, statesDeferred: 0 };
}

/** One seed's "faults: crashes=2 … repairs: gridBlocks=3 …", the non-zero counts only. */
export function describeCounts(faults: FaultCounts, repairs: RepairCounts): string {
  const some = <T>(keys: readonly (keyof T)[], counts: T): string =>
    keys.filter((key) => Number(counts[key]) > 0).map((key) => `${String(key)}=${counts[key]}`).join(" ") || "none";
  return `faults: ${some(faultCountKeys, faults)}; repairs: ${some(repairCountKeys, repairs)}`;
}
