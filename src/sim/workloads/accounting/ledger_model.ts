// A deliberately simple reference model of the ledger state machine, written straight from
// spec/ledger.md. Plain Maps keyed by bigint, bigint arithmetic everywhere, whole-state cloning
// for linked-chain undo, linear scans for queries: no performance concerns at all.
//
// Two users, two entry points:
// - the ledger tests (test/ledger/) use the object-level API, the same as SyncLedger's, with the
//   model's own clock for §5 timestamps, and compare every result;
// - the VOPR's accounting auditor (auditor.ts) uses the request level: `execute` takes a
//   committed prepare's operation, timestamp and body and returns the reply body the replica must
//   have produced, byte for byte; `pulse(timestamp)` runs a committed pulse.
// It shares with the implementation only the layouts, codecs and multi-batch framing of src/core,
// never the ledger logic (src/core/ledger/).
//
// Reading of points the spec leaves open (pinned by the "readings" tests in scenarios.test.ts):
// - `pulse_next` is bookkeeping of the expiry scheduler, not ledger data: a chain rollback does not
//   restore it (as in TigerBeetle, where only the grooves are scoped). A too-early pulse_next only
//   causes a pulse that finds nothing due.
// - An imported post/void is judged due (§8.3.6) by t_i, the event's own timestamp, as the spec
//   says, not by its imported timestamp.
// - The pulse cap is 8189 (§9.3 allows it); the random tests never have that many due transfers and
//   the cap test in scenarios.test.ts accepts 8189 or 8190.
import { AssertionError, assert } from "../../../core/assert.js";
import { Operation } from "../../../core/command.js";
import {
  AccountBalanceOffset,
  AccountFilterOffset,
  AccountFlags,
  CreateAccountStatus as AS,
  CreateTransferStatus as TS,
  QueryFilterOffset,
  TransferFlags,
  accountBalanceSize,
  accountFilterFlagsPadding,
  accountFilterReservedSize,
  accountFilterSize,
  accountFlagsPadding,
  accountSize,
  createResultSize,
  decodeAccount,
  decodeTransfer,
  encodeAccount,
  encodeTransfer,
  idSize,
  isTransientTransferStatus,
  queryFilterFlagsPadding,
  queryFilterReservedSize,
  queryFilterSize,
  transferFlagsPadding,
  transferSize,
  type Account,
  type AccountBalance,
  type AccountFilter,
  type CreateAccountResult,
  type CreateTransferResult,
  type QueryFilter,
  type Transfer,
} from "../../../core/layouts.js";
import { decodeMultiBatch, encodeMultiBatch } from "../../../core/multi_batch.js";
import { readU128, writeU128 } from "../../../core/u128.js";

/** §1: AMOUNT_MAX = 2^128 − 1, also INT_MAX of every u128 field (ids). */
export const AMOUNT_MAX = (1n << 128n) - 1n;
const U128_MAX = AMOUNT_MAX;
/** §1: valid timestamps are in [1, 2^63 − 1]. */
export const TIMESTAMP_MAX = (1n << 63n) - 1n;
const NS_PER_S = 1_000_000_000n;

export interface ModelLedgerOptions {
  /** The cluster clock for the object-level API's §5 timestamps (default: always 0). */
  realtime?: () => bigint;
}

/** §12: query results per batch, and the cap on a filter's limit. */
const QUERY_RESULTS_MAX = 8189;
/** §5 / §9.3: the pulse reserves 8190 timestamps. */
const PULSE_EVENTS = 8190n;
/** §9.3: the expiry scan cap (Scarab may use 8189). */
const PULSE_CAP = 8189;
/** +∞ for pulse_next. */
const NEVER = 1n << 80n;

export type PendingState = "pending" | "posted" | "voided" | "expired";

interface Balances {
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
}

/** Everything a linked chain's undo snapshot covers (§6 rule 3.1). Orphans are outside (§4.3). */
interface LedgerState {
  accounts: Map<bigint, Account>;
  transfers: Map<bigint, Transfer>;
  /** §9.1: the state of every pending transfer, by the pending transfer's id. */
  pendingStates: Map<bigint, PendingState>;
  /** §10.4: the balances of both accounts right after each created transfer, by transfer id. */
  history: Map<bigint, { debit: Balances; credit: Balances }>;
}

function cloneState(s: LedgerState): LedgerState {
  return {
    accounts: new Map([...s.accounts].map(([k, v]) => [k, { ...v }])),
    transfers: new Map([...s.transfers].map(([k, v]) => [k, { ...v }])),
    pendingStates: new Map(s.pendingStates),
    history: new Map([...s.history].map(([k, v]) => [k, { debit: { ...v.debit }, credit: { ...v.credit } }])),
  };
}

function has(flags: number, flag: number): boolean {
  return (flags & flag) !== 0;
}

function balancesOf(a: Account): Balances {
  return {
    debits_pending: a.debits_pending, debits_posted: a.debits_posted,
    credits_pending: a.credits_pending, credits_posted: a.credits_posted,
  };
}

/** §1: saturating subtraction x ⊖ y. */
function satSub(x: bigint, y: bigint): bigint {
  return x > y ? x - y : 0n;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function validTimestamp(t: bigint): boolean {
  return t >= 1n && t <= TIMESTAMP_MAX;
}

interface Outcome {
  status: number;
  timestamp: bigint;
}

/** What differs between the account loop and the transfer loop of §6. */
interface BatchKind<E> {
  linked: number;
  imported: number;
  importedNotExpected: number;
  importedExpected: number;
  outOfRange: number;
  mustNotAdvance: number;
  created: number;
  /** §7 / §8: the per-kind checks and effects for event `e` at timestamp `t_i`. */
  evaluate(e: E, t_i: bigint): Outcome;
  /** §4.3: transfers only. */
  recordOrphan?(e: E, status: number): void;
}

export class ModelLedger {
  private state: LedgerState = {
    accounts: new Map(), transfers: new Map(), pendingStates: new Map(), history: new Map(),
  };
  /** §4.3: orphaned transfer ids; never rolled back. */
  private readonly orphans = new Set<bigint>();
  /** §9.3: starts at 1 so the first check scans. */
  private pulseNext = 1n;
  /** §5: the previous prepare timestamp P. */
  private prev = 0n;
  private readonly realtime: () => bigint;

  constructor(options: ModelLedgerOptions = {}) {
    this.realtime = options.realtime ?? (() => 0n);
  }

  get lastTimestamp(): bigint {
    return this.prev;
  }

  /** Read-only views for the model-based test (invariants, generators). */
  get pendingTransfers(): Transfer[] {
    return [...this.state.pendingStates]
      .filter(([, s]) => s === "pending")
      .map(([id]) => ({ ...this.state.transfers.get(id)! }));
  }

  pendingState(id: bigint): PendingState | undefined {
    return this.state.pendingStates.get(id);
  }

  isOrphaned(id: bigint): boolean {
    return this.orphans.has(id);
  }

  /** A stored object without a request (no timestamp is taken), for aiming generated inputs. */
  peekAccount(id: bigint | undefined): Account | undefined {
    const a = id === undefined ? undefined : this.state.accounts.get(id);
    return a === undefined ? undefined : { ...a };
  }

  peekTransfer(id: bigint | undefined): Transfer | undefined {
    const t = id === undefined ? undefined : this.state.transfers.get(id);
    return t === undefined ? undefined : { ...t };
  }

  get accountIds(): bigint[] {
    return [...this.state.accounts.keys()];
  }

  get transferIds(): bigint[] {
    return [...this.state.transfers.keys()];
  }

  /** The largest timestamp of any stored object (for generating imported timestamps). */
  get maxObjectTimestamp(): bigint {
    let m = 0n;
    for (const a of this.state.accounts.values()) m = max(m, a.timestamp);
    for (const t of this.state.transfers.values()) m = max(m, t.timestamp);
    return m;
  }

  get objectTimestamps(): bigint[] {
    return [
      ...[...this.state.accounts.values()].map((a) => a.timestamp),
      ...[...this.state.transfers.values()].map((t) => t.timestamp),
    ];
  }

  get pulseNextTimestamp(): bigint {
    return this.pulseNext;
  }

  // ---------------------------------------------------------------------------------------------
  // §5 Timestamps
  // ---------------------------------------------------------------------------------------------

  /** §5 rules 1–3: base = max(prev + 1, realtime); P = base + N; P becomes the next prev. */
  private prepare(eventCount: bigint): bigint {
    const base = max(this.prev + 1n, this.realtime());
    const P = base + eventCount;
    this.prev = P;
    return P;
  }

  /** §5 rules 4–5: runs each batch of a request with prepare timestamp P with its T_k. */
  private runBatches<E, R>(P: bigint, batches: E[][], runBatch: (events: E[], T_k: bigint) => R[]): R[][] {
    const N = BigInt(eventTotal(batches));
    let through = 0n;
    return batches.map((events) => {
      through += BigInt(events.length);
      const T_k = P - N + through;
      return runBatch(events, T_k);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // §6 The create batch loop and linked chains
  // ---------------------------------------------------------------------------------------------

  private createBatch<E extends { flags: number; timestamp: bigint }>(
    events: E[], T_k: bigint, kind: BatchKind<E>,
  ): Outcome[] {
    const n = events.length;
    const batchImported = n > 0 && has(events[0]!.flags, kind.imported); // rule 1
    let chainStart: number | null = null; // rule 2
    let chainBroken = false;
    let undo: LedgerState | null = null;
    const results: Outcome[] = [];
    for (let i = 0; i < n; i++) {
      const e = events[i]!;
      const t_i = T_k - BigInt(n) + BigInt(i) + 1n; // §5 rule 5
      const linked = has(e.flags, kind.linked);
      const imported = has(e.flags, kind.imported);
      // 3.1: open a chain and take an undo snapshot of all ledger state.
      if (linked && chainStart === null) {
        chainStart = i;
        undo = cloneState(this.state);
      }
      // 3.2: the first rule that matches.
      let outcome: Outcome;
      if (linked && i === n - 1) outcome = { status: 2, timestamp: t_i }; // a
      else if (chainBroken) outcome = { status: 1, timestamp: t_i }; // b
      else if (imported && !batchImported) outcome = { status: kind.importedNotExpected, timestamp: t_i }; // c
      else if (batchImported && !imported) outcome = { status: kind.importedExpected, timestamp: t_i };
      else if (imported && !validTimestamp(e.timestamp)) outcome = { status: kind.outOfRange, timestamp: t_i }; // d
      else if (imported && e.timestamp >= T_k) outcome = { status: kind.mustNotAdvance, timestamp: t_i };
      else if (!imported && e.timestamp !== 0n) outcome = { status: 3, timestamp: t_i };
      else outcome = kind.evaluate(e, t_i); // e
      // 3.3: any failure (including `exists`) breaks the open chain.
      if (outcome.status !== kind.created) {
        if (chainStart !== null && !chainBroken) {
          chainBroken = true;
          this.state = undo!;
          for (let j = chainStart; j < i; j++) results[j]!.status = 1;
        }
        kind.recordOrphan?.(e, outcome.status);
      }
      results.push(outcome); // 3.4
      // 3.5: close the chain.
      if (chainStart !== null && (!linked || outcome.status === 2)) {
        chainStart = null;
        chainBroken = false;
        undo = null;
      }
    }
    return results;
  }

  // ---------------------------------------------------------------------------------------------
  // §7 create_accounts
  // ---------------------------------------------------------------------------------------------

  createAccounts(accounts: Account[]): CreateAccountResult[] {
    return this.createAccountsBatches([accounts])[0]!;
  }

  createAccountsBatches(batches: Account[][]): CreateAccountResult[][] {
    return this.createAccountsAt(this.prepare(BigInt(eventTotal(batches))), batches);
  }

  private createAccountsAt(P: bigint, batches: Account[][]): CreateAccountResult[][] {
    const kind: BatchKind<Account> = {
      linked: AccountFlags.linked,
      imported: AccountFlags.imported,
      importedNotExpected: AS.imported_event_not_expected,
      importedExpected: AS.imported_event_expected,
      outOfRange: AS.imported_event_timestamp_out_of_range,
      mustNotAdvance: AS.imported_event_timestamp_must_not_advance,
      created: AS.created,
      evaluate: (a, t_i) => this.createAccount(a, t_i),
    };
    return this.runBatches(P, batches.map((b) => b.map((a) => ({ ...a }))), (events, T_k) =>
      this.createBatch(events, T_k, kind) as CreateAccountResult[]);
  }

  /** §7 rules 1–9, after the batch-level rules of §6. */
  private createAccount(a: Account, t_i: bigint): Outcome {
    const fail = (status: number): Outcome => ({ status, timestamp: t_i });
    const imported = has(a.flags, AccountFlags.imported);
    if (a.reserved !== 0) return fail(AS.reserved_field); // 1
    if ((a.flags & accountFlagsPadding) !== 0) return fail(AS.reserved_flag); // 2
    if (a.id === 0n) return fail(AS.id_must_not_be_zero); // 3
    if (a.id === U128_MAX) return fail(AS.id_must_not_be_int_max);
    const s = this.state.accounts.get(a.id); // 4
    if (s !== undefined) {
      if (a.flags !== s.flags) return fail(AS.exists_with_different_flags);
      if (a.user_data_128 !== s.user_data_128) return fail(AS.exists_with_different_user_data_128);
      if (a.user_data_64 !== s.user_data_64) return fail(AS.exists_with_different_user_data_64);
      if (a.user_data_32 !== s.user_data_32) return fail(AS.exists_with_different_user_data_32);
      if (a.ledger !== s.ledger) return fail(AS.exists_with_different_ledger);
      if (a.code !== s.code) return fail(AS.exists_with_different_code);
      return { status: AS.exists, timestamp: s.timestamp };
    }
    if (has(a.flags, AccountFlags.debits_must_not_exceed_credits) &&
        has(a.flags, AccountFlags.credits_must_not_exceed_debits)) {
      return fail(AS.flags_are_mutually_exclusive); // 5
    }
    if (a.debits_pending !== 0n) return fail(AS.debits_pending_must_be_zero); // 6
    if (a.debits_posted !== 0n) return fail(AS.debits_posted_must_be_zero);
    if (a.credits_pending !== 0n) return fail(AS.credits_pending_must_be_zero);
    if (a.credits_posted !== 0n) return fail(AS.credits_posted_must_be_zero);
    if (a.ledger === 0) return fail(AS.ledger_must_not_be_zero); // 7
    if (a.code === 0) return fail(AS.code_must_not_be_zero);
    if (imported) { // 8
      const regress = [...this.state.accounts.values()].some((x) => a.timestamp <= x.timestamp) ||
        [...this.state.transfers.values()].some((x) => a.timestamp === x.timestamp);
      if (regress) return fail(AS.imported_event_timestamp_must_not_regress);
    }
    const timestamp = imported ? a.timestamp : t_i; // 9
    this.state.accounts.set(a.id, {
      ...a, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
      reserved: 0, timestamp,
    });
    return { status: AS.created, timestamp };
  }

  // ---------------------------------------------------------------------------------------------
  // §8 create_transfers
  // ---------------------------------------------------------------------------------------------

  createTransfers(transfers: Transfer[]): CreateTransferResult[] {
    return this.createTransfersBatches([transfers])[0]!;
  }

  createTransfersBatches(batches: Transfer[][]): CreateTransferResult[][] {
    return this.createTransfersAt(this.prepare(BigInt(eventTotal(batches))), batches);
  }

  private createTransfersAt(P: bigint, batches: Transfer[][]): CreateTransferResult[][] {
    const kind: BatchKind<Transfer> = {
      linked: TransferFlags.linked,
      imported: TransferFlags.imported,
      importedNotExpected: TS.imported_event_not_expected,
      importedExpected: TS.imported_event_expected,
      outOfRange: TS.imported_event_timestamp_out_of_range,
      mustNotAdvance: TS.imported_event_timestamp_must_not_advance,
      created: TS.created,
      evaluate: (t, t_i) => this.createTransfer(t, t_i),
      // §4.3 / §6 rule 3.3: after any rollback, so the orphan survives it.
      recordOrphan: (t, status) => {
        if (isTransientTransferStatus(status)) this.orphans.add(t.id);
      },
    };
    return this.runBatches(P, batches.map((b) => b.map((t) => ({ ...t }))), (events, T_k) =>
      this.createBatch(events, T_k, kind) as CreateTransferResult[]);
  }

  /** §8.1 common prefix. */
  private createTransfer(t: Transfer, t_i: bigint): Outcome {
    const fail = (status: number): Outcome => ({ status, timestamp: t_i });
    if ((t.flags & transferFlagsPadding) !== 0) return fail(TS.reserved_flag); // 1
    if (t.id === 0n) return fail(TS.id_must_not_be_zero); // 2
    if (t.id === U128_MAX) return fail(TS.id_must_not_be_int_max);
    const s = this.state.transfers.get(t.id); // 3
    if (s !== undefined) return this.transferExists(t, s, t_i);
    if (this.orphans.has(t.id)) return fail(TS.id_already_failed); // 4
    if (has(t.flags, TransferFlags.post_pending_transfer) || has(t.flags, TransferFlags.void_pending_transfer)) {
      return this.postOrVoid(t, t_i); // 5
    }
    return this.singlePhaseOrPending(t, t_i);
  }

  /** §8.2 idempotency comparison. */
  private transferExists(t: Transfer, s: Transfer, t_i: bigint): Outcome {
    // §5: `exists` carries the existing object's timestamp; every other status carries t_i.
    const result = (status: number): Outcome => ({ status, timestamp: status === TS.exists ? s.timestamp : t_i });
    if (t.flags !== s.flags) return result(TS.exists_with_different_flags); // 1
    if (t.pending_id !== s.pending_id) return result(TS.exists_with_different_pending_id); // 2
    if (t.timeout !== s.timeout) return result(TS.exists_with_different_timeout); // 3
    if (has(t.flags, TransferFlags.post_pending_transfer) || has(t.flags, TransferFlags.void_pending_transfer)) {
      const p = this.state.transfers.get(s.pending_id)!; // 4
      if (t.debit_account_id !== 0n && t.debit_account_id !== s.debit_account_id) {
        return result(TS.exists_with_different_debit_account_id);
      }
      if (t.credit_account_id !== 0n && t.credit_account_id !== s.credit_account_id) {
        return result(TS.exists_with_different_credit_account_id);
      }
      const isVoid = has(t.flags, TransferFlags.void_pending_transfer);
      const inheritsAmount = isVoid ? t.amount === 0n : t.amount === AMOUNT_MAX;
      if (inheritsAmount ? s.amount !== p.amount : t.amount !== s.amount) {
        return result(TS.exists_with_different_amount);
      }
      if (t.user_data_128 === 0n ? s.user_data_128 !== p.user_data_128 : t.user_data_128 !== s.user_data_128) {
        return result(TS.exists_with_different_user_data_128);
      }
      if (t.user_data_64 === 0n ? s.user_data_64 !== p.user_data_64 : t.user_data_64 !== s.user_data_64) {
        return result(TS.exists_with_different_user_data_64);
      }
      if (t.user_data_32 === 0 ? s.user_data_32 !== p.user_data_32 : t.user_data_32 !== s.user_data_32) {
        return result(TS.exists_with_different_user_data_32);
      }
      if (t.ledger !== 0 && t.ledger !== s.ledger) return result(TS.exists_with_different_ledger);
      if (t.code !== 0 && t.code !== s.code) return result(TS.exists_with_different_code);
    } else {
      if (t.debit_account_id !== s.debit_account_id) return result(TS.exists_with_different_debit_account_id); // 5
      if (t.credit_account_id !== s.credit_account_id) return result(TS.exists_with_different_credit_account_id);
      const balancing = has(t.flags, TransferFlags.balancing_debit) || has(t.flags, TransferFlags.balancing_credit);
      if (balancing ? t.amount < s.amount : t.amount !== s.amount) return result(TS.exists_with_different_amount);
      if (t.user_data_128 !== s.user_data_128) return result(TS.exists_with_different_user_data_128);
      if (t.user_data_64 !== s.user_data_64) return result(TS.exists_with_different_user_data_64);
      if (t.user_data_32 !== s.user_data_32) return result(TS.exists_with_different_user_data_32);
      if (t.ledger !== s.ledger) return result(TS.exists_with_different_ledger);
      if (t.code !== s.code) return result(TS.exists_with_different_code);
    }
    return result(TS.exists); // 6
  }

  /** §8.3 post/void path. */
  private postOrVoid(t: Transfer, t_i: bigint): Outcome {
    const fail = (status: number): Outcome => ({ status, timestamp: t_i });
    const isPost = has(t.flags, TransferFlags.post_pending_transfer);
    const isVoid = has(t.flags, TransferFlags.void_pending_transfer);
    const imported = has(t.flags, TransferFlags.imported);
    const forbidden = TransferFlags.pending | TransferFlags.balancing_debit | TransferFlags.balancing_credit |
      TransferFlags.closing_debit | TransferFlags.closing_credit;
    if ((isPost && isVoid) || (t.flags & forbidden) !== 0) return fail(TS.flags_are_mutually_exclusive); // 1
    if (t.pending_id === 0n) return fail(TS.pending_id_must_not_be_zero); // 2
    if (t.pending_id === U128_MAX) return fail(TS.pending_id_must_not_be_int_max);
    if (t.pending_id === t.id) return fail(TS.pending_id_must_be_different);
    if (t.timeout !== 0) return fail(TS.timeout_reserved_for_pending_transfer);
    const p = this.state.transfers.get(t.pending_id); // 3
    if (p === undefined) return fail(TS.pending_transfer_not_found);
    if (!has(p.flags, TransferFlags.pending)) return fail(TS.pending_transfer_not_pending);
    if (t.debit_account_id !== 0n && t.debit_account_id !== p.debit_account_id) { // 4
      return fail(TS.pending_transfer_has_different_debit_account_id);
    }
    if (t.credit_account_id !== 0n && t.credit_account_id !== p.credit_account_id) {
      return fail(TS.pending_transfer_has_different_credit_account_id);
    }
    if (t.ledger !== 0 && t.ledger !== p.ledger) return fail(TS.pending_transfer_has_different_ledger);
    if (t.code !== 0 && t.code !== p.code) return fail(TS.pending_transfer_has_different_code);
    const amount = isVoid // 5
      ? (t.amount === 0n ? p.amount : t.amount)
      : (t.amount === AMOUNT_MAX ? p.amount : t.amount);
    if (amount > p.amount) return fail(TS.exceeds_pending_transfer_amount);
    if (isVoid && amount < p.amount) return fail(TS.pending_transfer_has_different_amount);
    const state = this.state.pendingStates.get(p.id)!; // 6
    if (state === "posted") return fail(TS.pending_transfer_already_posted);
    if (state === "voided") return fail(TS.pending_transfer_already_voided);
    if (state === "expired") return fail(TS.pending_transfer_expired);
    const expiresAt = p.timeout > 0 ? p.timestamp + BigInt(p.timeout) * NS_PER_S : null;
    if (expiresAt !== null && expiresAt <= t_i) return fail(TS.pending_transfer_expired);
    if (imported && this.transferTimestampRegresses(t.timestamp)) { // 7
      return fail(TS.imported_event_timestamp_must_not_regress);
    }
    const dr = this.state.accounts.get(p.debit_account_id)!;
    const cr = this.state.accounts.get(p.credit_account_id)!;
    if (isPost) { // 8
      if (has(dr.flags, AccountFlags.closed)) return fail(TS.debit_account_already_closed);
      if (has(cr.flags, AccountFlags.closed)) return fail(TS.credit_account_already_closed);
    }
    // 9: created.
    const timestamp = imported ? t.timestamp : t_i;
    const stored: Transfer = {
      id: t.id,
      debit_account_id: p.debit_account_id,
      credit_account_id: p.credit_account_id,
      amount,
      pending_id: t.pending_id,
      user_data_128: t.user_data_128 !== 0n ? t.user_data_128 : p.user_data_128,
      user_data_64: t.user_data_64 !== 0n ? t.user_data_64 : p.user_data_64,
      user_data_32: t.user_data_32 !== 0 ? t.user_data_32 : p.user_data_32,
      timeout: 0,
      ledger: p.ledger,
      code: p.code,
      flags: t.flags,
      timestamp,
    };
    this.state.transfers.set(t.id, stored);
    dr.debits_pending -= p.amount;
    cr.credits_pending -= p.amount;
    if (isPost) {
      dr.debits_posted += amount;
      cr.credits_posted += amount;
    }
    if (isVoid) {
      if (has(p.flags, TransferFlags.closing_debit)) dr.flags &= ~AccountFlags.closed;
      if (has(p.flags, TransferFlags.closing_credit)) cr.flags &= ~AccountFlags.closed;
    }
    this.state.pendingStates.set(p.id, isPost ? "posted" : "voided");
    if (expiresAt !== null && expiresAt === this.pulseNext) this.pulseNext = 1n; // §9.3 bookkeeping
    this.recordHistory(stored, dr, cr);
    return { status: TS.created, timestamp };
  }

  /** §8.4 single-phase / pending path. */
  private singlePhaseOrPending(t: Transfer, t_i: bigint): Outcome {
    const fail = (status: number): Outcome => ({ status, timestamp: t_i });
    const pending = has(t.flags, TransferFlags.pending);
    const imported = has(t.flags, TransferFlags.imported);
    const closingDebit = has(t.flags, TransferFlags.closing_debit);
    const closingCredit = has(t.flags, TransferFlags.closing_credit);
    if (t.debit_account_id === 0n) return fail(TS.debit_account_id_must_not_be_zero); // 1
    if (t.debit_account_id === U128_MAX) return fail(TS.debit_account_id_must_not_be_int_max);
    if (t.credit_account_id === 0n) return fail(TS.credit_account_id_must_not_be_zero);
    if (t.credit_account_id === U128_MAX) return fail(TS.credit_account_id_must_not_be_int_max);
    if (t.debit_account_id === t.credit_account_id) return fail(TS.accounts_must_be_different);
    if (t.pending_id !== 0n) return fail(TS.pending_id_must_be_zero); // 2
    if (!pending) { // 3
      if (t.timeout !== 0) return fail(TS.timeout_reserved_for_pending_transfer);
      if (closingDebit || closingCredit) return fail(TS.closing_transfer_must_be_pending);
    }
    if (t.ledger === 0) return fail(TS.ledger_must_not_be_zero); // 4
    if (t.code === 0) return fail(TS.code_must_not_be_zero);
    const dr = this.state.accounts.get(t.debit_account_id); // 5
    if (dr === undefined) return fail(TS.debit_account_not_found);
    const cr = this.state.accounts.get(t.credit_account_id);
    if (cr === undefined) return fail(TS.credit_account_not_found);
    if (dr.ledger !== cr.ledger) return fail(TS.accounts_must_have_the_same_ledger); // 6
    if (t.ledger !== dr.ledger) return fail(TS.transfer_must_have_the_same_ledger_as_accounts);
    if (imported) { // 7
      if (this.transferTimestampRegresses(t.timestamp)) return fail(TS.imported_event_timestamp_must_not_regress);
      if (t.timestamp <= dr.timestamp) return fail(TS.imported_event_timestamp_must_postdate_debit_account);
      if (t.timestamp <= cr.timestamp) return fail(TS.imported_event_timestamp_must_postdate_credit_account);
      if (t.timeout !== 0) return fail(TS.imported_event_timeout_must_be_zero);
    }
    if (has(dr.flags, AccountFlags.closed)) return fail(TS.debit_account_already_closed); // 8
    if (has(cr.flags, AccountFlags.closed)) return fail(TS.credit_account_already_closed);
    let a = t.amount; // 9
    if (has(t.flags, TransferFlags.balancing_debit)) {
      a = min(a, satSub(dr.credits_posted, dr.debits_posted + dr.debits_pending));
    }
    if (has(t.flags, TransferFlags.balancing_credit)) {
      a = min(a, satSub(cr.debits_posted, cr.credits_posted + cr.credits_pending));
    }
    if (pending) { // 10
      if (a + dr.debits_pending > AMOUNT_MAX) return fail(TS.overflows_debits_pending);
      if (a + cr.credits_pending > AMOUNT_MAX) return fail(TS.overflows_credits_pending);
    }
    if (a + dr.debits_posted > AMOUNT_MAX) return fail(TS.overflows_debits_posted);
    if (a + cr.credits_posted > AMOUNT_MAX) return fail(TS.overflows_credits_posted);
    if (a + dr.debits_pending + dr.debits_posted > AMOUNT_MAX) return fail(TS.overflows_debits);
    if (a + cr.credits_pending + cr.credits_posted > AMOUNT_MAX) return fail(TS.overflows_credits);
    const timestamp = imported ? t.timestamp : t_i;
    if (timestamp + BigInt(t.timeout) * NS_PER_S > TIMESTAMP_MAX) return fail(TS.overflows_timeout);
    if (has(dr.flags, AccountFlags.debits_must_not_exceed_credits) && // 11
        dr.debits_pending + dr.debits_posted + a > dr.credits_posted) {
      return fail(TS.exceeds_credits);
    }
    if (has(cr.flags, AccountFlags.credits_must_not_exceed_debits) && // 12
        cr.credits_pending + cr.credits_posted + a > cr.debits_posted) {
      return fail(TS.exceeds_debits);
    }
    // 13: created.
    const stored: Transfer = { ...t, amount: a, timestamp };
    this.state.transfers.set(t.id, stored);
    if (pending) {
      dr.debits_pending += a;
      cr.credits_pending += a;
      this.state.pendingStates.set(t.id, "pending");
    } else {
      dr.debits_posted += a;
      cr.credits_posted += a;
    }
    if (closingDebit) dr.flags |= AccountFlags.closed;
    if (closingCredit) cr.flags |= AccountFlags.closed;
    if (t.timeout > 0) {
      const expiresAt = timestamp + BigInt(t.timeout) * NS_PER_S;
      this.pulseNext = min(this.pulseNext, expiresAt); // §9.3 bookkeeping
    }
    this.recordHistory(stored, dr, cr);
    return { status: TS.created, timestamp };
  }

  /** §8.3.7 / §8.4.7 / §10.3: ≤ the largest transfer timestamp, or equal to an account's. */
  private transferTimestampRegresses(timestamp: bigint): boolean {
    return [...this.state.transfers.values()].some((x) => timestamp <= x.timestamp) ||
      [...this.state.accounts.values()].some((x) => timestamp === x.timestamp);
  }

  /** §10.4: the full balances of both accounts after the change. */
  private recordHistory(t: Transfer, dr: Account, cr: Account): void {
    this.state.history.set(t.id, { debit: balancesOf(dr), credit: balancesOf(cr) });
  }

  // ---------------------------------------------------------------------------------------------
  // §9 Expiry and pulse
  // ---------------------------------------------------------------------------------------------

  /** §9.2: expires_at of every pending transfer still pending with a timeout. */
  private expiryEntries(): { p: Transfer; expiresAt: bigint }[] {
    const entries: { p: Transfer; expiresAt: bigint }[] = [];
    for (const [id, state] of this.state.pendingStates) {
      const p = this.state.transfers.get(id)!;
      if (state === "pending" && p.timeout > 0) {
        entries.push({ p, expiresAt: p.timestamp + BigInt(p.timeout) * NS_PER_S });
      }
    }
    entries.sort((x, y) =>
      x.expiresAt !== y.expiresAt ? (x.expiresAt < y.expiresAt ? -1 : 1)
        : (x.p.timestamp < y.p.timestamp ? -1 : x.p.timestamp > y.p.timestamp ? 1 : 0));
    return entries;
  }

  /**
   * §9.3 pulse. Without an argument (the object API): runs only if pulse_next ≤ max(prev, realtime),
   * with P = base + 8190 from the model's own clock. With `timestamp` (a committed operation 4, as
   * the VOPR sees it): always runs, with P = the prepare's timestamp. Returns whether it ran.
   */
  pulse(timestamp?: bigint): boolean {
    if (timestamp === undefined) {
      const now = max(this.prev, this.realtime());
      if (this.pulseNext > now) return false;
      this.expireDue(this.prepare(PULSE_EVENTS));
    } else {
      this.advanceTo(timestamp);
      this.expireDue(timestamp);
    }
    return true;
  }

  /** §9.3 steps 1–3 at prepare timestamp P. */
  private expireDue(P: bigint): void {
    const entries = this.expiryEntries();
    const due = entries.filter((e) => e.expiresAt <= P).slice(0, PULSE_CAP); // 1
    for (const { p } of due) { // 2
      const dr = this.state.accounts.get(p.debit_account_id)!;
      const cr = this.state.accounts.get(p.credit_account_id)!;
      dr.debits_pending -= p.amount;
      cr.credits_pending -= p.amount;
      if (has(p.flags, TransferFlags.closing_debit)) dr.flags &= ~AccountFlags.closed;
      if (has(p.flags, TransferFlags.closing_credit)) cr.flags &= ~AccountFlags.closed;
      this.state.pendingStates.set(p.id, "expired");
    }
    const remaining = entries.slice(due.length); // 3
    this.pulseNext = remaining.length > 0 ? remaining[0]!.expiresAt : NEVER;
  }

  // ---------------------------------------------------------------------------------------------
  // §11 Lookups and queries (each is a request with N = 0, §5)
  // ---------------------------------------------------------------------------------------------

  lookupAccounts(ids: bigint[]): Account[] {
    this.prepare(0n);
    return this.findAccounts(ids);
  }

  lookupTransfers(ids: bigint[]): Transfer[] {
    this.prepare(0n);
    return this.findTransfers(ids);
  }

  /** §11.1: found objects in request order; ids 0, INT_MAX, missing and orphaned give nothing. */
  private findAccounts(ids: bigint[]): Account[] {
    return ids.flatMap((id) => {
      const a = this.state.accounts.get(id);
      return a === undefined ? [] : [{ ...a }];
    });
  }

  private findTransfers(ids: bigint[]): Transfer[] {
    return ids.flatMap((id) => {
      const t = this.state.transfers.get(id);
      return t === undefined ? [] : [{ ...t }];
    });
  }

  /** §11.2 AccountFilter validity. `reservedZero`: rule 6's reserved bytes (not in the object). */
  private static accountFilterValid(f: AccountFilter, reservedZero: boolean): boolean {
    return f.account_id !== 0n && f.account_id !== U128_MAX &&
      (f.timestamp_min === 0n || validTimestamp(f.timestamp_min)) &&
      (f.timestamp_max === 0n || validTimestamp(f.timestamp_max)) &&
      (f.timestamp_max === 0n || f.timestamp_min <= f.timestamp_max) &&
      f.limit !== 0 &&
      (f.flags & 3) !== 0 &&
      (f.flags & accountFilterFlagsPadding) === 0 &&
      reservedZero;
  }

  /** §11.3 selection, order and truncation (without the validity check). */
  private selectAccountTransfers(f: AccountFilter): Transfer[] {
    const debits = has(f.flags, 1);
    const credits = has(f.flags, 2);
    const lo = f.timestamp_min === 0n ? 1n : f.timestamp_min;
    const hi = f.timestamp_max === 0n ? TIMESTAMP_MAX : f.timestamp_max;
    const matches = [...this.state.transfers.values()].filter((t) =>
      ((debits && t.debit_account_id === f.account_id) || (credits && t.credit_account_id === f.account_id)) &&
      (f.user_data_128 === 0n || t.user_data_128 === f.user_data_128) &&
      (f.user_data_64 === 0n || t.user_data_64 === f.user_data_64) &&
      (f.user_data_32 === 0 || t.user_data_32 === f.user_data_32) &&
      (f.code === 0 || t.code === f.code) &&
      t.timestamp >= lo && t.timestamp <= hi);
    return orderAndTruncate(matches, has(f.flags, 4), f.limit);
  }

  getAccountTransfers(filter: AccountFilter): Transfer[] {
    this.prepare(0n);
    return this.accountTransfers(filter, true);
  }

  private accountTransfers(filter: AccountFilter, reservedZero: boolean): Transfer[] {
    if (!ModelLedger.accountFilterValid(filter, reservedZero)) return [];
    return this.selectAccountTransfers(filter).map((t) => ({ ...t }));
  }

  /** §11.4. */
  getAccountBalances(filter: AccountFilter): AccountBalance[] {
    this.prepare(0n);
    return this.accountBalances(filter, true);
  }

  private accountBalances(filter: AccountFilter, reservedZero: boolean): AccountBalance[] {
    if (!ModelLedger.accountFilterValid(filter, reservedZero)) return [];
    const a = this.state.accounts.get(filter.account_id);
    if (a === undefined || !has(a.flags, AccountFlags.history)) return [];
    return this.selectAccountTransfers(filter).map((t) => {
      const h = this.state.history.get(t.id)!;
      const b = t.debit_account_id === filter.account_id ? h.debit : h.credit;
      return { ...b, timestamp: t.timestamp };
    });
  }

  /** §11.5 validity. `reservedZero`: the reserved bytes (not in the object). */
  private static queryFilterValid(f: QueryFilter, reservedZero: boolean): boolean {
    return (f.timestamp_min === 0n || validTimestamp(f.timestamp_min)) &&
      (f.timestamp_max === 0n || validTimestamp(f.timestamp_max)) &&
      (f.timestamp_max === 0n || f.timestamp_min <= f.timestamp_max) &&
      f.limit !== 0 &&
      (f.flags & queryFilterFlagsPadding) === 0 &&
      reservedZero;
  }

  private static queryMatches(f: QueryFilter, o: Account | Transfer): boolean {
    const lo = f.timestamp_min === 0n ? 1n : f.timestamp_min;
    const hi = f.timestamp_max === 0n ? TIMESTAMP_MAX : f.timestamp_max;
    return (f.user_data_128 === 0n || o.user_data_128 === f.user_data_128) &&
      (f.user_data_64 === 0n || o.user_data_64 === f.user_data_64) &&
      (f.user_data_32 === 0 || o.user_data_32 === f.user_data_32) &&
      (f.ledger === 0 || o.ledger === f.ledger) &&
      (f.code === 0 || o.code === f.code) &&
      o.timestamp >= lo && o.timestamp <= hi;
  }

  queryAccounts(filter: QueryFilter): Account[] {
    this.prepare(0n);
    return this.queryObjects(this.state.accounts, filter, true);
  }

  queryTransfers(filter: QueryFilter): Transfer[] {
    this.prepare(0n);
    return this.queryObjects(this.state.transfers, filter, true);
  }

  private queryObjects<T extends Account | Transfer>(table: Map<bigint, T>, filter: QueryFilter, reservedZero: boolean): T[] {
    if (!ModelLedger.queryFilterValid(filter, reservedZero)) return [];
    const matches = [...table.values()].filter((o) => ModelLedger.queryMatches(filter, o));
    return orderAndTruncate(matches, has(filter.flags, 1), filter.limit).map((o) => ({ ...o }));
  }

  // ---------------------------------------------------------------------------------------------
  // Request level (the VOPR auditor): a committed prepare's operation, timestamp P and body in,
  // the reply body out, encoded exactly as the replica must encode it (wire.md §8, ledger.md §2).
  // ---------------------------------------------------------------------------------------------

  /**
   * Executes one committed request of operation 140–147 with prepare timestamp P = `timestamp`
   * (§5: events get consecutive timestamps ending at P) and returns the multi-batch reply body.
   * The body must be valid (§12): the replica evicts the sender of an invalid one, so it never
   * commits. Operation 4 (pulse) goes to `pulse(timestamp)`.
   */
  execute(operation: number, timestamp: bigint, body: Uint8Array): Uint8Array {
    this.advanceTo(timestamp);
    switch (operation) {
      case Operation.create_accounts: {
        const results = this.createAccountsAt(timestamp, decodeBatches(body, accountSize, decodeAccount));
        return encodeBatches(results, createResultSize, encodeCreateResult);
      }
      case Operation.create_transfers: {
        const results = this.createTransfersAt(timestamp, decodeBatches(body, transferSize, decodeTransfer));
        return encodeBatches(results, createResultSize, encodeCreateResult);
      }
      case Operation.lookup_accounts:
        return encodeBatches(decodeBatches(body, idSize, readU128).map((ids) => this.findAccounts(ids)),
          accountSize, encodeAccount);
      case Operation.lookup_transfers:
        return encodeBatches(decodeBatches(body, idSize, readU128).map((ids) => this.findTransfers(ids)),
          transferSize, encodeTransfer);
      case Operation.get_account_transfers:
        return encodeBatches(decodeBatches(body, accountFilterSize, decodeAccountFilterEvent)
          .map((batch) => this.accountTransfers(onlyFilter(batch).filter, onlyFilter(batch).reservedZero)),
          transferSize, encodeTransfer);
      case Operation.get_account_balances:
        return encodeBatches(decodeBatches(body, accountFilterSize, decodeAccountFilterEvent)
          .map((batch) => this.accountBalances(onlyFilter(batch).filter, onlyFilter(batch).reservedZero)),
          accountBalanceSize, encodeAccountBalance);
      case Operation.query_accounts:
        return encodeBatches(decodeBatches(body, queryFilterSize, decodeQueryFilterEvent)
          .map((batch) => this.queryObjects(this.state.accounts, onlyFilter(batch).filter, onlyFilter(batch).reservedZero)),
          accountSize, encodeAccount);
      case Operation.query_transfers:
        return encodeBatches(decodeBatches(body, queryFilterSize, decodeQueryFilterEvent)
          .map((batch) => this.queryObjects(this.state.transfers, onlyFilter(batch).filter, onlyFilter(batch).reservedZero)),
          transferSize, encodeTransfer);
      default:
        throw new AssertionError(`ModelLedger.execute: operation ${operation} is not a ledger operation`);
    }
  }

  /** A committed prepare's timestamp becomes prev; prepare timestamps increase in op order (§5). */
  private advanceTo(timestamp: bigint): void {
    assert(timestamp > this.prev && timestamp <= TIMESTAMP_MAX,
      `ModelLedger: prepare timestamp ${timestamp} does not follow ${this.prev}`);
    this.prev = timestamp;
  }
}

/** §5 rule 2: the events over all batches. */
function eventTotal(batches: readonly (readonly unknown[])[]): number {
  return batches.reduce((sum, b) => sum + b.length, 0);
}

/** §11.3: ascending by timestamp (descending if reversed), truncated to min(limit, 8189). */
function orderAndTruncate<T extends { timestamp: bigint }>(items: T[], reversed: boolean, limit: number): T[] {
  const sorted = [...items].sort((x, y) => (x.timestamp < y.timestamp ? -1 : x.timestamp > y.timestamp ? 1 : 0));
  if (reversed) sorted.reverse();
  return sorted.slice(0, Math.min(limit, QUERY_RESULTS_MAX));
}

// ---- request decoding and reply encoding (wire.md §8; ledger.md §2) ----

/** A request body's batches as objects. The body must decode (a committed body always does). */
function decodeBatches<E>(body: Uint8Array, eventSize: number, decode: (view: DataView, offset: number) => E): E[][] {
  const reader = decodeMultiBatch(body, eventSize);
  assert(typeof reader !== "string", `ModelLedger: request body does not decode: ${String(reader)}`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const batches: E[][] = [];
  for (let k = 0; k < reader.batchCount; k++) {
    const offset = reader.batchOffset(k);
    const batch: E[] = [];
    for (let i = 0; i < reader.elementCount(k); i++) batch.push(decode(view, offset + i * eventSize));
    batches.push(batch);
  }
  return batches;
}

/** Result objects per batch → a multi-batch reply body. */
function encodeBatches<R>(batches: R[][], resultSize: number, encode: (view: DataView, offset: number, result: R) => void): Uint8Array {
  return encodeMultiBatch(batches.map((batch) => {
    const bytes = new Uint8Array(batch.length * resultSize);
    const view = new DataView(bytes.buffer);
    batch.forEach((result, i) => encode(view, i * resultSize, result));
    return bytes;
  }), resultSize);
}

/** §3: a query batch is exactly one filter (a valid body guarantees it, §12). */
function onlyFilter<F>(batch: F[]): F {
  assert(batch.length === 1, "ModelLedger: a query batch is one filter");
  return batch[0]!;
}

function bytesZero(view: DataView, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (view.getUint8(offset + i) !== 0) return false;
  return true;
}

/** §2.4, with whether the 58 reserved bytes are zero (§11.2 rule 6). */
function decodeAccountFilterEvent(view: DataView, offset: number): { filter: AccountFilter; reservedZero: boolean } {
  const o = AccountFilterOffset;
  return {
    filter: {
      account_id: readU128(view, offset + o.account_id),
      user_data_128: readU128(view, offset + o.user_data_128),
      user_data_64: view.getBigUint64(offset + o.user_data_64, true),
      user_data_32: view.getUint32(offset + o.user_data_32, true),
      code: view.getUint16(offset + o.code, true),
      timestamp_min: view.getBigUint64(offset + o.timestamp_min, true),
      timestamp_max: view.getBigUint64(offset + o.timestamp_max, true),
      limit: view.getUint32(offset + o.limit, true),
      flags: view.getUint32(offset + o.flags, true),
    },
    reservedZero: bytesZero(view, offset + o.reserved, accountFilterReservedSize),
  };
}

/** §2.5, with whether the 6 reserved bytes are zero (§11.5). */
function decodeQueryFilterEvent(view: DataView, offset: number): { filter: QueryFilter; reservedZero: boolean } {
  const o = QueryFilterOffset;
  return {
    filter: {
      user_data_128: readU128(view, offset + o.user_data_128),
      user_data_64: view.getBigUint64(offset + o.user_data_64, true),
      user_data_32: view.getUint32(offset + o.user_data_32, true),
      ledger: view.getUint32(offset + o.ledger, true),
      code: view.getUint16(offset + o.code, true),
      timestamp_min: view.getBigUint64(offset + o.timestamp_min, true),
      timestamp_max: view.getBigUint64(offset + o.timestamp_max, true),
      limit: view.getUint32(offset + o.limit, true),
      flags: view.getUint32(offset + o.flags, true),
    },
    reservedZero: bytesZero(view, offset + o.reserved, queryFilterReservedSize),
  };
}

/** §2.6: timestamp u64, status u32, reserved u32 (zero). */
function encodeCreateResult(view: DataView, offset: number, r: { timestamp: bigint; status: number }): void {
  view.setBigUint64(offset, r.timestamp, true);
  view.setUint32(offset + 8, r.status, true);
  view.setUint32(offset + 12, 0, true);
}

/** §2.3: four u128 balances, the timestamp, 56 reserved zero bytes (a fresh buffer is zero). */
function encodeAccountBalance(view: DataView, offset: number, b: AccountBalance): void {
  const o = AccountBalanceOffset;
  writeU128(view, offset + o.debits_pending, b.debits_pending);
  writeU128(view, offset + o.debits_posted, b.debits_posted);
  writeU128(view, offset + o.credits_pending, b.credits_pending);
  writeU128(view, offset + o.credits_posted, b.credits_posted);
  view.setBigUint64(offset + o.timestamp, b.timestamp, true);
}
