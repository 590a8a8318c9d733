// Deterministic PRNG: xoshiro256++ seeded with SplitMix64 (spec/wire.md §7.8, spec/vopr.md §1).
// All randomness in the replica and the simulator flows from one u64 seed through a tree of these
// generators (`split()`), with integer-only probability helpers. The u64 state is kept as pairs of
// u32 words so that drawing never allocates a BigInt.
import { assert } from "./assert.js";

const two32 = 0x1_0000_0000;
const mask64 = 0xffff_ffff_ffff_ffffn;
/** Bounds up to this take intBelowSmall: a u32 times it stays below 2^53. */
const smallBound = 0x20_0000;

export class Prng {
  // State words s0..s3 as (hi, lo) u32 pairs.
  private s0h = 0; private s0l = 0;
  private s1h = 0; private s1l = 0;
  private s2h = 0; private s2l = 0;
  private s3h = 0; private s3l = 0;
  // The last output of `step()`.
  private outHi = 0;
  private outLo = 0;
  // The last mul32 product (fields, not a returned pair: draws are hot in the simulator).
  private productHi = 0;
  private productLo = 0;

  constructor(seed: bigint | number) {
    let x = BigInt(seed);
    assert(x >= 0n && x <= mask64, "seed must be a u64");
    const words: bigint[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e37_79b9_7f4a_7c15n) & mask64;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & mask64;
      z = ((z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn) & mask64;
      words.push(z ^ (z >> 31n));
    }
    [this.s0h, this.s0l] = split64(words[0]!);
    [this.s1h, this.s1l] = split64(words[1]!);
    [this.s2h, this.s2l] = split64(words[2]!);
    [this.s3h, this.s3l] = split64(words[3]!);
  }

  /** The state as four u64 values (for tests and debugging). */
  state(): bigint[] {
    return [
      join64(this.s0h, this.s0l), join64(this.s1h, this.s1l),
      join64(this.s2h, this.s2l), join64(this.s3h, this.s3l),
    ];
  }

  /** Advances once; the output is left in outHi/outLo. */
  private step(): void {
    // r = rotl(s0 + s3, 23) + s0
    const sumLo = (this.s0l + this.s3l) >>> 0;
    const sumHi = (this.s0h + this.s3h + (sumLo < this.s0l ? 1 : 0)) >>> 0;
    const rotHi = ((sumHi << 23) | (sumLo >>> 9)) >>> 0;
    const rotLo = ((sumLo << 23) | (sumHi >>> 9)) >>> 0;
    const rLo = (rotLo + this.s0l) >>> 0;
    this.outHi = (rotHi + this.s0h + (rLo < rotLo ? 1 : 0)) >>> 0;
    this.outLo = rLo;
    // t = s1 << 17
    const tHi = ((this.s1h << 17) | (this.s1l >>> 15)) >>> 0;
    const tLo = (this.s1l << 17) >>> 0;
    this.s2h = (this.s2h ^ this.s0h) >>> 0; this.s2l = (this.s2l ^ this.s0l) >>> 0;
    this.s3h = (this.s3h ^ this.s1h) >>> 0; this.s3l = (this.s3l ^ this.s1l) >>> 0;
    this.s1h = (this.s1h ^ this.s2h) >>> 0; this.s1l = (this.s1l ^ this.s2l) >>> 0;
    this.s0h = (this.s0h ^ this.s3h) >>> 0; this.s0l = (this.s0l ^ this.s3l) >>> 0;
    this.s2h = (this.s2h ^ tHi) >>> 0; this.s2l = (this.s2l ^ tLo) >>> 0;
    // s3 = rotl(s3, 45) = swap halves, then rotl 13
    const h = this.s3l;
    const l = this.s3h;
    this.s3h = ((h << 13) | (l >>> 19)) >>> 0;
    this.s3l = ((l << 13) | (h >>> 19)) >>> 0;
  }

  /** The next raw u64. */
  next(): bigint {
    this.step();
    return join64(this.outHi, this.outLo);
  }

  /** The high 32 bits of the next u64 (the best-mixed bits). */
  nextU32(): number {
    this.step();
    return this.outHi;
  }

  /** The top 53 bits of the next u64, as an integer in [0, 2^53). */
  next53(): number {
    this.step();
    return (this.outHi >>> 0) * 0x20_0000 + (this.outLo >>> 11);
  }

  /** Uniform in [0, max], without bias (Lemire). `max` is a non-negative safe integer. */
  intInclusive(max: number): number {
    assert(Number.isSafeInteger(max) && max >= 0, "intInclusive: bad max");
    if (max >= 0xffff_ffff) return this.intInclusiveLarge(max);
    const s = max + 1;
    if (s <= smallBound) return this.intBelowSmall(s);
    this.mul32(this.nextU32(), s);
    if (this.productLo < s) {
      const threshold = (two32 - s) % s;
      while (this.productLo < threshold) this.mul32(this.nextU32(), s);
    }
    return this.productHi;
  }

  /**
   * intInclusive for s = max + 1 ≤ 2^21: the product of a u32 and s is below 2^53, exact in a
   * double, so it needs no split (the same draws and the same results as mul32; about a third of
   * the time, and most draws are small: accounts, amounts, fault chances).
   */
  private intBelowSmall(s: number): number {
    let product = this.nextU32() * s;
    let hi = Math.floor(product / two32);
    if (product - hi * two32 < s) {
      const threshold = (two32 - s) % s;
      while (product - hi * two32 < threshold) {
        product = this.nextU32() * s;
        hi = Math.floor(product / two32);
      }
    }
    return hi;
  }

  /** The 64-bit product x·s of two values below 2^32 and 2^32 + 1, into (productHi, productLo). */
  private mul32(x: number, s: number): void {
    const xh = Math.floor(x / 65536);
    const xl = x % 65536;
    const p1 = xl * s; // < 2^49
    const p2 = xh * s; // < 2^49
    const low = (p2 % 65536) * 65536 + p1; // < 2^50
    this.productHi = Math.floor(p2 / 65536) + Math.floor(low / two32);
    this.productLo = low % two32;
  }

  private intInclusiveLarge(max: number): number {
    const s = BigInt(max) + 1n;
    for (;;) {
      const m = this.next() * s;
      const l = m & mask64;
      if (l >= s || l >= ((1n << 64n) - s) % s) return Number(m >> 64n);
    }
  }

  /** Uniform in [0, bound). */
  int(bound: number): number {
    assert(bound > 0, "int: bound must be positive");
    return this.intInclusive(bound - 1);
  }

  /** Uniform in [min, max], inclusive. */
  range(min: number, max: number): number {
    assert(min <= max, "range: min > max");
    return min + this.intInclusive(max - min);
  }

  /** True with probability numerator/denominator (integer ratio, no floating point). */
  chance(numerator: number, denominator: number): boolean {
    assert(denominator > 0 && numerator >= 0 && numerator <= denominator, "chance: bad ratio");
    return this.intInclusive(denominator - 1) < numerator;
  }

  boolean(): boolean {
    return (this.nextU32() & 1) === 1;
  }

  /** floor(−ln(U)·mean): an exponential delay (the one floating-point draw, spec/vopr.md §1). */
  exponential(mean: number): number {
    const u = this.next53() / 0x20_0000_0000_0000;
    return Math.floor(-Math.log(1 - u) * mean);
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.intInclusive(i);
      const swap = items[i]!;
      items[i] = items[j]!;
      items[j] = swap;
    }
    return items;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, "pick: empty list");
    return items[this.int(items.length)]!;
  }

  /** A child generator, seeded from this one's next output. */
  split(): Prng {
    return new Prng(this.next());
  }

  /** Fills bytes with successive little-endian outputs; a 1–7 byte tail takes one more output. */
  fill(target: Uint8Array): void {
    let i = 0;
    while (i < target.length) {
      this.step();
      for (let b = 0; b < 8 && i < target.length; b++, i++) {
        target[i] = b < 4 ? (this.outLo >>> (8 * b)) & 0xff : (this.outHi >>> (8 * (b - 4))) & 0xff;
      }
    }
  }
}

function split64(value: bigint): [number, number] {
  return [Number(value >> 32n), Number(value & 0xffff_ffffn)];
}

function join64(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Parses a seed argument: a decimal u64, or a 40-hex-digit git commit hash whose low 64 bits
 * (last 16 hex digits) are taken. Returns null when the text is neither.
 */
export function parseSeed(text: string): bigint | null {
  if (/^[0-9a-fA-F]{40}$/.test(text)) return BigInt("0x" + text.slice(24));
  if (!/^[0-9]{1,20}$/.test(text)) return null;
  const value = BigInt(text);
  return value <= mask64 ? value : null;
}
