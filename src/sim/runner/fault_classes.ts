// Fault classes that `scarab vopr --faults-off=CLASS,...` switches off (and that `vopr shrink`
// tries to do without). Each class is one family of the swarm's drawn faults (spec/vopr.md §3.2
// network, §3.3 storage, §3.4 process, §10 clocks). Switching a class off zeroes its probability
// (or makes the clocks ideal) AFTER every parameter was drawn, so the seed's other parameters keep
// their values; only the run's dice that the class used to spend are no longer drawn.
import { ratioZero, type Ratio } from "../ratio.js";
import { PartitionMode, type PacketSimulatorOptions } from "../world/network_options.js";
import type { StorageFaultOptions } from "../world/storage_options.js";
import { idealClock, type ClockOffset } from "../world/time_sim.js";

export const faultClasses = [
  "packet-loss", "packet-replay", "path-clogs", "partitions",
  "crashes", "pauses", "reformats",
  "latent-errors", "write-corruption", "misdirected-writes", "torn-writes",
  "clock-skew", "clock-jumps",
] as const;

export type FaultClass = (typeof faultClasses)[number];

/** What each class zeroes, for `scarab vopr --help`. */
export const faultClassHelp: Readonly<Record<FaultClass, string>> = {
  "packet-loss": "packet_loss_probability",
  "packet-replay": "packet_replay_probability",
  "path-clogs": "path_clog_probability",
  "partitions": "partition_probability (partitions never start)",
  "crashes": "replica_crash_probability (so no restarts, reformats or torn writes either)",
  "pauses": "replica_pause_probability",
  "reformats": "replica_reformat_probability (restarts keep their data file)",
  "latent-errors": "read_fault_probability",
  "write-corruption": "write_fault_probability",
  "misdirected-writes": "write_misdirect_probability",
  "torn-writes": "crash_fault_probability",
  "clock-skew": "every clock ideal (no offset, drift, jump or swing)",
  "clock-jumps": "clocks that jump once (step model) become ideal",
};

export function isFaultClass(name: string): name is FaultClass {
  return (faultClasses as readonly string[]).includes(name);
}

/** The process faults of §3.4 that a class can zero (swarm.ts ProcessFaults has these and more). */
export interface ProcessFaultRatios {
  readonly crashProbability: Ratio;
  readonly crashProbabilityWritesPending: Ratio;
  readonly pauseProbability: Ratio;
  readonly reformatProbability: Ratio;
}

/** The drawn faults, as the swarm holds them. */
export interface FaultParameters<P extends ProcessFaultRatios> {
  readonly network: PacketSimulatorOptions;
  readonly storage: StorageFaultOptions;
  readonly process: P;
  readonly clocks: readonly ClockOffset[];
}

/** A copy of `drawn` with every class in `off` switched off; everything else is untouched. */
export function switchFaultsOff<P extends ProcessFaultRatios, T extends FaultParameters<P>>(drawn: T, off: readonly FaultClass[]): T {
  if (off.length === 0) return drawn;
  const has = (name: FaultClass): boolean => off.includes(name);
  const zeroIf = (name: FaultClass, value: Ratio): Ratio => (has(name) ? ratioZero : value);
  const { network, storage, process } = drawn;
  return {
    ...drawn,
    network: {
      ...network,
      packetLossProbability: zeroIf("packet-loss", network.packetLossProbability),
      packetReplayProbability: zeroIf("packet-replay", network.packetReplayProbability),
      pathClogProbability: zeroIf("path-clogs", network.pathClogProbability),
      partitionProbability: zeroIf("partitions", network.partitionProbability),
    },
    storage: {
      ...storage,
      readFaultProbability: zeroIf("latent-errors", storage.readFaultProbability),
      writeFaultProbability: zeroIf("write-corruption", storage.writeFaultProbability),
      writeMisdirectProbability: zeroIf("misdirected-writes", storage.writeMisdirectProbability),
      crashFaultProbability: zeroIf("torn-writes", storage.crashFaultProbability),
    },
    process: {
      ...process,
      crashProbability: zeroIf("crashes", process.crashProbability),
      crashProbabilityWritesPending: zeroIf("crashes", process.crashProbabilityWritesPending),
      pauseProbability: zeroIf("pauses", process.pauseProbability),
      reformatProbability: zeroIf("reformats", process.reformatProbability),
    },
    clocks: drawn.clocks.map((clock) =>
      has("clock-skew") || (has("clock-jumps") && clock.model === "step") ? idealClock : clock),
  };
}

/**
 * The classes that can fire in a run with these parameters: switching any other off changes
 * nothing. A class that depends on another (reformats and torn writes on crashes, jumps on skew)
 * counts as active only while that one is.
 */
export function activeFaultClasses(p: FaultParameters<ProcessFaultRatios>): FaultClass[] {
  const on = (r: Ratio): boolean => r.numerator > 0;
  const crashes = on(p.process.crashProbability) || on(p.process.crashProbabilityWritesPending);
  const active: Record<FaultClass, boolean> = {
    "packet-loss": on(p.network.packetLossProbability),
    "packet-replay": on(p.network.packetReplayProbability),
    "path-clogs": on(p.network.pathClogProbability),
    "partitions": p.network.partitionMode !== PartitionMode.none && on(p.network.partitionProbability),
    "crashes": crashes,
    "pauses": on(p.process.pauseProbability),
    "reformats": crashes && on(p.process.reformatProbability),
    "latent-errors": on(p.storage.readFaultProbability),
    "write-corruption": on(p.storage.writeFaultProbability),
    "misdirected-writes": on(p.storage.writeMisdirectProbability),
    "torn-writes": crashes && on(p.storage.crashFaultProbability),
    "clock-skew": p.clocks.some((clock) => clock !== idealClock),
    "clock-jumps": p.clocks.some((clock) => clock.model === "step"),
  };
  return faultClasses.filter((name) => active[name]);
}
