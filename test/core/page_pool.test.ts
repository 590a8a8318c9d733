// The page pool (src/core/page_pool.ts) and the paged tables that take their pages from it: pages
// come back zeroed, an evicted page's memory is reused instead of allocated again, a reserved pool
// does not grow while the tables stay within it, and a ledger driven through a grid with a small
// cache holds exactly its resident pages (no page lost to the pool, none shared by two owners).
import { describe, expect, it } from "vitest";
import { nativeAddon } from "../../src/core/native_addon.js";
import { PagePool } from "../../src/core/page_pool.js";
import { PagedRecords } from "../../src/core/paged_records.js";
import type { PageSpace } from "../../src/core/persistent_state.js";
import { LedgerDriver, gridStorage, makeRequests, newGrid, openFresh, expectOpened, bytesEqual } from "../grid/harness.js";

function residentPages(spaces: readonly PageSpace[]): number {
  let pages = 0;
  for (const space of spaces) {
    if (!space.lazy) continue;
    for (let page = 0; page < space.pageCount(); page++) if (space.isResident(page)) pages += 1;
  }
  return pages;
}

describe("PagePool", () => {
  it("reserve allocates resident, zeroed pages; take reuses them before allocating", () => {
    const pool = new PagePool(1024);
    pool.reserve(100);
    expect(pool.allocated).toBe(100);
    expect(pool.freeCount).toBe(100);
    const pages = Array.from({ length: 100 }, () => pool.take());
    expect(pool.allocated).toBe(100);
    for (const page of pages) expect(page.length).toBe(256);
    expect(pages.every((page) => page.every((word) => word === 0))).toBe(true);
    // Distinct memory: writing one page changes no other.
    pages.forEach((page, i) => page.fill(i + 1));
    expect(pages.every((page, i) => page.every((word) => word === i + 1))).toBe(true);
    // Past the reserve, new pages are allocated one at a time.
    pool.take();
    expect(pool.allocated).toBe(101);
    expect(pool.inUse).toBe(101);
  });

  it("a page given back is zeroed and handed out again", () => {
    const pool = new PagePool(64);
    const page = pool.take();
    page.fill(0xdead);
    pool.give(page.subarray(0, 10)); // a table gives back the view it used
    expect(pool.inUse).toBe(0);
    const again = pool.take();
    expect(again.buffer).toBe(page.buffer);
    expect(again.byteOffset).toBe(page.byteOffset);
    expect(again.length).toBe(16);
    expect(Array.from(again.subarray(0, 10))).toEqual(new Array(10).fill(0));
    expect(pool.allocated).toBe(1);
  });
});

describe("huge-page advice (native addon)", () => {
  it.runIf(nativeAddon?.adviseHugePages !== undefined)("advises whole 2 MiB pages of a typed array, refuses other values", () => {
    const advise = nativeAddon!.adviseHugePages!;
    const big = new Uint32Array(2 ** 21); // 8 MiB: whole huge pages inside, whatever its alignment
    expect(advise(big)).toBe(0);
    expect(advise(new Uint8Array(100))).toBe(0); // no whole huge page inside: nothing to do
    // Advice never changes contents.
    big.fill(7);
    expect(advise(big.subarray(1000))).toBe(0);
    expect(big.every((word) => word === 7)).toBe(true);
    expect(() => advise(new ArrayBuffer(8) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => advise(new Float64Array(4) as unknown as Uint8Array)).toThrow(/Uint8Array or Uint32Array/);
  });
});

describe("PagedRecords on a shared pool", () => {
  it("evicted pages go back to the pool, read-back pages reuse them, and the bytes are intact", () => {
    const pool = new PagePool(512);
    const a = new PagedRecords(8, 512, pool); // 16 records per page
    const b = new PagedRecords(3, 512, pool); // 42 records per page, 8 words unused
    for (let r = 0; r < 16 * 10; r++) {
      const rec = a.append();
      a.u32(rec).fill(r + 1, a.at(rec), a.at(rec) + 8);
    }
    for (let r = 0; r < 42 * 5; r++) {
      const rec = b.append();
      b.u32(rec)[b.at(rec)] = 7000 + r;
    }
    expect(pool.inUse).toBe(15);
    const bodies = Array.from({ length: 10 }, (_, page) => a.pageBody(page).slice());
    a.clearDirty();
    b.clearDirty();
    for (let page = 0; page < 10; page++) a.evict(page);
    expect(pool.inUse).toBe(5);
    expect(pool.freeCount).toBe(10);
    // b grows into a's old memory: its new records are zero.
    const rec = b.append();
    expect(Array.from(b.u32(rec).subarray(b.at(rec), b.at(rec) + 3))).toEqual([0, 0, 0]);
    expect(pool.allocated).toBe(15);
    // Reading a's pages back takes pool pages and restores exactly the bytes written.
    for (let page = 9; page >= 0; page--) expect(a.install(page, bodies[page]!)).toBe(true);
    expect(pool.allocated).toBe(16);
    for (let r = 0; r < 16 * 10; r++) expect(a.u32(r)[a.at(r) + 7]).toBe(r + 1);
    for (let r = 0; r < 42 * 5; r++) expect(b.u32(r)[b.at(r)]).toBe(7000 + r);
    // Releasing a whole table returns all of its pages.
    a.releasePages();
    expect(pool.inUse).toBe(6);
  });

  it("a ledger through a small grid cache holds exactly its resident pages, across eviction and reopen", () => {
    const blocksLimit = 4096;
    const storage = gridStorage(blocksLimit);
    const grid = newGrid(storage, blocksLimit);
    const driver = new LedgerDriver(grid, storage);
    const requests = makeRequests(11, 48 * 3, 400);
    requests.forEach((request) => {
      driver.execute(request);
      expect(grid.pagePool.inUse).toBe(residentPages(driver.machine.spaces()));
    });
    // Thousands of pages were evicted and read back, into memory that eviction gave back: the pool
    // holds what one bar touches (its dirty pages stay until the bar's flush), not every page read.
    expect(grid.cache.evictions).toBeGreaterThan(1000);
    expect(grid.pagePool.allocated * 4).toBeLessThan(grid.stats.pagesRead);
    const opened = openFresh(storage, blocksLimit, driver.lastCheckpoint.manifest);
    expectOpened(opened.result);
    expect(bytesEqual(opened.machine.snapshot(), driver.lastCheckpoint.snapshot)).toBe(true);
    expect(opened.grid.pagePool.inUse).toBe(residentPages(opened.machine.spaces()));
  });
});
