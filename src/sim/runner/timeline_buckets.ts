// Counts of frequent happenings (dropped messages, repairs, storage faults, requests) per time
// bucket, for the trace viewer (timeline.ts). A run's length is unknown until it ends, so the
// bucket width starts small and doubles, merging neighbours, whenever the run outgrows
// `bucketsMax` buckets: the memory and the output stay bounded by series × bucketsMax whether a
// seed runs a thousand ticks or forty million.
import { assert } from "../../core/assert.js";

/** One counted thing: a group ("drop", "notice", "storage", "network", "client"), a node (−1: none), a name. */
export interface BucketSeries {
  readonly group: string;
  readonly node: number;
  readonly name: string;
  /** Counts by bucket index; trailing buckets never counted are absent. */
  readonly counts: number[];
}

export class TimelineBuckets {
  /** Ticks per bucket: a power of two times the initial width. */
  bucketTicks: number;
  private readonly series: BucketSeries[] = [];
  private readonly byKey = new Map<string, BucketSeries>();

  constructor(bucketTicksInitial = 8, private readonly bucketsMax = 1024) {
    assert(bucketTicksInitial >= 1 && bucketsMax >= 2 && bucketsMax % 2 === 0, "timeline buckets: bad shape");
    this.bucketTicks = bucketTicksInitial;
  }

  /** The series for (group, node, name), created on first use; callers keep it to skip the lookup. */
  seriesOf(group: string, node: number, name: string): BucketSeries {
    const key = `${group}\u0000${node}\u0000${name}`;
    let series = this.byKey.get(key);
    if (series === undefined) {
      series = { group, node, name, counts: [] };
      this.byKey.set(key, series);
      this.series.push(series);
    }
    return series;
  }

  add(series: BucketSeries, tick: number, count = 1): void {
    if (count === 0) return;
    let index = Math.floor(tick / this.bucketTicks);
    // Bounded: each widening halves the index, and ticks are safe integers.
    while (index >= this.bucketsMax) {
      this.widen();
      index = Math.floor(tick / this.bucketTicks);
    }
    const counts = series.counts;
    while (counts.length <= index) counts.push(0);
    counts[index]! += count;
  }

  /** Every series that counted something, in creation order (deterministic). */
  all(): readonly BucketSeries[] {
    return this.series.filter((series) => series.counts.some((count) => count > 0));
  }

  private widen(): void {
    this.bucketTicks *= 2;
    for (const series of this.series) {
      const counts = series.counts;
      const merged = Math.ceil(counts.length / 2);
      for (let index = 0; index < merged; index++) {
        counts[index] = counts[2 * index]! + (counts[2 * index + 1] ?? 0);
      }
      counts.length = merged;
    }
  }
}

/**
 * Sparse, compact form for JSON: [gap, count, gap, count, …] over the non-zero buckets, where gap
 * is the distance from the previous non-zero bucket (the first from −1). Mostly tiny numbers.
 */
export function encodeCounts(counts: readonly number[]): number[] {
  const out: number[] = [];
  let previous = -1;
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index]!;
    if (count === 0) continue;
    out.push(index - previous, count);
    previous = index;
  }
  return out;
}

export function decodeCounts(encoded: readonly number[]): number[] {
  const counts: number[] = [];
  let index = -1;
  for (let at = 0; at + 1 < encoded.length; at += 2) {
    index += encoded[at]!;
    while (counts.length < index) counts.push(0);
    counts.push(encoded[at + 1]!);
  }
  return counts;
}
