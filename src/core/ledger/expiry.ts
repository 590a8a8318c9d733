// Expiry queue (ledger.md §9.2, §9.3): a binary min-heap of pending transfers with a timeout,
// keyed by (expires_at, transfer row). Row order is timestamp order (tables.ts), so this is the
// spec's (expires_at, p.timestamp) order, and keys are unique.
//
// Posting or voiding does not remove the entry (lazy deletion): the pulse checks the row's
// pending state when an entry reaches the top and drops entries that are no longer pending.
// Inside a linked chain the heap only sees pushes, and `undoPush` reverses the latest push
// exactly (it moves the sifted-up path back down), so a rollback restores the heap byte for byte.
import { assert } from "../assert.js";

export class ExpiryHeap {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private rows: Int32Array;
  length = 0;
  private readonly path = new Int32Array(33);

  constructor(capacity = 64) {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.rows = new Int32Array(capacity);
  }

  get topHi(): number {
    assert(this.length > 0);
    return this.hi[0]!;
  }

  get topLo(): number {
    assert(this.length > 0);
    return this.lo[0]!;
  }

  get topRow(): number {
    assert(this.length > 0);
    return this.rows[0]!;
  }

  /** The entry at heap position i (for tests and checkers). */
  entry(i: number): { hi: number; lo: number; row: number } {
    assert(i >= 0 && i < this.length);
    return { hi: this.hi[i]!, lo: this.lo[i]!, row: this.rows[i]! };
  }

  private less(a: number, b: number): boolean {
    const ah = this.hi[a]!, bh = this.hi[b]!;
    if (ah !== bh) return ah < bh;
    const al = this.lo[a]!, bl = this.lo[b]!;
    if (al !== bl) return al < bl;
    return this.rows[a]! < this.rows[b]!;
  }

  private move(from: number, to: number): void {
    this.hi[to] = this.hi[from]!;
    this.lo[to] = this.lo[from]!;
    this.rows[to] = this.rows[from]!;
  }

  private swap(a: number, b: number): void {
    const h = this.hi[a]!, l = this.lo[a]!, r = this.rows[a]!;
    this.move(b, a);
    this.hi[b] = h;
    this.lo[b] = l;
    this.rows[b] = r;
  }

  private grow(): void {
    const capacity = this.hi.length * 2;
    const hi = new Uint32Array(capacity), lo = new Uint32Array(capacity), rows = new Int32Array(capacity);
    hi.set(this.hi);
    lo.set(this.lo);
    rows.set(this.rows);
    this.hi = hi;
    this.lo = lo;
    this.rows = rows;
  }

  push(hi: number, lo: number, row: number): void {
    if (this.length === this.hi.length) this.grow();
    let i = this.length++;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.rows[i] = row;
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
    while (this.rows[position] !== row) {
      assert(position > 0, "expiry heap: undoPush of an entry that is not on the push path");
      position = (position - 1) >>> 1;
      path[++m] = position;
    }
    // The sift-up moved each ancestor one level down along the path: move them back up.
    for (let j = m; j > 0; j--) this.move(path[j - 1]!, path[j]!);
    this.hi[last] = 0;
    this.lo[last] = 0;
    this.rows[last] = 0;
    this.length = last;
  }

  pop(): void {
    assert(this.length > 0);
    const last = --this.length;
    this.move(last, 0);
    this.hi[last] = 0;
    this.lo[last] = 0;
    this.rows[last] = 0;
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
