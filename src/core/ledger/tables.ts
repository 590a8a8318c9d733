// Row tables of the ledger: accounts and transfers stored as their exact 128-byte wire records,
// back to back in one growable buffer per table (ledger.md §2.1, §2.2). Lookups copy rows straight
// into replies and transfers update balances in place, so there is no JS object per record.
//
// Rows are append-only and row order is timestamp order: non-imported timestamps grow with every
// prepare (ledger.md §5) and imported ones must be strictly greater than every existing timestamp
// of the same kind (§10.3). Rows only disappear when a linked chain rolls back, and then from the
// end (LIFO). Queries therefore binary-search rows by timestamp.
//
// Checkpoints (issue #4) write only what changed. Every table owns a `DirtyPages` bitset with one
// bit per 4 KiB page of its buffer; every append, in-place write (balances, `closed`, pending
// state, list links) and rollback marks the page it touches. A checkpoint writes the dirty pages
// of each buffer as grid blocks (copy-on-write, addressed by page number) and then calls
// `clear()`. Buffers with dirty pages (state.ts): account rows, transfer rows, the per-account list
// heads, the per-transfer side array (links, pending state, expires_at), the history entries and
// the append-only list of orphaned ids; plus two scalars, the row counts and pulse_next, stored
// with the checkpoint. The account and transfer id indexes, the orphan index and the expiry heap
// are derived data: a checkpoint load rebuilds them from those buffers (the heap from the pending
// rows that have an expires_at), so they need no dirty tracking.
import { assert } from "../assert.js";
import type { PagePool } from "../page_pool.js";
import { PagedRecords } from "../paged_records.js";
import { rowWords } from "./words.js";

const rowBytes = rowWords * 4;

export const pageSize = 4096;
const pageShift = 12;

/**
 * One dirty bit per 4 KiB page of a buffer made of fixed-size units (a power of two bytes each:
 * 128-byte rows for the row tables, 4-byte words for the side arrays of state.ts).
 */
export class DirtyPages {
  private bits: Uint32Array;
  private readonly rowsPerPageShift: number;

  constructor(bytesPerRow: number, rowCapacity: number) {
    assert(bytesPerRow > 0 && (bytesPerRow & (bytesPerRow - 1)) === 0 && bytesPerRow <= pageSize);
    this.rowsPerPageShift = pageShift - Math.log2(bytesPerRow);
    this.bits = new Uint32Array(this.wordsFor(rowCapacity));
  }

  private wordsFor(rowCapacity: number): number {
    const pages = Math.ceil(rowCapacity / (1 << this.rowsPerPageShift));
    return Math.max(1, Math.ceil(pages / 32));
  }

  ensureRows(rowCapacity: number): void {
    const words = this.wordsFor(rowCapacity);
    if (words <= this.bits.length) return;
    const grown = new Uint32Array(words);
    grown.set(this.bits);
    this.bits = grown;
  }

  mark(unit: number): void {
    const page = unit >>> this.rowsPerPageShift;
    this.bits[page >>> 5]! |= 1 << (page & 31);
  }

  isDirty(page: number): boolean {
    const word = page >>> 5;
    return word < this.bits.length && (this.bits[word]! & (1 << (page & 31))) !== 0;
  }

  /** The dirty page numbers in ascending order (a checkpoint-time helper; allocates). */
  dirtyPages(): number[] {
    const pages: number[] = [];
    for (let w = 0; w < this.bits.length; w++) {
      let word = this.bits[w]!;
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        pages.push(w * 32 + bit);
        word &= word - 1;
      }
    }
    return pages;
  }

  clear(): void {
    this.bits.fill(0);
  }
}

/** A growable table of 128-byte rows with Uint8Array, Uint32Array and DataView views. */
export class RowTable {
  u8: Uint8Array;
  u32: Uint32Array;
  view: DataView;
  count = 0;
  capacity: number;
  readonly dirty: DirtyPages;

  constructor(capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1);
    this.capacity = capacity;
    this.u8 = new Uint8Array(capacity * rowBytes); // not <<: 2^24 rows and more overflow an int32
    this.u32 = new Uint32Array(this.u8.buffer);
    this.view = new DataView(this.u8.buffer);
    this.dirty = new DirtyPages(128, capacity);
  }

  /** Makes room for `extra` more rows, doubling (deterministic: depends only on the counts). */
  reserve(extra: number): boolean {
    const needed = this.count + extra;
    if (needed <= this.capacity) return false;
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    const u8 = new Uint8Array(capacity * rowBytes);
    u8.set(this.u8.subarray(0, this.count * rowBytes));
    this.u8 = u8;
    this.u32 = new Uint32Array(u8.buffer);
    this.view = new DataView(u8.buffer);
    this.capacity = capacity;
    this.dirty.ensureRows(capacity);
    return true;
  }

  /** Appends a zeroed row (the caller fills it) and returns its index. */
  append(): number {
    assert(this.count < this.capacity, "row table: reserve() before append()");
    const row = this.count++;
    this.dirty.mark(row);
    return row;
  }

  /** Removes the last row and zeroes it, so a rollback leaves the buffer byte-identical. */
  pop(): void {
    assert(this.count > 0);
    const row = --this.count;
    this.u32.fill(0, row * rowWords, (row + 1) * rowWords);
    this.dirty.mark(row);
  }

  /** The words holding `row` (the whole table: accounts are one resident buffer). */
  words(_row: number): Uint32Array {
    return this.u32;
  }

  at(row: number): number {
    return row * rowWords;
  }

  timestampHi(row: number): number {
    return this.u32[row * rowWords + 31]!;
  }

  timestampLo(row: number): number {
    return this.u32[row * rowWords + 30]!;
  }

  /** The first row whose timestamp is ≥ (hi, lo), in [0, count]. */
  lowerBound(hi: number, lo: number): number {
    return timestampLowerBound(this, hi, lo);
  }

  /** True when some row has exactly this timestamp. O(log n). */
  hasTimestamp(hi: number, lo: number): boolean {
    return hasTimestamp(this, hi, lo);
  }

  /** True when the table is non-empty and (hi, lo) ≤ the timestamp of the last row. */
  notAfterLast(hi: number, lo: number): boolean {
    return notAfterLast(this, hi, lo);
  }
}

/** Grows an Int32Array to `capacity` elements, filling the new part with `fill`. */
export function growInt32(array: Int32Array, capacity: number, fill: number): Int32Array {
  if (capacity <= array.length) return array;
  const grown = new Int32Array(capacity);
  grown.set(array);
  grown.fill(fill, array.length);
  return grown;
}

export function growUint32(array: Uint32Array, capacity: number): Uint32Array {
  if (capacity <= array.length) return array;
  const grown = new Uint32Array(capacity);
  grown.set(array);
  return grown;
}

/** What queries need from a row table, resident (RowTable) or paged (PagedRows). */
export interface Rows {
  readonly count: number;
  words(row: number): Uint32Array;
  at(row: number): number;
  lowerBound(hi: number, lo: number): number;
}

/**
 * Transfer rows: 128-byte rows in pages (paged_records.ts), so the table grows a page at a time
 * and the grid can keep only some pages in memory. Same timestamp helpers as RowTable.
 */
export class PagedRows extends PagedRecords implements Rows {
  constructor(pageBytes: number, pool?: PagePool) {
    super(rowWords, pageBytes, pool);
  }

  timestampHi(row: number): number {
    return this.u32(row)[this.at(row) + 31]!;
  }

  timestampLo(row: number): number {
    return this.u32(row)[this.at(row) + 30]!;
  }

  lowerBound(hi: number, lo: number): number {
    return timestampLowerBound(this, hi, lo);
  }

  hasTimestamp(hi: number, lo: number): boolean {
    return hasTimestamp(this, hi, lo);
  }

  notAfterLast(hi: number, lo: number): boolean {
    return notAfterLast(this, hi, lo);
  }
}

/** Rows in timestamp order (row order is timestamp order: see the header). */
export interface TimestampedRows {
  readonly count: number;
  timestampHi(row: number): number;
  timestampLo(row: number): number;
}

/**
 * The first row whose timestamp is ≥ (hi, lo), in [0, count]. `readable` (prefetch probes) says
 * whether a row may be read now; the search returns −1 at the first row it may not.
 */
export function timestampLowerBound(
  rows: TimestampedRows, hi: number, lo: number, readable?: (row: number) => boolean,
): number {
  let low = 0;
  let high = rows.count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (readable !== undefined && !readable(mid)) return -1;
    const midHi = rows.timestampHi(mid);
    if (midHi < hi || (midHi === hi && rows.timestampLo(mid) < lo)) low = mid + 1;
    else high = mid;
  }
  return low;
}

function hasTimestamp(rows: TimestampedRows, hi: number, lo: number): boolean {
  const row = timestampLowerBound(rows, hi, lo);
  return row < rows.count && rows.timestampHi(row) === hi && rows.timestampLo(row) === lo;
}

function notAfterLast(rows: TimestampedRows, hi: number, lo: number): boolean {
  if (rows.count === 0) return false;
  const lastHi = rows.timestampHi(rows.count - 1);
  return hi < lastHi || (hi === lastHi && lo <= rows.timestampLo(rows.count - 1));
}
