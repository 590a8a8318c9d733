// A u128-keyed open-addressing hash index: linear probing, load factor ≤ 1/2, growth by doubling.
// Each slot is 5 u32 words, [value, key0, key1, key2, key3], in one Uint32Array, so a probe
// touches one cache line for both the occupancy test and the key comparison (measured: a new
// transfer id costs one cache miss instead of two). `empty` marks a free slot; values are rows.
//
// Keys are never deleted individually, except by `removeLast` for linked-chain rollback
// (ledger.md §6): with linear probing and no tombstones, the most recent insertion sits in the
// first empty slot of its probe sequence, so clearing that slot restores the previous table
// byte for byte. Removals must come in exact LIFO order of insertions. The ledger reserves
// capacity for a whole batch before executing it, so no growth happens inside a chain.
import { assert } from "../assert.js";
import { u128Hash32 } from "../u128.js";

const slotWords = 5;
const empty = 0xffff_ffff;

export class HashIndex {
  slots: Uint32Array;
  private mask: number;
  count = 0;

  constructor(capacityMin = 16) {
    let capacity = 16;
    while (capacity < capacityMin * 2) capacity *= 2;
    this.slots = HashIndex.allocate(capacity);
    this.mask = capacity - 1;
  }

  private static allocate(capacity: number): Uint32Array {
    const slots = new Uint32Array(capacity * slotWords);
    for (let s = 0; s < slots.length; s += slotWords) slots[s] = empty;
    return slots;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Grows (if needed) so that `extra` more insertions keep the load factor ≤ 1/2. */
  reserve(extra: number): void {
    const needed = (this.count + extra) * 2;
    if (needed <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    const old = this.slots;
    this.slots = HashIndex.allocate(capacity);
    this.mask = capacity - 1;
    // Re-insert in slot order: deterministic, and independent of insertion history.
    for (let s = 0; s < old.length; s += slotWords) {
      if (old[s] !== empty) this.place(old, s + 1, old[s]!);
    }
  }

  /** The value stored for the key at words[i..i+4), or −1. */
  find(words: Uint32Array, i: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const k0 = words[i]!, k1 = words[i + 1]!, k2 = words[i + 2]!, k3 = words[i + 3]!;
    for (let slot = u128Hash32(words, i) & mask; ; slot = (slot + 1) & mask) {
      const s = slot * slotWords;
      const value = slots[s]!;
      if (value === empty) return -1;
      if (slots[s + 1] === k0 && slots[s + 2] === k1 && slots[s + 3] === k2 && slots[s + 4] === k3) return value;
    }
  }

  /** Inserts a key that is not present. The caller has called reserve(). */
  insert(words: Uint32Array, i: number, value: number): void {
    assert(value >= 0 && value < empty, "hash index: values are non-negative rows");
    assert((this.count + 1) * 2 <= this.capacity, "hash index: reserve() before insert()");
    this.place(words, i, value);
    this.count++;
  }

  private place(words: Uint32Array, i: number, value: number): void {
    const slots = this.slots;
    const mask = this.mask;
    const k0 = words[i]!, k1 = words[i + 1]!, k2 = words[i + 2]!, k3 = words[i + 3]!;
    for (let slot = u128Hash32(words, i) & mask; ; slot = (slot + 1) & mask) {
      const s = slot * slotWords;
      if (slots[s] === empty) {
        slots[s] = value;
        slots[s + 1] = k0;
        slots[s + 2] = k1;
        slots[s + 3] = k2;
        slots[s + 4] = k3;
        return;
      }
      assert(
        !(slots[s + 1] === k0 && slots[s + 2] === k1 && slots[s + 3] === k2 && slots[s + 4] === k3),
        "hash index: duplicate key",
      );
    }
  }

  /** Removes the most recently inserted key (LIFO order only; see the header comment). */
  removeLast(words: Uint32Array, i: number): void {
    const slots = this.slots;
    const mask = this.mask;
    for (let slot = u128Hash32(words, i) & mask; ; slot = (slot + 1) & mask) {
      const s = slot * slotWords;
      assert(slots[s] !== empty, "hash index: removeLast of a missing key");
      if (slots[s + 1] === words[i] && slots[s + 2] === words[i + 1] && slots[s + 3] === words[i + 2] &&
          slots[s + 4] === words[i + 3]) {
        slots[s] = empty;
        slots.fill(0, s + 1, s + slotWords);
        this.count--;
        return;
      }
    }
  }
}
