// spec/ledger.md §13: every worked scenario (1–15) as a story, plus the timestamp rules of §5 and
// the expiry details of §9.3. Each story runs against SyncLedger (the implementation under test)
// and against the reference model (so the model used by model.test.ts is itself checked against
// the spec's own examples).
import { beforeEach, describe, expect, it } from "vitest";
import {
  AccountFilterFlags,
  AccountFlags,
  CreateAccountStatus as AS,
  CreateTransferStatus as TS,
  QueryFilterFlags,
  TransferFlags as TF,
  type Account,
  type CreateAccountResult,
  type CreateTransferResult,
} from "../../src/core/layouts.js";
import {
  AMOUNT_MAX,
  Clock,
  NS_PER_S,
  acct,
  accountFilter,
  queryFilter,
  resolve,
  xfer,
  type LedgerApi,
} from "./helpers.js";
import { ledgersUnderTest } from "./ledgers.js";

/** The cluster clock at the start of every story: well above the imported timestamps of §13.14. */
const START = 1_000_000_000_000n;
const A = 1n;
const B = 2n;
const C = 3n;
const H = 4n;

function statuses(results: { status: number }[]): number[] {
  return results.map((r) => r.status);
}

describe.each(ledgersUnderTest)("§13 scenarios on $name", ({ create }) => {
  let clock: Clock;
  let ledger: LedgerApi;
  let tA: bigint, tB: bigint, tC: bigint, tH: bigint;

  function account(id: bigint): Account {
    const found = ledger.lookupAccounts([id]);
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  function expectBalances(id: bigint, expected: Partial<Account>): void {
    const a = account(id);
    expect({
      debits_pending: a.debits_pending, debits_posted: a.debits_posted,
      credits_pending: a.credits_pending, credits_posted: a.credits_posted,
    }).toEqual({ debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n, ...expected });
  }

  function transfer1(t: Parameters<LedgerApi["createTransfers"]>[0][number]): CreateTransferResult {
    const results = ledger.createTransfers([t]);
    expect(results).toHaveLength(1);
    return results[0]!;
  }

  function account1(a: Account): CreateAccountResult {
    const results = ledger.createAccounts([a]);
    expect(results).toHaveLength(1);
    return results[0]!;
  }

  /** Baseline: one create_accounts request with A, B, C (debits ≤ credits) and H (history). */
  beforeEach(() => {
    clock = new Clock(START);
    ledger = create({ realtime: clock.realtime });
    const results = ledger.createAccounts([
      acct(A),
      acct(B),
      acct(C, { flags: AccountFlags.debits_must_not_exceed_credits }),
      acct(H, { flags: AccountFlags.history }),
    ]);
    expect(statuses(results)).toEqual([AS.created, AS.created, AS.created, AS.created]);
    [tA, tB, tC, tH] = results.map((r) => r.timestamp) as [bigint, bigint, bigint, bigint];
    // §5: base = max(0 + 1, START) = START, events get base+1 … base+4, and P = base + 4.
    expect([tA, tB, tC, tH]).toEqual([START + 1n, START + 2n, START + 3n, START + 4n]);
    expect(ledger.lastTimestamp).toBe(START + 4n);
  });

  it("1. account check precedence", () => {
    const cases: [Account, AS][] = [
      [acct(0n, { reserved: 1, ledger: 0 }), AS.reserved_field],
      [acct(0n, { flags: 1 << 6 }), AS.reserved_flag],
      [acct(0n), AS.id_must_not_be_zero],
      [acct(AMOUNT_MAX), AS.id_must_not_be_int_max],
      [acct(10n, { flags: 2 | 4, ledger: 0 }), AS.flags_are_mutually_exclusive],
      [acct(11n, { debits_posted: 5n }), AS.debits_posted_must_be_zero],
      [acct(12n, { ledger: 0, code: 0 }), AS.ledger_must_not_be_zero],
      [acct(13n, { timestamp: 5n }), AS.timestamp_must_be_zero],
    ];
    for (const [input, expected] of cases) {
      const result = account1(input);
      expect(result.status, `account ${input.id}`).toBe(expected);
      // §5: any status other than created/exists carries t_i, the event's own timestamp.
      expect(result.timestamp).toBe(ledger.lastTimestamp);
    }
    expect(ledger.lookupAccounts([10n, 11n, 12n, 13n])).toEqual([]);
  });

  it("2. account idempotency", () => {
    const exists = account1(acct(B));
    expect(exists).toEqual({ status: AS.exists, timestamp: tB });
    expect(account1(acct(B, { user_data_64: 5n, code: 9 })).status).toBe(AS.exists_with_different_user_data_64);
    expect(account1(acct(A, { flags: AccountFlags.history })).status).toBe(AS.exists_with_different_flags);
    // Nothing changed.
    expect(account(B)).toEqual({ ...acct(B), timestamp: tB });
  });

  it("3. simple transfer", () => {
    const result = transfer1(xfer(100n, A, B, 50n));
    expect(result.status).toBe(TS.created);
    // The only event of the request: t_0 = base + 1 = P, the reply timestamp.
    expect(result.timestamp).toBe(ledger.lastTimestamp);
    expectBalances(A, { debits_posted: 50n });
    expectBalances(B, { credits_posted: 50n });
    expect(ledger.lookupTransfers([100n])).toEqual([{ ...xfer(100n, A, B, 50n), timestamp: result.timestamp }]);
  });

  it("4. transfer idempotency", () => {
    const t100 = transfer1(xfer(100n, A, B, 50n)).timestamp;
    expect(transfer1(xfer(100n, A, B, 50n))).toEqual({ status: TS.exists, timestamp: t100 });
    expect(transfer1(xfer(100n, A, B, 51n)).status).toBe(TS.exists_with_different_amount);
    const chain = ledger.createTransfers([xfer(100n, A, B, 50n, { flags: TF.linked }), xfer(101n, A, B, 1n)]);
    expect(statuses(chain)).toEqual([TS.exists_with_different_flags, TS.linked_event_failed]);
    expectBalances(A, { debits_posted: 50n });
    expectBalances(B, { credits_posted: 50n });
    // 36 and 1 are not transient: 101 is not orphaned.
    expect(transfer1(xfer(101n, A, B, 1n)).status).toBe(TS.created);
    expectBalances(A, { debits_posted: 51n });
  });

  it("5. transient failure and orphaned id", () => {
    expect(transfer1(xfer(110n, A, 99n, 1n)).status).toBe(TS.credit_account_not_found);
    expect(account1(acct(99n)).status).toBe(AS.created);
    expect(transfer1(xfer(110n, A, 99n, 1n)).status).toBe(TS.id_already_failed);
    expect(ledger.lookupTransfers([110n])).toEqual([]);
    expectBalances(A, {});
    expectBalances(99n, {});
  });

  it("6. balance limit", () => {
    expect(transfer1(xfer(120n, C, A, 1n)).status).toBe(TS.exceeds_credits);
    expect(transfer1(xfer(121n, A, C, 10n)).status).toBe(TS.created);
    expectBalances(C, { credits_posted: 10n });
    expect(transfer1(xfer(122n, C, A, 10n)).status).toBe(TS.created);
    expectBalances(C, { credits_posted: 10n, debits_posted: 10n });
    expect(transfer1(xfer(123n, C, A, 1n)).status).toBe(TS.exceeds_credits);
    expect(transfer1(xfer(120n, C, A, 1n)).status).toBe(TS.id_already_failed);
    expect(ledger.lookupTransfers([120n, 121n, 122n, 123n]).map((t) => t.id)).toEqual([121n, 122n]);
  });

  it("7. chain rollback", () => {
    const results = ledger.createTransfers([
      xfer(130n, A, B, 5n, { flags: TF.linked }),
      xfer(131n, A, 99n, 5n, { flags: TF.linked }),
      xfer(132n, A, B, 5n),
      xfer(133n, A, B, 5n),
    ]);
    expect(statuses(results)).toEqual([
      TS.linked_event_failed, TS.credit_account_not_found, TS.linked_event_failed, TS.created,
    ]);
    // §5: events get consecutive timestamps; rolled-back results keep theirs.
    const P = ledger.lastTimestamp;
    expect(results.map((r) => r.timestamp)).toEqual([P - 3n, P - 2n, P - 1n, P]);
    expectBalances(A, { debits_posted: 5n });
    expectBalances(B, { credits_posted: 5n });
    expect(ledger.lookupTransfers([130n, 131n, 132n, 133n]).map((t) => t.id)).toEqual([133n]);
    // 131 is orphaned (even though its chain was rolled back); 130 and 132 are not.
    expect(account1(acct(99n)).status).toBe(AS.created);
    expect(transfer1(xfer(131n, A, 99n, 5n)).status).toBe(TS.id_already_failed);
    expect(transfer1(xfer(130n, A, B, 5n)).status).toBe(TS.created);
    expect(transfer1(xfer(132n, A, B, 5n)).status).toBe(TS.created);
    expectBalances(A, { debits_posted: 15n });
  });

  it("8. open chain", () => {
    const open = ledger.createTransfers([
      xfer(140n, A, B, 1n, { flags: TF.linked }),
      xfer(141n, A, B, 1n, { flags: TF.linked }),
    ]);
    expect(statuses(open)).toEqual([TS.linked_event_failed, TS.linked_event_chain_open]);
    expectBalances(A, {});
    expect(ledger.lookupTransfers([140n, 141n])).toEqual([]);
    expect(statuses(ledger.createTransfers([xfer(142n, A, B, 1n, { flags: TF.linked })])))
      .toEqual([TS.linked_event_chain_open]);
    expectBalances(A, {});
    // Neither status is transient: the ids are free.
    expect(statuses(ledger.createTransfers([xfer(140n, A, B, 1n), xfer(141n, A, B, 1n), xfer(142n, A, B, 1n)])))
      .toEqual([TS.created, TS.created, TS.created]);
  });

  it("9. two-phase partial post", () => {
    expect(transfer1(xfer(150n, A, B, 100n, { flags: TF.pending })).status).toBe(TS.created);
    expectBalances(A, { debits_pending: 100n });
    expectBalances(B, { credits_pending: 100n });
    const post = transfer1(resolve({ id: 151n, flags: TF.post_pending_transfer, pending_id: 150n, amount: 30n }));
    expect(post.status).toBe(TS.created);
    expectBalances(A, { debits_posted: 30n });
    expectBalances(B, { credits_posted: 30n });
    expect(ledger.lookupTransfers([151n])).toEqual([{
      ...resolve({ id: 151n, flags: TF.post_pending_transfer, pending_id: 150n }),
      debit_account_id: A, credit_account_id: B, ledger: 1, code: 1, amount: 30n, timeout: 0,
      timestamp: post.timestamp,
    }]);
    expect(transfer1(resolve({ id: 152n, flags: TF.void_pending_transfer, pending_id: 150n })).status)
      .toBe(TS.pending_transfer_already_posted);
    // The pending transfer itself never changes (§9.1).
    expect(ledger.lookupTransfers([150n])[0]).toMatchObject({ amount: 100n, flags: TF.pending });
  });

  it("10. void amount rules", () => {
    expect(transfer1(xfer(160n, A, B, 100n, { flags: TF.pending })).status).toBe(TS.created);
    expect(transfer1(resolve({
      id: 165n, flags: TF.post_pending_transfer, pending_id: 160n, debit_account_id: B, amount: AMOUNT_MAX,
    })).status).toBe(TS.pending_transfer_has_different_debit_account_id);
    expect(transfer1(resolve({ id: 161n, flags: TF.void_pending_transfer, pending_id: 160n, amount: 101n })).status)
      .toBe(TS.exceeds_pending_transfer_amount);
    expect(transfer1(resolve({ id: 162n, flags: TF.void_pending_transfer, pending_id: 160n, amount: 99n })).status)
      .toBe(TS.pending_transfer_has_different_amount);
    expectBalances(A, { debits_pending: 100n });
    const voided = transfer1(resolve({ id: 163n, flags: TF.void_pending_transfer, pending_id: 160n, amount: 0n }));
    expect(voided.status).toBe(TS.created);
    expectBalances(A, {});
    expectBalances(B, {});
    // A void with amount 0 stores p's amount (§8.3.5, §8.3.9).
    expect(ledger.lookupTransfers([163n])[0]).toMatchObject({ amount: 100n, debit_account_id: A, credit_account_id: B });
    expect(transfer1(resolve({ id: 164n, flags: TF.post_pending_transfer, pending_id: 160n, amount: AMOUNT_MAX })).status)
      .toBe(TS.pending_transfer_already_voided);
  });

  it("11. expiry, after a pulse", () => {
    const created = transfer1(xfer(170n, A, B, 100n, { flags: TF.pending, timeout: 1 }));
    expect(created.status).toBe(TS.created);
    const t = created.timestamp;
    expectBalances(A, { debits_pending: 100n });
    clock.now = t + NS_PER_S + 1n; // cluster time passes t + 10^9
    expect(ledger.pulse()).toBe(true);
    expectBalances(A, {});
    expectBalances(B, {});
    expect(ledger.lookupTransfers([170n])).toEqual([{
      ...xfer(170n, A, B, 100n, { flags: TF.pending, timeout: 1 }), timestamp: t,
    }]);
    expect(transfer1(resolve({ id: 171n, flags: TF.post_pending_transfer, pending_id: 170n, amount: AMOUNT_MAX })).status)
      .toBe(TS.pending_transfer_expired);
    expect(transfer1(xfer(172n, A, B, 1n, { timeout: 1 })).status).toBe(TS.timeout_reserved_for_pending_transfer);
  });

  it("11. expiry, post after the due time but before any pulse", () => {
    const t = transfer1(xfer(170n, A, B, 100n, { flags: TF.pending, timeout: 1 })).timestamp;
    clock.now = t + NS_PER_S - 1n; // the post gets t_i = base + 1 = expires_at exactly: due (≤)
    const post = transfer1(resolve({ id: 171n, flags: TF.post_pending_transfer, pending_id: 170n, amount: AMOUNT_MAX }));
    expect(post).toEqual({ status: TS.pending_transfer_expired, timestamp: t + NS_PER_S });
    // Not transient: but the balances are still held until a pulse runs.
    expectBalances(A, { debits_pending: 100n });
    expect(ledger.pulse()).toBe(true);
    expectBalances(A, {});
  });

  it("11. a post just before the due time succeeds", () => {
    const t = transfer1(xfer(170n, A, B, 100n, { flags: TF.pending, timeout: 1 })).timestamp;
    clock.now = t + NS_PER_S - 2n; // the post gets t_i = base + 1 = expires_at − 1
    const post = transfer1(resolve({ id: 171n, flags: TF.post_pending_transfer, pending_id: 170n, amount: AMOUNT_MAX }));
    expect(post).toEqual({ status: TS.created, timestamp: t + NS_PER_S - 1n });
    expectBalances(A, { debits_posted: 100n });
  });

  it("12. balancing", () => {
    expect(transfer1(xfer(180n, B, C, 300n)).status).toBe(TS.created);
    expectBalances(C, { credits_posted: 300n });
    expect(transfer1(xfer(181n, C, B, 100n)).status).toBe(TS.created);
    expectBalances(C, { credits_posted: 300n, debits_posted: 100n });
    const balancing = transfer1(xfer(182n, C, A, AMOUNT_MAX, { flags: TF.balancing_debit }));
    expect(balancing.status).toBe(TS.created);
    expect(ledger.lookupTransfers([182n])[0]).toMatchObject({ amount: 200n });
    expectBalances(C, { credits_posted: 300n, debits_posted: 300n });
    expect(transfer1(xfer(182n, C, A, 250n, { flags: TF.balancing_debit })))
      .toEqual({ status: TS.exists, timestamp: balancing.timestamp });
    expect(transfer1(xfer(182n, C, A, 150n, { flags: TF.balancing_debit })).status)
      .toBe(TS.exists_with_different_amount);
  });

  it("13. closing", () => {
    expect(transfer1(xfer(190n, A, B, 0n, { flags: TF.pending | TF.closing_debit })).status).toBe(TS.created);
    expect(account(A).flags).toBe(AccountFlags.closed);
    expect(transfer1(xfer(191n, A, B, 1n)).status).toBe(TS.debit_account_already_closed);
    expect(transfer1(xfer(192n, B, A, 1n)).status).toBe(TS.credit_account_already_closed);
    expect(account1(acct(A)).status).toBe(AS.exists_with_different_flags);
    expect(transfer1(resolve({ id: 193n, flags: TF.void_pending_transfer, pending_id: 190n })).status).toBe(TS.created);
    expect(account(A).flags).toBe(0);
    expect(account1(acct(A))).toEqual({ status: AS.exists, timestamp: tA });
    expect(transfer1(xfer(191n, A, B, 1n)).status).toBe(TS.id_already_failed);
    expect(transfer1(xfer(194n, A, B, 1n, { flags: TF.closing_debit })).status).toBe(TS.closing_transfer_must_be_pending);
    expectBalances(A, {});
    expectBalances(B, {});
  });

  it("14. imported (fresh cluster)", () => {
    const fresh = create({ realtime: clock.realtime });
    const imp = AccountFlags.imported;
    const accounts = fresh.createAccounts([
      acct(1n, { flags: imp, timestamp: 1000n }),
      acct(2n, { flags: imp, timestamp: 1000n }),
      acct(3n, { flags: imp, timestamp: 2000n }),
    ]);
    expect(accounts[0]).toEqual({ status: AS.created, timestamp: 1000n });
    expect(accounts[1]!.status).toBe(AS.imported_event_timestamp_must_not_regress);
    expect(accounts[1]!.timestamp).toBe(fresh.lastTimestamp - 1n); // t_1 of three events
    expect(accounts[2]).toEqual({ status: AS.created, timestamp: 2000n });
    expect(fresh.lookupAccounts([1n, 2n, 3n]).map((a) => [a.id, a.timestamp, a.flags]))
      .toEqual([[1n, 1000n, imp], [3n, 2000n, imp]]);

    const t = (ts: bigint, fields = {}): CreateTransferResult[] =>
      fresh.createTransfers([xfer(1n, 1n, 3n, 5n, { flags: TF.imported, timestamp: ts, ...fields })]);
    expect(statuses(t(1500n))).toEqual([TS.imported_event_timestamp_must_postdate_credit_account]);
    expect(statuses(t(2000n))).toEqual([TS.imported_event_timestamp_must_not_regress]);
    expect(t(2500n)).toEqual([{ status: TS.created, timestamp: 2500n }]);
    expect(fresh.lookupTransfers([1n])[0]!.timestamp).toBe(2500n);
    expect(statuses(fresh.createTransfers([
      xfer(2n, 1n, 3n, 5n, { flags: TF.imported | TF.pending, timeout: 5, timestamp: 2600n }),
    ]))).toEqual([TS.imported_event_timeout_must_be_zero]);
    const mixed = fresh.createAccounts([acct(4n), acct(5n, { flags: imp, timestamp: 3000n })]);
    expect(statuses(mixed)).toEqual([AS.created, AS.imported_event_not_expected]);
    expect(fresh.lookupAccounts([1n, 3n]).map((a) => a.debits_posted)).toEqual([5n, 0n]);
  });

  describe("15. queries", () => {
    let t200: bigint, t201: bigint, t202: bigint;
    beforeEach(() => {
      t200 = transfer1(xfer(200n, H, A, 10n, { user_data_32: 7 })).timestamp;
      t201 = transfer1(xfer(201n, A, H, 20n)).timestamp;
      t202 = transfer1(xfer(202n, H, B, 30n, { flags: TF.pending })).timestamp;
      expect(t200 < t201 && t201 < t202).toBe(true);
    });
    const both = AccountFilterFlags.debits | AccountFilterFlags.credits;
    const ids = (xs: { id: bigint }[]): bigint[] => xs.map((x) => x.id);

    it("get_account_transfers", () => {
      expect(ids(ledger.getAccountTransfers(accountFilter({ account_id: H, flags: both, limit: 10 }))))
        .toEqual([200n, 201n, 202n]);
      expect(ids(ledger.getAccountTransfers(accountFilter({
        account_id: H, flags: both | AccountFilterFlags.reversed, limit: 2,
      })))).toEqual([202n, 201n]);
      expect(ids(ledger.getAccountTransfers(accountFilter({ account_id: H, flags: AccountFilterFlags.credits, limit: 10 }))))
        .toEqual([201n]);
      expect(ids(ledger.getAccountTransfers(accountFilter({ account_id: H, flags: both, limit: 10, user_data_32: 7 }))))
        .toEqual([200n]);
      expect(ledger.getAccountTransfers(accountFilter({ account_id: H, flags: 0, limit: 10 }))).toEqual([]);
      expect(ledger.getAccountTransfers(accountFilter({ account_id: H, flags: both, limit: 0 }))).toEqual([]);
      expect(ledger.getAccountTransfers(accountFilter({
        account_id: H, flags: both, limit: 10, timestamp_min: t202, timestamp_max: t200,
      }))).toEqual([]);
      // The full objects, as stored.
      expect(ledger.getAccountTransfers(accountFilter({ account_id: H, flags: AccountFilterFlags.credits, limit: 10 })))
        .toEqual([{ ...xfer(201n, A, H, 20n), timestamp: t201 }]);
    });

    it("get_account_balances", () => {
      expect(ledger.getAccountBalances(accountFilter({ account_id: H, flags: both, limit: 10 }))).toEqual([
        { debits_pending: 0n, debits_posted: 10n, credits_pending: 0n, credits_posted: 0n, timestamp: t200 },
        { debits_pending: 0n, debits_posted: 10n, credits_pending: 0n, credits_posted: 20n, timestamp: t201 },
        { debits_pending: 30n, debits_posted: 10n, credits_pending: 0n, credits_posted: 20n, timestamp: t202 },
      ]);
      expect(ledger.getAccountBalances(accountFilter({ account_id: A, flags: both, limit: 10 }))).toEqual([]);
    });

    it("query_transfers and query_accounts", () => {
      expect(ids(ledger.queryTransfers(queryFilter({ user_data_32: 7, limit: 10 })))).toEqual([200n]);
      const all = ledger.queryAccounts(queryFilter({ ledger: 1, code: 1, limit: 10 }));
      expect(ids(all)).toEqual([A, B, C, H]);
      expect(all.map((a) => a.timestamp)).toEqual([tA, tB, tC, tH]);
      expect(ids(ledger.queryAccounts(queryFilter({ ledger: 1, code: 1, limit: 2, flags: QueryFilterFlags.reversed }))))
        .toEqual([H, C]);
    });
  });
});

describe.each(ledgersUnderTest)("§5 timestamps on $name", ({ create }) => {
  it("multi-batch: events get base+1 … base+N across batches; P = base + N", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    const results = ledger.createAccountsBatches([[acct(1n), acct(2n), acct(3n)], [acct(4n), acct(5n)]]);
    expect(results.map((batch) => batch.map((r) => r.timestamp)))
      .toEqual([[START + 1n, START + 2n, START + 3n], [START + 4n, START + 5n]]);
    expect(ledger.lastTimestamp).toBe(START + 5n);
    // A lookup gets P = base (N = 0).
    clock.now = START + 100n;
    ledger.lookupAccounts([1n]);
    expect(ledger.lastTimestamp).toBe(START + 100n);
    // The clock is behind: base = prev + 1.
    clock.now = START;
    ledger.lookupAccounts([1n]);
    expect(ledger.lastTimestamp).toBe(START + 101n);
    const next = ledger.createAccounts([acct(6n)]);
    expect(next).toEqual([{ status: AS.created, timestamp: START + 103n }]);
    expect(ledger.lastTimestamp).toBe(START + 103n);
    // An empty create request still takes a timestamp: P = base.
    expect(ledger.createAccounts([])).toEqual([]);
    expect(ledger.lastTimestamp).toBe(START + 104n);
    // Batches run on their own: an empty batch and a chain never crossing batches.
    const transfers = ledger.createTransfersBatches([
      [xfer(1n, 1n, 2n, 1n, { flags: TF.linked })],
      [],
      [xfer(2n, 1n, 2n, 1n)],
    ]);
    expect(transfers).toEqual([
      [{ status: TS.linked_event_chain_open, timestamp: START + 106n }],
      [],
      [{ status: TS.created, timestamp: START + 107n }],
    ]);
  });

  it("a batch's imported timestamp must be below its own T_k", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    // Two batches in one request: base = START; batch 0 has T_0 = START+1, batch 1 has T_1 = START+3.
    const results = ledger.createAccountsBatches([
      [acct(1n, { flags: AccountFlags.imported, timestamp: START + 1n })],
      [acct(2n, { flags: AccountFlags.imported, timestamp: START + 1n }),
        acct(3n, { flags: AccountFlags.imported, timestamp: START + 2n })],
    ]);
    expect(results).toEqual([
      [{ status: AS.imported_event_timestamp_must_not_advance, timestamp: START + 1n }],
      [{ status: AS.created, timestamp: START + 1n }, { status: AS.created, timestamp: START + 2n }],
    ]);
  });
});

describe.each(ledgersUnderTest)("§9.3 pulse on $name", ({ create }) => {
  it("the first pulse always runs; later ones only when an expiry is due", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    expect(ledger.createAccounts([acct(A), acct(B)]).map((r) => r.status)).toEqual([AS.created, AS.created]);
    const prev = ledger.lastTimestamp;
    expect(ledger.pulse()).toBe(true); // pulse_next starts at 1
    expect(ledger.lastTimestamp).toBe(prev + 1n + 8190n); // P = base + 8190
    expect(ledger.pulse()).toBe(false); // nothing pending: pulse_next = +∞
    clock.advanceSeconds(100);
    expect(ledger.pulse()).toBe(false);
    const t = ledger.createTransfers([xfer(1n, A, B, 7n, { flags: TF.pending, timeout: 2 })])[0]!;
    expect(t.status).toBe(TS.created);
    const expiresAt = t.timestamp + 2n * NS_PER_S;
    clock.now = expiresAt - 1n;
    const before = ledger.lastTimestamp;
    expect(ledger.pulse()).toBe(false);
    expect(ledger.lastTimestamp).toBe(before);
    clock.now = expiresAt;
    expect(ledger.pulse()).toBe(true);
    expect(ledger.lastTimestamp).toBe(expiresAt + 8190n);
    expect(ledger.lookupAccounts([A])[0]!.debits_pending).toBe(0n);
    expect(ledger.pulse()).toBe(false);
  });

  it("a pulse expires everything due by its own timestamp P = base + 8190", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    ledger.createAccounts([acct(A), acct(B)]);
    expect(ledger.pulse()).toBe(true);
    // Three pendings in one request: consecutive timestamps, all timeout 1.
    const results = ledger.createTransfers([
      xfer(1n, A, B, 1n, { flags: TF.pending, timeout: 1 }),
      xfer(2n, A, B, 10n, { flags: TF.pending, timeout: 1 }),
      xfer(3n, A, B, 100n, { flags: TF.pending, timeout: 2 }),
    ]);
    expect(statuses(results)).toEqual([TS.created, TS.created, TS.created]);
    clock.now = results[0]!.timestamp + NS_PER_S; // only transfer 1 is due by the clock
    expect(ledger.pulse()).toBe(true);
    // Transfer 2 expires too (its expires_at is 1 ns later, ≤ P); transfer 3 does not.
    expect(ledger.lookupAccounts([A])[0]!.debits_pending).toBe(100n);
    const p2 = ledger.createTransfers([resolve({ id: 4n, pending_id: 2n, flags: TF.void_pending_transfer })]);
    expect(statuses(p2)).toEqual([TS.pending_transfer_expired]);
    const p3 = ledger.createTransfers([resolve({ id: 5n, pending_id: 3n, flags: TF.void_pending_transfer })]);
    expect(statuses(p3)).toEqual([TS.created]);
    // Voiding 3, whose expires_at was pulse_next, forces a rescan: the next pulse runs.
    expect(ledger.pulse()).toBe(true);
    expect(ledger.pulse()).toBe(false);
  });

  it("an expired closing transfer reopens its account", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    ledger.createAccounts([acct(A), acct(B)]);
    const t = ledger.createTransfers([
      xfer(1n, A, B, 5n, { flags: TF.pending | TF.closing_debit | TF.closing_credit, timeout: 1 }),
    ])[0]!;
    expect(t.status).toBe(TS.created);
    expect(ledger.lookupAccounts([A, B]).map((a) => a.flags)).toEqual([AccountFlags.closed, AccountFlags.closed]);
    clock.now = t.timestamp + NS_PER_S;
    expect(ledger.pulse()).toBe(true);
    expect(ledger.lookupAccounts([A, B]).map((a) => [a.flags, a.debits_pending, a.credits_pending]))
      .toEqual([[0, 0n, 0n], [0, 0n, 0n]]);
    expect(statuses(ledger.createTransfers([xfer(2n, A, B, 1n)]))).toEqual([TS.created]);
  });
});

describe.each(ledgersUnderTest)("§11 truncation to min(limit, 8189) on $name", ({ create }) => {
  it("queries and account filters return at most 8189 objects, in timestamp order", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    const n = 8190;
    // Accounts 1..8190 in two requests (each well inside one message).
    for (const [from, to] of [[1, 4095], [4096, n]] as const) {
      const batch = Array.from({ length: to - from + 1 }, (_, i) => acct(BigInt(from + i), { flags: from + i === 1 ? AccountFlags.history : 0 }));
      expect(ledger.createAccounts(batch).every((r) => r.status === AS.created)).toBe(true);
    }
    const all = ledger.queryAccounts(queryFilter({ limit: 0xffff_ffff }));
    expect(all).toHaveLength(8189);
    expect(all[0]!.id).toBe(1n);
    expect(all[8188]!.id).toBe(8189n);
    const reversed = ledger.queryAccounts(queryFilter({ limit: 8190, flags: QueryFilterFlags.reversed }));
    expect(reversed).toHaveLength(8189);
    expect(reversed[0]!.id).toBe(8190n);
    expect(reversed[8188]!.id).toBe(2n);
    expect(ledger.queryAccounts(queryFilter({ limit: 3, ledger: 1, code: 1 })).map((a) => a.id)).toEqual([1n, 2n, 3n]);

    // Transfers 1→2, ids 1..8190, in two requests.
    for (const [from, to] of [[1, 4095], [4096, n]] as const) {
      const batch = Array.from({ length: to - from + 1 }, (_, i) => xfer(BigInt(from + i), 1n, 2n, 1n));
      expect(ledger.createTransfers(batch).every((r) => r.status === TS.created)).toBe(true);
    }
    const both = AccountFilterFlags.debits | AccountFilterFlags.credits;
    const transfers = ledger.getAccountTransfers(accountFilter({ account_id: 1n, flags: both, limit: 0xffff_ffff }));
    expect(transfers).toHaveLength(8189);
    expect(transfers[8188]!.id).toBe(8189n);
    expect(ledger.queryTransfers(queryFilter({ limit: 10_000, flags: QueryFilterFlags.reversed }))[0]!.id).toBe(8190n);
    const balances = ledger.getAccountBalances(accountFilter({ account_id: 1n, flags: both, limit: 8190 }));
    expect(balances).toHaveLength(8189);
    expect(balances[8188]).toEqual({
      debits_pending: 0n, debits_posted: 8189n, credits_pending: 0n, credits_posted: 0n, timestamp: transfers[8188]!.timestamp,
    });
    // Pagination (§11.3): continue after the last timestamp.
    const rest = ledger.getAccountTransfers(accountFilter({
      account_id: 1n, flags: both, limit: 8189, timestamp_min: transfers[8188]!.timestamp + 1n,
    }));
    expect(rest.map((t) => t.id)).toEqual([8190n]);
    // Lookups: missing ids are skipped, repeated ids repeat, in request order.
    expect(ledger.lookupAccounts([3n, 0n, 9999n, 3n, 1n]).map((a) => a.id)).toEqual([3n, 3n, 1n]);
  });
});

describe.each(ledgersUnderTest)("§9.3 the pulse cap on $name", ({ create }) => {
  it("more than 8189 due transfers: a capped pulse leaves the rest for the next pulse (cap 8189 or 8190)", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    ledger.createAccounts([acct(A), acct(B)]);
    expect(ledger.pulse()).toBe(true); // start-up scan
    const n = 8190;
    for (const [from, to] of [[1, 4095], [4096, n]] as const) {
      const batch = Array.from({ length: to - from + 1 }, (_, i) =>
        xfer(BigInt(from + i), A, B, 1n, { flags: TF.pending, timeout: 1 }));
      expect(ledger.createTransfers(batch).every((r) => r.status === TS.created)).toBe(true);
    }
    expect(ledger.lookupAccounts([A])[0]!.debits_pending).toBe(BigInt(n));
    clock.advanceSeconds(2);
    expect(ledger.pulse()).toBe(true);
    const left = ledger.lookupAccounts([A])[0]!.debits_pending;
    expect(left === 0n || left === 1n).toBe(true); // cap 8190 or 8189: the last-created one may be left
    // Whatever is left is due: a post of it is refused (§8.3.6), and the next pulse expires it.
    expect(statuses(ledger.createTransfers([resolve({ id: 9000n, pending_id: BigInt(n), flags: TF.post_pending_transfer })])))
      .toEqual([TS.pending_transfer_expired]);
    expect(ledger.pulse()).toBe(left === 1n);
    expect(ledger.lookupAccounts([A, B]).map((a) => [a.debits_pending, a.credits_pending])).toEqual([[0n, 0n], [0n, 0n]]);
    expect(ledger.pulse()).toBe(false);
  });
});

describe.each(ledgersUnderTest)("readings of points the spec leaves open, on $name", ({ create }) => {
  // §6 says a chain failure restores "all ledger state"; pulse_next is expiry bookkeeping rather
  // than ledger data (TigerBeetle scopes only the grooves), so a rolled-back pending transfer with
  // a timeout can leave pulse_next early: one extra pulse runs and finds nothing to expire.
  it("a rolled-back pending transfer with a timeout still schedules a (no-op) pulse", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    ledger.createAccounts([acct(A), acct(B)]);
    expect(ledger.pulse()).toBe(true); // the start-up scan
    expect(ledger.pulse()).toBe(false);
    const chain = ledger.createTransfers([
      xfer(1n, A, B, 5n, { flags: TF.pending | TF.linked, timeout: 1 }),
      xfer(2n, A, 99n, 1n),
    ]);
    expect(statuses(chain)).toEqual([TS.linked_event_failed, TS.credit_account_not_found]);
    clock.advanceSeconds(2);
    expect(ledger.pulse()).toBe(true);
    expect(ledger.pulse()).toBe(false);
    expect(ledger.lookupAccounts([A])[0]!.debits_pending).toBe(0n);
  });

  // §8.3.6 compares the due time with t_i, the event's own timestamp, even for an imported post
  // whose user timestamp is earlier than the due time.
  it("an imported post is judged due by t_i, not by its imported timestamp", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    ledger.createAccounts([acct(A), acct(B)]);
    const t = ledger.createTransfers([xfer(1n, A, B, 5n, { flags: TF.pending, timeout: 1 })])[0]!.timestamp;
    clock.now = t + 2n * NS_PER_S;
    const post = ledger.createTransfers([resolve({
      id: 2n, pending_id: 1n, flags: TF.post_pending_transfer | TF.imported, timestamp: t + 1n,
    })]);
    expect(statuses(post)).toEqual([TS.pending_transfer_expired]);
  });
});

describe.each(ledgersUnderTest)("§6 a long linked chain on $name", ({ create }) => {
  // The undo log starts small and grows as a chain needs (core/ledger/undo_log.ts): a chain of
  // hundreds of posts and timed pending transfers outgrows every one of its logs before it fails.
  it("rolls back hundreds of posts and timed pending transfers, then succeeds whole", () => {
    const clock = new Clock(START);
    const ledger = create({ realtime: clock.realtime });
    ledger.createAccounts([acct(A), acct(B)]);
    const n = 300n;
    const pendings = [];
    for (let id = 1n; id <= n; id++) pendings.push(xfer(id, A, B, 1n, { flags: TF.pending, timeout: 3600 }));
    expect(statuses(ledger.createTransfers(pendings)).every((s) => s === TS.created)).toBe(true);
    const before = ledger.lookupAccounts([A, B]);
    // Ids of a failed chain stay taken (§4.3 orphans), so the second chain uses fresh ones.
    const chain = (base: bigint, last: Parameters<typeof xfer>) => {
      const events = [];
      for (let id = 1n; id <= n; id++) {
        events.push(resolve({ id: base + id, pending_id: id, amount: AMOUNT_MAX, flags: TF.post_pending_transfer | TF.linked }));
        events.push(xfer(base + 1000n + id, B, A, 2n, { flags: TF.pending | TF.linked, timeout: 60 }));
      }
      events.push(xfer(...last));
      return events;
    };
    const failed = ledger.createTransfers(chain(1000n, [9999n, A, 99n, 1n]));
    expect(failed).toHaveLength(2 * Number(n) + 1);
    expect(statuses(failed).slice(0, -1).every((s) => s === TS.linked_event_failed)).toBe(true);
    expect(failed.at(-1)!.status).toBe(TS.credit_account_not_found);
    expect(ledger.lookupAccounts([A, B])).toEqual(before);
    expect(ledger.lookupTransfers([1001n, 2001n, 2000n + n])).toEqual([]);
    const created = ledger.createTransfers(chain(3000n, [8888n, A, B, 1n]));
    expect(statuses(created).every((s) => s === TS.created)).toBe(true);
    const [a, b] = ledger.lookupAccounts([A, B]);
    expect([a!.debits_pending, a!.debits_posted, a!.credits_pending]).toEqual([0n, n + 1n, 2n * n]);
    expect([b!.credits_pending, b!.credits_posted, b!.debits_pending]).toEqual([0n, n + 1n, 2n * n]);
  });
});
