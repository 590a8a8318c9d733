// Shared helpers for the ledger tests (spec/ledger.md): object factories that fill every field not
// given with zero, the API shape shared by SyncLedger and the reference model, a controllable
// cluster clock, a hand-written multi-batch encoder (spec/wire.md §8) and bigint-aware printing.
//
// Nothing here imports the implementation under test (src/core/ledger/), so the tests that use
// these helpers judge it independently.
import type {
  Account,
  AccountBalance,
  AccountFilter,
  CreateAccountResult,
  CreateTransferResult,
  QueryFilter,
  Transfer,
} from "../../src/core/layouts.js";

/** §1: AMOUNT_MAX = 2^128 − 1, also INT_MAX of every u128 field (ids). */
export const AMOUNT_MAX = (1n << 128n) - 1n;
export const U128_MAX = AMOUNT_MAX;
/** §1: valid timestamps are in [1, 2^63 − 1]. */
export const TIMESTAMP_MAX = (1n << 63n) - 1n;
export const U64_MAX = (1n << 64n) - 1n;
export const NS_PER_S = 1_000_000_000n;

/** The object-level API of SyncLedger (the fixed contract), which the model implements too. */
export interface LedgerApi {
  createAccounts(accounts: Account[]): CreateAccountResult[];
  createTransfers(transfers: Transfer[]): CreateTransferResult[];
  createAccountsBatches(batches: Account[][]): CreateAccountResult[][];
  createTransfersBatches(batches: Transfer[][]): CreateTransferResult[][];
  lookupAccounts(ids: bigint[]): Account[];
  lookupTransfers(ids: bigint[]): Transfer[];
  getAccountTransfers(filter: AccountFilter): Transfer[];
  getAccountBalances(filter: AccountFilter): AccountBalance[];
  queryAccounts(filter: QueryFilter): Account[];
  queryTransfers(filter: QueryFilter): Transfer[];
  pulse(): boolean;
  readonly lastTimestamp: bigint;
}

export interface LedgerOptions {
  accountsCapacity?: number;
  realtime?: () => bigint;
}

// ---- factories: every field not given is zero ----

export function account(fields: Partial<Account> = {}): Account {
  return {
    id: 0n, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 0, code: 0,
    flags: 0, timestamp: 0n, ...fields,
  };
}

export function transfer(fields: Partial<Transfer> = {}): Transfer {
  return {
    id: 0n, debit_account_id: 0n, credit_account_id: 0n, amount: 0n, pending_id: 0n,
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 0, code: 0,
    flags: 0, timestamp: 0n, ...fields,
  };
}

export function accountFilter(fields: Partial<AccountFilter> = {}): AccountFilter {
  return {
    account_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, code: 0,
    timestamp_min: 0n, timestamp_max: 0n, limit: 0, flags: 0, ...fields,
  };
}

export function queryFilter(fields: Partial<QueryFilter> = {}): QueryFilter {
  return {
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, ledger: 0, code: 0,
    timestamp_min: 0n, timestamp_max: 0n, limit: 0, flags: 0, ...fields,
  };
}

/** An account on ledger 1 with code 1 (the §13 default), other fields from `fields`. */
export function acct(id: bigint, fields: Partial<Account> = {}): Account {
  return account({ id, ledger: 1, code: 1, ...fields });
}

/** A transfer on ledger 1 with code 1 (the §13 default). */
export function xfer(
  id: bigint, debit: bigint, credit: bigint, amount: bigint, fields: Partial<Transfer> = {},
): Transfer {
  return transfer({
    id, debit_account_id: debit, credit_account_id: credit, amount, ledger: 1, code: 1, ...fields,
  });
}

/** A post or void: every field 0 except the ones given ("inherit from p", §8.3). */
export function resolve(fields: Partial<Transfer>): Transfer {
  return transfer(fields);
}

// ---- a controllable cluster clock ----

export class Clock {
  constructor(public now: bigint) {}
  /** The realtime function to inject: each call reads the current value. */
  readonly realtime = (): bigint => this.now;
  advance(ns: bigint): void {
    this.now += ns;
  }
  advanceSeconds(seconds: number): void {
    this.now += BigInt(seconds) * NS_PER_S;
  }
}

// ---- multi-batch encoding (spec/wire.md §8), written independently of src ----

/** trailer(E, b) = ceil((2b + 2) / E) · E. */
export function trailerSize(elementSize: number, batchCount: number): number {
  return Math.ceil((2 * batchCount + 2) / elementSize) * elementSize;
}

/**
 * Encodes batches (each a byte string, normally a whole number of elements) into a multi-batch
 * body. `counts` overrides the element counts written to the trailer (to build corrupt bodies);
 * `batchCount` overrides the batch count; `padding` overrides the 0xFF padding byte.
 */
export function encodeMultiBatch(
  elementSize: number,
  batches: Uint8Array[],
  overrides: { counts?: number[]; batchCount?: number; padding?: number; trailerBatches?: number } = {},
): Uint8Array {
  const b = batches.length;
  const trailerBatches = overrides.trailerBatches ?? b;
  const trailer = trailerSize(elementSize, trailerBatches);
  const payload = batches.reduce((sum, batch) => sum + batch.length, 0);
  const body = new Uint8Array(payload + trailer);
  let offset = 0;
  for (const batch of batches) {
    body.set(batch, offset);
    offset += batch.length;
  }
  const view = new DataView(body.buffer);
  const end = body.length;
  const counts = overrides.counts ?? batches.map((batch) => Math.floor(batch.length / elementSize));
  body.fill(overrides.padding ?? 0xff, payload, end - 2 - 2 * counts.length);
  for (let j = 0; j < counts.length; j++) view.setUint16(end - 4 - 2 * j, counts[j]!, true);
  view.setUint16(end - 2, overrides.batchCount ?? b, true);
  return body;
}

/** `count` elements of `size` bytes each, filled with `fill`. */
export function elements(count: number, size: number, fill = 0): Uint8Array {
  return new Uint8Array(count * size).fill(fill);
}

// ---- printing ----

/** JSON with bigints (as "123n") for readable failure messages and reproductions. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}

export function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
