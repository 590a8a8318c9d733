// A test-only PersistentState (src/core/persistent_state.ts) over plain byte spaces that the test
// writes, grows and shrinks at will, with exact dirty tracking: it lets the grid tests reach shapes
// the ledger never makes (a space that shrinks, an empty space, a page boundary exactly at the end)
// and change pages without growing the state.
import { testConfig, headerSize } from "../../src/core/config.js";
import { FlatSpace } from "../../src/core/flat_space.js";
import type { PagePool } from "../../src/core/page_pool.js";
import { dirtyUnitSize, type PageSpace, type PersistentState } from "../../src/core/persistent_state.js";
import type { Prng } from "../../src/core/prng.js";

class ByteSpace {
  buffer = new Uint8Array(dirtyUnitSize);
  used = 0;
  readonly dirty = new Set<number>();
  readonly pages: PageSpace;
  constructor(pageBytes: number) {
    const units = { isDirty: (unit: number) => this.dirty.has(unit), clear: () => this.dirty.clear() };
    this.pages = new FlatSpace(() => this.buffer, () => this.used, () => units, pageBytes);
  }
  clearDirty(): void {
    this.dirty.clear();
  }
  reserve(size: number): void {
    if (size <= this.buffer.length) return;
    let length = this.buffer.length;
    while (length < size) length *= 2;
    const grown = new Uint8Array(length);
    grown.set(this.buffer);
    this.buffer = grown;
  }
}

export class ByteState implements PersistentState {
  private list: ByteSpace[];
  /** Bumped on every change: part of meta(), so the metadata blob changes too. */
  version = 0;

  constructor(readonly spaceCount: number, private pageBytes = testConfig.blockSize - headerSize) {
    this.list = Array.from({ length: spaceCount }, () => new ByteSpace(this.pageBytes));
  }

  configurePages(pool: PagePool): void {
    this.pageBytes = pool.pageBytes;
    this.list = Array.from({ length: this.spaceCount }, () => new ByteSpace(pool.pageBytes));
  }

  spaces(): readonly PageSpace[] {
    return this.list.map((space) => space.pages);
  }

  meta(): Uint8Array {
    const view = new DataView(new ArrayBuffer(4 + 8 * this.spaceCount));
    view.setUint32(0, this.version, true);
    this.list.forEach((space, i) => view.setBigUint64(4 + 8 * i, BigInt(space.used), true));
    return new Uint8Array(view.buffer);
  }

  restoreBegin(meta: Uint8Array): void {
    const view = new DataView(meta.buffer, meta.byteOffset, meta.length);
    if (meta.length !== 4 + 8 * this.spaceCount) throw new Error("ByteState: meta of another shape");
    this.version = view.getUint32(0, true);
    this.list = Array.from({ length: this.spaceCount }, (_, i) => {
      const space = new ByteSpace(this.pageBytes);
      space.used = Number(view.getBigUint64(4 + 8 * i, true));
      space.reserve(space.used);
      return space;
    });
  }

  restoreFinish(): void {
    for (const space of this.list) space.clearDirty();
  }

  /** Writes `bytes` at `offset` in space `index`, growing its used extent if needed. */
  write(index: number, offset: number, bytes: Uint8Array): void {
    const space = this.list[index]!;
    const end = offset + bytes.length;
    space.reserve(end);
    space.buffer.set(bytes, offset);
    if (end > space.used) space.used = end;
    this.mark(space, offset, end);
    this.version += 1;
  }

  /** Sets the used extent; bytes past a shrunk end are zeroed (canonical pages). */
  resize(index: number, used: number): void {
    const space = this.list[index]!;
    space.reserve(used);
    if (used < space.used) {
      space.buffer.fill(0, used, space.used);
      this.mark(space, used, space.used);
    }
    space.used = used;
    this.version += 1;
  }

  /** Overwrites `count` random 64-byte runs inside the used extents (the size stays the same). */
  scribble(prng: Prng, count: number): void {
    for (let i = 0; i < count; i++) {
      const index = prng.int(this.spaceCount);
      const used = this.list[index]!.used;
      if (used < 64) continue;
      const bytes = new Uint8Array(64);
      prng.fill(bytes);
      this.write(index, prng.int(used - 63), bytes);
    }
  }

  /** Each space's used bytes (copies): what must survive a checkpoint and open. */
  contents(): Uint8Array[] {
    return this.list.map((space) => space.buffer.slice(0, space.used));
  }

  private mark(space: ByteSpace, start: number, end: number): void {
    for (let unit = Math.floor(start / dirtyUnitSize); unit * dirtyUnitSize < end; unit++) space.dirty.add(unit);
  }
}
