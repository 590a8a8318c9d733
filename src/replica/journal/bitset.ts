// A fixed-size bitset with an incrementally maintained population count, for the journal's
// per-slot flags (dirty, faulty, …; spec/vsr.md §11.1). Idempotent set/clear, no allocation.
import { assert } from "../../core/assert.js";

export class BitSet {
  readonly length: number;
  private readonly words: Uint32Array;
  private countValue = 0;

  constructor(length: number) {
    assert(Number.isInteger(length) && length > 0, "BitSet: bad length");
    this.length = length;
    this.words = new Uint32Array(Math.ceil(length / 32));
  }

  get count(): number {
    return this.countValue;
  }

  has(index: number): boolean {
    this.check(index);
    return (this.words[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  set(index: number): void {
    if (this.has(index)) return;
    this.words[index >>> 5] = this.words[index >>> 5]! | (1 << (index & 31));
    this.countValue += 1;
    assert(this.countValue <= this.length);
  }

  clear(index: number): void {
    if (!this.has(index)) return;
    this.words[index >>> 5] = this.words[index >>> 5]! & ~(1 << (index & 31));
    this.countValue -= 1;
    assert(this.countValue >= 0);
  }

  setAll(): void {
    for (let index = 0; index < this.length; index++) this.set(index);
  }

  clearAll(): void {
    this.words.fill(0);
    this.countValue = 0;
  }

  private check(index: number): void {
    assert(Number.isInteger(index) && index >= 0 && index < this.length, "BitSet: index out of range");
  }
}
