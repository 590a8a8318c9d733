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
  /**
   * State words s0..s3 as (hi, lo) int32 pairs: s[0] = s0 hi, s[1] = s0 lo, … s[7] = s3 lo. In an
   * Int32Array, not eight fields: u32 values above 2^31 made those fields doubles, and a draw cost
   * about 40 ns against 10 ns here (the simulator draws per tick, per node and per packet).
   */
  private readonly s = new Int32Array(8);
  // The last output of `step()`, as int32 values (small integers to V8; readers take >>> 0).
  private outHi = 0;
  private outLo = 0;
  // The last mul32 product (fields, not a returned pair: draws are hot in the simulator).
  private productHi = 0;
  private productLo = 0;

  constructor(seed: bigint | number) {
    let x = BigInt(seed);
    assert(x >= 0n && x <= mask64, "seed must be a u64");
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e37_79b9_7f4a_7c15n) & mask64;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & mask64;
      z = ((z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn) & mask64;
      z ^= z >> 31n;
      this.s[2 * i] = Number(z >> 32n) | 0;
      this.s[2 * i + 1] = Number(z & 0xffff_ffffn) | 0;
    }
  }

  /** The state as four u64 values (for tests and debugging). */
  state(): bigint[] {
    const s = this.s;
    return [join64(s[0]!, s[1]!), join64(s[2]!, s[3]!), join64(s[4]!, s[5]!), join64(s[6]!, s[7]!)];
  }

  /** Advances once; the output is left in outHi/outLo. Int32 arithmetic, carries compared unsigned. */
  private step(): void {
    const s = this.s;
    const s0h = s[0]!, s0l = s[1]!, s1h = s[2]!, s1l = s[3]!, s2h = s[4]!, s2l = s[5]!, s3h = s[6]!, s3l = s[7]!;
    // r = rotl(s0 + s3, 23) + s0
    const sumLo = (s0l + s3l) | 0;
    const sumHi = (s0h + s3h + ((sumLo >>> 0) < (s0l >>> 0) ? 1 : 0)) | 0;
    const rotHi = (sumHi << 23) | (sumLo >>> 9);
    const rotLo = (sumLo << 23) | (sumHi >>> 9);
    const rLo = (rotLo + s0l) | 0;
    this.outHi = (rotHi + s0h + ((rLo >>> 0) < (rotLo >>> 0) ? 1 : 0)) | 0;
    this.outLo = rLo;
    // t = s1 << 17
    const tHi = (s1h << 17) | (s1l >>> 15);
    const tLo = s1l << 17;
    const n2h = s2h ^ s0h, n2l = s2l ^ s0l; // s2 ^= s0
    const n3h = s3h ^ s1h, n3l = s3l ^ s1l; // s3 ^= s1
    s[2] = s1h ^ n2h; s[3] = s1l ^ n2l; // s1 ^= s2
    s[0] = s0h ^ n3h; s[1] = s0l ^ n3l; // s0 ^= s3
    s[4] = n2h ^ tHi; s[5] = n2l ^ tLo; // s2 ^= t
    // s3 = rotl(s3, 45) = swap halves, then rotl 13
    s[6] = (n3l << 13) | (n3h >>> 19);
    s[7] = (n3h << 13) | (n3l >>> 19);
  }

  /** The next raw u64. */
  next(): bigint {
    this.step();
    return join64(this.outHi, this.outLo);
  }

  /** The high 32 bits of the next u64 (the best-mixed bits). */
  nextU32(): number {
    this.step();
    return this.outHi >>> 0;
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

function join64(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
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
