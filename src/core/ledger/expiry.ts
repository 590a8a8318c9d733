// Expiry queue (ledger.md §9.2, §9.3): a binary min-heap of pending transfers with a timeout,
// keyed by (expires_at, transfer row). Row order is timestamp order (tables.ts), so this is the
// spec's (expires_at, p.timestamp) order, and keys are unique.
//
// Posting or voiding does not remove the entry (lazy deletion): the pulse checks the row's
// pending state when an entry reaches the top and drops entries that are no longer pending.
// Inside a linked chain the heap only sees pushes, and `undoPush` reverses the latest push
// exactly (it moves the sifted-up path back down), so a rollback restores the heap byte for byte.
//
// The heap is one buffer of 16-byte entries with 4 KiB dirty units, which the grid persists as a
// flat space (persistence.ts) and open restores verbatim: no scan of the transfers on start-up.
// It holds the pending transfers with a timeout (plus stale entries until they reach the top), so
// its size follows the workload's open pending transfers, not the ledger's size.
import { assert } from "../assert.js";
import { DirtyPages } from "./tables.js";

/** Words per heap entry: expires_at (hi, lo), the row, and a zero (16 bytes, for DirtyPages). */
export const expiryEntryWords = 4;

export class ExpiryHeap {
  /** The entries in heap order, 4 words each; words past `length` entries are zero. */
  words: Uint32Array;
  /** Which 4 KiB units changed: the grid persists the heap as a flat space (persistence.ts). */
  readonly dirty: DirtyPages;
  length = 0;
  private readonly path = new Int32Array(33);

  constructor(capacity = 64) {
    this.words = new Uint32Array(capacity * expiryEntryWords);
    this.dirty = new DirtyPages(expiryEntryWords * 4, capacity);
  }

  get topHi(): number {
    assert(this.length > 0);
    return this.words[0]!;
  }

  get topLo(): number {
    assert(this.length > 0);
    return this.words[1]!;
  }

  get topRow(): number {
    assert(this.length > 0);
    return this.words[2]!;
  }

  /** The entry at heap position i (for tests, checkers and the pulse's prefetch). */
  entry(i: number): { hi: number; lo: number; row: number } {
    assert(i >= 0 && i < this.length);
    const w = i * expiryEntryWords;
    return { hi: this.words[w]!, lo: this.words[w + 1]!, row: this.words[w + 2]! };
  }

  private less(a: number, b: number): boolean {
    const words = this.words;
    const wa = a * expiryEntryWords, wb = b * expiryEntryWords;
    const ah = words[wa]!, bh = words[wb]!;
    if (ah !== bh) return ah < bh;
    const al = words[wa + 1]!, bl = words[wb + 1]!;
    if (al !== bl) return al < bl;
    return words[wa + 2]! < words[wb + 2]!;
  }

  private set(i: number, hi: number, lo: number, row: number): void {
    const w = i * expiryEntryWords;
    this.words[w] = hi;
    this.words[w + 1] = lo;
    this.words[w + 2] = row;
    this.dirty.mark(i);
  }

  private move(from: number, to: number): void {
    const f = from * expiryEntryWords;
    this.set(to, this.words[f]!, this.words[f + 1]!, this.words[f + 2]!);
  }

  private swap(a: number, b: number): void {
    const w = a * expiryEntryWords;
    const h = this.words[w]!, l = this.words[w + 1]!, r = this.words[w + 2]!;
    this.move(b, a);
    this.set(b, h, l, r);
  }

  private grow(): void {
    const grown = new Uint32Array(this.words.length * 2);
    grown.set(this.words);
    this.words = grown;
    this.dirty.ensureRows(grown.length / expiryEntryWords);
  }

  /** Replaces the heap with `length` entries persisted by a checkpoint (in heap order). */
  restore(words: Uint32Array, length: number): void {
    assert(this.length === 0 && words.length === length * expiryEntryWords);
    while (this.words.length < words.length) this.grow();
    this.words.set(words);
    this.length = length;
  }

  /** Becomes a copy of `other` (the pulse's prefetch pops a copy to see what the pulse will pop). */
  copyFrom(other: ExpiryHeap): void {
    while (this.words.length < other.length * expiryEntryWords) this.grow();
    this.words.set(other.words.subarray(0, other.length * expiryEntryWords));
    this.length = other.length;
  }

  /** Makes room for the entries a restore installs (the words stay zero). */
  reserve(length: number): void {
    while (this.words.length < length * expiryEntryWords) this.grow();
  }

  push(hi: number, lo: number, row: number): void {
    if ((this.length + 1) * expiryEntryWords > this.words.length) this.grow();
    let i = this.length++;
    this.set(i, hi, lo, row);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Reverses the most recent push, which must have been of `row`, with no pop since. */
  undoPush(row: number): void {
    assert(this.length > 0);
    const last = this.length - 1;
    // Walk up from the leaf the push started at to the position where the pushed entry stopped.
    const path = this.path;
    let m = 0;
    path[0] = last;
    let position = last;
    while (this.words[position * expiryEntryWords + 2] !== row) {
      assert(position > 0, "expiry heap: undoPush of an entry that is not on the push path");
      position = (position - 1) >>> 1;
      path[++m] = position;
    }
    // The sift-up moved each ancestor one level down along the path: move them back up.
    for (let j = m; j > 0; j--) this.move(path[j - 1]!, path[j]!);
    this.set(last, 0, 0, 0);
    this.length = last;
  }

  pop(): void {
    assert(this.length > 0);
    const last = --this.length;
    this.move(last, 0);
    this.set(last, 0, 0, 0);
    const n = this.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(right, left) ? right : left;
      if (!this.less(child, i)) break;
      this.swap(i, child);
      i = child;
    }
  }
}
