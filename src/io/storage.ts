// The Storage seam (DESIGN.md "The seam"): sector-aligned reads and writes of a data-file zone,
// completing through callbacks. A callback never runs inside the call that registered it, so
// callers never re-enter themselves; the simulator completes IO out of order, production in
// io_uring completion order.
import { sectorSize } from "../core/config.js";

/** Data-file zones, in on-disk order (spec/vsr.md §12). */
export enum Zone {
  superblock = 0,
  wal_headers = 1,
  wal_prepares = 2,
  client_replies = 3,
  grid = 4,
}

export const zoneNames: readonly string[] = ["superblock", "wal_headers", "wal_prepares", "client_replies", "grid"];

export interface Storage {
  /** Reads buffer.length bytes at `offset` within `zone` into `buffer`. Multiples of 4096. */
  read(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void;
  /** Writes `buffer` at `offset` within `zone`; durable when the callback runs. */
  write(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void;
  /** Runs `callback` later, never inside this call. */
  nextTick(callback: () => void): void;
  /**
   * Starts the IO queued so far now. A backend that gathers submissions until the end of the
   * event-loop turn (io_uring) would otherwise let a long synchronous job delay them; one that
   * starts each IO when it is called has nothing to do and need not implement it.
   */
  submitQueued?(): void;
}

export function isSectorAligned(value: number): boolean {
  return value % sectorSize === 0;
}
