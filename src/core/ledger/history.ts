// Account history (ledger.md §10.4): after every created transfer and every expiry, one entry per
// involved account that has `flags.history`, holding that account's four balances after the
// change. Entries are appended in event-timestamp order; transfers point at their entries through
// the `history` side array (state.ts), which is how get_account_balances (§11.4) finds them.
// Expiry entries are recorded as the spec says, although no query returns them (§11.4 rule 5).
import { assert } from "../assert.js";
import { DirtyPages } from "./tables.js";
import { AW, rowWords } from "./words.js";

/** Entry layout, in u32 words. */
export const HW = {
  accountRow: 0, transferRow: 1, timestampLo: 2, timestampHi: 3, balances: 4, // 16 words
} as const;
export const historyWords = 32; // 20 used; 128 bytes keeps entries page-aligned for checkpoints

export class HistoryTable {
  words: Uint32Array;
  count = 0;
  capacity: number;
  readonly dirty: DirtyPages;

  constructor(capacity = 64) {
    this.capacity = capacity;
    this.words = new Uint32Array(capacity * historyWords);
    this.dirty = new DirtyPages(historyWords * 4, capacity);
  }

  reserve(extra: number): void {
    const needed = this.count + extra;
    if (needed <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    const words = new Uint32Array(capacity * historyWords);
    words.set(this.words.subarray(0, this.count * historyWords));
    this.words = words;
    this.capacity = capacity;
    this.dirty.ensureRows(capacity);
  }

  /** Appends the current balances of account row `accountRow` and returns the entry index. */
  append(
    accounts: Uint32Array, accountRow: number, transferRow: number, tsHi: number, tsLo: number,
  ): number {
    assert(this.count < this.capacity, "history: reserve() before append()");
    const entry = this.count++;
    const h = entry * historyWords;
    const words = this.words;
    words[h + HW.accountRow] = accountRow;
    words[h + HW.transferRow] = transferRow;
    words[h + HW.timestampLo] = tsLo;
    words[h + HW.timestampHi] = tsHi;
    const a = accountRow * rowWords + AW.debits_pending; // the 16 balance words, in order
    for (let w = 0; w < 16; w++) words[h + HW.balances + w] = accounts[a + w]!;
    this.dirty.mark(entry);
    return entry;
  }

  /** Drops entries back to `count` (linked-chain rollback), zeroing them. */
  truncate(count: number): void {
    assert(count <= this.count);
    this.words.fill(0, count * historyWords, this.count * historyWords);
    for (let entry = count; entry < this.count; entry++) this.dirty.mark(entry);
    this.count = count;
  }
}
