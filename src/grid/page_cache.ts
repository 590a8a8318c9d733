// The grid's block cache (DESIGN.md "Out-of-core tables"): which pages of the lazy spaces stay in
// memory. Pages are kept in least-recently-used order; a page is used when a prepare's prefetch
// names it, when it is read back, and when a flush writes it. Past the budget, the oldest clean
// pages are dropped (their blocks stay in the grid); dirty pages stay until the flush at the end
// of their bar writes them, so a bar's new pages may briefly exceed the budget.
//
// Eviction only runs between prepares (after an execute, after a flush), never between a
// prepare's prefetch and its execution, so whatever the prefetch read is still there when the
// state machine runs. The order is a function of the op sequence alone (no clock, no memory
// pressure): replicas and seeds replay identically.
import { assert } from "../core/assert.js";
import type { PageSpace } from "../core/persistent_state.js";

/** Spaces per state machine the keys allow (page × 16 + space). */
const spacesMax = 16;

export class PageCache {
  private readonly lru = new Map<number, true>();
  evictions = 0;
  /**
   * Bumped whenever a page may have left memory (an eviction, a clear): a prefetch round that
   * found every page resident still holds while it is unchanged (Replica.warmPrefetch).
   */
  epoch = 0;

  constructor(readonly pagesMax: number) {
    assert(Number.isInteger(pagesMax) && pagesMax >= 1, "page cache: at least one page");
  }

  get size(): number {
    return this.lru.size;
  }

  touch(space: number, page: number): void {
    assert(space >= 0 && space < spacesMax);
    const key = page * spacesMax + space;
    this.lru.delete(key);
    this.lru.set(key, true);
  }

  clear(): void {
    this.lru.clear();
    this.epoch += 1;
  }

  /** Drops the least recently used clean pages until at most pagesMax are tracked. */
  evict(spaces: readonly PageSpace[]): void {
    if (this.lru.size <= this.pagesMax) return;
    for (const key of this.lru.keys()) {
      if (this.lru.size <= this.pagesMax) break;
      const space = spaces[key % spacesMax]!;
      const page = Math.floor(key / spacesMax);
      if (page < space.pageCount() && space.isResident(page)) {
        if (space.isDirty(page)) continue; // written at the next flush, then evictable
        space.evict(page);
        this.evictions += 1;
        this.epoch += 1;
      }
      this.lru.delete(key);
    }
  }
}
