// Integer probabilities (spec/vopr.md §1: "Probabilities are integer ratios", no floating point
// for decisions). Every swarm probability of §3 is a Ratio, usually out of 100.
import { assert } from "../core/assert.js";
import type { Prng } from "../core/prng.js";

export interface Ratio {
  readonly numerator: number;
  readonly denominator: number;
}

export function ratio(numerator: number, denominator: number): Ratio {
  const value = { numerator, denominator };
  assertRatio(value);
  return value;
}

export const ratioZero: Ratio = ratio(0, 1);

export function percent(value: number): Ratio {
  return ratio(value, 100);
}

/**
 * a / b (a ≤ b) in lowest terms, so that chance() keeps its small-denominator path; zero when b
 * is. (The crash dice's thinning die: crash_probability / crash_probability_writes_pending.)
 */
export function ratioQuotient(a: Ratio, b: Ratio): Ratio {
  if (b.numerator === 0) return ratioZero;
  const numerator = a.numerator * b.denominator;
  const denominator = b.numerator * a.denominator;
  assert(Number.isSafeInteger(numerator) && Number.isSafeInteger(denominator) && numerator <= denominator,
    "ratioQuotient: a / b must be a ratio at most 1");
  let x = numerator;
  let y = denominator;
  while (y !== 0) [x, y] = [y, x % y];
  return ratio(numerator / x, denominator / x);
}

/**
 * True with probability `r`. A zero ratio draws nothing: probabilities that are off must not
 * spend PRNG draws (and time) on every tick or delivery.
 */
export function chance(prng: Prng, r: Ratio): boolean {
  if (r.numerator === 0) return false;
  if (r.numerator === r.denominator) return true;
  return intBelow(prng, r.denominator) < r.numerator;
}

const two32 = 0x1_0000_0000;

/**
 * Uniform in [0, bound): bit-identical to `prng.intInclusive(bound − 1)` (Lemire's method,
 * spec/vopr.md §1), so `chance` matches `prng.chance`. For bound ≤ 2^21 the product x·bound of a
 * u32 draw stays below 2^53 and is exact in a double, which avoids Prng's general (allocating)
 * 64-bit multiply on the simulator's per-packet and per-IO dice.
 */
export function intBelow(prng: Prng, bound: number): number {
  assert(Number.isSafeInteger(bound) && bound > 0, "intBelow: bad bound");
  if (bound > 0x20_0000) return prng.intInclusive(bound - 1);
  let product = prng.nextU32() * bound;
  let low = product % two32;
  if (low < bound) {
    const threshold = (two32 - bound) % bound;
    while (low < threshold) {
      product = prng.nextU32() * bound;
      low = product % two32;
    }
  }
  return Math.floor(product / two32);
}

/**
 * How many rolls of chance(r) fail before the first success, drawn at once: geometric, with
 * P(k) = (1 − p)^k · p. Infinity when r is zero, 0 when it is one. Like exp() (spec/vopr.md §1)
 * this is a timing draw on V8's fdlibm Math.log; the decisions it times compare integers. For
 * dice rolled every tick with a tiny chance (the clogs of packet_simulator.ts): one draw per
 * success instead of one per tick.
 */
export function failuresBeforeSuccess(prng: Prng, r: Ratio): number {
  if (r.numerator === 0) return Infinity;
  if (r.numerator === r.denominator) return 0;
  const u = prng.next53() / 2 ** 53; // [0, 1): log(1 − u) is finite
  return Math.floor(Math.log(1 - u) / Math.log(1 - r.numerator / r.denominator));
}

export function assertRatio(r: Ratio): void {
  assert(Number.isSafeInteger(r.numerator) && Number.isSafeInteger(r.denominator), "ratio: integers only");
  assert(r.denominator > 0 && r.numerator >= 0 && r.numerator <= r.denominator, "ratio: bad ratio");
}

/** "a/b" as printed in the VOPR's configuration line (spec/vopr.md §1). */
export function formatRatio(r: Ratio): string {
  return `${r.numerator}/${r.denominator}`;
}
