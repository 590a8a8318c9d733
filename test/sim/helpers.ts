// Shared helpers for the simulator tests: framed messages and a small trace hash.
import { headerSize } from "../../src/core/config.js";
import { ratioZero } from "../../src/sim/ratio.js";
import { PartitionMode, PartitionSymmetry, type PacketSimulatorOptions } from "../../src/sim/world/network_options.js";

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

/** FNV-1a over a running sequence of numbers and bytes: enough to compare two traces. */
export class TraceHash {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private count = 0;

  number(value: number): void {
    this.byte(value & 0xff);
    this.byte((value >>> 8) & 0xff);
    this.byte((value >>> 16) & 0xff);
    this.byte((value >>> 24) & 0xff);
  }

  bytes(values: Uint8Array): void {
    for (const value of values) this.byte(value);
  }

  get digest(): string {
    return `${(this.h1 >>> 0).toString(16)}:${(this.h2 >>> 0).toString(16)}:${this.count}`;
  }

  private byte(value: number): void {
    this.h1 = Math.imul(this.h1 ^ value, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ value, 0x811c9dc5 | 1);
    this.count += 1;
  }
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
