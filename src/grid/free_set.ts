// The free set (DESIGN.md "Data file and storage engine", spec/vsr.md §9): one bit per grid block,
// set while the block is acquired. Addresses start at 1 (address 0 means "no block").
//
// The release rule (TigerBeetle's free set): a block released during a checkpoint interval stays
// acquired until the checkpoint that released it is durable on the cluster, so the previous
// checkpoint stays readable by a lagging peer or a repair until none can need it. `encode()` (taken
// at the checkpoint) stores those releases apart, still acquired; `checkpointDurable()` frees them,
// which every replica calls at the same op (replica.ts commitPrepare, checkpoint_math.ts
// checkpointDurableOp), so that grids stay identical whether a replica made its checkpoint, opened
// it after a restart, or installed it by state sync.
//
// Acquisition takes the lowest free address, so the data file grows only when every block below
// is in use, and replicas that executed the same ops hold the same blocks at the same addresses.
import { assert } from "../core/assert.js";

export class FreeSet {
  /** Bit (address − 1) is set while the block is acquired. Grows on demand up to blocksLimit. */
  private bits = new Uint32Array(64);
  /** Released this interval; free once the next checkpoint is durable. */
  private released: number[] = [];
  /** Released at the last checkpoint, until it is durable (between encode() or decode() and checkpointDurable()). */
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
   * The free set as the checkpoint taken now stores it: a u32 count of words, the words (u32 LE,
   * up to the highest acquired block, this interval's releases still set), then the address of
   * each of those releases (u32 LE). Marks them as this checkpoint's; checkpointDurable() frees them.
   */
  encode(): Uint8Array {
    assert(this.releasedAtCheckpoint === null, "free set: one checkpoint at a time");
    const bytes = new Uint8Array(this.encodedSize());
    const wordCount = Math.ceil(this.highestAcquired() / 32);
    const releases = this.released;
    this.releasedAtCheckpoint = releases;
    this.released = [];
    const view = new DataView(bytes.buffer);
    view.setUint32(0, wordCount, true);
    for (let w = 0; w < wordCount; w++) view.setUint32(4 * (1 + w), this.bits[w]!, true);
    releases.forEach((address, i) => view.setUint32(4 * (1 + wordCount + i), address, true));
    return bytes;
  }

  /** The length of what encode() would return now. */
  encodedSize(): number {
    return 4 * (1 + Math.ceil(this.highestAcquired() / 32) + this.released.length);
  }

  /** The checkpoint whose encode() was last called (or decoded) is durable: its releases are now free. */
  checkpointDurable(): void {
    assert(this.releasedAtCheckpoint !== null, "free set: no checkpoint pending");
    for (const address of this.releasedAtCheckpoint) this.free(address);
    this.releasedAtCheckpoint = null;
  }

  /** Blocks acquired, not counting any release (what the checkpoint encode() stores references). */
  acquiredAfterReleases(): number {
    return this.acquiredCount - this.released.length - (this.releasedAtCheckpoint?.length ?? 0);
  }

  /** The highest address acquired in encode()'s bytes, 0 when none (checked before decode()). */
  static highestAcquiredIn(bytes: Uint8Array): number {
    const { words } = parse(bytes);
    for (let w = words.length - 1; w >= 0; w--) {
      const word = words[w]!;
      if (word !== 0) return w * 32 + (32 - Math.clz32(word));
    }
    return 0;
  }

  /** Replaces the whole set with a checkpoint's encode() bytes (open, state sync); its releases are pending. */
  decode(bytes: Uint8Array): void {
    const { words, releases } = parse(bytes);
    this.bits = new Uint32Array(Math.max(64, words.length));
    this.bits.set(words);
    this.released = [];
    this.firstWordWithFree = 0;
    this.acquiredCount = 0;
    for (let w = 0; w < words.length; w++) this.acquiredCount += popcount(this.bits[w]!);
    assert(this.highestAcquired() <= this.blocksLimit, "free set: a checkpoint beyond the storage limit");
    for (const address of releases) assert(this.isAcquired(address), "free set: a stored release of a free block");
    this.releasedAtCheckpoint = releases;
  }

  /** Calls `visit` with every acquired address that no release names, ascending (the storage checker). */
  forEachHeld(visit: (address: number) => void): void {
    const releases = new Set([...this.released, ...(this.releasedAtCheckpoint ?? [])]);
    this.forEachAcquired((address) => {
      if (!releases.has(address)) visit(address);
    });
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

/** encode()'s bytes: the words, then the releases. */
function parse(bytes: Uint8Array): { words: Uint32Array; releases: number[] } {
  assert(bytes.length >= 4 && bytes.length % 4 === 0, "free set: whole words after a count");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const wordCount = view.getUint32(0, true);
  const total = bytes.length / 4;
  assert(1 + wordCount <= total, "free set: fewer words than its count");
  const words = new Uint32Array(wordCount);
  for (let w = 0; w < wordCount; w++) words[w] = view.getUint32(4 * (1 + w), true);
  const releases: number[] = [];
  for (let i = 1 + wordCount; i < total; i++) releases.push(view.getUint32(4 * i, true));
  return { words, releases };
}

function popcount(word: number): number {
  let x = word - ((word >>> 1) & 0x5555_5555);
  x = (x & 0x3333_3333) + ((x >>> 2) & 0x3333_3333);
  return (((x + (x >>> 4)) & 0x0f0f_0f0f) * 0x0101_0101) >>> 24;
}
