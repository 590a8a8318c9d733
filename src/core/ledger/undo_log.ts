// Undo log for linked chains (ledger.md §6 rule 3.1: "take an undo snapshot of all ledger state").
// Instead of copying the state, a chain records what it changes, in typed arrays bounded by one
// batch (8189 events, each touching at most two accounts). They start small and double as a chain
// needs: at their bound they take 1.2 MB, which every state machine allocated and zeroed up front,
// twice per replica built (the VOPR builds dozens per seed; most chains are a few events):
// - row counts of the three append-only tables (accounts, transfers, history), restored by
//   popping rows LIFO, which also removes their index entries and list links exactly;
// - account balances and flags before each change (restored in reverse order);
// - pending-state changes of transfers created before the chain (post/void);
// - expiry-heap pushes (undone exactly, in reverse order).
// Deliberately absent: the orphaned-id set (an orphan survives rollback, §4.3), and pulse_next,
// which is expiry-scheduler bookkeeping (§9.3), not ledger data: TigerBeetle 0.17 keeps it out of
// its rollback scope (only the grooves are scoped), so a rolled-back chain may leave pulse_next
// lower than needed; that costs at most one pulse that finds nothing due, and keeps the pulse
// schedule (hence all later timestamps) identical to TigerBeetle's.
// Outside a chain nothing is logged: a failing event never has partial effects, because all
// checks run before any effect.
import { assert } from "../assert.js";
import { batchEventsMax } from "../config.js";
import type { LedgerState } from "./state.js";
import { AW, rowWords } from "./words.js";

const accountEntryWords = 18; // row, 16 balance words, code|flags word
const accountEntriesMax = 2 * batchEventsMax;
/** Entries each log holds before it first grows. */
const initialEntries = 64;

/** `log` with room for `words` words (doubled, capped at `wordsMax`), its contents kept. */
function grown<T extends Uint32Array | Int32Array>(log: T, words: number, wordsMax: number): T {
  if (words <= log.length) return log;
  const larger = new (log.constructor as new (length: number) => T)(Math.min(wordsMax, Math.max(words, 2 * log.length)));
  larger.set(log);
  return larger;
}

export class UndoLog {
  active = false;
  private accountsCount = 0;
  private transfersCount = 0;
  private historyCount = 0;
  private accountLog = new Uint32Array(initialEntries * accountEntryWords);
  private accountLogLength = 0;
  private stateLog = new Int32Array(initialEntries * 2);
  private stateLogLength = 0;
  private pushLog = new Int32Array(initialEntries);
  private pushLogLength = 0;

  begin(state: LedgerState): void {
    assert(!this.active, "undo log: chains do not nest");
    assert(this.accountLogLength === 0 && this.stateLogLength === 0 && this.pushLogLength === 0);
    this.active = true;
    this.accountsCount = state.accounts.count;
    this.transfersCount = state.transfers.count;
    this.historyCount = state.history.count;
  }

  /** Keeps the chain's changes. */
  commit(): void {
    assert(this.active);
    this.active = false;
    this.accountLogLength = 0;
    this.stateLogLength = 0;
    this.pushLogLength = 0;
  }

  /** Call before changing balances or flags of account `row` while the chain is active. */
  saveAccount(state: LedgerState, row: number): void {
    assert(this.active && this.accountLogLength < accountEntriesMax, "undo log: account log full");
    const words = state.accounts.u32;
    const a = row * rowWords;
    const u = this.accountLogLength++ * accountEntryWords;
    const log = this.accountLog = grown(this.accountLog, u + accountEntryWords, accountEntriesMax * accountEntryWords);
    log[u] = row;
    for (let w = 0; w < 16; w++) log[u + 1 + w] = words[a + AW.debits_pending + w]!;
    log[u + 17] = words[a + AW.codeFlags]!;
  }

  savePendingState(row: number, previous: number): void {
    assert(this.active && this.stateLogLength < batchEventsMax * 2);
    this.stateLog = grown(this.stateLog, this.stateLogLength + 2, batchEventsMax * 2);
    this.stateLog[this.stateLogLength++] = row;
    this.stateLog[this.stateLogLength++] = previous;
  }

  saveExpiryPush(row: number): void {
    assert(this.active && this.pushLogLength < batchEventsMax);
    this.pushLog = grown(this.pushLog, this.pushLogLength + 1, batchEventsMax);
    this.pushLog[this.pushLogLength++] = row;
  }

  /** Restores the state as it was at begin(). */
  rollback(state: LedgerState): void {
    assert(this.active);
    while (this.stateLogLength > 0) {
      const previous = this.stateLog[--this.stateLogLength]!;
      const row = this.stateLog[--this.stateLogLength]!;
      state.setPendingState(row, previous);
    }
    while (this.pushLogLength > 0) state.expiry.undoPush(this.pushLog[--this.pushLogLength]!);
    this.restoreAccounts(state);
    while (state.transfers.count > this.transfersCount) state.popTransfer();
    state.history.truncate(this.historyCount);
    while (state.accounts.count > this.accountsCount) state.popAccount();
    this.active = false;
  }

  private restoreAccounts(state: LedgerState): void {
    const words = state.accounts.u32;
    const log = this.accountLog;
    while (this.accountLogLength > 0) {
      const u = --this.accountLogLength * accountEntryWords;
      const row = log[u]!;
      const a = row * rowWords;
      for (let w = 0; w < 16; w++) words[a + AW.debits_pending + w] = log[u + 1 + w]!;
      words[a + AW.codeFlags] = log[u + 17]!;
      state.accounts.dirty.mark(row);
    }
  }
}
