// A table of fixed-size records (a whole number of u32 words each) kept in pages of a fixed size,
// one typed array per page, never one growable buffer (DESIGN.md "Data file and storage engine"):
// - growth allocates one page at a time, so appending never copies the table (a doubling copy of
//   a multi-GiB buffer stalled requests for seconds);
// - a page is the unit the grid persists (one block per page, copy-on-write) and, once written and
//   clean, the unit it may drop from memory and read back on demand.
//
// Records never straddle pages: a page holds `perPage` records and ends with unused words when
// the page size is not a multiple of the record size. Record r lives in page ⌊r / perPage⌋ at word
// (r mod perPage) × stride. Callers take the page's array and the offset separately (no object per
// access): `const words = t.u32(r), w = t.at(r)`, then `words[w + field]`.
//
// Canonical bytes: a page's body is exactly its used records, and records past `count` are zero
// (pop() zeroes what it drops), so equal tables give equal pages whatever their history.
import { assert } from "./assert.js";
import { emptyObjectArray } from "./object_array.js";
import { PagePool } from "./page_pool.js";
import type { PageSpace } from "./persistent_state.js";

export class PagedRecords implements PageSpace {
  readonly lazy = true;
  readonly perPage: number;
  count = 0;
  private u32Pages: (Uint32Array | null)[] = emptyObjectArray();
  private i32Pages: (Int32Array | null)[] = emptyObjectArray();
  /** One flag per page: changed since the last clearDirty(). */
  private dirty = new Uint8Array(16);

  /** Where pages come from and go back to when evicted (page_pool.ts): shared by a state's tables. */
  readonly pool: PagePool;

  constructor(readonly strideWords: number, readonly pageBytes: number, pool?: PagePool) {
    assert(Number.isInteger(strideWords) && strideWords >= 1);
    this.pool = pool ?? new PagePool(pageBytes);
    assert(this.pool.pageBytes === pageBytes, "paged records: the pool's page size");
    this.perPage = Math.floor(pageBytes / (strideWords * 4));
    assert(this.perPage >= 1, "paged records: a record larger than a page");
  }

  // ---- records ----

  /** The words of the page holding record `record` (u32 view). */
  u32(record: number): Uint32Array {
    const page = this.u32Pages[(record / this.perPage) | 0];
    assert(page != null, "paged records: page not resident (not prefetched)");
    return page;
  }

  /** The same as u32(record): the name the row tables share (tables.ts `Rows`). */
  words(record: number): Uint32Array {
    return this.u32(record);
  }

  /** The same page as an Int32Array (for fields that hold −1). */
  i32(record: number): Int32Array {
    const page = this.i32Pages[(record / this.perPage) | 0];
    assert(page != null, "paged records: page not resident (not prefetched)");
    return page;
  }

  /** The word offset of `record` inside its page. */
  at(record: number): number {
    return (record % this.perPage) * this.strideWords;
  }

  pageOf(record: number): number {
    return (record / this.perPage) | 0;
  }

  /** Appends a zeroed record (a new page when the last is full) and returns its index. */
  append(): number {
    const record = this.count++;
    const page = (record / this.perPage) | 0;
    if (page >= this.u32Pages.length || this.u32Pages[page] === null) {
      // A page that already holds records is on the grid: it must have been read back first.
      assert(record % this.perPage === 0, "paged records: appending to a page that is not resident (not prefetched)");
      this.allocate(page);
    }
    this.markPage(page);
    return record;
  }

  /** Removes the last record and zeroes it (linked-chain rollback). */
  pop(): void {
    assert(this.count > 0);
    const record = --this.count;
    const w = this.at(record);
    this.u32(record).fill(0, w, w + this.strideWords);
    const page = this.pageOf(record);
    this.markPage(page);
    if (record % this.perPage === 0) this.dropPage(page); // empty again, past the table's end
  }

  /** Records that `record` changed. */
  markDirty(record: number): void {
    this.markPage((record / this.perPage) | 0);
  }

  private markPage(page: number): void {
    if (page >= this.dirty.length) {
      const grown = new Uint8Array(Math.max(page + 1, this.dirty.length * 2));
      grown.set(this.dirty);
      this.dirty = grown;
    }
    this.dirty[page] = 1;
  }

  private allocate(page: number): void {
    while (this.u32Pages.length <= page) {
      this.u32Pages.push(null);
      this.i32Pages.push(null);
    }
    assert(this.u32Pages[page] === null, "paged records: allocating a resident page");
    const u32 = this.pool.take().subarray(0, this.perPage * this.strideWords);
    this.u32Pages[page] = u32;
    this.i32Pages[page] = new Int32Array(u32.buffer, u32.byteOffset, u32.length);
  }

  // ---- PageSpace: what the grid persists ----

  usedBytes(): number {
    return this.count * this.strideWords * 4;
  }

  pageCount(): number {
    return Math.ceil(this.count / this.perPage);
  }

  pageUsedBytes(page: number): number {
    assert(page >= 0 && page < this.pageCount());
    return Math.min(this.perPage, this.count - page * this.perPage) * this.strideWords * 4;
  }

  isResident(page: number): boolean {
    return page < this.u32Pages.length && this.u32Pages[page] !== null;
  }

  pageBody(page: number): Uint8Array {
    const u32 = this.u32Pages[page];
    assert(u32 != null, "paged records: writing a page that is not resident");
    return new Uint8Array(u32.buffer, u32.byteOffset, this.pageUsedBytes(page));
  }

  isDirty(page: number): boolean {
    return page < this.dirty.length && this.dirty[page] === 1;
  }

  clearDirty(): void {
    this.dirty.fill(0);
  }

  clearDirtyPage(page: number): void {
    if (page < this.dirty.length) this.dirty[page] = 0;
  }

  /** Installs page `page` read back from the grid (clean). False when its size is wrong. */
  install(page: number, body: Uint8Array): boolean {
    if (page >= this.pageCount() || body.length !== this.pageUsedBytes(page)) return false;
    if (this.isResident(page)) this.u32Pages[page]!.fill(0);
    else this.allocate(page);
    const u32 = this.u32Pages[page]!;
    new Uint8Array(u32.buffer, u32.byteOffset, body.length).set(body);
    return true;
  }

  /** Drops a clean page from memory; the grid still holds it. */
  evict(page: number): void {
    assert(!this.isDirty(page), "paged records: evicting a dirty page");
    this.dropPage(page);
  }

  /** Gives every resident page back to the pool: the table is being replaced and is never used again. */
  releasePages(): void {
    for (let page = 0; page < this.u32Pages.length; page++) this.dropPage(page);
    this.count = 0;
  }

  /** Gives a resident page's memory back to the pool (nothing when it is not resident). */
  private dropPage(page: number): void {
    const u32 = page < this.u32Pages.length ? this.u32Pages[page] : null;
    if (u32 === null || u32 === undefined) return;
    this.pool.give(u32);
    this.u32Pages[page] = null;
    this.i32Pages[page] = null;
  }

  /** Bytes held in memory by resident pages. */
  residentBytes(): number {
    let pages = 0;
    for (const page of this.u32Pages) if (page !== null) pages += 1;
    return pages * this.perPage * this.strideWords * 4;
  }
}
