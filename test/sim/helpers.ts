// Shared helpers for the simulator tests: framed messages, a quiet network, draining a StorageSim.
import { headerSize } from "../../src/core/config.js";
import { ratioZero } from "../../src/sim/ratio.js";
import { PartitionMode, PartitionSymmetry, type PacketSimulatorOptions } from "../../src/sim/world/network_options.js";
import type { StorageSim } from "../../src/sim/world/storage_sim.js";

/** A message of `size` bytes: size (u32 LE) at 96, command at 114, `tag` (u32 LE) at 256 if room. */
export function message(command: number, size: number = headerSize, tag = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(96, size, true);
  bytes[114] = command;
  if (size >= headerSize + 4) new DataView(bytes.buffer).setUint32(headerSize, tag, true);
  return bytes;
}

export function tagOf(bytes: Uint8Array): number {
  if (bytes.length < headerSize + 4) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(headerSize, true);
}

/** A quiet network: fixed delay, nothing lost, replayed, clogged or partitioned. */
export function quietOptions(overrides: Partial<PacketSimulatorOptions> = {}): PacketSimulatorOptions {
  return {
    replicaCount: 3,
    standbyCount: 0,
    clientCount: 2,
    seed: 1n,
    messageSizeMax: 4096,
    oneWayDelayMinMs: 0,
    oneWayDelayMeanMs: 0,
    packetLossProbability: ratioZero,
    packetReplayProbability: ratioZero,
    pathMaximumCapacity: 1000,
    pathClogDurationMeanMs: 0,
    pathClogProbability: ratioZero,
    partitionMode: PartitionMode.none,
    partitionSymmetry: PartitionSymmetry.symmetric,
    partitionProbability: ratioZero,
    unpartitionProbability: ratioZero,
    partitionStabilityTicks: 0,
    unpartitionStabilityTicks: 0,
    ...overrides,
  };
}

/** Steps and ticks `storage` until every IO and next-tick callback has run. */
export function drainSim(storage: StorageSim): void {
  for (let tick = 0; tick < 100_000; tick++) {
    while (storage.step()) { /* drain this tick */ }
    if (storage.pendingIo === 0 && storage.pendingNextTicks === 0) return;
    storage.tick();
  }
  throw new Error("StorageSim did not drain");
}
