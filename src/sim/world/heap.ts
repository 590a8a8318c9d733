// Deterministic binary heaps for the simulator's queues (spec/vopr.md §7, §9: packets and IOs sit
// in priority queues by ready_at). Ties break by a per-owner sequence number, so equal ready
// times complete in submission order and nothing depends on heap internals' tie handling.
import { assert } from "../../core/assert.js";

/** `readyAt` in ticks; `seq` strictly increasing per owner (a link or a storage). */
export interface Timed {
  readyAt: number;
  seq: number;
}

function before(a: Timed, b: Timed): boolean {
  return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
}

/** A min-heap of Timed items: O(log n) push, pop and removal at an index. */
export class TimedHeap<T extends Timed> {
  private readonly heapItems: T[] = [];

  get size(): number {
    return this.heapItems.length;
  }

  peek(): T | undefined {
    return this.heapItems[0];
  }

  /** Every item, in heap-array order (deterministic, but not sorted); read only. */
  get items(): readonly T[] {
    return this.heapItems;
  }

  /** The item at `index` in heap-array order (deterministic, but not sorted). */
  at(index: number): T {
    assert(index >= 0 && index < this.heapItems.length, "TimedHeap.at: index out of range");
    return this.heapItems[index]!;
  }

  push(item: T): void {
    this.heapItems.push(item);
    this.siftUp(this.heapItems.length - 1);
  }

  pop(): T {
    return this.removeAt(0);
  }

  removeAt(index: number): T {
    const items = this.heapItems;
    assert(index >= 0 && index < items.length, "TimedHeap.removeAt: index out of range");
    const removed = items[index]!;
    const last = items.pop()!;
    if (index < items.length) {
      items[index] = last;
      this.siftDown(index);
      this.siftUp(index);
    }
    return removed;
  }

  clear(): void {
    this.heapItems.length = 0;
  }

  private siftUp(start: number): void {
    const items = this.heapItems;
    const item = items[start]!;
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(item, items[parent]!)) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = item;
  }

  private siftDown(start: number): void {
    const items = this.heapItems;
    const count = items.length;
    const item = items[start]!;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= count) break;
      const right = left + 1;
      const child = right < count && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, item)) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = item;
  }
}

/**
 * A min-heap over the integer ids 0..capacity−1, keyed by (key1, key2), with O(log n) update and
 * removal of any id. The network uses it to find due links without scanning every link, and to
 * schedule clog events.
 */
export class IndexedHeap {
  private readonly heap: Int32Array;
  private readonly position: Int32Array; // id → heap index, or −1 when absent
  private readonly key1: Float64Array;
  private readonly key2: Float64Array;
  private count = 0;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, "IndexedHeap: bad capacity");
    this.heap = new Int32Array(capacity);
    this.position = new Int32Array(capacity).fill(-1);
    this.key1 = new Float64Array(capacity);
    this.key2 = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    return this.position[id]! >= 0;
  }

  peekId(): number {
    assert(this.count > 0, "IndexedHeap.peekId: empty");
    return this.heap[0]!;
  }

  peekKey1(): number {
    assert(this.count > 0, "IndexedHeap.peekKey1: empty");
    return this.key1[this.heap[0]!]!;
  }

  peekKey2(): number {
    assert(this.count > 0, "IndexedHeap.peekKey2: empty");
    return this.key2[this.heap[0]!]!;
  }

  /** Inserts `id`, or moves it to its new key. */
  set(id: number, key1: number, key2: number): void {
    assert(id >= 0 && id < this.capacity, "IndexedHeap.set: id out of range");
    this.key1[id] = key1;
    this.key2[id] = key2;
    let index = this.position[id]!;
    if (index < 0) {
      index = this.count++;
      this.heap[index] = id;
      this.position[id] = index;
    }
    this.siftDown(this.siftUp(index));
  }

  delete(id: number): void {
    const index = this.position[id]!;
    if (index < 0) return;
    this.position[id] = -1;
    this.count -= 1;
    if (index === this.count) return;
    const last = this.heap[this.count]!;
    this.heap[index] = last;
    this.position[last] = index;
    this.siftDown(this.siftUp(index));
  }

  clear(): void {
    for (let index = 0; index < this.count; index++) this.position[this.heap[index]!] = -1;
    this.count = 0;
  }

  /** Whether id `a` sorts before id `b`, whose keys are (k1, k2). Ids break ties. */
  private before(a: number, b: number, k1: number, k2: number): boolean {
    const a1 = this.key1[a]!;
    if (a1 !== k1) return a1 < k1;
    const a2 = this.key2[a]!;
    return a2 !== k2 ? a2 < k2 : a < b;
  }

  private place(index: number, id: number): void {
    this.heap[index] = id;
    this.position[id] = index;
  }

  // Both sifts cache the moving id's keys: this heap is on the packet hot path.
  private siftUp(start: number): number {
    const id = this.heap[start]!;
    const k1 = this.key1[id]!;
    const k2 = this.key2[id]!;
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentId = this.heap[parent]!;
      if (this.before(parentId, id, k1, k2)) break;
      this.place(index, parentId);
      index = parent;
    }
    this.place(index, id);
    return index;
  }

  private siftDown(start: number): void {
    const id = this.heap[start]!;
    const k1 = this.key1[id]!;
    const k2 = this.key2[id]!;
    const count = this.count;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= count) break;
      let child = left;
      const right = left + 1;
      if (right < count) {
        const rightId = this.heap[right]!;
        const leftId = this.heap[left]!;
        if (this.before(rightId, leftId, this.key1[leftId]!, this.key2[leftId]!)) child = right;
      }
      const childId = this.heap[child]!;
      if (!this.before(childId, id, k1, k2)) break;
      this.place(index, childId);
      index = child;
    }
    this.place(index, id);
  }
}
