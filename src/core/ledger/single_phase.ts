// The single-phase / pending path of create_transfers (ledger.md §8.4): checks in order, then
// effects. The amount and the sums of the overflow checks live in context.scratch:
// [0,4) a = amount_actual, [4,8) a + dr.debits_pending + dr.debits_posted,
// [8,12) a + cr.credits_pending + cr.credits_posted, [12,14) expires_at (lo, hi).
import { AccountFlags, CreateTransferStatus as S, TransferFlags } from "../layouts.js";
import {
  u128Add, u128AddOverflows, u128Compare, u128Copy, u128Equal, u128IsMax, u128IsZero, u128SubSaturating,
} from "../u128.js";
import type { ExecutionContext } from "./context.js";
import { SW } from "./state.js";
import { addTimeout, tsLess } from "./timestamps.js";
import { AW, PendingState, TW, rowWords } from "./words.js";

const created = S.created;
const closing = TransferFlags.closing_debit | TransferFlags.closing_credit;
const closedFlag = AccountFlags.closed << 16;
const expiresAt = 12;

export function createSinglePhase(
  context: ExecutionContext, events: Uint32Array, e: number, flags: number, imported: boolean,
): number {
  if (u128IsZero(events, e + TW.debit_account_id)) return S.debit_account_id_must_not_be_zero;
  if (u128IsMax(events, e + TW.debit_account_id)) return S.debit_account_id_must_not_be_int_max;
  if (u128IsZero(events, e + TW.credit_account_id)) return S.credit_account_id_must_not_be_zero;
  if (u128IsMax(events, e + TW.credit_account_id)) return S.credit_account_id_must_not_be_int_max;
  if (u128Equal(events, e + TW.debit_account_id, events, e + TW.credit_account_id)) return S.accounts_must_be_different;
  if (!u128IsZero(events, e + TW.pending_id)) return S.pending_id_must_be_zero;
  if ((flags & TransferFlags.pending) === 0) {
    if (events[e + TW.timeout] !== 0) return S.timeout_reserved_for_pending_transfer;
    if ((flags & closing) !== 0) return S.closing_transfer_must_be_pending;
  }
  const ledger = events[e + TW.ledger]!;
  if (ledger === 0) return S.ledger_must_not_be_zero;
  if ((events[e + TW.codeFlags]! & 0xffff) === 0) return S.code_must_not_be_zero;
  const state = context.state;
  const debitRow = state.accountRow(events, e + TW.debit_account_id);
  if (debitRow === -1) return S.debit_account_not_found;
  const creditRow = state.accountRow(events, e + TW.credit_account_id);
  if (creditRow === -1) return S.credit_account_not_found;
  const accounts = state.accounts.u32;
  const d = debitRow * rowWords;
  const c = creditRow * rowWords;
  if (accounts[d + AW.ledger] !== accounts[c + AW.ledger]) return S.accounts_must_have_the_same_ledger;
  if (ledger !== accounts[d + AW.ledger]) return S.transfer_must_have_the_same_ledger_as_accounts;
  if (imported) {
    const status = checkImported(context, events, e, d, c);
    if (status !== created) return status;
  }
  if ((accounts[d + AW.codeFlags]! & closedFlag) !== 0) return S.debit_account_already_closed;
  if ((accounts[c + AW.codeFlags]! & closedFlag) !== 0) return S.credit_account_already_closed;
  balance(context, events, e, flags, d, c);
  const status = checkAmounts(context, events, e, flags, d, c);
  if (status !== created) return status;
  apply(context, events, e, flags, imported, debitRow, creditRow);
  return created;
}

/** §8.4.7, imported only, in this order. */
function checkImported(context: ExecutionContext, events: Uint32Array, e: number, d: number, c: number): number {
  const state = context.state;
  const accounts = state.accounts.u32;
  const tsHi = events[e + TW.timestampHi]!;
  const tsLo = events[e + TW.timestampLo]!;
  if (state.transfers.notAfterLast(tsHi, tsLo) || state.accounts.hasTimestamp(tsHi, tsLo)) {
    return S.imported_event_timestamp_must_not_regress;
  }
  if (!tsLess(accounts[d + AW.timestampHi]!, accounts[d + AW.timestampLo]!, tsHi, tsLo)) {
    return S.imported_event_timestamp_must_postdate_debit_account;
  }
  if (!tsLess(accounts[c + AW.timestampHi]!, accounts[c + AW.timestampLo]!, tsHi, tsLo)) {
    return S.imported_event_timestamp_must_postdate_credit_account;
  }
  if (events[e + TW.timeout] !== 0) return S.imported_event_timeout_must_be_zero;
  return created;
}

/** §8.4.9: amount_actual from t.amount, clamped by balancing_debit, then balancing_credit. */
function balance(context: ExecutionContext, events: Uint32Array, e: number, flags: number, d: number, c: number): void {
  const a = context.scratch;
  const accounts = context.state.accounts.u32;
  u128Copy(a, 0, events, e + TW.amount);
  if ((flags & TransferFlags.balancing_debit) !== 0) {
    // dr.debits_posted + dr.debits_pending cannot overflow: §8.4.10 bounded it at creation.
    u128Add(a, 4, accounts, d + AW.debits_posted, accounts, d + AW.debits_pending);
    u128SubSaturating(a, 4, accounts, d + AW.credits_posted, a, 4);
    if (u128Compare(a, 4, a, 0) < 0) u128Copy(a, 0, a, 4);
  }
  if ((flags & TransferFlags.balancing_credit) !== 0) {
    u128Add(a, 4, accounts, c + AW.credits_posted, accounts, c + AW.credits_pending);
    u128SubSaturating(a, 4, accounts, c + AW.debits_posted, a, 4);
    if (u128Compare(a, 4, a, 0) < 0) u128Copy(a, 0, a, 4);
  }
}

/** §8.4.10–12: overflows, then the balance limits. */
function checkAmounts(
  context: ExecutionContext, events: Uint32Array, e: number, flags: number, d: number, c: number,
): number {
  const a = context.scratch;
  const accounts = context.state.accounts.u32;
  if ((flags & TransferFlags.pending) !== 0) {
    if (u128AddOverflows(a, 0, accounts, d + AW.debits_pending)) return S.overflows_debits_pending;
    if (u128AddOverflows(a, 0, accounts, c + AW.credits_pending)) return S.overflows_credits_pending;
  }
  if (u128AddOverflows(a, 0, accounts, d + AW.debits_posted)) return S.overflows_debits_posted;
  if (u128AddOverflows(a, 0, accounts, c + AW.credits_posted)) return S.overflows_credits_posted;
  // An overflow at either step means the three-term sum is ≥ 2^128.
  if (u128Add(a, 4, a, 0, accounts, d + AW.debits_pending) ||
      u128Add(a, 4, a, 4, accounts, d + AW.debits_posted)) return S.overflows_debits;
  if (u128Add(a, 8, a, 0, accounts, c + AW.credits_pending) ||
      u128Add(a, 8, a, 8, accounts, c + AW.credits_posted)) return S.overflows_credits;
  const timeout = events[e + TW.timeout]!;
  if (timeout !== 0) {
    // Not imported here (imported transfers have timeout 0, §8.4.7), so the timestamp is t_i.
    addTimeout(context.tHi, context.tLo, timeout, a, expiresAt);
    if (a[expiresAt + 1]! >= 0x8000_0000) return S.overflows_timeout;
  }
  if ((accounts[d + AW.codeFlags]! & (AccountFlags.debits_must_not_exceed_credits << 16)) !== 0 &&
      u128Compare(a, 4, accounts, d + AW.credits_posted) > 0) return S.exceeds_credits;
  if ((accounts[c + AW.codeFlags]! & (AccountFlags.credits_must_not_exceed_debits << 16)) !== 0 &&
      u128Compare(a, 8, accounts, c + AW.debits_posted) > 0) return S.exceeds_debits;
  return created;
}

/** §8.4.13: store the transfer, move the amount, close accounts, arm expiry, record history. */
function apply(
  context: ExecutionContext, events: Uint32Array, e: number, flags: number, imported: boolean,
  debitRow: number, creditRow: number,
): void {
  const state = context.state;
  const row = state.transfers.append();
  const transfers = state.transfers.u32(row);
  const t = state.transfers.at(row);
  for (let w = 0; w < rowWords; w++) transfers[t + w] = events[e + w]!;
  const a = context.scratch;
  u128Copy(transfers, t + TW.amount, a, 0);
  if (!imported) {
    transfers[t + TW.timestampLo] = context.tLo;
    transfers[t + TW.timestampHi] = context.tHi;
  }
  const tsLo = transfers[t + TW.timestampLo]!;
  const tsHi = transfers[t + TW.timestampHi]!;
  context.resultLo = tsLo;
  context.resultHi = tsHi;
  context.saveAccount(debitRow);
  context.saveAccount(creditRow);
  const accounts = state.accounts.u32;
  const d = debitRow * rowWords;
  const c = creditRow * rowWords;
  const pending = (flags & TransferFlags.pending) !== 0;
  // No overflow: checkAmounts bounded every sum.
  const debit = d + (pending ? AW.debits_pending : AW.debits_posted);
  const credit = c + (pending ? AW.credits_pending : AW.credits_posted);
  u128Add(accounts, debit, accounts, debit, a, 0);
  u128Add(accounts, credit, accounts, credit, a, 0);
  if ((flags & TransferFlags.closing_debit) !== 0) accounts[d + AW.codeFlags] = accounts[d + AW.codeFlags]! | closedFlag;
  if ((flags & TransferFlags.closing_credit) !== 0) accounts[c + AW.codeFlags] = accounts[c + AW.codeFlags]! | closedFlag;
  state.accounts.dirty.mark(debitRow);
  state.accounts.dirty.mark(creditRow);
  state.linkTransfer(row, debitRow, creditRow, pending ? PendingState.pending : PendingState.none);
  if (events[e + TW.timeout] !== 0) armExpiry(context, row);
  context.recordHistory(row, debitRow, creditRow, tsHi, tsLo, true);
}

/** §9.3: expires_at (computed by checkAmounts) goes into the heap and lowers pulse_next. */
function armExpiry(context: ExecutionContext, row: number): void {
  const state = context.state;
  const lo = context.scratch[expiresAt]!;
  const hi = context.scratch[expiresAt + 1]!;
  state.setSide(row, SW.expiresLo, lo);
  state.setSide(row, SW.expiresHi, hi);
  state.expiry.push(hi, lo, row);
  if (context.undo.active) context.undo.saveExpiryPush(row);
  if (tsLess(hi, lo, state.pulseNextHi, state.pulseNextLo)) {
    state.pulseNextHi = hi;
    state.pulseNextLo = lo;
  }
}
