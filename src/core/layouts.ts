// Fixed-size record layouts of spec/ledger.md §2, their flags and status codes. Records are
// operated on in place (zero-copy) by the state machine; the object forms below (with bigint
// fields, named as in tigerbeetle-node 0.17.9) exist only at the API edge.
import { readU128, writeU128 } from "./u128.js";
import { assert } from "./assert.js";

export const accountSize = 128;
export const transferSize = 128;
export const accountBalanceSize = 128;
export const accountFilterSize = 128;
export const queryFilterSize = 64;
export const createResultSize = 16;
export const idSize = 16;

/** Byte offsets inside an Account (ledger.md §2.1). */
export const AccountOffset = {
  id: 0, debits_pending: 16, debits_posted: 32, credits_pending: 48, credits_posted: 64,
  user_data_128: 80, user_data_64: 96, user_data_32: 104, reserved: 108, ledger: 112, code: 116,
  flags: 118, timestamp: 120,
} as const;

/** Byte offsets inside a Transfer (ledger.md §2.2). */
export const TransferOffset = {
  id: 0, debit_account_id: 16, credit_account_id: 32, amount: 48, pending_id: 64,
  user_data_128: 80, user_data_64: 96, user_data_32: 104, timeout: 108, ledger: 112, code: 116,
  flags: 118, timestamp: 120,
} as const;

/** Byte offsets inside an AccountBalance (ledger.md §2.3). Bytes [72, 128) are reserved. */
export const AccountBalanceOffset = {
  debits_pending: 0, debits_posted: 16, credits_pending: 32, credits_posted: 48, timestamp: 64,
} as const;

/** Byte offsets inside an AccountFilter (ledger.md §2.4). Bytes [46, 104) are reserved. */
export const AccountFilterOffset = {
  account_id: 0, user_data_128: 16, user_data_64: 32, user_data_32: 40, code: 44, reserved: 46,
  timestamp_min: 104, timestamp_max: 112, limit: 120, flags: 124,
} as const;
export const accountFilterReservedSize = 58;

/** Byte offsets inside a QueryFilter (ledger.md §2.5). Bytes [34, 40) are reserved. */
export const QueryFilterOffset = {
  user_data_128: 0, user_data_64: 16, user_data_32: 24, ledger: 28, code: 32, reserved: 34,
  timestamp_min: 40, timestamp_max: 48, limit: 56, flags: 60,
} as const;
export const queryFilterReservedSize = 6;

export enum AccountFlags {
  none = 0,
  linked = 1 << 0,
  debits_must_not_exceed_credits = 1 << 1,
  credits_must_not_exceed_debits = 1 << 2,
  history = 1 << 3,
  imported = 1 << 4,
  closed = 1 << 5,
}
export const accountFlagsPadding = 0xffff & ~0x3f;

export enum TransferFlags {
  none = 0,
  linked = 1 << 0,
  pending = 1 << 1,
  post_pending_transfer = 1 << 2,
  void_pending_transfer = 1 << 3,
  balancing_debit = 1 << 4,
  balancing_credit = 1 << 5,
  closing_debit = 1 << 6,
  closing_credit = 1 << 7,
  imported = 1 << 8,
}
export const transferFlagsPadding = 0xffff & ~0x1ff;

export enum AccountFilterFlags {
  none = 0,
  debits = 1 << 0,
  credits = 1 << 1,
  reversed = 1 << 2,
}
export const accountFilterFlagsPadding = ~0x7 >>> 0;

export enum QueryFilterFlags {
  none = 0,
  reversed = 1 << 0,
}
export const queryFilterFlagsPadding = ~0x1 >>> 0;

// Member order follows tigerbeetle-node 0.17.9 (check order), values follow ledger.md §4.1.
export enum CreateAccountStatus {
  created = 4294967295,
  linked_event_failed = 1,
  linked_event_chain_open = 2,
  imported_event_expected = 22,
  imported_event_not_expected = 23,
  timestamp_must_be_zero = 3,
  imported_event_timestamp_out_of_range = 24,
  imported_event_timestamp_must_not_advance = 25,
  reserved_field = 4,
  reserved_flag = 5,
  id_must_not_be_zero = 6,
  id_must_not_be_int_max = 7,
  exists_with_different_flags = 15,
  exists_with_different_user_data_128 = 16,
  exists_with_different_user_data_64 = 17,
  exists_with_different_user_data_32 = 18,
  exists_with_different_ledger = 19,
  exists_with_different_code = 20,
  exists = 21,
  flags_are_mutually_exclusive = 8,
  debits_pending_must_be_zero = 9,
  debits_posted_must_be_zero = 10,
  credits_pending_must_be_zero = 11,
  credits_posted_must_be_zero = 12,
  ledger_must_not_be_zero = 13,
  code_must_not_be_zero = 14,
  imported_event_timestamp_must_not_regress = 26,
}

export enum CreateTransferStatus {
  created = 4294967295,
  linked_event_failed = 1,
  linked_event_chain_open = 2,
  imported_event_expected = 56,
  imported_event_not_expected = 57,
  timestamp_must_be_zero = 3,
  imported_event_timestamp_out_of_range = 58,
  imported_event_timestamp_must_not_advance = 59,
  reserved_flag = 4,
  id_must_not_be_zero = 5,
  id_must_not_be_int_max = 6,
  exists_with_different_flags = 36,
  exists_with_different_pending_id = 40,
  exists_with_different_timeout = 44,
  exists_with_different_debit_account_id = 37,
  exists_with_different_credit_account_id = 38,
  exists_with_different_amount = 39,
  exists_with_different_user_data_128 = 41,
  exists_with_different_user_data_64 = 42,
  exists_with_different_user_data_32 = 43,
  exists_with_different_ledger = 67,
  exists_with_different_code = 45,
  exists = 46,
  id_already_failed = 68,
  flags_are_mutually_exclusive = 7,
  debit_account_id_must_not_be_zero = 8,
  debit_account_id_must_not_be_int_max = 9,
  credit_account_id_must_not_be_zero = 10,
  credit_account_id_must_not_be_int_max = 11,
  accounts_must_be_different = 12,
  pending_id_must_be_zero = 13,
  pending_id_must_not_be_zero = 14,
  pending_id_must_not_be_int_max = 15,
  pending_id_must_be_different = 16,
  timeout_reserved_for_pending_transfer = 17,
  closing_transfer_must_be_pending = 64,
  ledger_must_not_be_zero = 19,
  code_must_not_be_zero = 20,
  debit_account_not_found = 21,
  credit_account_not_found = 22,
  accounts_must_have_the_same_ledger = 23,
  transfer_must_have_the_same_ledger_as_accounts = 24,
  pending_transfer_not_found = 25,
  pending_transfer_not_pending = 26,
  pending_transfer_has_different_debit_account_id = 27,
  pending_transfer_has_different_credit_account_id = 28,
  pending_transfer_has_different_ledger = 29,
  pending_transfer_has_different_code = 30,
  exceeds_pending_transfer_amount = 31,
  pending_transfer_has_different_amount = 32,
  pending_transfer_already_posted = 33,
  pending_transfer_already_voided = 34,
  pending_transfer_expired = 35,
  imported_event_timestamp_must_not_regress = 60,
  imported_event_timestamp_must_postdate_debit_account = 61,
  imported_event_timestamp_must_postdate_credit_account = 62,
  imported_event_timeout_must_be_zero = 63,
  debit_account_already_closed = 65,
  credit_account_already_closed = 66,
  overflows_debits_pending = 47,
  overflows_credits_pending = 48,
  overflows_debits_posted = 49,
  overflows_credits_posted = 50,
  overflows_debits = 51,
  overflows_credits = 52,
  overflows_timeout = 53,
  exceeds_credits = 54,
  exceeds_debits = 55,
}

/** Statuses that depend on state that may change later: their ids become orphaned (§4.3). */
export function isTransientTransferStatus(status: number): boolean {
  return status === 21 || status === 22 || status === 25 || status === 54 || status === 55 ||
    status === 65 || status === 66;
}

// ---- Object forms (API edge), with the field names and types of tigerbeetle-node 0.17.9 ----

export interface Account {
  id: bigint; debits_pending: bigint; debits_posted: bigint; credits_pending: bigint;
  credits_posted: bigint; user_data_128: bigint; user_data_64: bigint; user_data_32: number;
  reserved: number; ledger: number; code: number; flags: number; timestamp: bigint;
}

export interface Transfer {
  id: bigint; debit_account_id: bigint; credit_account_id: bigint; amount: bigint;
  pending_id: bigint; user_data_128: bigint; user_data_64: bigint; user_data_32: number;
  timeout: number; ledger: number; code: number; flags: number; timestamp: bigint;
}

export interface CreateAccountResult { timestamp: bigint; status: CreateAccountStatus }
export interface CreateTransferResult { timestamp: bigint; status: CreateTransferStatus }

export interface AccountBalance {
  debits_pending: bigint; debits_posted: bigint; credits_pending: bigint; credits_posted: bigint;
  timestamp: bigint;
}

export interface AccountFilter {
  account_id: bigint; user_data_128: bigint; user_data_64: bigint; user_data_32: number;
  code: number; timestamp_min: bigint; timestamp_max: bigint; limit: number; flags: number;
}

export interface QueryFilter {
  user_data_128: bigint; user_data_64: bigint; user_data_32: number; ledger: number; code: number;
  timestamp_min: bigint; timestamp_max: bigint; limit: number; flags: number;
}

const u64Max = 0xffff_ffff_ffff_ffffn;
const u128Limit = 1n << 128n;

// Field checks of the API edge. They convert, word and order their errors as tigerbeetle-node
// 0.17.9's native encoder does (its N-API conversions), so that both clients reject the same
// inputs with the same plain Error: bigints are checked, numbers are wrapped to a u32 as
// napi_get_value_uint32 does (ToUint32: -1 becomes 2^32 - 1, 1.5 becomes 1, NaN becomes 0), and
// only u16 fields are range-checked after that. Messages are built on the error path only.

/** A u128 field (napi_get_value_bigint_words). Exported for lookup ids ("lookup"). */
export function checkU128(value: bigint, field: string): bigint {
  if (typeof value !== "bigint") throw new Error(`${field} must be a BigInt`);
  if (value < 0n) throw new Error(`${field} must be positive`);
  if (value >= u128Limit) throw new Error(`${field} must fit in 128 bits`);
  return value;
}

/** A u64 field (napi_get_value_bigint_uint64: out of range is "lossy"). */
export function checkU64(value: bigint, field: string): bigint {
  if (typeof value !== "bigint") throw new Error(`${field} must be an unsigned 64-bit BigInt`);
  if (value < 0n || value > u64Max) throw new Error(`${field} conversion was lossy`);
  return value;
}

/** A u32 field: any number, wrapped modulo 2^32. */
export function toU32(value: number, field: string): number {
  if (typeof value !== "number") throw new Error(`${field} must be a number`);
  return value >>> 0;
}

/** A u16 field: a u32 as above that must also fit in 16 bits. */
export function toU16(value: number, field: string): number {
  const wrapped = toU32(value, field);
  if (wrapped > 0xffff) throw new Error(`${field} must be a u16.`);
  return wrapped;
}

export function encodeAccount(view: DataView, offset: number, a: Account): void {
  const o = AccountOffset;
  writeU128(view, offset + o.id, checkU128(a.id, "id"));
  writeU128(view, offset + o.debits_pending, checkU128(a.debits_pending, "debits_pending"));
  writeU128(view, offset + o.debits_posted, checkU128(a.debits_posted, "debits_posted"));
  writeU128(view, offset + o.credits_pending, checkU128(a.credits_pending, "credits_pending"));
  writeU128(view, offset + o.credits_posted, checkU128(a.credits_posted, "credits_posted"));
  writeU128(view, offset + o.user_data_128, checkU128(a.user_data_128, "user_data_128"));
  view.setBigUint64(offset + o.user_data_64, checkU64(a.user_data_64, "user_data_64"), true);
  view.setUint32(offset + o.user_data_32, toU32(a.user_data_32, "user_data_32"), true);
  view.setUint32(offset + o.reserved, toU32(a.reserved, "reserved"), true);
  view.setUint32(offset + o.ledger, toU32(a.ledger, "ledger"), true);
  view.setUint16(offset + o.code, toU16(a.code, "code"), true);
  view.setUint16(offset + o.flags, toU16(a.flags, "flags"), true);
  view.setBigUint64(offset + o.timestamp, checkU64(a.timestamp, "timestamp"), true);
}

export function decodeAccount(view: DataView, offset: number): Account {
  const o = AccountOffset;
  return {
    id: readU128(view, offset + o.id),
    debits_pending: readU128(view, offset + o.debits_pending),
    debits_posted: readU128(view, offset + o.debits_posted),
    credits_pending: readU128(view, offset + o.credits_pending),
    credits_posted: readU128(view, offset + o.credits_posted),
    user_data_128: readU128(view, offset + o.user_data_128),
    user_data_64: view.getBigUint64(offset + o.user_data_64, true),
    user_data_32: view.getUint32(offset + o.user_data_32, true),
    reserved: view.getUint32(offset + o.reserved, true),
    ledger: view.getUint32(offset + o.ledger, true),
    code: view.getUint16(offset + o.code, true),
    flags: view.getUint16(offset + o.flags, true),
    timestamp: view.getBigUint64(offset + o.timestamp, true),
  };
}

export function encodeTransfer(view: DataView, offset: number, t: Transfer): void {
  const o = TransferOffset;
  writeU128(view, offset + o.id, checkU128(t.id, "id"));
  writeU128(view, offset + o.debit_account_id, checkU128(t.debit_account_id, "debit_account_id"));
  writeU128(view, offset + o.credit_account_id, checkU128(t.credit_account_id, "credit_account_id"));
  writeU128(view, offset + o.amount, checkU128(t.amount, "amount"));
  writeU128(view, offset + o.pending_id, checkU128(t.pending_id, "pending_id"));
  writeU128(view, offset + o.user_data_128, checkU128(t.user_data_128, "user_data_128"));
  view.setBigUint64(offset + o.user_data_64, checkU64(t.user_data_64, "user_data_64"), true);
  view.setUint32(offset + o.user_data_32, toU32(t.user_data_32, "user_data_32"), true);
  view.setUint32(offset + o.timeout, toU32(t.timeout, "timeout"), true);
  view.setUint32(offset + o.ledger, toU32(t.ledger, "ledger"), true);
  view.setUint16(offset + o.code, toU16(t.code, "code"), true);
  view.setUint16(offset + o.flags, toU16(t.flags, "flags"), true);
  view.setBigUint64(offset + o.timestamp, checkU64(t.timestamp, "timestamp"), true);
}

export function decodeTransfer(view: DataView, offset: number): Transfer {
  const o = TransferOffset;
  return {
    id: readU128(view, offset + o.id),
    debit_account_id: readU128(view, offset + o.debit_account_id),
    credit_account_id: readU128(view, offset + o.credit_account_id),
    amount: readU128(view, offset + o.amount),
    pending_id: readU128(view, offset + o.pending_id),
    user_data_128: readU128(view, offset + o.user_data_128),
    user_data_64: view.getBigUint64(offset + o.user_data_64, true),
    user_data_32: view.getUint32(offset + o.user_data_32, true),
    timeout: view.getUint32(offset + o.timeout, true),
    ledger: view.getUint32(offset + o.ledger, true),
    code: view.getUint16(offset + o.code, true),
    flags: view.getUint16(offset + o.flags, true),
    timestamp: view.getBigUint64(offset + o.timestamp, true),
  };
}

export function decodeCreateResult(view: DataView, offset: number): { timestamp: bigint; status: number } {
  return { timestamp: view.getBigUint64(offset, true), status: view.getUint32(offset + 8, true) };
}

export function decodeAccountBalance(view: DataView, offset: number): AccountBalance {
  const o = AccountBalanceOffset;
  return {
    debits_pending: readU128(view, offset + o.debits_pending),
    debits_posted: readU128(view, offset + o.debits_posted),
    credits_pending: readU128(view, offset + o.credits_pending),
    credits_posted: readU128(view, offset + o.credits_posted),
    timestamp: view.getBigUint64(offset + o.timestamp, true),
  };
}

/** Encodes an AccountFilter; reserved bytes are written as zero. */
export function encodeAccountFilter(view: DataView, offset: number, f: AccountFilter): void {
  const o = AccountFilterOffset;
  writeU128(view, offset + o.account_id, checkU128(f.account_id, "account_id"));
  writeU128(view, offset + o.user_data_128, checkU128(f.user_data_128, "user_data_128"));
  view.setBigUint64(offset + o.user_data_64, checkU64(f.user_data_64, "user_data_64"), true);
  view.setUint32(offset + o.user_data_32, toU32(f.user_data_32, "user_data_32"), true);
  view.setUint16(offset + o.code, toU16(f.code, "code"), true);
  for (let i = 0; i < accountFilterReservedSize; i++) view.setUint8(offset + o.reserved + i, 0);
  view.setBigUint64(offset + o.timestamp_min, checkU64(f.timestamp_min, "timestamp_min"), true);
  view.setBigUint64(offset + o.timestamp_max, checkU64(f.timestamp_max, "timestamp_max"), true);
  view.setUint32(offset + o.limit, toU32(f.limit, "limit"), true);
  view.setUint32(offset + o.flags, toU32(f.flags, "flags"), true);
}

/** Encodes a QueryFilter; reserved bytes are written as zero. */
export function encodeQueryFilter(view: DataView, offset: number, f: QueryFilter): void {
  const o = QueryFilterOffset;
  writeU128(view, offset + o.user_data_128, checkU128(f.user_data_128, "user_data_128"));
  view.setBigUint64(offset + o.user_data_64, checkU64(f.user_data_64, "user_data_64"), true);
  view.setUint32(offset + o.user_data_32, toU32(f.user_data_32, "user_data_32"), true);
  view.setUint32(offset + o.ledger, toU32(f.ledger, "ledger"), true);
  view.setUint16(offset + o.code, toU16(f.code, "code"), true);
  for (let i = 0; i < queryFilterReservedSize; i++) view.setUint8(offset + o.reserved + i, 0);
  view.setBigUint64(offset + o.timestamp_min, checkU64(f.timestamp_min, "timestamp_min"), true);
  view.setBigUint64(offset + o.timestamp_max, checkU64(f.timestamp_max, "timestamp_max"), true);
  view.setUint32(offset + o.limit, toU32(f.limit, "limit"), true);
  view.setUint32(offset + o.flags, toU32(f.flags, "flags"), true);
}

assert(AccountOffset.timestamp + 8 === accountSize && TransferOffset.timestamp + 8 === transferSize);
