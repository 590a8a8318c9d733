// What a state machine hands the grid to persist (DESIGN.md "Data file and storage engine"): a few
// spaces (the ledger's tables), each a sequence of pages of at most the grid's page size (one page
// per block), plus a small metadata record (counts, scalars). The grid writes the pages that
// changed since the last flush, copy-on-write, and on open or state sync hands pages back to a
// fresh state.
//
// Canonical bytes: a page's body is exactly its used bytes, so equal states give equal pages,
// whatever the capacities or growth history of their buffers.
import type { PagePool } from "./page_pool.js";

/** The granularity of dirty tracking inside flat (growable) buffers: finer than any grid page. */
export const dirtyUnitSize = 4096;

export interface PageSpace {
  /** Logical bytes in use (recorded in the manifest and checked on open). */
  usedBytes(): number;
  pageCount(): number;
  /** The body size of page `page` (< pageCount()): the bytes its block holds. */
  pageUsedBytes(page: number): number;
  /** The body of a resident page: a view the grid copies before the next change. */
  pageBody(page: number): Uint8Array;
  /** True when page `page` changed since the last clearDirty(). */
  isDirty(page: number): boolean;
  clearDirty(): void;
  /** Lazy spaces: forgets page `page`'s change (the grid wrote it before the bar's end). */
  clearDirtyPage?(page: number): void;
  /** Installs a page read back from the grid; false when its size is not the expected one. */
  install(page: number, body: Uint8Array): boolean;
  /**
   * True for spaces whose pages may be absent from memory (read on demand, evicted when clean):
   * open leaves them unread. False for resident spaces, loaded whole on open.
   */
  readonly lazy: boolean;
  isResident(page: number): boolean;
  /** Drops a clean page from memory (lazy spaces only); the grid still holds it. */
  evict(page: number): void;
}

/**
 * Pages a prepare will touch, as (space index, page) pairs: what the replica reads into memory
 * before executing it (DESIGN.md "Prefetch, then execute"). Resident pages are listed too, so the
 * grid's cache knows they are in use.
 */
export type PageNeeds = readonly number[];

export interface PersistentState {
  /**
   * Sets where pages come from: the grid's pool, whose page size is the grid's block body size.
   * Called once, while the state is empty.
   */
  configurePages(pool: PagePool): void;
  /** The spaces, always the same number in the same order. */
  spaces(): readonly PageSpace[];
  /** The metadata record (counts and scalars); small, written with every checkpoint. */
  meta(): Uint8Array;
  /**
   * Starts replacing the state with a persisted one: sizes every space for `meta`'s counts.
   * The caller then installs each space's pages and calls restoreFinish(). A restore begun and
   * not finished (a state sync replaced the checkpoint that was still loading) is dropped.
   */
  restoreBegin(meta: Uint8Array): void;
  /** Rebuilds derived data (indexes), checks the restored state and clears every dirty bit. */
  restoreFinish(): void;
}
