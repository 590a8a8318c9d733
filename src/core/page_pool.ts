// The memory of the lazy spaces' pages (DESIGN.md "Out-of-core tables", "Performance rules"): every
// page of a state machine's paged tables comes from one pool and goes back to it when the block
// cache evicts it, so the memory of a long-running replica is the cache's budget, allocated once,
// not a stream of fresh page buffers for the garbage collector to find and the allocator to return.
//
// A production replica reserves the whole cache at start-up (TigerBeetle's static allocation): its
// footprint is known from the first second, and a machine too small for `--cache-grid` fails then,
// not days later. The simulator does not reserve: its caches are tiny and its replicas many.
//
// Free pages are all zero (give() zeroes what was used), so a page taken for a new table page or
// for a block read back holds no bytes of its previous owner. Which page object a table gets never
// changes what the state machine computes: determinism does not depend on the pool.
import { assert } from "./assert.js";
import { nativeAddon } from "./native_addon.js";
import { emptyObjectArray } from "./object_array.js";

/**
 * Bytes per slab when reserving. Each slab is advised to use transparent huge pages (the native
 * addon's madvise), which cut the cost of touching 1 GiB here from 2.6 s to about 0.2-0.5 s; slabs
 * of 64 MiB measured best (a 1 GiB slab took longer).
 */
const slabBytes = 64 * 2 ** 20;

export class PagePool {
  private readonly free: Uint32Array[] = emptyObjectArray();
  /** Pages that exist (free or in use). */
  allocated = 0;

  constructor(readonly pageBytes: number) {
    assert(Number.isInteger(pageBytes) && pageBytes > 0 && pageBytes % 4 === 0, "page pool: whole words per page");
  }

  get pageWords(): number {
    return this.pageBytes / 4;
  }

  /** Pages free for take(). */
  get freeCount(): number {
    return this.free.length;
  }

  /** Pages taken and not yet given back. */
  get inUse(): number {
    return this.allocated - this.free.length;
  }

  /**
   * Allocates pages until at least `pages` exist, and writes every new byte so the memory is
   * resident now (an untouched allocation is only address space).
   */
  reserve(pages: number): void {
    const slabPages = Math.max(1, Math.floor(slabBytes / this.pageBytes));
    while (this.allocated < pages) {
      const count = Math.min(slabPages, pages - this.allocated);
      const slab = new Uint32Array(count * this.pageWords);
      nativeAddon?.adviseHugePages?.(slab); // before the first write: advice for untouched memory
      slab.fill(0);
      for (let i = 0; i < count; i++) this.free.push(slab.subarray(i * this.pageWords, (i + 1) * this.pageWords));
      this.allocated += count;
    }
  }

  /** A zeroed page of pageWords words: a free one, or a new one when none is free. */
  take(): Uint32Array {
    const page = this.free.pop();
    if (page !== undefined) return page;
    this.allocated += 1;
    return new Uint32Array(this.pageWords);
  }

  /**
   * Returns a page from take(), or a view of its first words (the only ones its user wrote, which
   * are zeroed here); the caller must hold no reference to it afterwards.
   */
  give(page: Uint32Array): void {
    assert(page.length <= this.pageWords && page.buffer.byteLength >= page.byteOffset + this.pageBytes,
      "page pool: a page of another pool");
    page.fill(0);
    this.free.push(page.length === this.pageWords ? page : new Uint32Array(page.buffer, page.byteOffset, this.pageWords));
  }
}
