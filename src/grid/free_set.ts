// The free set (DESIGN.md "Data file and storage engine", spec/vsr.md §9): one bit per grid block,
// set while the block is acquired. Addresses start at 1 (address 0 means "no block").
//
// The release rule: a block released during a checkpoint interval stays acquired until the
// checkpoint that released it is durable, so the previous checkpoint stays readable by a restart,
// a lagging peer or a repair. `encode()` (taken at the checkpoint) already counts this interval's
// releases as free, since whoever opens that checkpoint finds it durable; `checkpointDurable()`
// then frees them in memory.
//
// Acquisition takes the lowest free address, so the data file grows only when every block below
// is in use, and replicas that executed the same ops hold the same blocks at the same addresses.
import { assert } from "../core/assert.js";

export class FreeSet {
  /** Bit (address − 1) is set while the block is acquired. Grows on demand up to blocksLimit. */
  private bits = new Uint32Array(64);
  /** Released this interval; free once the next checkpoint is durable. */
  private released: number[] = [];
  /** Released at the checkpoint being made durable (between encode() and checkpointDurable()). */
  private releasedAtCheckpoint: number[] | null = null;
  /** Every word below this one is full (all blocks acquired): where the search starts. */
  private firstWordWithFree = 0;
  acquiredCount = 0;

  /** `blocksLimit`: how many blocks the data file may hold (the storage limit). */
  constructor(readonly blocksLimit: number) {
    assert(Number.isSafeInteger(blocksLimit) && blocksLimit >= 1, "free set: a positive block limit");
  }

  /** Blocks that can still be acquired. */
  get blocksFree(): number {
    return this.blocksLimit - this.acquiredCount;
  }

  /** The highest acquired address (0 when none): the grid's extent. */
  highestAcquired(): number {
    for (let w = this.bits.length - 1; w >= 0; w--) {
      const word = this.bits[w]!;
      if (word !== 0) return w * 32 + (32 - Math.clz32(word));
    }
    return 0;
  }

  isAcquired(address: number): boolean {
    assert(address >= 1, "free set: addresses start at 1");
    const index = address - 1;
    const word = index >>> 5;
    return word < this.bits.length && (this.bits[word]! & (1 << (index & 31))) !== 0;
  }

  /** The lowest free address, now acquired; null when the storage limit is reached. */
  acquire(): number | null {
    for (let w = this.firstWordWithFree; ; w++) {
      if (w * 32 >= this.blocksLimit) return null;
      if (w >= this.bits.length) this.grow(w + 1);
      const word = this.bits[w]!;
      if (word === 0xffff_ffff) continue;
      this.firstWordWithFree = w;
      const bit = 31 - Math.clz32(~word & (word + 1)); // the lowest clear bit
      const address = w * 32 + bit + 1;
      if (address > this.blocksLimit) return null;
      this.bits[w] = word | (1 << bit);
      this.acquiredCount += 1;
      return address;
    }
  }

  /** Releases an acquired block: free once the next checkpoint is durable. */
  release(address: number): void {
    assert(this.isAcquired(address), "free set: releasing a block that is not acquired");
    this.released.push(address);
  }

  /**
   * The free set as the checkpoint taken now stores it: this interval's releases count as free.
   * Little-endian u32 words up to the highest acquired block. Marks the releases as belonging to
   * this checkpoint; call checkpointDurable() once it is.
   */
  encode(): Uint8Array {
    assert(this.releasedAtCheckpoint === null, "free set: one checkpoint at a time");
    this.releasedAtCheckpoint = this.released;
    this.released = [];
    const words = new Uint32Array(Math.ceil(this.highestAcquired() / 32));
    words.set(this.bits.subarray(0, words.length));
    for (const address of this.releasedAtCheckpoint) {
      const index = address - 1;
      words[index >>> 5] = words[index >>> 5]! & ~(1 << (index & 31));
    }
    let end = words.length;
    while (end > 0 && words[end - 1] === 0) end--;
    return new Uint8Array(words.buffer, 0, end * 4);
  }

  /** The checkpoint whose encode() was last called is durable: its releases are now free. */
  checkpointDurable(): void {
    assert(this.releasedAtCheckpoint !== null, "free set: no checkpoint pending");
    for (const address of this.releasedAtCheckpoint) this.free(address);
    this.releasedAtCheckpoint = null;
  }

  /** Blocks acquired, counting every release as free (what encode() stores, or stored). */
  acquiredAfterReleases(): number {
    return this.acquiredCount - this.released.length - (this.releasedAtCheckpoint?.length ?? 0);
  }

  /** The highest address acquired in encode()'s bytes, 0 when none (checked before decode()). */
  static highestAcquiredIn(bytes: Uint8Array): number {
    assert(bytes.length % 4 === 0, "free set: whole words");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let w = bytes.length / 4 - 1; w >= 0; w--) {
      const word = view.getUint32(w * 4, true);
      if (word !== 0) return w * 32 + (32 - Math.clz32(word));
    }
    return 0;
  }

  /** Replaces the whole set with a checkpoint's encode() bytes (open, state sync). */
  decode(bytes: Uint8Array): void {
    assert(bytes.length % 4 === 0, "free set: whole words");
    const count = bytes.length / 4;
    this.bits = new Uint32Array(Math.max(64, count));
    new Uint8Array(this.bits.buffer).set(bytes);
    this.released = [];
    this.releasedAtCheckpoint = null;
    this.firstWordWithFree = 0;
    this.acquiredCount = 0;
    for (let w = 0; w < count; w++) this.acquiredCount += popcount(this.bits[w]!);
    assert(this.highestAcquired() <= this.blocksLimit, "free set: a checkpoint beyond the storage limit");
  }

  /** Calls `visit` with every acquired address, ascending (checkers and inspect). */
  forEachAcquired(visit: (address: number) => void): void {
    for (let w = 0; w < this.bits.length; w++) {
      let word = this.bits[w]!;
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        visit(w * 32 + bit + 1);
        word &= word - 1;
      }
    }
  }

  private free(address: number): void {
    assert(this.isAcquired(address), "free set: freeing a block that is not acquired");
    const index = address - 1;
    const word = index >>> 5;
    this.bits[word] = this.bits[word]! & ~(1 << (index & 31));
    this.acquiredCount -= 1;
    if (word < this.firstWordWithFree) this.firstWordWithFree = word;
  }

  private grow(words: number): void {
    let length = this.bits.length;
    while (length < words) length *= 2;
    const grown = new Uint32Array(length);
    grown.set(this.bits);
    this.bits = grown;
  }
}

function popcount(word: number): number {
  let x = word - ((word >>> 1) & 0x5555_5555);
  x = (x & 0x3333_3333) + ((x >>> 2) & 0x3333_3333);
  return (((x + (x >>> 4)) & 0x0f0f_0f0f) * 0x0101_0101) >>> 24;
}
