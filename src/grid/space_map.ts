// Where each page of one space lives: a reference (address, checksum) per page, kept in memory
// (24 bytes per grid page: about 5 KB per million transfers with production's 512 KiB blocks) and
// persisted at checkpoints as directory blocks, each holding the references of a run of pages.
// Only the directory blocks whose run changed are rewritten (copy-on-write, like the pages).
import { assert } from "../core/assert.js";
import { readReference, referenceSize, writeReference, type BlockReference } from "./block.js";

export class SpaceMap {
  private readonly pages: BlockReference[] = [];
  /** The directory blocks of the last checkpoint, one per run of `referencesPerBlock` pages. */
  directory: BlockReference[] = [];
  /** Runs (directory block indexes) whose references changed since the last checkpoint. */
  private readonly runsChanged = new Set<number>();
  /** The space's used bytes when its pages were last written (or loaded). */
  usedBytes = 0;

  constructor(readonly referencesPerBlock: number) {
    assert(referencesPerBlock >= 1);
  }

  get pageCount(): number {
    return this.pages.length;
  }

  page(index: number): BlockReference {
    assert(index >= 0 && index < this.pages.length, "space map: a page beyond the space");
    return this.pages[index]!;
  }

  /** Points page `index` (at most one past the end) at a new block; returns the old address or 0. */
  set(index: number, reference: BlockReference): number {
    assert(index >= 0 && index <= this.pages.length, "space map: pages are added in order");
    const old = index < this.pages.length ? this.pages[index]!.address : 0;
    this.pages[index] = reference;
    this.runsChanged.add(Math.floor(index / this.referencesPerBlock));
    return old;
  }

  /** Drops the pages from `count` on; returns their addresses (to release). */
  truncate(count: number): number[] {
    assert(count >= 0 && count <= this.pages.length);
    const dropped = this.pages.splice(count).map((reference) => reference.address);
    if (dropped.length > 0) this.runsChanged.add(Math.floor(count / this.referencesPerBlock));
    return dropped;
  }

  get directoryBlocksNeeded(): number {
    return Math.ceil(this.pages.length / this.referencesPerBlock);
  }

  /** Directory block indexes to write at this checkpoint (changed runs that still exist). */
  runsToWrite(): number[] {
    const runs: number[] = [];
    for (let run = 0; run < this.directoryBlocksNeeded; run++) {
      if (this.runsChanged.has(run) || run >= this.directory.length) runs.push(run);
    }
    return runs;
  }

  /** The body of directory block `run`: its pages' references. */
  encodeRun(run: number): Uint8Array {
    const first = run * this.referencesPerBlock;
    const count = Math.min(this.referencesPerBlock, this.pages.length - first);
    assert(count >= 1, "space map: an empty directory run");
    const body = new Uint8Array(count * referenceSize);
    const view = new DataView(body.buffer);
    for (let i = 0; i < count; i++) writeReference(view, i * referenceSize, this.pages[first + i]!);
    return body;
  }

  /**
   * Records the directory after a checkpoint's writes: `written` maps runs to their new blocks.
   * Returns the addresses of directory blocks no longer referenced (to release).
   */
  commitDirectory(written: Map<number, BlockReference>): number[] {
    const released: number[] = [];
    const needed = this.directoryBlocksNeeded;
    for (const [run, reference] of written) {
      assert(run < needed);
      if (run < this.directory.length) released.push(this.directory[run]!.address);
      this.directory[run] = reference;
    }
    for (const dropped of this.directory.splice(needed)) released.push(dropped.address);
    assert(this.directory.length === needed, "space map: a directory block per run");
    this.runsChanged.clear();
    return released;
  }

  /** Loads a checkpoint's directory: `runs` are the bodies of its directory blocks, in order. */
  load(directory: BlockReference[], runs: Uint8Array[], pageCount: number, usedBytes: number): boolean {
    this.usedBytes = usedBytes;
    this.pages.length = 0;
    this.runsChanged.clear();
    this.directory = directory;
    for (const body of runs) {
      if (body.length % referenceSize !== 0) return false;
      const view = new DataView(body.buffer, body.byteOffset, body.length);
      for (let offset = 0; offset < body.length; offset += referenceSize) {
        const reference = readReference(view, offset);
        if (reference === null || reference.address === 0) return false;
        this.pages.push(reference);
      }
    }
    return this.pages.length === pageCount && directory.length === this.directoryBlocksNeeded;
  }

  /** Every reference held: pages and directory blocks (for the free-set cross-check). */
  blockCount(): number {
    return this.pages.length + this.directory.length;
  }
}
