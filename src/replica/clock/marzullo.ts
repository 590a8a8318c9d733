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

/**
 * smallestInterval over intervals given as bounds in reusable arrays, for the clock, which runs
 * up to 35 rounds of it per synchronisation: no tuple objects, no copy, no sort call. Tuples sort
 * by (offset, lower before upper, source), a total order, so the insertion sort here orders them
 * exactly as smallestInterval does, and the scan is the same: the results are identical.
 */
export class MarzulloScratch {
  private readonly offsets: Float64Array;
  /** Per tuple: source × 2, + 1 for an upper bound (the order's tie-breaks, in one number). */
  private readonly keys: Int32Array;
  private count = 0;

  constructor(sourcesMax: number) {
    this.offsets = new Float64Array(2 * sourcesMax);
    this.keys = new Int32Array(2 * sourcesMax);
  }

  clear(): void {
    this.count = 0;
  }

  /** Adds source `source`'s interval [lower, upper]. */
  add(source: number, lower: number, upper: number): void {
    assert(lower <= upper && this.count + 2 <= this.offsets.length, "MarzulloScratch.add");
    this.insert(lower, 2 * source);
    this.insert(upper, 2 * source + 1);
  }

  /** Inserts in order. Keys sort lower (even) before upper (odd) at equal offsets, then by source. */
  private insert(offset: number, key: number): void {
    const offsets = this.offsets;
    const keys = this.keys;
    let at = this.count++;
    while (at > 0) {
      const previous = offsets[at - 1]!;
      if (previous < offset) break;
      if (previous === offset) {
        const previousKey = keys[at - 1]!;
        const previousUpper = previousKey & 1;
        const upper = key & 1;
        if (previousUpper < upper || (previousUpper === upper && previousKey >> 1 < key >> 1)) break;
      }
      offsets[at] = previous;
      keys[at] = keys[at - 1]!;
      at--;
    }
    offsets[at] = offset;
    keys[at] = key;
  }

  /** smallestInterval of the intervals added since clear(). */
  smallest(): MarzulloInterval {
    const tuples = this.count;
    const sources = tuples / 2;
    if (sources === 0) return { lower: 0, upper: 0, sources_true: 0, sources_false: 0 };
    const offsets = this.offsets;
    const keys = this.keys;
    let best = 0;
    let count = 0;
    let lower = 0;
    let upper = 0;
    for (let i = 0; i < tuples; i++) {
      count += (keys[i]! & 1) === 0 ? 1 : -1;
      assert(count >= 0, "smallestInterval: an upper bound precedes its lower bound");
      const hasNext = i + 1 < tuples;
      if (count > best) {
        assert(hasNext);
        best = count;
        lower = offsets[i]!;
        upper = offsets[i + 1]!;
      } else if (count === best && hasNext && (keys[i + 1]! & 1) === 1) {
        if (offsets[i + 1]! - offsets[i]! < upper - lower) {
          lower = offsets[i]!;
          upper = offsets[i + 1]!;
        }
      }
    }
    assert(count === 0 && (keys[tuples - 1]! & 1) === 1 && lower <= upper, "smallestInterval: unbalanced bounds");
    assert(best >= 1 && best <= sources);
    return { lower, upper, sources_true: best, sources_false: sources - best };
  }
}
