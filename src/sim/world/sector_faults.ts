// Sector-level fault state and corruption for StorageSim (spec/vopr.md §7).
import { assert } from "../../core/assert.js";
import { readU32 } from "../../core/bytes.js";
import { sectorSize } from "../../core/config.js";
import { Prng } from "../../core/prng.js";

/** A bitset of faulty sectors with a population count, so a fault-free read skips the scan. */
export class SectorFaults {
  private readonly words: Uint32Array;
  private population = 0;

  constructor(readonly sectorCount: number) {
    assert(Number.isSafeInteger(sectorCount) && sectorCount > 0, "SectorFaults: bad sector count");
    this.words = new Uint32Array(Math.ceil(sectorCount / 32));
  }

  get count(): number {
    return this.population;
  }

  has(sector: number): boolean {
    return ((this.words[sector >>> 5]! >>> (sector & 31)) & 1) === 1;
  }

  set(sector: number): void {
    assert(sector >= 0 && sector < this.sectorCount, "SectorFaults.set: sector out of range");
    if (this.has(sector)) return;
    this.words[sector >>> 5] = (this.words[sector >>> 5]! | (1 << (sector & 31))) >>> 0;
    this.population += 1;
  }

  unset(sector: number): void {
    assert(sector >= 0 && sector < this.sectorCount, "SectorFaults.unset: sector out of range");
    if (!this.has(sector)) return;
    this.words[sector >>> 5] = (this.words[sector >>> 5]! & ~(1 << (sector & 31))) >>> 0;
    this.population -= 1;
  }

  clear(): void {
    this.words.fill(0);
    this.population = 0;
  }
}

/**
 * Flips bits (a non-zero XOR mask) in one byte of the sector at `buffer[at..at+4096)`, which must
 * hold the pristine bytes. The position and mask come from a PRNG seeded by the pristine first 8
 * bytes (little-endian u64), so every read of the same pristine sector is corrupted identically.
 */
export function corruptSector(buffer: Uint8Array, at: number): void {
  assert(at >= 0 && at + sectorSize <= buffer.length, "corruptSector: sector outside the buffer");
  const low = readU32(buffer, at);
  const high = readU32(buffer, at + 4);
  const prng = new Prng((BigInt(high) << 32n) | BigInt(low));
  const position = prng.int(sectorSize);
  const mask = prng.range(1, 255);
  buffer[at + position] = buffer[at + position]! ^ mask;
}

/**
 * The contents of a never-written sector (§7 item 4): pseudo-random, not zeros, so that code
 * which trusts unwritten space fails loudly. A pure function of (storage seed, sector), like a
 * real disk's stale contents, so retries and checkers agree and no PRNG stream is consumed.
 * Murmur3's 32-bit finaliser over a Weyl sequence: integer-only and fast.
 */
export function fillUnwrittenSector(target: Uint8Array, at: number, seed: number, sector: number): void {
  let state = fmix32((seed ^ fmix32(sector + 1)) >>> 0);
  for (let index = at; index < at + sectorSize; index += 4) {
    state = (state + 0x9e37_79b9) >>> 0;
    const word = fmix32(state);
    target[index] = word & 0xff;
    target[index + 1] = (word >>> 8) & 0xff;
    target[index + 2] = (word >>> 16) & 0xff;
    target[index + 3] = word >>> 24;
  }
}

function fmix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
