// All ledger state: the row tables, their indexes, the side arrays that the wire records have no
// room for, the history table, the expiry heap and pulse_next (ledger.md §9.3).
import { assert } from "../assert.js";
import { ExpiryHeap } from "./expiry.js";
import { HashIndex } from "./hash_index.js";
import { HistoryTable } from "./history.js";
import { IdTree } from "./id_tree.js";
import { PagePool } from "../page_pool.js";
import { PagedRecords } from "../paged_records.js";
import { DirtyPages, PagedRows, RowTable, growInt32, growUint32 } from "./tables.js";
import { AW, PendingState, TW, rowWords } from "./words.js";

/**
 * Per-transfer side array, stride 10 (Int32Array; u32 values are read back with `>>> 0`):
 * the debit- and credit-side doubly linked lists of each account's transfers in row (= timestamp)
 * order, the rows of the two accounts, the first history entry (−1 if none), the pending state
 * (§9.1) and expires_at as (lo, hi), (0, 0) when the transfer has no timeout.
 */
export const SW = {
  debitNext: 0, debitPrev: 1, creditNext: 2, creditPrev: 3, debitRow: 4, creditRow: 5,
  history: 6, state: 7, expiresLo: 8, expiresHi: 9,
} as const;
export const sideWords = 10;

/** Per-account list heads, stride 4: debit-side head and tail, credit-side head and tail. */
export const LW = { debitHead: 0, debitTail: 1, creditHead: 2, creditTail: 3 } as const;
export const linkWords = 4;

/** pulse_next = +∞ (no pending transfer with a timeout) is u64 max: above every valid timestamp. */
export const pulseNextInfinity = 0xffff_ffff;

export interface LedgerOptions {
  accountsCapacity?: number;
  /** The page size of the paged tables: the grid's block body size when a grid persists them. */
  pageBytes?: number;
  /** Where the paged tables' pages come from (the grid's, shared across restores); default a new one. */
  pagePool?: PagePool;
}

/** Pages of the paged tables when no grid says otherwise (an in-memory ledger). */
export const pageBytesDefault = 64 * 1024;

export class LedgerState {
  readonly accounts: RowTable;
  readonly transfers: PagedRows;
  readonly accountIndex: HashIndex;
  /** Transfer id → row: a B+tree in pages (id_tree.ts), persisted like the tables. */
  readonly transferIndex: IdTree;
  /** Ids of transfers that failed with a transient status (§4.3). Never rolled back. */
  readonly orphans: HashIndex;
  /** The same ids, 4 words each in insertion order: what a checkpoint persists (tables.ts). */
  orphanIds: Uint32Array;
  readonly orphanIdsDirty: DirtyPages;
  accountLinks: Int32Array;
  readonly accountLinksDirty: DirtyPages;
  /** Per-transfer side entries (SW), one per transfer row, in pages like the rows. */
  readonly side: PagedRecords;
  readonly history: HistoryTable;
  readonly expiry = new ExpiryHeap();
  /** The page size of the paged tables (and of the flat ones as the grid cuts them). */
  readonly pageBytes: number;
  readonly pagePool: PagePool;
  pulseNextHi = 0;
  pulseNextLo = 1; // §9.3: starts at 1, so the first check after start-up scans

  constructor(options: LedgerOptions = {}) {
    const accountsCapacity = Math.max(1, options.accountsCapacity ?? 1024);
    this.accounts = new RowTable(accountsCapacity);
    const pageBytes = options.pagePool?.pageBytes ?? options.pageBytes ?? pageBytesDefault;
    assert(options.pageBytes === undefined || options.pageBytes === pageBytes, "ledger: the page pool's page size");
    this.pageBytes = pageBytes;
    const pool = options.pagePool ?? new PagePool(pageBytes);
    this.pagePool = pool;
    this.transfers = new PagedRows(pageBytes, pool);
    this.accountIndex = new HashIndex(accountsCapacity);
    this.transferIndex = new IdTree(pageBytes, pool);
    this.orphans = new HashIndex(16);
    this.orphanIds = new Uint32Array(16 * 4);
    this.orphanIdsDirty = new DirtyPages(16, 16);
    this.accountLinks = new Int32Array(accountsCapacity * linkWords).fill(-1);
    this.accountLinksDirty = new DirtyPages(4, accountsCapacity * linkWords);
    this.side = new PagedRecords(sideWords, pageBytes, pool);
    this.history = new HistoryTable(pageBytes, pool);
  }

  /** Gives the paged tables' pages back to their pool: this state was replaced and is never used again. */
  releasePages(): void {
    this.transfers.releasePages();
    this.transferIndex.nodes.releasePages();
    this.side.releasePages();
    this.history.releasePages();
  }

  /** Room for `extra` more accounts: called once per batch, so nothing grows inside a chain. */
  reserveAccounts(extra: number): void {
    this.accounts.reserve(extra);
    this.accountIndex.reserve(extra);
    const words = this.accounts.capacity * linkWords;
    this.accountLinks = growInt32(this.accountLinks, words, -1);
    this.accountLinksDirty.ensureRows(words);
  }

  /** Room for `extra` more transfers in the resident indexes (paged tables grow by pages). */
  reserveTransfers(extra: number): void {
    this.orphans.reserve(extra);
  }

  /** Records the id at words[i..i+4) as orphaned (§4.3), unless it already is. */
  addOrphan(words: Uint32Array, i: number): void {
    if (this.orphans.find(words, i) !== -1) return;
    const n = this.orphans.count;
    if ((n + 1) * 4 > this.orphanIds.length) {
      this.orphanIds = growUint32(this.orphanIds, this.orphanIds.length * 2);
      this.orphanIdsDirty.ensureRows(this.orphanIds.length / 4);
    }
    for (let w = 0; w < 4; w++) this.orphanIds[n * 4 + w] = words[i + w]!;
    this.orphanIdsDirty.mark(n);
    this.orphans.insert(words, i, n);
  }

  /** Appends an account copied from events[e..e+32) with timestamp (hi, lo). */
  appendAccount(events: Uint32Array, e: number, tsHi: number, tsLo: number): number {
    const row = this.accounts.append();
    const words = this.accounts.u32;
    const a = row * rowWords;
    for (let w = 0; w < rowWords; w++) words[a + w] = events[e + w]!;
    words[a + AW.timestampLo] = tsLo;
    words[a + AW.timestampHi] = tsHi;
    this.accountIndex.insert(words, a, row);
    return row;
  }

  /** Removes the last account (rollback). Accounts created in a chain have no transfers yet. */
  popAccount(): void {
    const row = this.accounts.count - 1;
    const l = row * linkWords;
    assert(this.accountLinks[l + LW.debitTail] === -1 && this.accountLinks[l + LW.creditTail] === -1);
    this.accountIndex.removeLast(this.accounts.u32, row * rowWords);
    this.accounts.pop();
  }

  /**
   * Registers transfer row `row` (already written to the table) in the id index and at the tail
   * of its accounts' lists, with the given pending state and expiry.
   */
  linkTransfer(row: number, debitRow: number, creditRow: number, state: number): void {
    const links = this.accountLinks;
    const d = debitRow * linkWords;
    const c = creditRow * linkWords;
    const debitTail = links[d + LW.debitTail]!;
    const creditTail = links[c + LW.creditTail]!;
    const entry = this.side.append();
    assert(entry === row, "a side entry per transfer row");
    const side = this.side.i32(row);
    const s = this.side.at(row);
    side[s + SW.debitNext] = -1;
    side[s + SW.debitPrev] = debitTail;
    side[s + SW.creditNext] = -1;
    side[s + SW.creditPrev] = creditTail;
    side[s + SW.debitRow] = debitRow;
    side[s + SW.creditRow] = creditRow;
    side[s + SW.history] = -1;
    side[s + SW.state] = state;
    if (debitTail === -1) links[d + LW.debitHead] = row;
    else this.setSide(debitTail, SW.debitNext, row);
    if (creditTail === -1) links[c + LW.creditHead] = row;
    else this.setSide(creditTail, SW.creditNext, row);
    links[d + LW.debitTail] = row;
    links[c + LW.creditTail] = row;
    this.accountLinksDirty.mark(d);
    this.accountLinksDirty.mark(c);
    this.transferIndex.insert(this.transfers.u32(row), this.transfers.at(row), row);
  }

  /** Side field `field` (SW) of transfer `row`. */
  sideField(row: number, field: number): number {
    return this.side.i32(row)[this.side.at(row) + field]!;
  }

  setSide(row: number, field: number, value: number): void {
    this.side.i32(row)[this.side.at(row) + field] = value;
    this.side.markDirty(row);
  }

  setPendingState(row: number, state: number): void {
    this.setSide(row, SW.state, state);
  }

  pendingState(row: number): number {
    return this.sideField(row, SW.state);
  }

  /** Removes the last transfer (rollback): the inverse of append + linkTransfer. */
  popTransfer(): void {
    const row = this.transfers.count - 1;
    const links = this.accountLinks;
    const d = this.sideField(row, SW.debitRow) * linkWords;
    const c = this.sideField(row, SW.creditRow) * linkWords;
    assert(links[d + LW.debitTail] === row && links[c + LW.creditTail] === row);
    const debitPrev = this.sideField(row, SW.debitPrev);
    const creditPrev = this.sideField(row, SW.creditPrev);
    links[d + LW.debitTail] = debitPrev;
    if (debitPrev === -1) links[d + LW.debitHead] = -1;
    else this.setSide(debitPrev, SW.debitNext, -1);
    links[c + LW.creditTail] = creditPrev;
    if (creditPrev === -1) links[c + LW.creditHead] = -1;
    else this.setSide(creditPrev, SW.creditNext, -1);
    this.accountLinksDirty.mark(d);
    this.accountLinksDirty.mark(c);
    assert(this.side.count === row + 1);
    this.side.pop();
    this.transferIndex.remove(this.transfers.u32(row), this.transfers.at(row));
    this.transfers.pop();
  }

  /** Looks up an account row by the u128 id at words[i..i+4), or −1. */
  accountRow(words: Uint32Array, i: number): number {
    return this.accountIndex.find(words, i);
  }

  transferRow(words: Uint32Array, i: number): number {
    return this.transferIndex.find(words, i);
  }

  isPending(row: number): boolean {
    return this.sideField(row, SW.state) === PendingState.pending;
  }

  /** True when the transfer at `row` has TW.flags bit `flag`. */
  transferHasFlag(row: number, flag: number): boolean {
    return ((this.transfers.u32(row)[this.transfers.at(row) + TW.codeFlags]! >>> 16) & flag) !== 0;
  }
}
