// What the grid reports about itself, read by the host's metrics and `scarab benchmark`.
// Counters only grow; the per-checkpoint figure is replaced at each durable checkpoint.

export interface GridStats {
  /** Grid blocks written since the replica started (data, index, free set, manifest, sync). */
  blocksWritten: number;
  /** Bytes of those blocks (whole blocks, as they reach the disk). */
  bytesWritten: number;
  /** Bytes written to the grid between the previous durable checkpoint and the last one. */
  checkpointBytesWritten: number;
  /** Blocks acquired (in use) in the free set at the last checkpoint. */
  blocksAcquired: number;
  /** Blocks the data file may hold (the storage limit), 0 when unknown. */
  blocksLimit: number;
  /** Pages read back into the block cache on demand (cache misses of prefetches). */
  pagesRead: number;
}

export function emptyGridStats(): GridStats {
  return { blocksWritten: 0, bytesWritten: 0, checkpointBytesWritten: 0, blocksAcquired: 0, blocksLimit: 0, pagesRead: 0 };
}
