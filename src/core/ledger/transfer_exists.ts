// The idempotency comparison of create_transfers (ledger.md §8.2): `t` is the request at
// events[e..], `s` the stored transfer with the same id. Regress checks of imported events run
// later (§10.3), so a retried import still gets `exists`.
import { assert } from "../assert.js";
import { CreateTransferStatus as S, TransferFlags } from "../layouts.js";
import { u128Compare, u128Equal, u128IsMax, u128IsZero } from "../u128.js";
import type { ExecutionContext } from "./context.js";
import { TW } from "./words.js";

const postOrVoid = TransferFlags.post_pending_transfer | TransferFlags.void_pending_transfer;
const balancing = TransferFlags.balancing_debit | TransferFlags.balancing_credit;

export function transferExists(
  context: ExecutionContext, events: Uint32Array, e: number, flags: number, row: number,
): number {
  const stored = context.state.transfers.u32(row);
  const s = context.state.transfers.at(row);
  if (flags !== stored[s + TW.codeFlags]! >>> 16) return S.exists_with_different_flags;
  if (!u128Equal(events, e + TW.pending_id, stored, s + TW.pending_id)) return S.exists_with_different_pending_id;
  if (events[e + TW.timeout] !== stored[s + TW.timeout]) return S.exists_with_different_timeout;
  const status = (flags & postOrVoid) !== 0
    ? existsPostOrVoid(context, events, e, flags, stored, s)
    : existsSinglePhase(events, e, flags, stored, s);
  if (status !== S.exists) return status;
  context.resultFrom(stored, s + TW.timestampLo);
  return S.exists;
}

/** §8.2.5: single-phase or pending. */
function existsSinglePhase(events: Uint32Array, e: number, flags: number, stored: Uint32Array, s: number): number {
  if (!u128Equal(events, e + TW.debit_account_id, stored, s + TW.debit_account_id)) {
    return S.exists_with_different_debit_account_id;
  }
  if (!u128Equal(events, e + TW.credit_account_id, stored, s + TW.credit_account_id)) {
    return S.exists_with_different_credit_account_id;
  }
  // A balancing transfer stored its clamped amount: a retry is fine with any amount ≥ it (§10.1).
  if ((flags & balancing) !== 0
    ? u128Compare(events, e + TW.amount, stored, s + TW.amount) < 0
    : !u128Equal(events, e + TW.amount, stored, s + TW.amount)) {
    return S.exists_with_different_amount;
  }
  if (!u128Equal(events, e + TW.user_data_128, stored, s + TW.user_data_128)) return S.exists_with_different_user_data_128;
  if (!u64Equal(events, e + TW.user_data_64, stored, s + TW.user_data_64)) return S.exists_with_different_user_data_64;
  if (events[e + TW.user_data_32] !== stored[s + TW.user_data_32]) return S.exists_with_different_user_data_32;
  if (events[e + TW.ledger] !== stored[s + TW.ledger]) return S.exists_with_different_ledger; // 67 before 45
  if ((events[e + TW.codeFlags]! & 0xffff) !== (stored[s + TW.codeFlags]! & 0xffff)) return S.exists_with_different_code;
  return S.exists;
}

/** §8.2.4: post or void; zero request fields mean "inherited from p". */
function existsPostOrVoid(
  context: ExecutionContext, events: Uint32Array, e: number, flags: number, stored: Uint32Array, s: number,
): number {
  const pRow = context.state.transferRow(stored, s + TW.pending_id);
  assert(pRow !== -1, "a stored post/void has its pending transfer");
  const pending = context.state.transfers.u32(pRow);
  const p = context.state.transfers.at(pRow);
  if (!u128IsZero(events, e + TW.debit_account_id) &&
      !u128Equal(events, e + TW.debit_account_id, stored, s + TW.debit_account_id)) {
    return S.exists_with_different_debit_account_id;
  }
  if (!u128IsZero(events, e + TW.credit_account_id) &&
      !u128Equal(events, e + TW.credit_account_id, stored, s + TW.credit_account_id)) {
    return S.exists_with_different_credit_account_id;
  }
  const inheritAmount = (flags & TransferFlags.void_pending_transfer) !== 0
    ? u128IsZero(events, e + TW.amount)
    : u128IsMax(events, e + TW.amount);
  if (inheritAmount
    ? !u128Equal(stored, s + TW.amount, pending, p + TW.amount)
    : !u128Equal(events, e + TW.amount, stored, s + TW.amount)) {
    return S.exists_with_different_amount;
  }
  if (u128IsZero(events, e + TW.user_data_128)
    ? !u128Equal(stored, s + TW.user_data_128, pending, p + TW.user_data_128)
    : !u128Equal(events, e + TW.user_data_128, stored, s + TW.user_data_128)) {
    return S.exists_with_different_user_data_128;
  }
  if (u64IsZero(events, e + TW.user_data_64)
    ? !u64Equal(stored, s + TW.user_data_64, pending, p + TW.user_data_64)
    : !u64Equal(events, e + TW.user_data_64, stored, s + TW.user_data_64)) {
    return S.exists_with_different_user_data_64;
  }
  const ud32 = events[e + TW.user_data_32]!;
  if (ud32 === 0 ? stored[s + TW.user_data_32] !== pending[p + TW.user_data_32] : ud32 !== stored[s + TW.user_data_32]) {
    return S.exists_with_different_user_data_32;
  }
  const ledger = events[e + TW.ledger]!;
  if (ledger !== 0 && ledger !== stored[s + TW.ledger]) return S.exists_with_different_ledger;
  const code = events[e + TW.codeFlags]! & 0xffff;
  if (code !== 0 && code !== (stored[s + TW.codeFlags]! & 0xffff)) return S.exists_with_different_code;
  return S.exists;
}

export function u64Equal(a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean {
  return a[ai] === b[bi] && a[ai + 1] === b[bi + 1];
}

export function u64IsZero(a: Uint32Array, i: number): boolean {
  return (a[i]! | a[i + 1]!) === 0;
}
