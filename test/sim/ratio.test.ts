// Integer ratios: the allocation-free `chance` must draw exactly what Prng.chance draws, so the
// simulator's dice follow spec/vopr.md §1 bit for bit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { Prng } from "../../src/core/prng.js";
import { chance, intBelow, percent, ratio, ratioQuotient } from "../../src/sim/ratio.js";

describe("ratio", () => {
  it("chance and intBelow are bit-identical to Prng.chance and Prng.intInclusive", () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.integer({ min: 1, max: 0x40_0000 }),
      (seed, bound) => {
        const a = new Prng(seed);
        const b = new Prng(seed);
        for (let i = 0; i < 50; i++) expect(intBelow(a, bound)).toBe(b.intInclusive(bound - 1));
        const numerator = bound >> 1;
        for (let i = 0; i < 50; i++) expect(chance(a, ratio(numerator, bound))).toBe(b.chance(numerator, bound));
      },
    ), { numRuns: 300 });
  });

  it("zero and certain ratios draw nothing", () => {
    const a = new Prng(1n);
    expect(chance(a, percent(0))).toBe(false);
    expect(chance(a, percent(100))).toBe(true);
    expect(a.next()).toBe(new Prng(1n).next());
  });

  it("rejects malformed ratios", () => {
    expect(() => ratio(2, 1)).toThrow(AssertionError);
    expect(() => ratio(0, 0)).toThrow(AssertionError);
    expect(() => ratio(0.5, 1)).toThrow(AssertionError);
  });

  it("ratioQuotient: a / b in lowest terms, zero over a zero b, refused above one", () => {
    // The crash dice's thinning die at the spec's rates: (2/10^7) / (20/10^7) is 1/10.
    expect(ratioQuotient(ratio(2, 10_000_000), ratio(20, 10_000_000))).toEqual({ numerator: 1, denominator: 10 });
    expect(ratioQuotient(ratio(1, 20_000), ratio(10, 20_000))).toEqual({ numerator: 1, denominator: 10 });
    expect(ratioQuotient(ratio(3, 7), ratio(3, 7))).toEqual({ numerator: 1, denominator: 1 });
    expect(ratioQuotient(ratio(0, 1), ratio(1, 2))).toEqual({ numerator: 0, denominator: 1 });
    expect(ratioQuotient(ratio(1, 2), ratio(0, 1))).toEqual({ numerator: 0, denominator: 1 });
    expect(() => ratioQuotient(ratio(1, 2), ratio(1, 3))).toThrow(AssertionError);
  });
});
