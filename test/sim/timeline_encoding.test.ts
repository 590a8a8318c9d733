// The trace viewer's compact data: time buckets (src/sim/runner/timeline_buckets.ts) whose width
// doubles as the run grows, merging neighbours without losing a count, and the sparse encodings of
// counts and replica states (timeline_data.ts), which must round-trip.
import { describe, expect, test } from "vitest";
import { decodeCounts, encodeCounts, TimelineBuckets } from "../../src/sim/runner/timeline_buckets.js";
import { decodeStates, encodeStates, type StateColumns } from "../../src/sim/runner/timeline_data.js";

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

  test("replica states keep only the changed fields and round-trip", () => {
    const columns: StateColumns = {
      tick: [0, 5, 9, 40], status: [2, 0, 0, 4], role: [1, 1, 0, 4], paused: [0, 0, 0, 0], view: [0, 0, 3, 3],
      op: [0, 0, 7, 7], commitMin: [0, 0, 5, 5], commitMax: [0, 0, 7, 7], checkpoint: [0, 0, 0, 0],
    };
    const encoded = encodeStates(columns);
    // tick 0: every code, no zero counter; tick 5: status only; tick 40: status and role.
    expect(encoded.slice(0, 5)).toEqual([0, 0b111, 2, 1, 0]);
    expect(encoded.slice(5, 8)).toEqual([5, 0b1, 0]);
    expect(encoded.slice(-4)).toEqual([31, 0b11, 4, 4]);
    expect(decodeStates(encoded)).toEqual(columns);
    expect(decodeStates([])).toEqual({ tick: [], status: [], role: [], paused: [], view: [], op: [], commitMin: [], commitMax: [], checkpoint: [] });
  });
});
