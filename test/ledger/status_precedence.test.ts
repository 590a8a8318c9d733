// Every CreateAccountStatus (1–26) and CreateTransferStatus (1–68 except 18) is produced by at least
// one case, and each case is built so that at least one check of LOWER precedence would also fail
// (spec/ledger.md §6 rule 3.2, §7, §8). A wrong check order therefore gives a wrong status.
// A meta-test asserts that the cases cover the full enums minus `created` and the never-returned
// codes (0 and transfer 18).
import { beforeEach, describe, expect, it } from "vitest";
import {
  AccountFlags as AF,
  CreateAccountStatus as AS,
  CreateTransferStatus as TS,
  TransferFlags as TF,
  type Account,
  type CreateAccountResult,
  type CreateTransferResult,
  type Transfer,
} from "../../src/core/layouts.js";
import { AMOUNT_MAX, Clock, NS_PER_S, TIMESTAMP_MAX, U128_MAX, acct, resolve, transfer, xfer, type LedgerApi } from "./helpers.js";
import { ledgersUnderTest } from "./ledgers.js";

const START = 1_000_000_000_000n;
// Baseline accounts (ledger 1, code 1 unless noted).
const A = 1n;
const B = 2n;
const C = 3n; // debits_must_not_exceed_credits
const H = 4n; // history
const L = 5n; // credits_must_not_exceed_debits
const X = 6n; // ledger 2
const K = 7n; // created closed
const K2 = 8n; // created closed
const P1 = 12n; // fresh accounts for overflow cases
const P2 = 13n;
const P3 = 14n;
const PADDING_BIT_ACCOUNT = 1 << 6;
const PADDING_BIT_TRANSFER = 1 << 9;
const HALF = 1n << 127n;

interface Ctx {
  ledger: LedgerApi;
  clock: Clock;
  /** Timestamps of the baseline objects, by name. */
  ts: Record<string, bigint>;
}

function baseline(create: (o: { realtime: () => bigint }) => LedgerApi): Ctx {
  const clock = new Clock(START);
  const ledger = create({ realtime: clock.realtime });
  const accounts = ledger.createAccounts([
    acct(A), acct(B),
    acct(C, { flags: AF.debits_must_not_exceed_credits }),
    acct(H, { flags: AF.history }),
    acct(L, { flags: AF.credits_must_not_exceed_debits }),
    acct(X, { ledger: 2 }),
    acct(K, { flags: AF.closed }),
    acct(K2, { flags: AF.closed }),
    acct(P1), acct(P2), acct(P3),
  ]);
  expect(accounts.every((r) => r.status === AS.created)).toBe(true);
  const transfers = ledger.createTransfers([xfer(100n, A, B, 50n), xfer(150n, A, B, 100n, { flags: TF.pending })]);
  expect(transfers.map((r) => r.status)).toEqual([TS.created, TS.created]);
  return {
    ledger, clock,
    ts: {
      A: accounts[0]!.timestamp, H: accounts[3]!.timestamp, K: accounts[6]!.timestamp,
      lastAccount: accounts[accounts.length - 1]!.timestamp,
      t100: transfers[0]!.timestamp, t150: transfers[1]!.timestamp,
    },
  };
}

type AccountRun = (ctx: Ctx) => number;
type TransferRun = (ctx: Ctx) => number;
const accountCases: { status: AS; title: string; run: AccountRun }[] = [];
const transferCases: { status: TS; title: string; run: TransferRun }[] = [];

function accountCase(status: AS, title: string, run: AccountRun): void {
  accountCases.push({ status, title, run });
}
function transferCase(status: TS, title: string, run: TransferRun): void {
  transferCases.push({ status, title, run });
}

function oneAccount(ctx: Ctx, a: Account): CreateAccountResult {
  const r = ctx.ledger.createAccounts([a]);
  expect(r).toHaveLength(1);
  return r[0]!;
}
function oneTransfer(ctx: Ctx, t: Transfer): CreateTransferResult {
  const r = ctx.ledger.createTransfers([t]);
  expect(r).toHaveLength(1);
  return r[0]!;
}
function created(ctx: Ctx, ...ts: Transfer[]): bigint[] {
  const r = ctx.ledger.createTransfers(ts);
  expect(r.map((x) => x.status)).toEqual(ts.map(() => TS.created));
  return r.map((x) => x.timestamp);
}

// =============================================================================================
// create_accounts: §6 rule 3.2.a–d, then §7
// =============================================================================================

accountCase(AS.linked_event_failed, "a broken chain beats timestamp/reserved/flag checks", (ctx) => {
  const r = ctx.ledger.createAccounts([
    acct(20n, { flags: AF.linked }),
    acct(0n, { flags: AF.linked, ledger: 0 }), // 6
    acct(21n, { reserved: 1, timestamp: 5n, flags: PADDING_BIT_ACCOUNT }), // would be 3
  ]);
  expect(r.map((x) => x.status)).toEqual([AS.linked_event_failed, AS.id_must_not_be_zero, AS.linked_event_failed]);
  expect(ctx.ledger.lookupAccounts([20n, 21n])).toEqual([]);
  return r[2]!.status;
});

accountCase(AS.linked_event_chain_open, "a last-in-batch linked event beats a broken chain and imported checks", (ctx) => {
  const r = ctx.ledger.createAccounts([
    acct(0n, { flags: AF.linked }), // 6: the chain is broken
    acct(23n, { flags: AF.linked | AF.imported, reserved: 1, timestamp: 5n }), // b would give 1, c 23
  ]);
  expect(r[0]!.status).toBe(AS.id_must_not_be_zero);
  return r[1]!.status;
});

accountCase(AS.imported_event_expected, "a non-imported event in an imported batch beats timestamp/reserved", (ctx) => {
  const ts = ctx.ledger.lastTimestamp + 1n;
  const r = ctx.ledger.createAccounts([
    acct(24n, { flags: AF.imported, timestamp: ts }),
    acct(0n, { reserved: 1, timestamp: 5n, ledger: 0 }), // would be 3
  ]);
  expect(r[0]).toEqual({ status: AS.created, timestamp: ts });
  return r[1]!.status;
});

accountCase(AS.imported_event_not_expected, "an imported event in a normal batch beats out_of_range", (ctx) => {
  const r = ctx.ledger.createAccounts([
    acct(25n),
    acct(0n, { flags: AF.imported, timestamp: 0n, reserved: 1 }), // would be 24
  ]);
  expect(r[0]!.status).toBe(AS.created);
  return r[1]!.status;
});

accountCase(AS.timestamp_must_be_zero, "a non-zero timestamp beats reserved/flags/id", (ctx) =>
  oneAccount(ctx, acct(0n, { timestamp: 5n, reserved: 1, flags: PADDING_BIT_ACCOUNT })).status);

accountCase(AS.imported_event_timestamp_out_of_range, "timestamp 0 and 2^63 (the latter also ≥ T_k)", (ctx) => {
  expect(oneAccount(ctx, acct(0n, { flags: AF.imported, timestamp: 1n << 63n, reserved: 1 })).status)
    .toBe(AS.imported_event_timestamp_out_of_range);
  return oneAccount(ctx, acct(0n, { flags: AF.imported, timestamp: 0n, reserved: 1 })).status;
});

accountCase(AS.imported_event_timestamp_must_not_advance, "timestamp ≥ T_k beats reserved and id", (ctx) => {
  expect(oneAccount(ctx, acct(0n, { flags: AF.imported, timestamp: TIMESTAMP_MAX, reserved: 1 })).status)
    .toBe(AS.imported_event_timestamp_must_not_advance);
  // Boundary: the clock is behind, so base = prev + 1 and a single event has T_k = prev + 2.
  const prev = ctx.ledger.lastTimestamp;
  const r = oneAccount(ctx, acct(26n, { flags: AF.imported, timestamp: prev + 2n }));
  expect(r.timestamp).toBe(prev + 2n);
  expect(ctx.ledger.lookupAccounts([26n])).toEqual([]);
  // T_k − 1 is accepted.
  const prev2 = ctx.ledger.lastTimestamp;
  expect(oneAccount(ctx, acct(26n, { flags: AF.imported, timestamp: prev2 + 1n })))
    .toEqual({ status: AS.created, timestamp: prev2 + 1n });
  return r.status;
});

accountCase(AS.reserved_field, "reserved beats padding flags, id and ledger", (ctx) =>
  oneAccount(ctx, acct(0n, { reserved: 1, flags: PADDING_BIT_ACCOUNT, ledger: 0 })).status);

accountCase(AS.reserved_flag, "a padding flag beats id and mutually exclusive flags", (ctx) =>
  oneAccount(ctx, acct(0n, { flags: PADDING_BIT_ACCOUNT | 2 | 4, ledger: 0 })).status);

accountCase(AS.id_must_not_be_zero, "id 0 beats flags/balances/ledger", (ctx) =>
  oneAccount(ctx, acct(0n, { flags: 2 | 4, debits_posted: 5n, ledger: 0 })).status);

accountCase(AS.id_must_not_be_int_max, "id INT_MAX beats flags/balances/ledger", (ctx) =>
  oneAccount(ctx, acct(U128_MAX, { flags: 2 | 4, debits_posted: 5n, ledger: 0 })).status);

accountCase(AS.exists_with_different_flags, "flags compared first, before user data and validity", (ctx) =>
  oneAccount(ctx, acct(A, { flags: 2 | 4, user_data_128: 9n, ledger: 0, debits_posted: 1n })).status);

accountCase(AS.exists_with_different_user_data_128, "user_data_128 before user_data_64 and ledger", (ctx) =>
  oneAccount(ctx, acct(A, { user_data_128: 9n, user_data_64: 9n, ledger: 0, debits_pending: 1n })).status);

accountCase(AS.exists_with_different_user_data_64, "user_data_64 before user_data_32 and code", (ctx) =>
  oneAccount(ctx, acct(A, { user_data_64: 9n, user_data_32: 9, code: 9 })).status);

accountCase(AS.exists_with_different_user_data_32, "user_data_32 before ledger", (ctx) =>
  oneAccount(ctx, acct(A, { user_data_32: 9, ledger: 2, credits_posted: 1n })).status);

accountCase(AS.exists_with_different_ledger, "ledger before code", (ctx) =>
  oneAccount(ctx, acct(A, { ledger: 2, code: 9 })).status);

accountCase(AS.exists_with_different_code, "code 0 gives 20, not 14; balances are not checked", (ctx) =>
  oneAccount(ctx, acct(A, { code: 0, credits_pending: 1n })).status);

accountCase(AS.exists, "balances are not compared; the result carries the stored timestamp", (ctx) => {
  const r = oneAccount(ctx, acct(A, { debits_posted: 5n, credits_posted: 7n })); // would be 10
  expect(r.timestamp).toBe(ctx.ts["A"]);
  // A closed account only "exists" when the request includes the current closed bit.
  expect(oneAccount(ctx, acct(K, { flags: AF.closed }))).toEqual({ status: AS.exists, timestamp: ctx.ts["K"] });
  return r.status;
});

accountCase(AS.flags_are_mutually_exclusive, "both limit flags beat balances and ledger", (ctx) =>
  oneAccount(ctx, acct(30n, { flags: 2 | 4, debits_pending: 1n, ledger: 0 })).status);

accountCase(AS.debits_pending_must_be_zero, "debits_pending before debits_posted and ledger", (ctx) =>
  oneAccount(ctx, acct(31n, { debits_pending: 1n, debits_posted: 1n, ledger: 0 })).status);

accountCase(AS.debits_posted_must_be_zero, "debits_posted before credits_pending and code", (ctx) =>
  oneAccount(ctx, acct(32n, { debits_posted: 1n, credits_pending: 1n, code: 0 })).status);

accountCase(AS.credits_pending_must_be_zero, "credits_pending before credits_posted and ledger", (ctx) =>
  oneAccount(ctx, acct(33n, { credits_pending: 1n, credits_posted: 1n, ledger: 0 })).status);

accountCase(AS.credits_posted_must_be_zero, "credits_posted before ledger", (ctx) =>
  oneAccount(ctx, acct(34n, { credits_posted: 1n, ledger: 0 })).status);

accountCase(AS.ledger_must_not_be_zero, "ledger before code", (ctx) =>
  oneAccount(ctx, acct(35n, { ledger: 0, code: 0 })).status);

accountCase(AS.code_must_not_be_zero, "code before the imported regress check", (ctx) =>
  oneAccount(ctx, acct(36n, { flags: AF.imported, timestamp: ctx.ts["A"]!, code: 0 })).status);

accountCase(AS.imported_event_timestamp_must_not_regress, "≤ an account's timestamp, or = a transfer's", (ctx) => {
  // Equal to the largest account timestamp.
  expect(oneAccount(ctx, acct(37n, { flags: AF.imported, timestamp: ctx.ts["lastAccount"]! })).status)
    .toBe(AS.imported_event_timestamp_must_not_regress);
  // Below it.
  expect(oneAccount(ctx, acct(37n, { flags: AF.imported, timestamp: ctx.ts["A"]! - 1n })).status)
    .toBe(AS.imported_event_timestamp_must_not_regress);
  // Above every account, but equal to a transfer's timestamp.
  const r = oneAccount(ctx, acct(37n, { flags: AF.imported, timestamp: ctx.ts["t150"]! }));
  // One ns above the last transfer is fine.
  expect(oneAccount(ctx, acct(37n, { flags: AF.imported, timestamp: ctx.ts["t150"]! + 1n })))
    .toEqual({ status: AS.created, timestamp: ctx.ts["t150"]! + 1n });
  return r.status;
});

// =============================================================================================
// create_transfers: §6 rule 3.2.a–d, then §8
// =============================================================================================

transferCase(TS.linked_event_failed, "a broken chain beats timestamp/reserved checks", (ctx) => {
  const r = ctx.ledger.createTransfers([
    xfer(300n, A, B, 1n, { flags: TF.linked }),
    xfer(301n, 0n, B, 1n, { flags: TF.linked }), // 8
    transfer({ id: 0n, flags: PADDING_BIT_TRANSFER, timestamp: 5n }), // would be 3
  ]);
  expect(r.map((x) => x.status)).toEqual([TS.linked_event_failed, TS.debit_account_id_must_not_be_zero, TS.linked_event_failed]);
  expect(ctx.ledger.lookupTransfers([300n, 301n])).toEqual([]);
  expect(ctx.ledger.lookupAccounts([A])[0]!.debits_posted).toBe(50n);
  return r[2]!.status;
});

transferCase(TS.linked_event_chain_open, "a last-in-batch linked event beats a broken chain", (ctx) => {
  const r = ctx.ledger.createTransfers([
    transfer({ id: 0n, flags: TF.linked }), // 5
    transfer({ id: 0n, flags: TF.linked | TF.imported | PADDING_BIT_TRANSFER, timestamp: 5n }),
  ]);
  expect(r[0]!.status).toBe(TS.id_must_not_be_zero);
  return r[1]!.status;
});

transferCase(TS.imported_event_expected, "a non-imported event in an imported batch beats timestamp_must_be_zero", (ctx) => {
  const ts = ctx.ledger.lastTimestamp + 1n;
  const r = ctx.ledger.createTransfers([
    xfer(302n, A, B, 1n, { flags: TF.imported, timestamp: ts }),
    transfer({ id: 0n, timestamp: 5n, flags: PADDING_BIT_TRANSFER }),
  ]);
  expect(r[0]).toEqual({ status: TS.created, timestamp: ts });
  return r[1]!.status;
});

transferCase(TS.imported_event_not_expected, "an imported event in a normal batch beats out_of_range", (ctx) => {
  const r = ctx.ledger.createTransfers([
    xfer(303n, A, B, 1n),
    transfer({ id: 0n, flags: TF.imported, timestamp: 0n }),
  ]);
  expect(r[0]!.status).toBe(TS.created);
  return r[1]!.status;
});

transferCase(TS.timestamp_must_be_zero, "a non-zero timestamp beats reserved_flag and id", (ctx) =>
  oneTransfer(ctx, transfer({ id: 0n, timestamp: 5n, flags: PADDING_BIT_TRANSFER })).status);

transferCase(TS.imported_event_timestamp_out_of_range, "timestamp 0 and 2^63", (ctx) => {
  expect(oneTransfer(ctx, transfer({ id: 0n, flags: TF.imported | PADDING_BIT_TRANSFER, timestamp: 1n << 63n })).status)
    .toBe(TS.imported_event_timestamp_out_of_range);
  return oneTransfer(ctx, transfer({ id: 0n, flags: TF.imported | PADDING_BIT_TRANSFER, timestamp: 0n })).status;
});

transferCase(TS.imported_event_timestamp_must_not_advance, "timestamp ≥ T_k beats reserved_flag and id", (ctx) =>
  oneTransfer(ctx, transfer({ id: 0n, flags: TF.imported | PADDING_BIT_TRANSFER, timestamp: TIMESTAMP_MAX })).status);

transferCase(TS.reserved_flag, "a padding flag beats id and mutually exclusive flags", (ctx) =>
  oneTransfer(ctx, transfer({ id: 0n, flags: PADDING_BIT_TRANSFER | TF.post_pending_transfer | TF.void_pending_transfer })).status);

transferCase(TS.id_must_not_be_zero, "id 0 beats flags and accounts", (ctx) =>
  oneTransfer(ctx, transfer({ id: 0n, flags: TF.post_pending_transfer | TF.void_pending_transfer })).status);

transferCase(TS.id_must_not_be_int_max, "id INT_MAX beats flags and accounts", (ctx) =>
  oneTransfer(ctx, transfer({ id: U128_MAX, flags: TF.post_pending_transfer | TF.void_pending_transfer })).status);

// ---- §8.2 idempotency (transfer 100 is A→B 50, single-phase) ----

transferCase(TS.exists_with_different_flags, "flags first", (ctx) =>
  oneTransfer(ctx, xfer(100n, 9n, B, 1n, { flags: TF.pending, pending_id: 5n, timeout: 3 })).status);

transferCase(TS.exists_with_different_pending_id, "pending_id before timeout and accounts", (ctx) =>
  oneTransfer(ctx, xfer(100n, 9n, B, 1n, { pending_id: 5n, timeout: 3 })).status);

transferCase(TS.exists_with_different_timeout, "timeout before accounts", (ctx) =>
  oneTransfer(ctx, xfer(100n, 9n, B, 50n, { timeout: 3 })).status);

transferCase(TS.exists_with_different_debit_account_id, "debit before credit and amount", (ctx) =>
  oneTransfer(ctx, xfer(100n, 9n, 8n, 51n)).status);

transferCase(TS.exists_with_different_credit_account_id, "credit before amount", (ctx) =>
  oneTransfer(ctx, xfer(100n, A, 8n, 51n)).status);

transferCase(TS.exists_with_different_amount, "amount before user data (also for posts)", (ctx) => {
  created(ctx, resolve({ id: 160n, pending_id: 150n, flags: TF.post_pending_transfer, amount: 40n }));
  // A post that inherits (AMOUNT_MAX) must match p.amount = 100, but 160 posted 40.
  expect(oneTransfer(ctx, resolve({ id: 160n, pending_id: 150n, flags: TF.post_pending_transfer, amount: AMOUNT_MAX })).status)
    .toBe(TS.exists_with_different_amount);
  return oneTransfer(ctx, xfer(100n, A, B, 51n, { user_data_128: 1n })).status;
});

transferCase(TS.exists_with_different_user_data_128, "user_data_128 before user_data_64", (ctx) =>
  oneTransfer(ctx, xfer(100n, A, B, 50n, { user_data_128: 1n, user_data_64: 1n })).status);

transferCase(TS.exists_with_different_user_data_64, "user_data_64 before user_data_32", (ctx) =>
  oneTransfer(ctx, xfer(100n, A, B, 50n, { user_data_64: 1n, user_data_32: 1 })).status);

transferCase(TS.exists_with_different_user_data_32, "user_data_32 before ledger", (ctx) =>
  oneTransfer(ctx, xfer(100n, A, B, 50n, { user_data_32: 1, ledger: 2 })).status);

transferCase(TS.exists_with_different_ledger, "67 is checked before 45 (code)", (ctx) => {
  // Posts compare a non-zero ledger with the stored one.
  created(ctx, resolve({ id: 161n, pending_id: 150n, flags: TF.post_pending_transfer, amount: AMOUNT_MAX }));
  expect(oneTransfer(ctx, resolve({ id: 161n, pending_id: 150n, flags: TF.post_pending_transfer, amount: AMOUNT_MAX, ledger: 2, code: 2 })).status)
    .toBe(TS.exists_with_different_ledger);
  return oneTransfer(ctx, xfer(100n, A, B, 50n, { ledger: 2, code: 2 })).status;
});

transferCase(TS.exists_with_different_code, "code, although the path would give exceeds_credits", (ctx) => {
  created(ctx, xfer(121n, A, C, 10n), xfer(122n, C, A, 10n)); // C now has nothing left
  return oneTransfer(ctx, xfer(122n, C, A, 10n, { code: 2 })).status;
});

transferCase(TS.exists, "exists, although the path would give exceeds_credits; post/void inherit rules", (ctx) => {
  const [, t122] = created(ctx, xfer(121n, A, C, 10n), xfer(122n, C, A, 10n));
  const r = oneTransfer(ctx, xfer(122n, C, A, 10n));
  expect(r.timestamp).toBe(t122);
  // A void retried with amount 0, zero user data, zero accounts, ledger and code → exists.
  const [t162] = created(ctx, resolve({ id: 162n, pending_id: 150n, flags: TF.void_pending_transfer, user_data_64: 3n }));
  expect(oneTransfer(ctx, resolve({ id: 162n, pending_id: 150n, flags: TF.void_pending_transfer, user_data_64: 3n })))
    .toEqual({ status: TS.exists, timestamp: t162 });
  expect(oneTransfer(ctx, resolve({
    id: 162n, pending_id: 150n, flags: TF.void_pending_transfer, amount: 100n, user_data_64: 3n,
    debit_account_id: A, credit_account_id: B, ledger: 1, code: 1,
  }))).toEqual({ status: TS.exists, timestamp: t162 });
  // user_data 0 in the retry means "p's value": 162 stored 3, p has 0 → differs.
  expect(oneTransfer(ctx, resolve({ id: 162n, pending_id: 150n, flags: TF.void_pending_transfer })).status)
    .toBe(TS.exists_with_different_user_data_64);
  return r.status;
});

transferCase(TS.id_already_failed, "an orphaned id beats flags_are_mutually_exclusive and timeout", (ctx) => {
  expect(oneTransfer(ctx, xfer(310n, A, 99n, 1n)).status).toBe(TS.credit_account_not_found);
  return oneTransfer(ctx, transfer({ id: 310n, flags: TF.post_pending_transfer | TF.void_pending_transfer, timeout: 1 })).status;
});

// ---- §8.3 post/void path (150 is A→B 100, pending) ----

transferCase(TS.flags_are_mutually_exclusive, "post+void, or post with pending/balancing/closing", (ctx) => {
  for (const extra of [TF.pending, TF.balancing_debit, TF.balancing_credit, TF.closing_debit, TF.closing_credit]) {
    expect(oneTransfer(ctx, resolve({ id: 311n, flags: TF.post_pending_transfer | extra, pending_id: 0n })).status)
      .toBe(TS.flags_are_mutually_exclusive);
  }
  // linked and imported are allowed: this chain of one post commits.
  expect(ctx.ledger.createTransfers([
    resolve({ id: 312n, flags: TF.post_pending_transfer | TF.linked, pending_id: 150n, amount: 1n }),
    xfer(313n, A, B, 1n),
  ]).map((r) => r.status)).toEqual([TS.created, TS.created]);
  return oneTransfer(ctx, resolve({ id: 311n, flags: TF.post_pending_transfer | TF.void_pending_transfer, pending_id: 0n })).status;
});

transferCase(TS.pending_id_must_not_be_zero, "pending_id 0 beats timeout", (ctx) =>
  oneTransfer(ctx, resolve({ id: 312n, flags: TF.post_pending_transfer, pending_id: 0n, timeout: 1 })).status);

transferCase(TS.pending_id_must_not_be_int_max, "pending_id INT_MAX beats timeout", (ctx) =>
  oneTransfer(ctx, resolve({ id: 313n, flags: TF.post_pending_transfer, pending_id: U128_MAX, timeout: 1 })).status);

transferCase(TS.pending_id_must_be_different, "pending_id == id beats timeout", (ctx) =>
  oneTransfer(ctx, resolve({ id: 314n, flags: TF.void_pending_transfer, pending_id: 314n, timeout: 1 })).status);

transferCase(TS.timeout_reserved_for_pending_transfer, "post with timeout beats pending_transfer_not_found", (ctx) => {
  // On the single-phase path, timeout without pending beats closing_transfer_must_be_pending.
  expect(oneTransfer(ctx, xfer(346n, A, B, 1n, { timeout: 1, flags: TF.closing_debit })).status)
    .toBe(TS.timeout_reserved_for_pending_transfer);
  return oneTransfer(ctx, resolve({ id: 315n, flags: TF.post_pending_transfer, pending_id: 999n, timeout: 1 })).status;
});

transferCase(TS.pending_transfer_not_found, "missing p beats different accounts; transient", (ctx) => {
  const r = oneTransfer(ctx, resolve({ id: 316n, flags: TF.post_pending_transfer, pending_id: 999n, debit_account_id: 77n }));
  expect(r.timestamp).toBe(ctx.ledger.lastTimestamp);
  created(ctx, xfer(999n, A, B, 1n, { flags: TF.pending }));
  expect(oneTransfer(ctx, resolve({ id: 316n, flags: TF.post_pending_transfer, pending_id: 999n })).status)
    .toBe(TS.id_already_failed);
  return r.status;
});

transferCase(TS.pending_transfer_not_pending, "p without pending flag beats different accounts", (ctx) =>
  oneTransfer(ctx, resolve({ id: 317n, flags: TF.post_pending_transfer, pending_id: 100n, debit_account_id: B })).status);

transferCase(TS.pending_transfer_has_different_debit_account_id, "debit before credit", (ctx) =>
  oneTransfer(ctx, resolve({
    id: 318n, flags: TF.post_pending_transfer, pending_id: 150n, debit_account_id: B, credit_account_id: A, amount: AMOUNT_MAX,
  })).status);

transferCase(TS.pending_transfer_has_different_credit_account_id, "credit before ledger", (ctx) =>
  oneTransfer(ctx, resolve({ id: 319n, flags: TF.post_pending_transfer, pending_id: 150n, credit_account_id: A, ledger: 2 })).status);

transferCase(TS.pending_transfer_has_different_ledger, "ledger before code", (ctx) =>
  oneTransfer(ctx, resolve({ id: 320n, flags: TF.void_pending_transfer, pending_id: 150n, ledger: 2, code: 2 })).status);

transferCase(TS.pending_transfer_has_different_code, "code before amount", (ctx) =>
  oneTransfer(ctx, resolve({ id: 321n, flags: TF.post_pending_transfer, pending_id: 150n, code: 2, amount: 101n })).status);

transferCase(TS.exceeds_pending_transfer_amount, "amount before the posted state", (ctx) => {
  created(ctx, resolve({ id: 330n, flags: TF.post_pending_transfer, pending_id: 150n, amount: AMOUNT_MAX }));
  return oneTransfer(ctx, resolve({ id: 322n, flags: TF.post_pending_transfer, pending_id: 150n, amount: 101n })).status;
});

transferCase(TS.pending_transfer_has_different_amount, "a void's amount before the posted state", (ctx) => {
  created(ctx, resolve({ id: 330n, flags: TF.post_pending_transfer, pending_id: 150n, amount: AMOUNT_MAX }));
  return oneTransfer(ctx, resolve({ id: 323n, flags: TF.void_pending_transfer, pending_id: 150n, amount: 99n })).status;
});

transferCase(TS.pending_transfer_already_posted, "posted beats the due time", (ctx) => {
  created(ctx, xfer(170n, A, B, 10n, { flags: TF.pending, timeout: 1 }));
  created(ctx, resolve({ id: 171n, flags: TF.post_pending_transfer, pending_id: 170n, amount: 0n })); // posting 0 is allowed
  expect(ctx.ledger.lookupAccounts([A])[0]).toMatchObject({ debits_pending: 100n, debits_posted: 50n });
  ctx.clock.advanceSeconds(2);
  return oneTransfer(ctx, resolve({ id: 324n, flags: TF.post_pending_transfer, pending_id: 170n, amount: AMOUNT_MAX })).status;
});

transferCase(TS.pending_transfer_already_voided, "voided beats the due time", (ctx) => {
  created(ctx, xfer(172n, A, B, 10n, { flags: TF.pending, timeout: 1 }));
  created(ctx, resolve({ id: 173n, flags: TF.void_pending_transfer, pending_id: 172n }));
  ctx.clock.advanceSeconds(2);
  return oneTransfer(ctx, resolve({ id: 325n, flags: TF.void_pending_transfer, pending_id: 172n })).status;
});

transferCase(TS.pending_transfer_expired, "due (not yet pulsed) beats a closed debit account; expired by pulse", (ctx) => {
  created(ctx, xfer(174n, A, B, 10n, { flags: TF.pending, timeout: 1 }));
  created(ctx, xfer(175n, A, B, 0n, { flags: TF.pending | TF.closing_debit })); // A closed
  ctx.clock.advanceSeconds(2);
  const r = oneTransfer(ctx, resolve({ id: 326n, flags: TF.post_pending_transfer, pending_id: 174n, amount: AMOUNT_MAX }));
  // Not transient: after a pulse the same id is still judged (expired now by the pulse).
  expect(ctx.ledger.pulse()).toBe(true);
  expect(oneTransfer(ctx, resolve({ id: 326n, flags: TF.void_pending_transfer, pending_id: 174n })).status)
    .toBe(TS.pending_transfer_expired);
  return r.status;
});

transferCase(TS.imported_event_timestamp_must_not_regress, "imported post ≤ last transfer beats closed; single-phase too", (ctx) => {
  created(ctx, xfer(176n, A, B, 5n, { flags: TF.pending }));
  created(ctx, xfer(177n, A, B, 0n, { flags: TF.pending | TF.closing_debit })); // A closed
  const post = oneTransfer(ctx, resolve({
    id: 327n, flags: TF.post_pending_transfer | TF.imported, pending_id: 176n, timestamp: ctx.ts["t100"]!,
  }));
  expect(post.status).toBe(TS.imported_event_timestamp_must_not_regress);
  // Single-phase: equal to an account's timestamp (also ≤ the debit account's) → 60, not 61.
  return oneTransfer(ctx, xfer(354n, A, B, 1n, { flags: TF.imported, timestamp: ctx.ts["A"]! })).status;
});

transferCase(TS.debit_account_already_closed, "post on closed accounts; void is allowed; transient", (ctx) => {
  created(ctx, xfer(178n, A, B, 5n, { flags: TF.pending }));
  created(ctx, xfer(179n, A, B, 0n, { flags: TF.pending | TF.closing_debit | TF.closing_credit }));
  const r = oneTransfer(ctx, resolve({ id: 328n, flags: TF.post_pending_transfer, pending_id: 178n }));
  // Single-phase with both accounts closed: 65 first.
  expect(oneTransfer(ctx, xfer(358n, K, K2, 1n)).status).toBe(TS.debit_account_already_closed);
  // Voids are allowed on closed accounts.
  created(ctx, resolve({ id: 329n, flags: TF.void_pending_transfer, pending_id: 178n }));
  created(ctx, resolve({ id: 331n, flags: TF.void_pending_transfer, pending_id: 179n }));
  expect(ctx.ledger.lookupAccounts([A, B]).map((a) => a.flags)).toEqual([0, 0]);
  expect(oneTransfer(ctx, resolve({ id: 328n, flags: TF.post_pending_transfer, pending_id: 178n })).status)
    .toBe(TS.id_already_failed);
  return r.status;
});

transferCase(TS.credit_account_already_closed, "post with only the credit account closed", (ctx) => {
  created(ctx, xfer(180n, A, B, 5n, { flags: TF.pending }));
  created(ctx, xfer(181n, H, B, 0n, { flags: TF.pending | TF.closing_credit })); // B closed
  // Single-phase: 66 beats the overflow (A has debits_posted 50).
  expect(oneTransfer(ctx, xfer(359n, A, K, AMOUNT_MAX)).status).toBe(TS.credit_account_already_closed);
  return oneTransfer(ctx, resolve({ id: 332n, flags: TF.post_pending_transfer, pending_id: 180n })).status;
});

// ---- §8.4 single-phase / pending path ----

transferCase(TS.debit_account_id_must_not_be_zero, "debit 0 beats credit 0", (ctx) =>
  oneTransfer(ctx, transfer({ id: 340n, pending_id: 1n })).status);

transferCase(TS.debit_account_id_must_not_be_int_max, "debit INT_MAX beats credit 0", (ctx) =>
  oneTransfer(ctx, transfer({ id: 341n, debit_account_id: U128_MAX })).status);

transferCase(TS.credit_account_id_must_not_be_zero, "credit 0 beats pending_id", (ctx) =>
  oneTransfer(ctx, transfer({ id: 342n, debit_account_id: A, pending_id: 1n })).status);

transferCase(TS.credit_account_id_must_not_be_int_max, "credit INT_MAX beats pending_id", (ctx) =>
  oneTransfer(ctx, transfer({ id: 343n, debit_account_id: A, credit_account_id: U128_MAX, pending_id: 1n })).status);

transferCase(TS.accounts_must_be_different, "same accounts beat pending_id", (ctx) =>
  oneTransfer(ctx, transfer({ id: 344n, debit_account_id: A, credit_account_id: A, pending_id: 1n })).status);

transferCase(TS.pending_id_must_be_zero, "pending_id beats timeout", (ctx) =>
  oneTransfer(ctx, xfer(345n, A, B, 1n, { pending_id: 5n, timeout: 1 })).status);

transferCase(TS.closing_transfer_must_be_pending, "closing without pending beats ledger 0", (ctx) =>
  oneTransfer(ctx, xfer(347n, A, B, 1n, { flags: TF.closing_credit, ledger: 0 })).status);

transferCase(TS.ledger_must_not_be_zero, "ledger before code", (ctx) =>
  oneTransfer(ctx, xfer(348n, A, B, 1n, { ledger: 0, code: 0 })).status);

transferCase(TS.code_must_not_be_zero, "code before account lookup", (ctx) =>
  oneTransfer(ctx, xfer(349n, 98n, B, 1n, { code: 0 })).status);

transferCase(TS.debit_account_not_found, "debit missing beats credit missing; transient", (ctx) => {
  const r = oneTransfer(ctx, xfer(350n, 98n, 97n, 1n));
  expect(oneTransfer(ctx, xfer(350n, A, B, 1n)).status).toBe(TS.id_already_failed);
  return r.status;
});

transferCase(TS.credit_account_not_found, "credit missing beats the ledger checks", (ctx) =>
  oneTransfer(ctx, xfer(351n, A, 97n, 1n, { ledger: 2 })).status);

transferCase(TS.accounts_must_have_the_same_ledger, "different account ledgers beat the transfer's ledger", (ctx) =>
  oneTransfer(ctx, xfer(352n, A, X, 1n, { ledger: 3 })).status);

transferCase(TS.transfer_must_have_the_same_ledger_as_accounts, "transfer ledger beats a closed debit account", (ctx) =>
  oneTransfer(ctx, xfer(353n, K, B, 1n, { ledger: 2 })).status);

transferCase(TS.imported_event_timestamp_must_postdate_debit_account, "61 beats 62", (ctx) => {
  ctx.clock.advance(1000n);
  const [n1, n2] = ctx.ledger.createAccounts([acct(40n), acct(41n)]);
  expect([n1!.status, n2!.status]).toEqual([AS.created, AS.created]);
  const ts = ctx.ts["t150"]! + 1n; // after every transfer, before both new accounts
  expect(ts < n1!.timestamp).toBe(true);
  expect(oneTransfer(ctx, xfer(356n, A, 41n, 1n, { flags: TF.imported | TF.pending, timeout: 5, timestamp: ts })).status)
    .toBe(TS.imported_event_timestamp_must_postdate_credit_account); // 62 beats 63
  return oneTransfer(ctx, xfer(355n, 40n, 41n, 1n, { flags: TF.imported, timestamp: ts })).status;
});

transferCase(TS.imported_event_timestamp_must_postdate_credit_account, "62 beats 63 (scenario 14 style)", (ctx) => {
  ctx.clock.advance(1000n);
  const [n1] = ctx.ledger.createAccounts([acct(42n)]);
  expect(n1!.status).toBe(AS.created);
  const ts = ctx.ts["t150"]! + 1n;
  return oneTransfer(ctx, xfer(357n, A, 42n, 1n, { flags: TF.imported | TF.pending, timeout: 5, timestamp: ts })).status;
});

transferCase(TS.imported_event_timeout_must_be_zero, "imported timeout beats a closed debit account", (ctx) => {
  const ts = ctx.ledger.lastTimestamp + 1n;
  return oneTransfer(ctx, xfer(360n, K, B, 1n, { flags: TF.imported | TF.pending, timeout: 5, timestamp: ts })).status;
});

transferCase(TS.overflows_debits_pending, "47 beats 48, 51 and 52", (ctx) => {
  created(ctx, xfer(370n, P1, P2, AMOUNT_MAX - 1n, { flags: TF.pending }));
  return oneTransfer(ctx, xfer(371n, P1, P2, 2n, { flags: TF.pending })).status;
});

transferCase(TS.overflows_credits_pending, "48 beats 52", (ctx) => {
  created(ctx, xfer(370n, P1, P2, AMOUNT_MAX - 1n, { flags: TF.pending }));
  return oneTransfer(ctx, xfer(372n, A, P2, 2n, { flags: TF.pending })).status;
});

transferCase(TS.overflows_debits_posted, "49 beats 51; also on pending transfers", (ctx) => {
  created(ctx, xfer(370n, P1, P2, AMOUNT_MAX - 1n));
  expect(oneTransfer(ctx, xfer(373n, P1, P3, 2n, { flags: TF.pending })).status).toBe(TS.overflows_debits_posted);
  return oneTransfer(ctx, xfer(374n, P1, P3, 2n)).status;
});

transferCase(TS.overflows_credits_posted, "50 beats 52", (ctx) => {
  created(ctx, xfer(370n, P1, P2, AMOUNT_MAX - 1n));
  return oneTransfer(ctx, xfer(375n, P3, P2, 2n)).status;
});

transferCase(TS.overflows_debits, "pending + posted overflow: 51 beats 52", (ctx) => {
  created(ctx, xfer(370n, P1, P2, HALF, { flags: TF.pending }), xfer(371n, P1, P2, HALF - 1n));
  // P1: debits_pending 2^127, debits_posted 2^127 − 1 (sum = AMOUNT_MAX); P2 likewise for credits.
  const r = oneTransfer(ctx, xfer(376n, P1, P2, 1n));
  expect(oneTransfer(ctx, xfer(377n, P1, P2, 0n)).status).toBe(TS.created); // amount 0 fits exactly
  return r.status;
});

transferCase(TS.overflows_credits, "52 beats exceeds_credits", (ctx) => {
  created(ctx, xfer(370n, P1, P2, HALF, { flags: TF.pending }), xfer(371n, P1, P2, HALF - 1n));
  return oneTransfer(ctx, xfer(378n, C, P2, 1n)).status;
});

transferCase(TS.overflows_timeout, "53 beats exceeds_credits; the boundary is inclusive", (ctx) => {
  ctx.clock.now = TIMESTAMP_MAX - NS_PER_S - 1n;
  // t_i = clock + 1 = 2^63 − 1 − 10^9: t_i + 1 s = 2^63 − 1 exactly, which is allowed.
  const ok = oneTransfer(ctx, xfer(379n, A, B, 1n, { flags: TF.pending, timeout: 1 }));
  expect(ok).toEqual({ status: TS.created, timestamp: TIMESTAMP_MAX - NS_PER_S });
  // The clock is now behind: base = prev + 1, so the next event is 2 ns later and overflows.
  expect(oneTransfer(ctx, xfer(380n, A, B, 1n, { flags: TF.pending, timeout: 1 })).status).toBe(TS.overflows_timeout);
  return oneTransfer(ctx, xfer(381n, C, B, 1n, { flags: TF.pending, timeout: 0xffff_ffff })).status;
});

transferCase(TS.exceeds_credits, "54 beats 55", (ctx) =>
  oneTransfer(ctx, xfer(382n, C, L, 1n)).status);

transferCase(TS.exceeds_debits, "credits_must_not_exceed_debits, counting pending", (ctx) => {
  // Pending debits do not count as L's debits: only debits_posted does.
  expect(oneTransfer(ctx, xfer(383n, L, A, 10n, { flags: TF.pending })).status).toBe(TS.created);
  expect(oneTransfer(ctx, xfer(384n, A, L, 1n)).status).toBe(TS.exceeds_debits);
  created(ctx, xfer(385n, L, A, 10n)); // L.debits_posted = 10
  created(ctx, xfer(386n, A, L, 10n, { flags: TF.pending })); // 0 + 0 + 10 ≤ 10
  // Pending credits count: 10 + 0 + 1 > 10.
  return oneTransfer(ctx, xfer(387n, A, L, 1n)).status;
});

// =============================================================================================

function enumValues(e: object): number[] {
  return Object.values(e).filter((v): v is number => typeof v === "number");
}

describe("status coverage (meta)", () => {
  it("account cases cover every CreateAccountStatus except created", () => {
    const expected = enumValues(AS).filter((v) => v !== AS.created && v !== 0).sort((a, b) => a - b);
    expect(expected).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    const covered = [...new Set(accountCases.map((c) => c.status))].sort((a, b) => a - b);
    expect(covered).toEqual(expected);
  });

  it("transfer cases cover every CreateTransferStatus except created, 0 and 18", () => {
    const expected = enumValues(TS).filter((v) => v !== TS.created && v !== 0 && v !== 18).sort((a, b) => a - b);
    expect(expected).toEqual(Array.from({ length: 68 }, (_, i) => i + 1).filter((v) => v !== 18));
    const covered = [...new Set(transferCases.map((c) => c.status))].sort((a, b) => a - b);
    expect(covered).toEqual(expected);
  });
});

describe.each(ledgersUnderTest)("status precedence on $name", ({ create }) => {
  let ctx: Ctx;
  beforeEach(() => {
    ctx = baseline(create);
  });

  describe("create_accounts", () => {
    for (const c of accountCases) {
      it(`${c.status} ${AS[c.status]}: ${c.title}`, () => {
        expect(c.run(ctx)).toBe(c.status);
      });
    }
  });

  describe("create_transfers", () => {
    for (const c of transferCases) {
      it(`${c.status} ${TS[c.status]}: ${c.title}`, () => {
        expect(c.run(ctx)).toBe(c.status);
      });
    }

    it("amount 0 is allowed (18 is never returned)", () => {
      const [t] = created(ctx, xfer(390n, A, B, 0n));
      expect(ctx.ledger.lookupTransfers([390n])).toEqual([{ ...xfer(390n, A, B, 0n), timestamp: t }]);
      expect(ctx.ledger.lookupAccounts([A])[0]!.debits_posted).toBe(50n);
    });
  });
});
