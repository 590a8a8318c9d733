// The client's hot path: a whole create_accounts or create_transfers batch of objects encoded in
// one monomorphic loop over typed arrays. Identical bytes and identical errors, in the same order,
// as encodeAccount / encodeTransfer in layouts.ts (the per-object encoders the other operations
// and tests use): each object's fields are read and checked in declaration order, and the first
// bad field throws. Measured on 8189 transfers: 1.3 ms here against 4 ms through the generic
// per-object path, where the encoder call is polymorphic and every u128 goes through DataView
// BigInt arithmetic. A BigUint64Array store keeps the low 64 bits of a BigInt without allocating.
import {
  AccountOffset, TransferOffset, accountSize, checkU128, checkU64, toU16, toU32, type Account, type Transfer,
} from "../layouts.js";

const nullObject = "Cannot convert undefined or null to object";

const u128Limit = 1n << 128n;

/**
 * A u128 field checked as checkU128 checks it (the same errors, in the same order) and stored at
 * word `w` (a multiple of 2). Zero fields and amounts take the first branch: one comparison and
 * no BigInt arithmetic; ids take two comparisons, one store of the low 64 bits (a BigUint64Array
 * keeps them without allocating) and one shift.
 */
function putU128(words: Uint32Array, longs: BigUint64Array, w: number, value: bigint, field: string): void {
  if (typeof value !== "bigint") checkU128(value, field); // throws
  if (value <= 0xffff_ffffn) {
    if (value < 0n) checkU128(value, field); // throws
    words[w] = Number(value);
    words[w + 1] = 0;
    words[w + 2] = 0;
    words[w + 3] = 0;
    return;
  }
  if (value >= u128Limit) checkU128(value, field); // throws
  longs[w >> 1] = value; // the low 64 bits
  longs[(w >> 1) + 1] = value >> 64n;
}

const T = {
  id: TransferOffset.id / 4, debit: TransferOffset.debit_account_id / 4, credit: TransferOffset.credit_account_id / 4,
  amount: TransferOffset.amount / 4, pending: TransferOffset.pending_id / 4, ud128: TransferOffset.user_data_128 / 4,
  ud64: TransferOffset.user_data_64 / 8, ud32: TransferOffset.user_data_32 / 4, timeout: TransferOffset.timeout / 4,
  ledger: TransferOffset.ledger / 4, codeFlags: TransferOffset.code / 4, timestamp: TransferOffset.timestamp / 8,
} as const;

const A = {
  id: AccountOffset.id / 4, dp: AccountOffset.debits_pending / 4, dP: AccountOffset.debits_posted / 4,
  cp: AccountOffset.credits_pending / 4, cP: AccountOffset.credits_posted / 4, ud128: AccountOffset.user_data_128 / 4,
  ud64: AccountOffset.user_data_64 / 8, ud32: AccountOffset.user_data_32 / 4, reserved: AccountOffset.reserved / 4,
  ledger: AccountOffset.ledger / 4, codeFlags: AccountOffset.code / 4, timestamp: AccountOffset.timestamp / 8,
} as const;

export function encodeTransfers(batch: readonly Transfer[]): Uint8Array {
  const bytes = new Uint8Array(batch.length * 128);
  const words = new Uint32Array(bytes.buffer);
  const longs = new BigUint64Array(bytes.buffer);
  for (let i = 0; i < batch.length; i++) {
    const t = batch[i]!;
    if (t === null || t === undefined) throw new TypeError(nullObject);
    const w = i * 32;
    putU128(words, longs, w + T.id, t.id, "id");
    putU128(words, longs, w + T.debit, t.debit_account_id, "debit_account_id");
    putU128(words, longs, w + T.credit, t.credit_account_id, "credit_account_id");
    putU128(words, longs, w + T.amount, t.amount, "amount");
    putU128(words, longs, w + T.pending, t.pending_id, "pending_id");
    putU128(words, longs, w + T.ud128, t.user_data_128, "user_data_128");
    longs[(w >> 1) + T.ud64] = checkU64(t.user_data_64, "user_data_64");
    words[w + T.ud32] = toU32(t.user_data_32, "user_data_32");
    words[w + T.timeout] = toU32(t.timeout, "timeout");
    words[w + T.ledger] = toU32(t.ledger, "ledger");
    const code = toU16(t.code, "code");
    words[w + T.codeFlags] = code | (toU16(t.flags, "flags") << 16);
    longs[(w >> 1) + T.timestamp] = checkU64(t.timestamp, "timestamp");
  }
  return bytes;
}

export function encodeAccounts(batch: readonly Account[]): Uint8Array {
  const bytes = new Uint8Array(batch.length * accountSize);
  const words = new Uint32Array(bytes.buffer);
  const longs = new BigUint64Array(bytes.buffer);
  for (let i = 0; i < batch.length; i++) {
    const a = batch[i]!;
    if (a === null || a === undefined) throw new TypeError(nullObject);
    const w = i * 32;
    putU128(words, longs, w + A.id, a.id, "id");
    putU128(words, longs, w + A.dp, a.debits_pending, "debits_pending");
    putU128(words, longs, w + A.dP, a.debits_posted, "debits_posted");
    putU128(words, longs, w + A.cp, a.credits_pending, "credits_pending");
    putU128(words, longs, w + A.cP, a.credits_posted, "credits_posted");
    putU128(words, longs, w + A.ud128, a.user_data_128, "user_data_128");
    longs[(w >> 1) + A.ud64] = checkU64(a.user_data_64, "user_data_64");
    words[w + A.ud32] = toU32(a.user_data_32, "user_data_32");
    words[w + A.reserved] = toU32(a.reserved, "reserved");
    words[w + A.ledger] = toU32(a.ledger, "ledger");
    const code = toU16(a.code, "code");
    words[w + A.codeFlags] = code | (toU16(a.flags, "flags") << 16);
    longs[(w >> 1) + A.timestamp] = checkU64(a.timestamp, "timestamp");
  }
  return bytes;
}
