// Account history (ledger.md §10.4): after every created transfer and every expiry, one entry per
// involved account that has `flags.history`, holding that account's four balances after the
// change. Entries are appended in event-timestamp order; transfers point at their entries through
// the `history` side array (state.ts), which is how get_account_balances (§11.4) finds them.
// Expiry entries are recorded as the spec says, although no query returns them (§11.4 rule 5).
import { assert } from "../assert.js";
import type { PagePool } from "../page_pool.js";
import { PagedRecords } from "../paged_records.js";
import { AW, rowWords } from "./words.js";

/** Entry layout, in u32 words. */
export const HW = {
  accountRow: 0, transferRow: 1, timestampLo: 2, timestampHi: 3, balances: 4, // 16 words
} as const;
export const historyWords = 32; // 20 used (kept at 32: the snapshot format stores entries whole)

/** History entries in pages (paged_records.ts), like the transfer rows they follow. */
export class HistoryTable extends PagedRecords {
  constructor(pageBytes: number, pool?: PagePool) {
    super(historyWords, pageBytes, pool);
  }

  /** Appends the current balances of account row `accountRow` and returns the entry index. */
  appendEntry(
    accounts: Uint32Array, accountRow: number, transferRow: number, tsHi: number, tsLo: number,
  ): number {
    const entry = this.append();
    const words = this.u32(entry);
    const h = this.at(entry);
    words[h + HW.accountRow] = accountRow;
    words[h + HW.transferRow] = transferRow;
    words[h + HW.timestampLo] = tsLo;
    words[h + HW.timestampHi] = tsHi;
    const a = accountRow * rowWords + AW.debits_pending; // the 16 balance words, in order
    for (let w = 0; w < 16; w++) words[h + HW.balances + w] = accounts[a + w]!;
    return entry;
  }

  /** Drops entries back to `count` (linked-chain rollback), zeroing them. */
  truncate(count: number): void {
    assert(count <= this.count);
    while (this.count > count) this.pop();
  }
}
