// The batch encoders of create_accounts / create_transfers (src/core/ledger/batch_encoders.ts) give
// exactly the bytes and the errors of the per-object encoders in layouts.ts, for any objects:
// valid ones at every range, and ones with any field replaced by a bad value (the first bad
// field in declaration order decides the error in both).
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { encodeAccounts, encodeTransfers } from "../../src/core/ledger/batch_encoders.js";
import { encodeAccount, encodeTransfer, type Account, type Transfer } from "../../src/core/layouts.js";
import { u128Max } from "../../src/core/u128.js";

const u128 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: 0n, max: u128Max }));
const u64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const u32 = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(-1, 1.5, NaN, 2 ** 32));
const u16 = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(-1, 0x1_0000, 2 ** 32));
const bad = fc.constantFrom<unknown>(undefined, null, -1n, 1n << 128n, 1n << 64n, "1", 1, 1n, {}, -1, 0x1_0000);

const transfer = fc.record({
  id: u128, debit_account_id: u128, credit_account_id: u128, amount: u128, pending_id: u128, user_data_128: u128,
  user_data_64: u64, user_data_32: u32, timeout: u32, ledger: u32, code: u16, flags: u16, timestamp: u64,
});
const account = fc.record({
  id: u128, debits_pending: u128, debits_posted: u128, credits_pending: u128, credits_posted: u128, user_data_128: u128,
  user_data_64: u64, user_data_32: u32, reserved: u32, ledger: u32, code: u16, flags: u16, timestamp: u64,
});

function outcome(run: () => Uint8Array): string {
  try {
    return Buffer.from(run()).toString("hex");
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
}

function perObject<T>(encode: (view: DataView, offset: number, value: T) => void, batch: readonly T[]): Uint8Array {
  const bytes = new Uint8Array(batch.length * 128);
  const view = new DataView(bytes.buffer);
  batch.forEach((value, i) => {
    if (value === null || value === undefined) throw new TypeError("Cannot convert undefined or null to object");
    encode(view, i * 128, value);
  });
  return bytes;
}

/** Objects with, sometimes, one or two fields replaced by a bad value, and sometimes no object. */
function spoiled<T extends object>(objects: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: objects, weight: 3 },
    { arbitrary: fc.tuple(objects, fc.nat(12), bad, fc.nat(12), bad).map(([o, i, v, j, w]) => {
      const keys = Object.keys(o);
      return { ...o, [keys[i]!]: v, [keys[j]!]: w };
    }), weight: 3 },
    { arbitrary: fc.constantFrom(null, undefined, 5), weight: 1 },
  );
}

describe("batch encoders match the per-object encoders", () => {
  test("create_transfers: same bytes, same first error", () => {
    fc.assert(fc.property(fc.array(spoiled(transfer), { maxLength: 6 }), (batch) => {
      expect(outcome(() => encodeTransfers(batch as Transfer[]))).toBe(outcome(() => perObject(encodeTransfer, batch as Transfer[])));
    }), { numRuns: 2000 });
  });

  test("create_accounts: same bytes, same first error", () => {
    fc.assert(fc.property(fc.array(spoiled(account), { maxLength: 6 }), (batch) => {
      expect(outcome(() => encodeAccounts(batch as Account[]))).toBe(outcome(() => perObject(encodeAccount, batch as Account[])));
    }), { numRuns: 2000 });
  });
});
