// Lookups and queries (ledger.md §11). Results are copied word by word from the row tables into
// the reply, with no allocation.
//
// Complexity (n = rows of the table, k = results returned ≤ min(limit, 8189)):
// - lookup: O(1) expected per id (hash index).
// - get_account_transfers / get_account_balances: walk the account's debit-side and credit-side
//   lists (merged by row, i.e. by timestamp) from the head, or from the tail when reversed. Cost
//   O(k + s), where s counts the account's transfers skipped for being outside the timestamp range
//   on the starting side or for failing a user_data/code condition. The walk stops at the limit
//   and at the far end of the range.
// - query_accounts / query_transfers: binary-search the rows for [timestamp_min, timestamp_max]
//   (rows are in timestamp order), then scan that range in order, stopping at the limit:
//   O(log n + k + s), s = rows in range that fail a field condition.
import { queryResultsMax } from "../config.js";
import { AccountFilterFlags, AccountFlags, accountFilterFlagsPadding, queryFilterFlagsPadding } from "../layouts.js";
import { u128Equal, u128IsMax, u128IsZero } from "../u128.js";
import { HW } from "./history.js";
import { LW, SW, linkWords, type LedgerState } from "./state.js";
import { assert } from "../assert.js";
import { Operation } from "../command.js";
import type { PagedRecords } from "../paged_records.js";
import { LedgerSpace, type PageNeedsCollector } from "./prefetch.js";
import { PagedRows, timestampLowerBound, type Rows } from "./tables.js";
import { AFW, AW, QFW, TW, rowWords } from "./words.js";

/** The inclusive timestamp range [min', max'] of a filter (§11.3), as u32 pairs. */
class Range {
  minHi = 0;
  minLo = 1;
  maxHi = 0x7fff_ffff;
  maxLo = 0xffff_ffff;

  set(f: Uint32Array, minLo: number, maxLo: number): void {
    const hasMin = (f[minLo]! | f[minLo + 1]!) !== 0;
    const hasMax = (f[maxLo]! | f[maxLo + 1]!) !== 0;
    this.minHi = hasMin ? f[minLo + 1]! : 0;
    this.minLo = hasMin ? f[minLo]! : 1;
    this.maxHi = hasMax ? f[maxLo + 1]! : 0x7fff_ffff;
    this.maxLo = hasMax ? f[maxLo]! : 0xffff_ffff;
  }

  below(hi: number, lo: number): boolean {
    return hi < this.minHi || (hi === this.minHi && lo < this.minLo);
  }

  above(hi: number, lo: number): boolean {
    return hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo);
  }
}

/** §11.2 rules 2–3 for the (lo, hi) words of timestamp_min and timestamp_max. */
function timestampsValid(f: Uint32Array, minLo: number, maxLo: number): boolean {
  const minHi = f[minLo + 1]!, maxHi = f[maxLo + 1]!;
  // 0 or in [1, 2^63 − 1]: the top bit is clear.
  if (minHi >= 0x8000_0000 || maxHi >= 0x8000_0000) return false;
  if ((f[maxLo]! | maxHi) === 0) return true;
  return minHi < maxHi || (minHi === maxHi && f[minLo]! <= f[maxLo]!);
}

/** §11.2: the AccountFilter at words f[b..b+32) is valid. */
export function accountFilterValid(f: Uint32Array, b: number): boolean {
  if (u128IsZero(f, b + AFW.account_id) || u128IsMax(f, b + AFW.account_id)) return false;
  if (!timestampsValid(f, b + AFW.timestampMinLo, b + AFW.timestampMaxLo)) return false;
  if (f[b + AFW.limit] === 0) return false;
  const flags = f[b + AFW.flags]!;
  if ((flags & (AccountFilterFlags.debits | AccountFilterFlags.credits)) === 0) return false;
  if ((flags & accountFilterFlagsPadding) !== 0) return false;
  if ((f[b + AFW.codeReserved]! >>> 16) !== 0) return false;
  for (let w = AFW.codeReserved + 1; w < AFW.timestampMinLo; w++) if (f[b + w] !== 0) return false;
  return true;
}

/** §11.5 validity of the QueryFilter at words f[b..b+16). */
export function queryFilterValid(f: Uint32Array, b: number): boolean {
  if (!timestampsValid(f, b + QFW.timestampMinLo, b + QFW.timestampMaxLo)) return false;
  if (f[b + QFW.limit] === 0) return false;
  if ((f[b + QFW.flags]! & queryFilterFlagsPadding) !== 0) return false;
  return (f[b + QFW.codeReserved]! >>> 16) === 0 && f[b + QFW.reserved] === 0;
}

/** An id index: the row of the u128 id at words[i..i+4), or −1. */
interface IdLookup {
  find(words: Uint32Array, i: number): number;
}

export class QueryExecutor {
  private readonly selected = new Int32Array(queryResultsMax);
  private readonly range = new Range();
  /** Set while probing (prefetch.ts): every page is named to it, and a missing one stops the walk. */
  private probing: PageNeedsCollector | null = null;

  constructor(private readonly state: LedgerState) {}

  /** True when the page of `record` may be read now: always while executing; while probing, when resident. */
  private has(records: PagedRecords, space: number, record: number): boolean {
    return this.probing === null || this.probing.record(records, space, record);
  }

  /**
   * Prefetch of a query batch (the filter at words f[b..]): walks as the query will, naming the
   * transfer, side and history pages it reads, up to the first one that is missing.
   */
  probe(operation: number, f: Uint32Array, b: number, collector: PageNeedsCollector): void {
    this.probing = collector;
    try {
      if (operation === Operation.query_transfers) {
        if (queryFilterValid(f, b)) this.query(this.state.transfers, f, b, null, 0);
        return;
      }
      assert(operation === Operation.get_account_transfers || operation === Operation.get_account_balances);
      if (!accountFilterValid(f, b)) return;
      const state = this.state;
      const accountRow = state.accountRow(f, b + AFW.account_id);
      if (accountRow === -1) return;
      const count = this.select(f, b, accountRow);
      if (count < 0 || operation !== Operation.get_account_balances) return;
      for (let i = 0; i < count; i++) {
        const entry = state.sideField(this.selected[i]!, SW.history);
        if (entry === -1) continue;
        collector.record(state.history, LedgerSpace.history, entry);
        if (entry + 1 < state.history.count) collector.record(state.history, LedgerSpace.history, entry + 1);
      }
    } finally {
      this.probing = null;
    }
  }

  /** §11.1: copies each found row; missing ids (and 0, INT_MAX, orphans: never indexed) give nothing. */
  lookup(
    table: Rows, index: IdLookup, ids: Uint32Array, first: number, n: number, out: Uint32Array, outFirst: number,
  ): number {
    let found = 0;
    for (let i = 0; i < n; i++) {
      const row = index.find(ids, first + i * 4);
      if (row === -1) continue;
      copyRow(table.words(row), table.at(row), out, outFirst + found * rowWords);
      found++;
    }
    return found;
  }

  /** §11.3. Returns the number of transfers written. */
  accountTransfers(f: Uint32Array, b: number, out: Uint32Array, outFirst: number): number {
    if (!accountFilterValid(f, b)) return 0;
    const accountRow = this.state.accountRow(f, b + AFW.account_id);
    if (accountRow === -1) return 0;
    const count = this.select(f, b, accountRow);
    const transfers = this.state.transfers;
    for (let i = 0; i < count; i++) {
      const row = this.selected[i]!;
      copyRow(transfers.u32(row), transfers.at(row), out, outFirst + i * rowWords);
    }
    return count;
  }

  /** §11.4: the filter account's balances after each selected transfer. */
  accountBalances(f: Uint32Array, b: number, out: Uint32Array, outFirst: number): number {
    if (!accountFilterValid(f, b)) return 0;
    const state = this.state;
    const accountRow = state.accountRow(f, b + AFW.account_id);
    if (accountRow === -1) return 0;
    const historyFlag = AccountFlags.history << 16;
    if ((state.accounts.u32[accountRow * rowWords + AW.codeFlags]! & historyFlag) === 0) return 0;
    const count = this.select(f, b, accountRow);
    const transfers = state.transfers;
    for (let i = 0; i < count; i++) {
      const row = this.selected[i]!;
      let entry = state.sideField(row, SW.history);
      if (state.history.u32(entry)[state.history.at(entry) + HW.accountRow] !== accountRow) entry += 1; // the credit-side entry
      const history = state.history.u32(entry);
      const h = state.history.at(entry);
      const o = outFirst + i * rowWords;
      for (let w = 0; w < 16; w++) out[o + w] = history[h + HW.balances + w]!;
      out[o + 16] = transfers.u32(row)[transfers.at(row) + TW.timestampLo]!;
      out[o + 17] = transfers.u32(row)[transfers.at(row) + TW.timestampHi]!;
      out.fill(0, o + 18, o + rowWords);
    }
    return count;
  }

  /** Fills `selected` with the transfer rows matching the filter, in output order. */
  private select(f: Uint32Array, b: number, accountRow: number): number {
    const state = this.state;
    const links = state.accountLinks;
    const transfers = state.transfers;
    const range = this.range;
    range.set(f, b + AFW.timestampMinLo, b + AFW.timestampMaxLo);
    const limit = Math.min(f[b + AFW.limit]!, queryResultsMax);
    const flags = f[b + AFW.flags]!;
    const reversed = (flags & AccountFilterFlags.reversed) !== 0;
    const l = accountRow * linkWords;
    let debit = (flags & AccountFilterFlags.debits) === 0 ? -1 : links[l + (reversed ? LW.debitTail : LW.debitHead)]!;
    let credit = (flags & AccountFilterFlags.credits) === 0 ? -1 : links[l + (reversed ? LW.creditTail : LW.creditHead)]!;
    const debitStep = reversed ? SW.debitPrev : SW.debitNext;
    const creditStep = reversed ? SW.creditPrev : SW.creditNext;
    let count = 0;
    while (count < limit && (debit !== -1 || credit !== -1)) {
      // Merge the two lists by row (= timestamp); a transfer is never on both lists of one account.
      const takeDebit = credit === -1 || (debit !== -1 && (reversed ? debit > credit : debit < credit));
      const row = takeDebit ? debit : credit;
      if (!this.has(state.side, LedgerSpace.side, row) || !this.has(transfers, LedgerSpace.transfers, row)) return -1;
      if (takeDebit) debit = state.sideField(debit, debitStep);
      else credit = state.sideField(credit, creditStep);
      const words = transfers.u32(row);
      const t = transfers.at(row);
      const hi = words[t + TW.timestampHi]!, lo = words[t + TW.timestampLo]!;
      if (reversed ? range.above(hi, lo) : range.below(hi, lo)) continue;
      if (reversed ? range.below(hi, lo) : range.above(hi, lo)) break;
      if (!accountFilterMatches(f, b, words, t)) continue;
      this.selected[count++] = row;
    }
    return count;
  }

  /** §11.5 over `table` (accounts and transfers share the positions of the matched fields). */
  query(table: Rows, f: Uint32Array, b: number, out: Uint32Array | null, outFirst: number): number {
    if (!queryFilterValid(f, b)) return 0;
    const range = this.range;
    range.set(f, b + QFW.timestampMinLo, b + QFW.timestampMaxLo);
    const low = this.lowerBound(table, range.minHi, range.minLo);
    if (low < 0) return -1;
    // One past max': max' + 1 ≤ 2^63 fits the (hi, lo) pair.
    const highLo = range.maxLo === 0xffff_ffff ? 0 : range.maxLo + 1;
    const highHi = range.maxLo === 0xffff_ffff ? range.maxHi + 1 : range.maxHi;
    const high = this.lowerBound(table, highHi, highLo);
    if (high < 0) return -1;
    const limit = Math.min(f[b + QFW.limit]!, queryResultsMax);
    const reversed = (f[b + QFW.flags]! & 1) !== 0;
    let count = 0;
    for (let i = 0; i < high - low && count < limit; i++) {
      const row = reversed ? high - 1 - i : low + i;
      if (table instanceof PagedRows && !this.has(table, LedgerSpace.transfers, row)) return -1;
      const rows = table.words(row);
      const r = table.at(row);
      if (!queryFilterMatches(f, b, rows, r)) continue;
      if (out !== null) copyRow(rows, r, out, outFirst + count * rowWords);
      count++;
    }
    return count;
  }

  /** table.lowerBound, naming the transfer pages it reads while probing (−1: one is missing). */
  private lowerBound(table: Rows, hi: number, lo: number): number {
    if (this.probing === null || !(table instanceof PagedRows)) return table.lowerBound(hi, lo);
    return timestampLowerBound(table, hi, lo, (row) => this.has(table, LedgerSpace.transfers, row));
  }
}

function copyRow(from: Uint32Array, f: number, to: Uint32Array, t: number): void {
  for (let w = 0; w < rowWords; w++) to[t + w] = from[f + w]!;
}

/** Equality on each non-zero condition among user_data_128/64/32 and code (§11.3). */
function accountFilterMatches(f: Uint32Array, b: number, transfers: Uint32Array, t: number): boolean {
  if (!u128IsZero(f, b + AFW.user_data_128) && !u128Equal(f, b + AFW.user_data_128, transfers, t + TW.user_data_128)) return false;
  const ud64Lo = f[b + AFW.user_data_64]!, ud64Hi = f[b + AFW.user_data_64 + 1]!;
  if ((ud64Lo | ud64Hi) !== 0 && (ud64Lo !== transfers[t + TW.user_data_64] || ud64Hi !== transfers[t + TW.user_data_64 + 1])) return false;
  const ud32 = f[b + AFW.user_data_32]!;
  if (ud32 !== 0 && ud32 !== transfers[t + TW.user_data_32]) return false;
  const code = f[b + AFW.codeReserved]! & 0xffff;
  return code === 0 || code === (transfers[t + TW.codeFlags]! & 0xffff);
}

/** Equality on each non-zero condition among user_data_128/64/32, ledger and code (§11.5). */
function queryFilterMatches(f: Uint32Array, b: number, rows: Uint32Array, r: number): boolean {
  if (!u128IsZero(f, b + QFW.user_data_128) && !u128Equal(f, b + QFW.user_data_128, rows, r + AW.user_data_128)) return false;
  const ud64Lo = f[b + QFW.user_data_64]!, ud64Hi = f[b + QFW.user_data_64 + 1]!;
  if ((ud64Lo | ud64Hi) !== 0 && (ud64Lo !== rows[r + AW.user_data_64] || ud64Hi !== rows[r + AW.user_data_64 + 1])) return false;
  const ud32 = f[b + QFW.user_data_32]!;
  if (ud32 !== 0 && ud32 !== rows[r + AW.user_data_32]) return false;
  const ledger = f[b + QFW.ledger]!;
  if (ledger !== 0 && ledger !== rows[r + AW.ledger]) return false;
  const code = f[b + QFW.codeReserved]! & 0xffff;
  return code === 0 || code === (rows[r + AW.codeFlags]! & 0xffff);
}
