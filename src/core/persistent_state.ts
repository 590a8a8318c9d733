// What a state machine hands the grid to persist (DESIGN.md "Data file and storage engine"): a few
// byte spaces (the ledger's tables), each cut by the grid into pages of the block body size, plus a
// small metadata record (counts, scalars). The grid writes the pages that changed since the last
// flush, copy-on-write, and on open or state sync hands pages back to a fresh state.
//
// Canonical bytes: a page holds exactly the used bytes of its range and zeros after them, so equal
// states give equal pages, whatever the capacities or growth history of the buffers.

/** The granularity of dirty tracking (a power of two, finer than any grid page). */
export const dirtyUnitSize = 4096;

export interface PageSpace {
  /** The backing bytes; may be a new buffer after the state grows, so ask again each time. */
  bytes(): Uint8Array;
  /** Bytes in use: the space is [0, usedBytes). */
  usedBytes(): number;
  /** True when bytes in [unit × 4096, (unit + 1) × 4096) changed since the last clearDirty(). */
  isDirty(unit: number): boolean;
  clearDirty(): void;
}

export interface PersistentState {
  /** The spaces, always the same number in the same order. */
  spaces(): readonly PageSpace[];
  /** The metadata record (counts and scalars); small, written with every checkpoint. */
  meta(): Uint8Array;
  /**
   * Starts replacing the state with a persisted one: sizes every space for `meta`'s counts.
   * The caller then copies each space's used bytes into bytes() and calls restoreFinish().
   */
  restoreBegin(meta: Uint8Array): void;
  /** Rebuilds derived data (indexes), checks the restored state and clears every dirty bit. */
  restoreFinish(): void;
}
