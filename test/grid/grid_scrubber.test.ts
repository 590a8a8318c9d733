// The grid scrubber's pace (spec/vsr.md §16 grid_scrub: 500 ms, adaptive): after the first read,
// one tour of the acquired blocks is spread over the cycle, within the interval's bounds.
import { describe, expect, test } from "vitest";
import type { BlockReference } from "../../src/grid/block.js";
import type { Grid } from "../../src/grid/grid.js";
import { GridScrubber, scrubPace, type ScrubPace } from "../../src/grid/grid_scrubber.js";

/** A grid of `pages` live pages in one space, `acquired` blocks acquired; reads complete at once, intact. */
function fakeGrid(pages: number, acquired: number): { grid: Grid; reads: number[] } {
  const reads: number[] = [];
  const grid = {
    freeSet: { acquiredCount: acquired },
    spaceCount: 1,
    liveRoot: (): BlockReference | null => null,
    livePage: (_space: number, page: number): BlockReference | null =>
      page < pages ? { address: page + 1, checksum: 0n } : null,
    readLocal: (reference: BlockReference, callback: (block: Uint8Array | null, misplaced: boolean) => void) => {
      reads.push(reference.address);
      callback(new Uint8Array(0), false);
    },
    config: { blockSize: 16 },
  };
  return { grid: grid as unknown as Grid, reads };
}

/** The ticks on which reads were issued over `ticks` ticks. */
function readTicks(scrubber: GridScrubber, reads: number[], ticks: number): number[] {
  const at: number[] = [];
  for (let tick = 1; tick <= ticks; tick++) {
    const before = reads.length;
    scrubber.tick(() => { throw new Error("no fault expected"); });
    if (reads.length > before) at.push(tick);
  }
  return at;
}

const pace: ScrubPace = { cycleTicks: 10_000, intervalTicksMin: 5, intervalTicksMax: 1_000 };

describe("grid scrubber pace", () => {
  test("the first read after 50 ticks, then one tour of the acquired blocks per cycle", () => {
    const { grid, reads } = fakeGrid(3, 100);
    const at = readTicks(new GridScrubber(grid, pace), reads, 50 + 3 * 100);
    expect(at).toEqual([50, 150, 250, 350]);
    expect(reads).toEqual([1, 2, 3, 1]); // the tour starts over
  });

  test("a tiny grid reads at the slowest pace, a huge one at the fastest", () => {
    const tiny = fakeGrid(2, 1);
    expect(readTicks(new GridScrubber(tiny.grid, pace), tiny.reads, 2_100)).toEqual([50, 1_050, 2_050]);
    const huge = fakeGrid(2, 1_000_000);
    expect(readTicks(new GridScrubber(huge.grid, pace), huge.reads, 65)).toEqual([50, 55, 60, 65]);
  });

  test("quietTicksAhead promises exactly the ticks before the next read", () => {
    const { grid, reads } = fakeGrid(4, 400);
    const scrubber = new GridScrubber(grid, pace);
    readTicks(scrubber, reads, 50);
    expect(scrubber.quietTicksAhead()).toBe(24); // 25 ticks a read: 24 quiet, the 25th reads
    scrubber.skipQuietTicks(24);
    expect(readTicks(scrubber, reads, 1)).toEqual([1]);
  });

  test("production tours in 180 days, the simulator's config in an hour, between 50 ms and 10 s a read", () => {
    expect(scrubPace("production")).toEqual({ cycleTicks: 180 * 24 * 3600 * 100, intervalTicksMin: 5, intervalTicksMax: 1_000 });
    expect(scrubPace("test")).toEqual({ cycleTicks: 3600 * 100, intervalTicksMin: 5, intervalTicksMax: 1_000 });
  });
});
