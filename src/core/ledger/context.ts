// The execution context shared by the create paths and the pulse: ledger state, the chain undo
// log, and the timestamp registers of the event being executed (ledger.md §5), as u32 pairs.
import { assert } from "../assert.js";
import { AccountFlags, TransferFlags } from "../layouts.js";
import { u128Sub } from "../u128.js";
import { LedgerState, SW, type LedgerOptions } from "./state.js";
import { UndoLog } from "./undo_log.js";
import { noProbe, type ProbeSink } from "../probes.js";
import { AW, TW, rowWords } from "./words.js";

const closedFlag = AccountFlags.closed << 16;

export class ExecutionContext {
  readonly state: LedgerState;
  readonly undo = new UndoLog();
  /** t_i of the current event. */
  tHi = 0;
  tLo = 0;
  /** T_k of the current batch. */
  batchHi = 0;
  batchLo = 0;
  /** The result timestamp; the batch loop presets t_i, `exists` and imported creates override. */
  resultHi = 0;
  resultLo = 0;
  /** Scratch u128 registers: [0,4) amount, [4,8) and [8,12) sums, [12,14) expires_at. */
  readonly scratch = new Uint32Array(16);

  /**
   * A fresh state from options, or an existing one (a restored snapshot, snapshot.ts); `probe`
   * reports coverage probes (core/probes.ts).
   */
  constructor(stateOrOptions?: LedgerState | LedgerOptions, readonly probe: ProbeSink = noProbe) {
    this.state = stateOrOptions instanceof LedgerState ? stateOrOptions : new LedgerState(stateOrOptions);
  }

  /** Saves account `row` in the undo log before a change, when a chain is open. */
  saveAccount(row: number): void {
    if (this.undo.active) this.undo.saveAccount(this.state, row);
  }

  savePendingState(row: number, previous: number): void {
    if (this.undo.active) this.undo.savePendingState(row, previous);
  }

  /**
   * History event (§10.4) for a transfer or expiry at (tsHi, tsLo): one entry per involved account
   * with `flags.history`. For a created transfer (`own`), its side array points at the first one.
   */
  recordHistory(
    transferRow: number, debitRow: number, creditRow: number, tsHi: number, tsLo: number, own: boolean,
  ): void {
    const state = this.state;
    const accounts = state.accounts.u32;
    const historyFlag = AccountFlags.history << 16;
    let first = -1;
    if ((accounts[debitRow * rowWords + AW.codeFlags]! & historyFlag) !== 0) {
      first = state.history.appendEntry(accounts, debitRow, transferRow, tsHi, tsLo);
    }
    if ((accounts[creditRow * rowWords + AW.codeFlags]! & historyFlag) !== 0) {
      const entry = state.history.appendEntry(accounts, creditRow, transferRow, tsHi, tsLo);
      if (first === -1) first = entry;
    }
    if (own && first !== -1) state.setSide(transferRow, SW.history, first);
  }

  /**
   * Releases pending transfer p (a post, a void or an expiry, §8.3.9 and §9.3): subtracts p.amount
   * from dr.debits_pending and cr.credits_pending, and, when `reopen`, clears `closed` on the
   * accounts that p closed (closing_debit → debit account, closing_credit → credit account).
   */
  releasePending(pRow: number, debitRow: number, creditRow: number, reopen: boolean): void {
    const state = this.state;
    const accounts = state.accounts.u32;
    const transfers = state.transfers.u32(pRow);
    const p = state.transfers.at(pRow);
    const d = debitRow * rowWords;
    const c = creditRow * rowWords;
    const amount = p + TW.amount;
    const borrowDebit = u128Sub(accounts, d + AW.debits_pending, accounts, d + AW.debits_pending, transfers, amount);
    const borrowCredit = u128Sub(accounts, c + AW.credits_pending, accounts, c + AW.credits_pending, transfers, amount);
    assert(!borrowDebit && !borrowCredit, "pending balances cover every pending transfer");
    if (reopen) {
      const pFlags = transfers[p + TW.codeFlags]! >>> 16;
      if ((pFlags & TransferFlags.closing_debit) !== 0) accounts[d + AW.codeFlags] = accounts[d + AW.codeFlags]! & ~closedFlag;
      if ((pFlags & TransferFlags.closing_credit) !== 0) accounts[c + AW.codeFlags] = accounts[c + AW.codeFlags]! & ~closedFlag;
    }
    state.accounts.dirty.mark(debitRow);
    state.accounts.dirty.mark(creditRow);
  }

  /** Sets the result timestamp to a timestamp stored at words[i..i+2) as (lo, hi). */
  resultFrom(words: Uint32Array, i: number): void {
    this.resultLo = words[i]!;
    this.resultHi = words[i + 1]!;
  }
}
