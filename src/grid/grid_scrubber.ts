// The grid scrubber (spec/vsr.md §7, TigerBeetle's grid_scrubber): reads the blocks of this
// replica's state that nothing else reads, at a bounded rate, so that a latent fault in cold data
// (a page no request touched for months, an old directory block) is found and repaired from a peer
// while the peers still hold it, before faults pile up on several replicas.
//
// It walks the state as it is now, never a snapshot: first the last checkpoint's roots (manifest,
// blobs, directories), then every page of every space, then starts over. One read is in flight at
// a time, at the pace of ScrubPace. A block found faulty and still ours is handed to the
// grid's repair in the background (no read waits for it); a one-replica cluster can only report it.
import type { BlockReference } from "./block.js";
import type { Grid } from "./grid.js";

/**
 * The scrubber's pace (spec/vsr.md §16 grid_scrub: 500 ms, adaptive; TigerBeetle's
 * grid_scrub_timeout): the first read after 50 ticks, then, after each read, as many ticks as
 * spread one tour of the acquired blocks over `cycleTicks`, within [intervalMin, intervalMax].
 * Production tours the grid every 180 days, the simulator's config every hour (as TigerBeetle's);
 * between 50 ms and 10 s a read. (TigerBeetle's simulator issues two reads per doubled interval:
 * the same rate.) A fixed pace read a small grid twenty times as often as TigerBeetle does.
 */
export interface ScrubPace {
  readonly cycleTicks: number;
  readonly intervalTicksMin: number;
  readonly intervalTicksMax: number;
}

const scrubTicksFirst = 50;

export function scrubPace(configName: "production" | "test"): ScrubPace {
  const dayTicks = 24 * 3600 * 100;
  return {
    cycleTicks: configName === "production" ? 180 * dayTicks : dayTicks / 24,
    intervalTicksMin: 5,
    intervalTicksMax: 1000,
  };
}

export interface ScrubStats {
  /** Blocks read and verified. */
  blocksScrubbed: number;
  /** Blocks found faulty (each is repaired in the background where peers exist). */
  faultsFound: number;
  /** Walks of the whole state completed. */
  cyclesCompleted: number;
}

export interface ScrubFault {
  readonly reference: BlockReference;
  /** Whether a repair from peers was started (false: one replica, or a state sync under way). */
  readonly repairing: boolean;
}

export class GridScrubber {
  readonly stats: ScrubStats = { blocksScrubbed: 0, faultsFound: 0, cyclesCompleted: 0 };
  /** -1: the roots; s ≥ 0: the pages of space s. */
  private space = -1;
  private index = 0;
  private ticks = 0;
  private reading = false;
  private scrubbedThisCycle = 0;
  /** Ticks from one read to the next (ScrubPace): set again at every read. */
  private ticksPerRead = scrubTicksFirst;

  /** The one read in flight reads into this (allocating a block per read was 3% of a VOPR run). */
  private buffer: Uint8Array | null = null;

  constructor(private readonly grid: Grid, private readonly pace: ScrubPace) {}

  /** Called every tick while the state is loaded and no state sync replaces it. */
  tick(onFault: (fault: ScrubFault) => void): void {
    this.ticks += 1;
    if (this.reading || this.ticks < this.ticksPerRead) return;
    this.ticks = 0;
    const pace = this.pace;
    const perBlock = Math.floor(pace.cycleTicks / Math.max(1, this.grid.freeSet.acquiredCount));
    this.ticksPerRead = Math.min(pace.intervalTicksMax, Math.max(pace.intervalTicksMin, perBlock));
    const reference = this.advance();
    if (reference === null) return;
    const position = { space: this.space, index: this.index - 1 };
    this.reading = true;
    this.grid.readLocal(reference, (block, misplaced) => {
      this.reading = false;
      this.stats.blocksScrubbed += 1;
      if (block !== null) return;
      // The state may have moved on while we read (a page rewritten elsewhere): only a block that
      // is still ours is worth repairing.
      if (!sameReference(this.referenceAt(position.space, position.index), reference)) return;
      this.stats.faultsFound += 1;
      onFault({ reference, repairing: this.grid.repairInBackground(reference, misplaced) });
    }, this.buffer ??= new Uint8Array(this.grid.config.blockSize));
  }

  /** How many coming tick() calls would only count: the next read waits for the one in flight, or for its period. */
  quietTicksAhead(): number {
    return this.reading ? Infinity : Math.max(0, this.ticksPerRead - this.ticks - 1);
  }

  /** Counts `ticks` calls of tick() that quietTicksAhead() promised would only count. */
  skipQuietTicks(ticks: number): void {
    this.ticks += ticks;
  }

  /** The block at the cursor, moving the cursor past it; null only for an empty grid. */
  private advance(): BlockReference | null {
    // At most: the rest of the roots, every space, and the roots again.
    for (let steps = 0; steps <= this.grid.spaceCount + 2; steps++) {
      const reference = this.referenceAt(this.space, this.index);
      if (reference !== null) {
        this.index += 1;
        this.scrubbedThisCycle += 1;
        return reference;
      }
      this.space += 1;
      this.index = 0;
      if (this.space >= this.grid.spaceCount) {
        this.space = -1;
        if (this.scrubbedThisCycle > 0) this.stats.cyclesCompleted += 1;
        this.scrubbedThisCycle = 0;
      }
    }
    return null;
  }

  private referenceAt(space: number, index: number): BlockReference | null {
    if (space >= 0) return this.grid.livePage(space, index);
    return this.grid.liveRoot(index);
  }
}

function sameReference(a: BlockReference | null, b: BlockReference): boolean {
  return a !== null && a.address === b.address && a.checksum === b.checksum;
}
