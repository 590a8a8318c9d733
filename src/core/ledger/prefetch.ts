// Prefetch, then execute (DESIGN.md): before a prepare executes, the ledger names every page of
// its lazy spaces (transfer rows, side entries, history, id tree nodes) that execution will touch,
// so that the replica can read the missing ones through the grid and execution stays synchronous.
//
// What a prepare touches often depends on what is on those pages (an id's leaf says which row to
// compare, a pending transfer's side entry says which accounts' list tails change), so prefetch
// runs in rounds: each round walks as far as resident pages allow and names what it needs next;
// the replica reads the missing pages and asks again, until a round finds everything resident.
// Rounds never evict (page_cache.ts), so each one sees at least the previous round's pages.
//
// Every page named in a round is listed, resident or not, so the block cache knows what is in
// use. The walk must cover everything execution reads or writes; anything it misses is an
// assertion failure in PagedRecords ("not prefetched"), which the simulator's tiny cache finds.
//
// Per operation:
// - create_transfers: each event's id path in the id tree, and the row of an existing id (and,
//   for a stored post/void, its pending transfer's row, which the exists check compares); the
//   pending transfer of a post/void (row, side entry); the list tails (side entries) of the
//   accounts the transfer links to; the last page of each table that appends (a partial page).
//   Pages created during the prepare are new and dirty, hence resident until the next flush.
// - create_accounts: the binary search over transfer timestamps of imported accounts.
// - lookup_transfers: id paths and rows. Queries: the query itself, run in probe mode
//   (queries.ts), which stops at the first page it lacks.
// - pulse: a copy of the expiry heap popped as the pulse will pop it.
import { batchEventsMax } from "../config.js";
import { Operation } from "../command.js";
import { AccountFlags, TransferFlags } from "../layouts.js";
import type { MultiBatchReader } from "../multi_batch.js";
import type { PagedRecords } from "../paged_records.js";
import { ExpiryHeap } from "./expiry.js";
import type { QueryExecutor } from "./queries.js";
import { LW, SW, linkWords, type LedgerState } from "./state.js";
import { timestampLowerBound } from "./tables.js";
import { tsLess } from "./timestamps.js";
import { AW, PendingState, TW } from "./words.js";
import * as validate from "./validate.js";

/** The ledger's spaces, in persistence.ts order. */
export const LedgerSpace = {
  accounts: 0, transfers: 1, side: 2, links: 3, history: 4, orphans: 5, tree: 6, expiry: 7,
} as const;

const postOrVoid = TransferFlags.post_pending_transfer | TransferFlags.void_pending_transfer;
const spacesMax = 16;

/** The pages a prefetch round names: (space, page) pairs, each once, and how many are missing. */
export class PageNeedsCollector {
  readonly needs: number[] = [];
  /**
   * Per space, the round in which each page was last named: a page is named once per round
   * without a Set (a prefetch names a few pages per event, 8189 events per prepare).
   */
  private readonly namedInRound: Uint32Array[] = Array.from({ length: spacesMax }, () => new Uint32Array(64));
  private round = 1;
  missing = 0;

  reset(): void {
    this.needs.length = 0;
    this.missing = 0;
    this.round += 1;
    if (this.round === 0x1_0000_0000) { // after 2^32 rounds: start the stamps over
      for (const stamps of this.namedInRound) stamps.fill(0);
      this.round = 1;
    }
  }

  /** Names the page of `record`; true when it is resident (the walk may read it now). */
  record(records: PagedRecords, space: number, record: number): boolean {
    return this.page(records, space, records.pageOf(record));
  }

  page(records: PagedRecords, space: number, page: number): boolean {
    const resident = records.isResident(page);
    let stamps = this.namedInRound[space]!;
    if (page >= stamps.length) stamps = this.growStamps(space, page);
    if (stamps[page] !== this.round) {
      stamps[page] = this.round;
      this.needs.push(space, page);
      if (!resident) this.missing += 1;
    }
    return resident;
  }

  private growStamps(space: number, page: number): Uint32Array {
    const old = this.namedInRound[space]!;
    let length = old.length;
    while (length <= page) length *= 2;
    const grown = new Uint32Array(length);
    grown.set(old);
    this.namedInRound[space] = grown;
    return grown;
  }
}

export class LedgerPrefetcher {
  private readonly heap = new ExpiryHeap();
  /** This round named the id tree's right edge (the path of ids above every id: id_tree.ts). */
  private rightEdgeNamed = false;
  private readonly visitNode = (node: number): boolean =>
    this.collector.page(this.state.transferIndex.nodes, LedgerSpace.tree, node);

  constructor(
    private readonly state: LedgerState, private readonly queries: QueryExecutor,
    readonly collector: PageNeedsCollector,
  ) {}

  /** One round for a prepare: fills the collector; the round is complete when nothing is missing. */
  round(operation: number, timestamp: { hi: number; lo: number }, events: Uint32Array, reader: MultiBatchReader | null): void {
    this.collector.reset();
    this.rightEdgeNamed = false;
    if (validate.isPulse(operation)) return this.pulse(timestamp.hi, timestamp.lo);
    if (reader === null) return;
    switch (operation) {
      case Operation.create_transfers:
        this.appendPages();
        for (let k = 0; k < reader.batchCount; k++) {
          const first = reader.batchOffset(k) >>> 2;
          for (let j = 0; j < reader.elementCount(k); j++) this.transferEvent(events, first + j * 32);
        }
        return;
      case Operation.create_accounts:
        for (let k = 0; k < reader.batchCount; k++) {
          const first = reader.batchOffset(k) >>> 2;
          for (let j = 0; j < reader.elementCount(k); j++) this.accountEvent(events, first + j * 32);
        }
        return;
      case Operation.lookup_transfers:
        for (let k = 0; k < reader.batchCount; k++) {
          const first = reader.batchOffset(k) >>> 2;
          for (let j = 0; j < reader.elementCount(k); j++) {
            const row = this.transferRow(events, first + j * 4);
            if (row >= 0) this.collector.record(this.state.transfers, LedgerSpace.transfers, row);
          }
        }
        return;
      case Operation.lookup_accounts:
      case Operation.query_accounts:
        return; // accounts are resident
      default:
        for (let k = 0; k < reader.batchCount; k++) this.queries.probe(operation, events, reader.batchOffset(k) >>> 2, this.collector);
    }
  }

  /** The row of the id at words[i..i+4), −1 when absent, −2 when its path is not resident yet. */
  private transferRow(words: Uint32Array, i: number): number {
    const tree = this.state.transferIndex;
    if (!tree.aboveAll(words, i)) return tree.findVisiting(words, i, this.visitNode);
    // Absent. Execution appends it to the rightmost leaf, or splits along the right edge: name
    // that path once per round (ids from id() are all above the tree, so this is the common case).
    if (!this.rightEdgeNamed) this.rightEdgeNamed = tree.findVisiting(words, i, this.visitNode) !== -2;
    return -1;
  }

  /** The partial last page of each table that appends (a full one is followed by a new page). */
  private appendPages(): void {
    const state = this.state;
    for (const [records, space] of [
      [state.transfers, LedgerSpace.transfers], [state.side, LedgerSpace.side], [state.history, LedgerSpace.history],
    ] as const) {
      if (records.count > 0) this.collector.record(records, space, records.count - 1);
    }
  }

  private transferEvent(events: Uint32Array, e: number): void {
    const state = this.state;
    const collector = this.collector;
    const transfers = state.transfers;
    const existing = this.transferRow(events, e + TW.id);
    if (existing >= 0 && collector.record(transfers, LedgerSpace.transfers, existing)) {
      const stored = transfers.u32(existing);
      const s = transfers.at(existing);
      if (((stored[s + TW.codeFlags]! >>> 16) & postOrVoid) !== 0) {
        const pending = this.transferRow(stored, s + TW.pending_id);
        if (pending >= 0) collector.record(transfers, LedgerSpace.transfers, pending);
      }
    }
    if (((events[e + TW.codeFlags]! >>> 16) & postOrVoid) !== 0) {
      const pending = this.transferRow(events, e + TW.pending_id);
      if (pending >= 0) {
        collector.record(transfers, LedgerSpace.transfers, pending);
        if (collector.record(state.side, LedgerSpace.side, pending)) {
          this.tail(state.sideField(pending, SW.debitRow), LW.debitTail);
          this.tail(state.sideField(pending, SW.creditRow), LW.creditTail);
        }
      }
    }
    const debit = state.accountRow(events, e + TW.debit_account_id);
    if (debit !== -1) this.tail(debit, LW.debitTail);
    const credit = state.accountRow(events, e + TW.credit_account_id);
    if (credit !== -1) this.tail(credit, LW.creditTail);
  }

  /** The side entry of an account's list tail, which linking a transfer rewrites. */
  private tail(accountRow: number, which: number): void {
    const row = this.state.accountLinks[accountRow * linkWords + which]!;
    if (row !== -1) this.collector.record(this.state.side, LedgerSpace.side, row);
  }

  /** An imported account's timestamp must not be a transfer's: a binary search over transfer rows. */
  private accountEvent(events: Uint32Array, e: number): void {
    if (((events[e + AW.codeFlags]! >>> 16) & AccountFlags.imported) === 0) return;
    const transfers = this.state.transfers;
    const low = timestampLowerBound(transfers, events[e + AW.timestampHi]!, events[e + AW.timestampLo]!,
      (row) => this.collector.record(transfers, LedgerSpace.transfers, row));
    if (low >= 0 && low < transfers.count) this.collector.record(transfers, LedgerSpace.transfers, low);
  }

  /**
   * Pops a copy of the expiry heap as pulse.ts will: the side entry of every entry that reaches
   * the top (its pending state decides), the row of every transfer that expires. An entry due at
   * P is popped whatever its state, so a missing side page there is named and the walk goes on
   * (counting it as an expiry, which can only stop the walk early); an entry not yet due stops it.
   */
  private pulse(pHi: number, pLo: number): void {
    const state = this.state;
    const collector = this.collector;
    const heap = this.heap;
    heap.copyFrom(state.expiry);
    this.appendPages();
    let count = 0;
    while (heap.length > 0 && count < batchEventsMax) {
      const row = heap.topRow;
      const due = !tsLess(pHi, pLo, heap.topHi, heap.topLo);
      if (!collector.record(state.side, LedgerSpace.side, row)) {
        if (!due) return;
        collector.record(state.transfers, LedgerSpace.transfers, row);
        count += 1;
        heap.pop();
        continue;
      }
      if (state.sideField(row, SW.state) !== PendingState.pending) {
        heap.pop();
        continue;
      }
      if (!due) break;
      collector.record(state.transfers, LedgerSpace.transfers, row);
      count += 1;
      heap.pop();
    }
    // pulse_next: stale entries at the top are dropped until a pending one.
    while (heap.length > 0) {
      const row = heap.topRow;
      if (!collector.record(state.side, LedgerSpace.side, row)) return;
      if (state.sideField(row, SW.state) === PendingState.pending) return;
      heap.pop();
    }
  }
}
