import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import {
  MarzulloScratch, marzulloTuples, smallestInterval, type SourceInterval,
} from "../../src/replica/clock/marzullo.js";

function interval(lower: number, upper: number): SourceInterval {
  return { lower, upper };
}

describe("Marzullo's smallest interval (§14.3)", () => {
  // The spec's five test vectors.
  it.each([
    [[interval(8, 12), interval(11, 13), interval(14, 15)], 11, 12, 2],
    [[interval(-10, 10), interval(-1, 1), interval(0, 0)], 0, 0, 3],
    [[interval(8, 12), interval(10, 11), interval(8, 10)], 10, 10, 3],
    [[interval(8, 12), interval(10, 12), interval(8, 9)], 8, 9, 2],
    [[interval(7, 9), interval(7, 12), interval(10, 11)], 10, 11, 2],
  ])("vector %#", (intervals, lower, upper, sourcesTrue) => {
    expect(smallestInterval(marzulloTuples(intervals))).toEqual({
      lower, upper, sources_true: sourcesTrue, sources_false: intervals.length - sourcesTrue,
    });
  });

  it("is empty for no sources", () => {
    expect(smallestInterval([])).toEqual({ lower: 0, upper: 0, sources_true: 0, sources_false: 0 });
  });

  it("is the interval itself for one source", () => {
    expect(smallestInterval(marzulloTuples([interval(-5, 7)])))
      .toEqual({ lower: -5, upper: 7, sources_true: 1, sources_false: 0 });
  });

  it("treats touching closed intervals as agreeing on the shared point", () => {
    expect(smallestInterval(marzulloTuples([interval(0, 5), interval(5, 9)])))
      .toEqual({ lower: 5, upper: 5, sources_true: 2, sources_false: 0 });
  });

  it("prefers the narrower of two equally agreed intervals", () => {
    // [0,10] and [2,3] agree on [2,3]; [20,30] and [21,29] agree on [21,29]: both have 2 sources.
    const intervals = [interval(20, 30), interval(0, 10), interval(21, 29), interval(2, 3)];
    expect(smallestInterval(marzulloTuples(intervals)))
      .toEqual({ lower: 2, upper: 3, sources_true: 2, sources_false: 2 });
  });

  it("rejects unpaired or inverted bounds", () => {
    expect(() => smallestInterval([{ source: 0, offset: 1, bound: "lower" }]))
      .toThrow(AssertionError);
    expect(() => marzulloTuples([interval(2, 1)])).toThrow(AssertionError);
  });
});

/** How many of `intervals` contain all of [lower, upper]. */
function containing(intervals: readonly SourceInterval[], lower: number, upper: number): number {
  return intervals.filter((i) => i.lower <= lower && upper <= i.upper).length;
}

/** The O(n²) reference: the largest agreement, and the narrowest interval that has it. */
function bruteForce(intervals: readonly SourceInterval[]): { best: number; width: number } {
  let best = 0;
  let width = Infinity;
  for (const a of intervals) {
    for (const b of intervals) {
      if (a.lower > b.upper) continue;
      const count = containing(intervals, a.lower, b.upper);
      const w = b.upper - a.lower;
      if (count > best || (count === best && w < width)) {
        best = count;
        width = w;
      }
    }
  }
  return { best, width };
}

const intervalsArbitrary = fc.array(
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 30 }))
    .map(([lower, width]) => interval(lower, lower + width)),
  { minLength: 1, maxLength: 10 });

describe("Marzullo against a brute-force reference", () => {
  it("agrees on the largest agreement and the narrowest interval", () => {
    fc.assert(fc.property(intervalsArbitrary, (intervals) => {
      const result = smallestInterval(marzulloTuples(intervals));
      const reference = bruteForce(intervals);
      expect(result.lower).toBeLessThanOrEqual(result.upper);
      // The result lies in exactly sources_true intervals...
      expect(containing(intervals, result.lower, result.upper)).toBe(result.sources_true);
      // ...and no point lies in more.
      for (const i of intervals) {
        for (const point of [i.lower, i.upper]) {
          expect(containing(intervals, point, point)).toBeLessThanOrEqual(result.sources_true);
        }
      }
      expect(result.sources_true).toBe(reference.best);
      expect(result.sources_true + result.sources_false).toBe(intervals.length);
      expect(result.upper - result.lower).toBe(reference.width);
    }), { numRuns: 2000, seed: 1 });
  });

  it("does not depend on the order of the tuples", () => {
    fc.assert(fc.property(intervalsArbitrary, fc.integer(), (intervals, salt) => {
      const tuples = marzulloTuples(intervals);
      const shuffled = [...tuples].sort((a, b) =>
        ((a.offset * 31 + a.source + salt) % 7) - ((b.offset * 31 + b.source + salt) % 7));
      expect(smallestInterval(shuffled)).toEqual(smallestInterval(tuples));
    }), { numRuns: 500, seed: 2 });
  });

  it("the clock's allocation-free scratch gives smallestInterval's result, ties included", () => {
    // Small offsets make equal bounds (the tie-breaks) common.
    const arbitrary = fc.array(fc.tuple(fc.integer({ min: -6, max: 6 }), fc.integer({ min: 0, max: 4 })),
      { minLength: 0, maxLength: 6 });
    const scratch = new MarzulloScratch(6);
    fc.assert(fc.property(arbitrary, (pairs) => {
      const intervals = pairs.map(([lower, width]) => interval(lower, lower + width));
      scratch.clear();
      intervals.forEach((each, source) => scratch.add(source, each.lower, each.upper));
      expect(scratch.smallest()).toEqual(smallestInterval(marzulloTuples(intervals)));
    }), { numRuns: 2000, seed: 3 });
  });
});
