// Marzullo's algorithm (spec/vsr.md §14.3): the smallest interval consistent with the largest
// number of sources. The clock turns every sample into an interval of possible offsets; the
// interval agreed by the most replicas bounds the true cluster time. Bounds are nanoseconds as
// numbers: offsets and delays are small, unlike absolute times.
import { assert } from "../../core/assert.js";

export type MarzulloBound = "lower" | "upper";

export interface MarzulloTuple {
  readonly source: number;
  readonly offset: number;
  readonly bound: MarzulloBound;
}

export interface MarzulloInterval {
  readonly lower: number;
  readonly upper: number;
  /** How many sources' intervals contain [lower, upper]. */
  readonly sources_true: number;
  readonly sources_false: number;
}

export interface SourceInterval {
  readonly lower: number;
  readonly upper: number;
}

/** The tuples of closed intervals, one source per interval (source = index). */
export function marzulloTuples(intervals: readonly SourceInterval[]): MarzulloTuple[] {
  const tuples: MarzulloTuple[] = [];
  intervals.forEach((interval, source) => {
    assert(interval.lower <= interval.upper, "marzulloTuples: lower > upper");
    tuples.push({ source, offset: interval.lower, bound: "lower" });
    tuples.push({ source, offset: interval.upper, bound: "upper" });
  });
  return tuples;
}

/**
 * The smallest interval contained in the most source intervals. Intervals are closed: two
 * intervals that touch at one point agree on that point, which is why lower bounds sort before
 * upper bounds at equal offsets.
 */
export function smallestInterval(tuples: readonly MarzulloTuple[]): MarzulloInterval {
  assert(tuples.length % 2 === 0, "smallestInterval: tuples come in lower/upper pairs");
  const sources = tuples.length / 2;
  if (sources === 0) return { lower: 0, upper: 0, sources_true: 0, sources_false: 0 };

  const sorted = [...tuples].sort(compareTuples);
  let best = 0;
  let count = 0;
  let lower = 0;
  let upper = 0;
  for (let i = 0; i < sorted.length; i++) {
    const tuple = sorted[i]!;
    count += tuple.bound === "lower" ? 1 : -1;
    assert(count >= 0, "smallestInterval: an upper bound precedes its lower bound");
    // The last tuple is an upper bound and leaves count = 0 < best, so `next` always exists when
    // either branch is taken.
    const next = sorted[i + 1];
    if (count > best) {
      assert(next !== undefined);
      best = count;
      lower = tuple.offset;
      upper = next.offset;
    } else if (count === best && next !== undefined && next.bound === "upper") {
      // A tie in agreement: prefer the narrower interval, the tighter bound on true time.
      if (next.offset - tuple.offset < upper - lower) {
        lower = tuple.offset;
        upper = next.offset;
      }
    }
  }
  assert(count === 0, "smallestInterval: unbalanced bounds");
  assert(sorted[sorted.length - 1]!.bound === "upper");
  assert(lower <= upper);
  assert(best >= 1 && best <= sources);
  return { lower, upper, sources_true: best, sources_false: sources - best };
}

/** Offset ascending; lower before upper at equal offsets; then source index, for a total order. */
function compareTuples(a: MarzulloTuple, b: MarzulloTuple): number {
  if (a.offset !== b.offset) return a.offset < b.offset ? -1 : 1;
  if (a.bound !== b.bound) return a.bound === "lower" ? -1 : 1;
  return a.source - b.source;
}
