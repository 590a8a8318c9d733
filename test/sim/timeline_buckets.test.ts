// The trace viewer's time buckets (src/sim/runner/timeline_buckets.ts): the width doubles as the
// run grows, merging neighbours without losing a count, and the sparse encoding round-trips.
import { describe, expect, test } from "vitest";
import { decodeCounts, encodeCounts, TimelineBuckets } from "../../src/sim/runner/timeline_buckets.js";

describe("timeline buckets", () => {
  test("a long run widens the buckets and keeps every count", () => {
    const buckets = new TimelineBuckets(4, 8);
    const a = buckets.seriesOf("drop", 0, "older view");
    const b = buckets.seriesOf("client", -1, "replies");
    expect(buckets.seriesOf("drop", 0, "older view")).toBe(a);
    for (let tick = 0; tick < 1000; tick += 3) buckets.add(a, tick);
    buckets.add(b, 999, 5);
    expect(buckets.bucketTicks).toBe(128);
    expect(a.counts.length).toBeLessThanOrEqual(8);
    expect(a.counts.reduce((x, y) => x + y, 0)).toBe(334);
    expect(b.counts[7]).toBe(5);
    // A series that never counted is left out of the output.
    buckets.seriesOf("storage", 1, "tornWrites");
    expect(buckets.all().map((series) => series.name)).toEqual(["older view", "replies"]);
  });

  test("the sparse encoding round-trips", () => {
    const counts = [0, 0, 3, 0, 1, 1, 0, 0, 0, 7];
    expect(encodeCounts(counts)).toEqual([3, 3, 2, 1, 1, 1, 4, 7]);
    expect(decodeCounts(encodeCounts(counts))).toEqual(counts);
    expect(encodeCounts([0, 0])).toEqual([]);
  });
});
