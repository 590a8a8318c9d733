// A resident byte buffer seen by the grid as pages (persistent_state.ts): for tables bounded by
// configuration rather than by the number of transfers (the accounts and their list heads, the
// orphaned ids), kept as one growable buffer with 4 KiB dirty units.
import { dirtyUnitSize, type PageSpace } from "./persistent_state.js";

/** Which 4 KiB units of a buffer changed (tables.ts DirtyPages, or a test's own record). */
export interface UnitDirtiness {
  isDirty(unit: number): boolean;
  clear(): void;
}

/**
 * A resident, growable buffer seen as pages of `pageBytes` (the account rows, the list heads and
 * the orphaned ids: bounded by the account count, not by the transfers). Its dirty bits are 4 KiB
 * units; a page is dirty when any unit it overlaps is.
 */
export class FlatSpace implements PageSpace {
  constructor(
    private readonly bytes: () => Uint8Array, readonly usedBytes: () => number,
    private readonly dirty: () => UnitDirtiness, private readonly pageBytes: number,
  ) {}

  pageCount(): number {
    return Math.ceil(this.usedBytes() / this.pageBytes);
  }

  pageUsedBytes(page: number): number {
    return Math.min(this.pageBytes, this.usedBytes() - page * this.pageBytes);
  }

  pageBody(page: number): Uint8Array {
    const start = page * this.pageBytes;
    return this.bytes().subarray(start, start + this.pageUsedBytes(page));
  }

  isDirty(page: number): boolean {
    const first = Math.floor((page * this.pageBytes) / dirtyUnitSize);
    const last = Math.floor(((page + 1) * this.pageBytes - 1) / dirtyUnitSize);
    for (let unit = first; unit <= last; unit++) if (this.dirty().isDirty(unit)) return true;
    return false;
  }

  clearDirty(): void {
    this.dirty().clear();
  }

  readonly lazy = false;

  isResident(): boolean {
    return true;
  }

  evict(): void {
    throw new Error("flat space: resident pages are never evicted");
  }

  install(page: number, body: Uint8Array): boolean {
    if (page >= this.pageCount() || body.length !== this.pageUsedBytes(page)) return false;
    this.bytes().set(body, page * this.pageBytes);
    return true;
  }
}
