// The post/void path of create_transfers (ledger.md §8.3): checks in order, then effects.
// context.scratch[0,4) holds amount_actual.
import { assert } from "../assert.js";
import { AccountFlags, CreateTransferStatus as S, TransferFlags } from "../layouts.js";
import { u128Add, u128Compare, u128Copy, u128Equal, u128IsMax, u128IsZero } from "../u128.js";
import type { ExecutionContext } from "./context.js";
import { SW } from "./state.js";
import { tsLess } from "./timestamps.js";
import { AW, PendingState, TW, rowWords } from "./words.js";

const created = S.created;
const closedFlag = AccountFlags.closed << 16;
const notAllowed = TransferFlags.pending | TransferFlags.balancing_debit | TransferFlags.balancing_credit |
  TransferFlags.closing_debit | TransferFlags.closing_credit;

export function createPostOrVoid(
  context: ExecutionContext, events: Uint32Array, e: number, flags: number, imported: boolean,
): number {
  const isVoid = (flags & TransferFlags.void_pending_transfer) !== 0;
  const isPost = (flags & TransferFlags.post_pending_transfer) !== 0;
  if ((isPost && isVoid) || (flags & notAllowed) !== 0) return S.flags_are_mutually_exclusive;
  if (u128IsZero(events, e + TW.pending_id)) return S.pending_id_must_not_be_zero;
  if (u128IsMax(events, e + TW.pending_id)) return S.pending_id_must_not_be_int_max;
  if (u128Equal(events, e + TW.pending_id, events, e + TW.id)) return S.pending_id_must_be_different;
  if (events[e + TW.timeout] !== 0) return S.timeout_reserved_for_pending_transfer;
  const state = context.state;
  const pRow = state.transferRow(events, e + TW.pending_id);
  if (pRow === -1) return S.pending_transfer_not_found;
  if (!state.transferHasFlag(pRow, TransferFlags.pending)) return S.pending_transfer_not_pending;
  let status = checkAgainstPending(context, events, e, isVoid, pRow);
  if (status !== created) return status;
  status = checkPendingState(context, pRow);
  if (status !== created) return status;
  if (imported) {
    const tsHi = events[e + TW.timestampHi]!;
    const tsLo = events[e + TW.timestampLo]!;
    if (state.transfers.notAfterLast(tsHi, tsLo) || state.accounts.hasTimestamp(tsHi, tsLo)) {
      return S.imported_event_timestamp_must_not_regress;
    }
  }
  const debitRow = state.sideField(pRow, SW.debitRow);
  const creditRow = state.sideField(pRow, SW.creditRow);
  if (isPost) {
    // A void is allowed on closed accounts: it is how a closing transfer is undone (§10.2).
    const accounts = state.accounts.u32;
    if ((accounts[debitRow * rowWords + AW.codeFlags]! & closedFlag) !== 0) {
      return S.debit_account_already_closed;
    }
    if ((accounts[creditRow * rowWords + AW.codeFlags]! & closedFlag) !== 0) {
      return S.credit_account_already_closed;
    }
  }
  const row = storeTransfer(context, events, e, imported, pRow);
  applyBalances(context, isVoid, pRow, debitRow, creditRow);
  resolvePending(context, pRow, isVoid ? PendingState.voided : PendingState.posted);
  state.linkTransfer(row, debitRow, creditRow, PendingState.none);
  context.recordHistory(row, debitRow, creditRow, context.resultHi, context.resultLo, true);
  return created;
}

/** §8.3.4–5: non-zero fields must match p; amount_actual into scratch[0,4). */
function checkAgainstPending(
  context: ExecutionContext, events: Uint32Array, e: number, isVoid: boolean, pRow: number,
): number {
  const stored = context.state.transfers.u32(pRow);
  const p = context.state.transfers.at(pRow);
  if (!u128IsZero(events, e + TW.debit_account_id) &&
      !u128Equal(events, e + TW.debit_account_id, stored, p + TW.debit_account_id)) {
    return S.pending_transfer_has_different_debit_account_id;
  }
  if (!u128IsZero(events, e + TW.credit_account_id) &&
      !u128Equal(events, e + TW.credit_account_id, stored, p + TW.credit_account_id)) {
    return S.pending_transfer_has_different_credit_account_id;
  }
  const ledger = events[e + TW.ledger]!;
  if (ledger !== 0 && ledger !== stored[p + TW.ledger]) return S.pending_transfer_has_different_ledger;
  const code = events[e + TW.codeFlags]! & 0xffff;
  if (code !== 0 && code !== (stored[p + TW.codeFlags]! & 0xffff)) return S.pending_transfer_has_different_code;
  const a = context.scratch;
  const inherit = isVoid ? u128IsZero(events, e + TW.amount) : u128IsMax(events, e + TW.amount);
  u128Copy(a, 0, inherit ? stored : events, inherit ? p + TW.amount : e + TW.amount);
  const order = u128Compare(a, 0, stored, p + TW.amount);
  if (order > 0) return S.exceeds_pending_transfer_amount;
  if (isVoid && order < 0) return S.pending_transfer_has_different_amount;
  return created;
}

/** §8.3.6: p must still be pending, and not due (expired but not yet pulsed counts as expired). */
function checkPendingState(context: ExecutionContext, pRow: number): number {
  const state = context.state;
  switch (state.pendingState(pRow)) {
    case PendingState.posted: return S.pending_transfer_already_posted;
    case PendingState.voided: return S.pending_transfer_already_voided;
    case PendingState.expired: return S.pending_transfer_expired;
    case PendingState.pending: break;
    default: assert(false, "a transfer with flags.pending has a pending state");
  }
  const expiresHi = state.sideField(pRow, SW.expiresHi) >>> 0;
  const expiresLo = state.sideField(pRow, SW.expiresLo) >>> 0;
  // (0, 0) means no timeout. Otherwise due when expires_at ≤ t_i.
  if ((expiresHi | expiresLo) !== 0 && !tsLess(context.tHi, context.tLo, expiresHi, expiresLo)) {
    return S.pending_transfer_expired;
  }
  return created;
}

/** §8.3.9: debit, credit, ledger and code from p; user_data from the request unless zero. */
function storeTransfer(
  context: ExecutionContext, events: Uint32Array, e: number, imported: boolean, pRow: number,
): number {
  const transfers = context.state.transfers;
  const row = transfers.append();
  const words = transfers.u32(row);
  const t = transfers.at(row);
  const pending = transfers.u32(pRow);
  const p = transfers.at(pRow);
  u128Copy(words, t + TW.id, events, e + TW.id);
  u128Copy(words, t + TW.debit_account_id, pending, p + TW.debit_account_id);
  u128Copy(words, t + TW.credit_account_id, pending, p + TW.credit_account_id);
  u128Copy(words, t + TW.amount, context.scratch, 0);
  u128Copy(words, t + TW.pending_id, events, e + TW.pending_id);
  const ud128Inherit = u128IsZero(events, e + TW.user_data_128);
  u128Copy(words, t + TW.user_data_128, ud128Inherit ? pending : events, ud128Inherit ? p + TW.user_data_128 : e + TW.user_data_128);
  const ud64Inherit = (events[e + TW.user_data_64]! | events[e + TW.user_data_64 + 1]!) === 0;
  words[t + TW.user_data_64] = ud64Inherit ? pending[p + TW.user_data_64]! : events[e + TW.user_data_64]!;
  words[t + TW.user_data_64 + 1] = ud64Inherit ? pending[p + TW.user_data_64 + 1]! : events[e + TW.user_data_64 + 1]!;
  const ud32 = events[e + TW.user_data_32]!;
  words[t + TW.user_data_32] = ud32 !== 0 ? ud32 : pending[p + TW.user_data_32]!;
  words[t + TW.timeout] = 0;
  words[t + TW.ledger] = pending[p + TW.ledger]!;
  words[t + TW.codeFlags] = ((events[e + TW.codeFlags]! & 0xffff_0000) | (pending[p + TW.codeFlags]! & 0xffff)) >>> 0;
  words[t + TW.timestampLo] = imported ? events[e + TW.timestampLo]! : context.tLo;
  words[t + TW.timestampHi] = imported ? events[e + TW.timestampHi]! : context.tHi;
  context.resultFrom(words, t + TW.timestampLo);
  return row;
}

/** §8.3.9: release p.amount from pending, post amount_actual, reopen accounts p closed (void). */
function applyBalances(
  context: ExecutionContext, isVoid: boolean, pRow: number, debitRow: number, creditRow: number,
): void {
  context.saveAccount(debitRow);
  context.saveAccount(creditRow);
  context.releasePending(pRow, debitRow, creditRow, isVoid);
  if (!isVoid) {
    // No overflow: pending + posted was bounded when p was created, and a post never raises it.
    const accounts = context.state.accounts.u32;
    const d = debitRow * rowWords + AW.debits_posted;
    const c = creditRow * rowWords + AW.credits_posted;
    u128Add(accounts, d, accounts, d, context.scratch, 0);
    u128Add(accounts, c, accounts, c, context.scratch, 0);
  }
}

/** p's state becomes posted/voided; its heap entry is dropped lazily; pulse_next per §9.3. */
function resolvePending(context: ExecutionContext, pRow: number, resolved: number): void {
  const state = context.state;
  context.savePendingState(pRow, PendingState.pending);
  state.setPendingState(pRow, resolved);
  const expiresHi = state.sideField(pRow, SW.expiresHi) >>> 0;
  const expiresLo = state.sideField(pRow, SW.expiresLo) >>> 0;
  if ((expiresHi | expiresLo) !== 0 && expiresHi === state.pulseNextHi && expiresLo === state.pulseNextLo) {
    state.pulseNextHi = 0;
    state.pulseNextLo = 1; // forces a rescan (§9.3)
  }
}
