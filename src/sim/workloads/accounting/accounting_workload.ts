// The accounting workload and auditor (spec/vopr.md §12): random ledger requests for every client
// operation, and an auditor that checks every committed reply against the reference model
// (ledger_model.ts) **byte for byte**.
//
// Why byte for byte works: the simulator feeds commits in op order with the primary's prepare
// timestamps (§11.2), and a ledger reply is a pure function of the committed history and P (ledger.md
// §5). So the model, executing the same requests at the same timestamps, must produce the very same
// reply body: every status, every timestamp, every looked-up or queried object, every padding byte.
// That is stronger than TigerBeetle's per-event result sets, and it means the generator does not
// need to predict outcomes (no TransferPlan encoded in ids): it only needs to aim requests at
// interesting states, which it does by reading the model and the outcomes it learns at commit.
//
// Requests are always valid bodies (ledger.md §12) whose worst-case reply fits the replica's
// message body: an invalid body evicts the client, and a reply that cannot fit would be a
// replica assertion. Both are asserted here, per request. Invalid *events* and invalid *filters*
// are generated on purpose; they are answered with statuses and empty results, not evictions.
import { assert, unreachable } from "../../core/assert.js";
import { Operation, operationName } from "../../core/command.js";
import { testConfig } from "../../core/config.js";
import { StateMachine } from "../../core/ledger/state_machine.js";
import { decodeResults, encodeEvents, operationCodecs, type OperationCodec } from "../../core/ledger/object_codec.js";
import {
  AccountFilterOffset,
  AccountFlags as AF,
  QueryFilterOffset,
  TransferFlags as TF,
  accountFilterReservedSize,
  accountFilterSize,
  accountSize,
  decodeAccount,
  decodeCreateResult,
  decodeTransfer,
  idSize,
  isTransientTransferStatus,
  queryFilterReservedSize,
  queryFilterSize,
  transferSize,
  type Account,
  type AccountFilter,
  type QueryFilter,
  type Transfer,
} from "../../core/layouts.js";
import { decodeMultiBatch, trailerSize } from "../../core/multi_batch.js";
import type { Prng } from "../../core/prng.js";
import { LedgerStateMachine } from "../../replica/state_machine.js";
import { AMOUNT_MAX, ModelLedger, TIMESTAMP_MAX } from "./ledger_model.js";
import type { Workload, WorkloadFactory, WorkloadOptions } from "./workload.js";

const U128_MAX = AMOUNT_MAX;
/** Lookup and query results are Accounts, Transfers or AccountBalances: 128 bytes each. */
const objectSize = 128;
/** §12.1: at most this many pending transfers are aimed at (and the retry rings' size). */
const pendingMax = 256;
const ringSize = 128;

/** The operations, in the order of the weights drawn (and printed). */
const operations = [
  Operation.create_accounts, Operation.create_transfers, Operation.lookup_accounts, Operation.lookup_transfers,
  Operation.get_account_transfers, Operation.get_account_balances, Operation.query_accounts,
  Operation.query_transfers,
] as const;

type IdPermutation = "sequential" | "reversed" | "zigzag" | "random";

/** Everything drawn per run (§12.1); percentages are integers out of 100. */
export interface AccountingOptions {
  readonly weights: readonly number[];
  readonly accountsMax: number;
  readonly accountIdBase: bigint;
  readonly transferIds: IdPermutation;
  readonly ledgers: number;
  /** Of a request's event capacity, the share a request fills at most. */
  readonly batchFillPercent: number;
  readonly queryLimitMax: number;
  readonly linkedPercent: number;
  readonly invalidPercent: number;
  readonly retryPercent: number;
  readonly pendingPercent: number;
  readonly timeoutPercent: number;
  readonly postVoidPercent: number;
  readonly balancingPercent: number;
  readonly closingPercent: number;
  readonly accountLimitPercent: number;
  readonly historyPercent: number;
  readonly importedPercent: number;
  /** Transfers whose accounts exist and share a ledger (else: any account id of the space). */
  readonly validAccountsPercent: number;
}

export function drawAccountingOptions(prng: Prng): AccountingOptions {
  const weights = operations.map((operation) =>
    operation === Operation.create_accounts ? prng.range(1, 10)
      : operation === Operation.create_transfers ? prng.range(1, 100) : prng.range(1, 20));
  const bases = [0n, 1n << 64n, 1n << 127n];
  const permutations: IdPermutation[] = ["sequential", "reversed", "zigzag", "random"];
  return {
    weights,
    accountsMax: prng.range(2, 128),
    accountIdBase: prng.pick(bases),
    transferIds: prng.pick(permutations),
    ledgers: prng.range(1, 3),
    batchFillPercent: prng.range(1, 100),
    queryLimitMax: prng.range(1, 29),
    linkedPercent: prng.range(0, 30),
    invalidPercent: 1,
    retryPercent: prng.range(1, 10),
    pendingPercent: prng.range(1, 100),
    timeoutPercent: prng.range(0, 100),
    postVoidPercent: prng.range(1, 50),
    balancingPercent: prng.range(0, 20),
    closingPercent: prng.range(0, 5),
    accountLimitPercent: prng.range(0, 80),
    historyPercent: prng.range(0, 80),
    importedPercent: prng.range(0, 5),
    validAccountsPercent: prng.range(70, 100),
  };
}

export function createAccountingWorkload(prng: Prng, options: WorkloadOptions): AccountingWorkload {
  return new AccountingWorkload(prng, options, drawAccountingOptions(prng));
}

export const accountingWorkloadFactory: WorkloadFactory = {
  stateMachine: "accounting",
  createStateMachine: () => new LedgerStateMachine(),
  createWorkload: (prng, options) => createAccountingWorkload(prng, options),
};

/** A fixed-size ring of recent items, for retries. */
class Ring<T> {
  readonly items: T[] = [];
  private next = 0;

  push(item: T): void {
    if (this.items.length < ringSize) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % ringSize;
  }
}

export class AccountingWorkload implements Workload {
  readonly model = new ModelLedger();
  readonly batchSizeLimit: number;
  readonly replyBodySizeMax: number;
  requests = 0;
  commits = 0;
  pulses = 0;
  /**
   * Coverage, for tests and logs: create results by operation and status ("create_transfers:35",
   * "create_accounts:created"), and objects returned by lookups and queries ("query_accounts:results").
   */
  readonly statuses = new Map<string, number>();
  /** Transfer indexes handed out (ids via the permutation); index 0 is never used. */
  private transferIndex = 0;
  /** Learned at commit: created ids, pending ids still worth aiming at, object timestamps. */
  private readonly accountIds: bigint[] = [];
  /** Account ids ever put in a request by newAccountId (possibly not created: failed or lost). */
  private readonly accountIdsSubmitted = new Set<bigint>();
  private readonly transferIdsCreated: bigint[] = [];
  private pendingIds: bigint[] = [];
  private readonly timestamps = new Ring<bigint>();
  /** Submitted transfers that were created (retries give `exists`) or failed transiently (68). */
  private readonly createdRing = new Ring<Transfer>();
  private readonly failedRing = new Ring<Transfer>();

  constructor(
    private readonly prng: Prng,
    private readonly options: WorkloadOptions,
    readonly drawn: AccountingOptions,
  ) {
    this.batchSizeLimit = options.batchSizeLimit;
    this.replyBodySizeMax = options.replyBodySizeMax ?? testConfig.messageBodySizeMax;
    assert(this.batchSizeLimit >= 2 * transferSize, "AccountingWorkload: batch_size_limit below one 128-byte event and its trailer");
    assert(this.replyBodySizeMax >= 2 * objectSize, "AccountingWorkload: reply body too small");
    assert(options.multiBatchPerRequestLimit >= 1, "AccountingWorkload: multi_batch_per_request_limit");
  }

  // ---------------------------------------------------------------------------------------------
  // Workload
  // ---------------------------------------------------------------------------------------------

  nextRequest(clientIndex: number): { operation: number; body: Uint8Array } {
    assert(clientIndex >= 0 && clientIndex < this.options.clientCount, "AccountingWorkload: bad client index");
    const operation = this.chooseOperation();
    const body = this.buildBody(operation);
    // Every request must be accepted (§12) and answerable within one message.
    assert(StateMachine.validateRequest(operation, body, this.batchSizeLimit),
      `AccountingWorkload: generated an invalid ${operationName(operation)} body`);
    assert(StateMachine.replySizeMax(operation, body) <= this.replyBodySizeMax,
      `AccountingWorkload: ${operationName(operation)}'s worst-case reply exceeds ${this.replyBodySizeMax} bytes`);
    this.requests += 1;
    return { operation, body };
  }

  onCommit(operation: number, timestamp: bigint, requestBody: Uint8Array, replyBody: Uint8Array): string | null {
    this.commits += 1;
    if (!(operations as readonly number[]).includes(operation)) return `accounting: unexpected operation ${operation}`;
    const expected = this.model.execute(operation, timestamp, requestBody);
    this.learn(operation, requestBody, expected);
    if (bytesEqual(expected, replyBody)) return null;
    return describeMismatch(operation, timestamp, expected, replyBody);
  }

  onPulse(timestamp: bigint): void {
    this.model.pulse(timestamp);
    this.pulses += 1;
  }

  describe(): string {
    const d = this.drawn;
    const weights = operations.map((operation, i) => `${operationName(operation)}:${d.weights[i]}`).join(",");
    return `workload=accounting weights=${weights} accounts_max=${d.accountsMax} account_id_base=${d.accountIdBase}` +
      ` transfer_ids=${d.transferIds} ledgers=${d.ledgers} batch_fill=${d.batchFillPercent}%` +
      ` query_limit_max=${d.queryLimitMax} linked=${d.linkedPercent}% invalid=${d.invalidPercent}%` +
      ` retry=${d.retryPercent}% pending=${d.pendingPercent}% timeout=${d.timeoutPercent}%` +
      ` post_void=${d.postVoidPercent}% balancing=${d.balancingPercent}% closing=${d.closingPercent}%` +
      ` account_limit=${d.accountLimitPercent}% history=${d.historyPercent}% imported=${d.importedPercent}%` +
      ` valid_accounts=${d.validAccountsPercent}% batch_size_limit=${this.batchSizeLimit}` +
      ` multi_batch_per_request_limit=${this.options.multiBatchPerRequestLimit} reply_body_max=${this.replyBodySizeMax}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Choosing and framing requests
  // ---------------------------------------------------------------------------------------------

  private chooseOperation(): number {
    // §12.1: early in a run, create_accounts is forced half of the time.
    const early = Math.max(2, Math.floor(this.drawn.accountsMax / 4));
    if (this.accountIds.length < early && this.chance(50)) return Operation.create_accounts;
    const weights = this.drawn.weights;
    let pick = this.prng.int(weights.reduce((sum, w) => sum + w, 0));
    for (let i = 0; i < operations.length; i++) {
      if (pick < weights[i]!) return operations[i]!;
      pick -= weights[i]!;
    }
    return unreachable(undefined, "AccountingWorkload: operation weights");
  }

  private buildBody(operation: number): Uint8Array {
    switch (operation) {
      case Operation.create_accounts:
        return encodeEvents(operationCodecs.createAccounts, this.eventBatches(accountSize, (n) => this.accountBatch(n)));
      case Operation.create_transfers:
        return encodeEvents(operationCodecs.createTransfers, this.eventBatches(transferSize, (n) => this.transferBatch(n)));
      case Operation.lookup_accounts:
        return encodeEvents(operationCodecs.lookupAccounts, this.eventBatches(idSize, (n) => this.ids(n, () => this.lookupAccountId())));
      case Operation.lookup_transfers:
        return encodeEvents(operationCodecs.lookupTransfers, this.eventBatches(idSize, (n) => this.ids(n, () => this.lookupTransferId())));
      case Operation.get_account_transfers:
      case Operation.get_account_balances:
        return this.queryBody(operation, accountFilterSize, (limit) => this.accountFilter(limit));
      default:
        return this.queryBody(operation, queryFilterSize, (limit) => this.queryFilter(limit));
    }
  }

  /** How many batches fit with at least `elementSize` each and a trailer, within the limits. */
  private batchCount(elementSize: number, perBatchMin: number): number {
    let b = this.prng.range(1, this.options.multiBatchPerRequestLimit);
    const fits = (count: number): boolean =>
      count * perBatchMin * elementSize + trailerSize(elementSize, count) <= this.batchSizeLimit &&
      count * perBatchMin * objectSize + trailerSize(objectSize, count) <= this.replyBodySizeMax;
    while (b > 1 && !fits(b)) b -= 1;
    assert(fits(b), "AccountingWorkload: not even one batch fits");
    return b;
  }

  /** Create and lookup requests: events spread over the batches; linked chains stay in a batch. */
  private eventBatches<E>(eventSize: number, batch: (n: number) => E[]): E[][] {
    const b = this.batchCount(eventSize, 0);
    let capacity = Math.floor((this.batchSizeLimit - trailerSize(eventSize, b)) / eventSize);
    // Lookups answer with 128-byte objects for 16-byte ids: bound the worst case (all found).
    if (eventSize === idSize) capacity = Math.min(capacity, Math.floor((this.replyBodySizeMax - trailerSize(objectSize, b)) / objectSize));
    const span = Math.max(1, Math.ceil((capacity * this.drawn.batchFillPercent) / 100));
    const total = this.chance(2) ? 0 : this.prng.range(1, span);
    const counts = new Array<number>(b).fill(0);
    for (let i = 0; i < total; i++) counts[this.prng.int(b)]! += 1;
    return counts.map((n) => batch(n));
  }

  /** Query requests: one filter per batch, limits summing to what one reply can hold. */
  private queryBody(operation: number, filterSize: number, filter: (limit: number) => AccountFilter | QueryFilter): Uint8Array {
    const b = this.batchCount(filterSize, 1);
    const budget = Math.floor((this.replyBodySizeMax - trailerSize(objectSize, b)) / objectSize);
    const perFilterMax = Math.max(1, Math.min(this.drawn.queryLimitMax, Math.floor(budget / b)));
    const filters = Array.from({ length: b }, () => [filter(this.prng.range(1, perFilterMax))]);
    const codec = codecOf(operation) as OperationCodec<AccountFilter | QueryFilter, unknown>;
    const body = encodeEvents(codec, filters);
    // A non-zero reserved byte makes a filter invalid (§11.2 rule 6); the encoders write zeros.
    if (this.chance(this.drawn.invalidPercent)) {
      const k = this.prng.int(b);
      const [at, size] = filterSize === accountFilterSize
        ? [AccountFilterOffset.reserved, accountFilterReservedSize] : [QueryFilterOffset.reserved, queryFilterReservedSize];
      body[k * filterSize + at + this.prng.int(size)] = 1 + this.prng.int(255);
    }
    return body;
  }

  // ---------------------------------------------------------------------------------------------
  // Accounts
  // ---------------------------------------------------------------------------------------------

  private accountId(k: number): bigint {
    return this.drawn.accountIdBase + BigInt(k);
  }

  /** An id of the account space [1, accounts_max]. */
  private anyAccountId(): bigint {
    return this.accountId(this.prng.range(1, this.drawn.accountsMax));
  }

  /** Usually an id never submitted before (while there are any), so that the ledger fills up. */
  private newAccountId(): bigint {
    const max = this.drawn.accountsMax;
    if (this.accountIdsSubmitted.size >= max || this.chance(30)) return this.anyAccountId();
    let k = this.prng.range(1, max);
    while (this.accountIdsSubmitted.has(this.accountId(k))) k = k === max ? 1 : k + 1;
    this.accountIdsSubmitted.add(this.accountId(k));
    return this.accountId(k);
  }

  private accountBatch(n: number): Account[] {
    const imported = this.chance(this.drawn.importedPercent);
    let importedTimestamp = this.importedTimestampBase();
    const batch: Account[] = [];
    for (let i = 0; i < n; i++) {
      const retry = this.chance(this.drawn.retryPercent * 3) && this.accountIds.length > 0;
      const a = retry ? this.accountRetry() : this.newAccount();
      if (!retry && this.chance(this.drawn.linkedPercent)) a.flags |= AF.linked;
      if (imported && !this.chance(2)) {
        a.flags |= AF.imported;
        importedTimestamp += BigInt(this.prng.range(1, 3));
        a.timestamp = this.chance(2) ? this.rawTimestamp() : importedTimestamp;
      }
      if (this.chance(this.drawn.invalidPercent)) this.spoilAccount(a);
      batch.push(a);
    }
    return batch;
  }

  private newAccount(): Account {
    const d = this.drawn;
    let flags = 0;
    if (this.chance(d.accountLimitPercent)) flags |= this.prng.boolean() ? AF.debits_must_not_exceed_credits : AF.credits_must_not_exceed_debits;
    if (this.chance(d.historyPercent)) flags |= AF.history;
    if (this.chance(2)) flags |= AF.closed;
    return {
      id: this.newAccountId(), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
      user_data_128: this.small128(), user_data_64: this.small64(), user_data_32: this.small32(), reserved: 0,
      ledger: this.prng.range(1, d.ledgers), code: this.prng.range(1, 3), flags, timestamp: 0n,
    };
  }

  /** A stored account resubmitted (→ exists), sometimes with one field changed (→ exists_with_*). */
  private accountRetry(): Account {
    const stored = this.model.peekAccount(this.prng.pick(this.accountIds))!;
    const a: Account = {
      ...stored, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
      flags: stored.flags & ~AF.imported, timestamp: 0n,
    };
    switch (this.prng.int(8)) {
      case 0: a.flags ^= AF.history; break;
      case 1: a.user_data_128 += 1n; break;
      case 2: a.user_data_64 ^= 1n; break;
      case 3: a.user_data_32 ^= 1; break;
      case 4: a.ledger += 1; break;
      case 5: a.code = a.code === 1 ? 2 : 1; break;
      default: break; // identical
    }
    return a;
  }

  /** One of §7's failures (or §6.3.2.d's): reserved, padding, ids, exclusive flags, balances, 0s. */
  private spoilAccount(a: Account): void {
    switch (this.prng.int(9)) {
      case 0: a.reserved = 1 + this.prng.int(1000); break;
      case 1: a.flags |= 1 << this.prng.range(6, 15); break;
      case 2: a.id = 0n; break;
      case 3: a.id = U128_MAX; break;
      case 4: a.flags |= AF.debits_must_not_exceed_credits | AF.credits_must_not_exceed_debits; break;
      case 5: a[this.prng.pick(["debits_pending", "debits_posted", "credits_pending", "credits_posted"] as const)] = 1n; break;
      case 6: a.ledger = 0; break;
      case 7: a.code = 0; break;
      default: if ((a.flags & AF.imported) === 0) a.timestamp = 1n + BigInt(this.prng.int(1000)); break;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Transfers
  // ---------------------------------------------------------------------------------------------

  /** The reversible IdPermutation of §12.1: index (≥ 1) → a non-zero u128 id. */
  private transferId(index: number): bigint {
    const n = BigInt(index);
    switch (this.drawn.transferIds) {
      case "sequential": return n;
      case "reversed": return (1n << 64n) - n;
      case "zigzag": return index % 2 === 1 ? n : (1n << 64n) - n;
      case "random": return (n * 0x9e3779b97f4a7c15f39cc0605cedc835n) & U128_MAX;
    }
  }

  private freshTransferId(): bigint {
    this.transferIndex += 1;
    return this.transferId(this.transferIndex);
  }

  private transferBatch(n: number): Transfer[] {
    const imported = this.chance(this.drawn.importedPercent);
    let importedTimestamp = this.importedTimestampBase();
    const batch: Transfer[] = [];
    for (let i = 0; i < n; i++) {
      const t = this.transfer();
      if (this.chance(this.drawn.linkedPercent)) t.flags |= TF.linked;
      if (imported && !this.chance(2)) {
        t.flags |= TF.imported;
        t.timeout = this.chance(90) ? 0 : t.timeout; // imported transfers cannot expire (63)
        importedTimestamp += BigInt(this.prng.range(1, 3));
        t.timestamp = this.chance(2) ? this.rawTimestamp() : importedTimestamp;
      }
      if (this.chance(this.drawn.invalidPercent)) this.spoilTransfer(t);
      batch.push(t);
    }
    return batch;
  }

  private transfer(): Transfer {
    const d = this.drawn;
    if (this.chance(d.retryPercent)) {
      const retry = this.transferRetry();
      if (retry !== null) return retry;
    }
    if (this.chance(d.postVoidPercent)) {
      const resolve = this.postOrVoid();
      if (resolve !== null) return resolve;
    }
    return this.singlePhaseOrPending();
  }

  /** §8.4: a single-phase or pending transfer between two accounts (usually existing ones). */
  private singlePhaseOrPending(): Transfer {
    const d = this.drawn;
    const [debit, credit] = this.accountPair();
    const dr = this.model.peekAccount(debit);
    let flags = 0;
    let timeout = 0;
    const pending = this.pendingIds.length < pendingMax && this.chance(d.pendingPercent);
    if (pending) {
      flags |= TF.pending;
      // Mean ~1 s (§12.1) so that pulses fire during a run.
      if (this.chance(d.timeoutPercent)) timeout = Math.max(1, Math.round(this.prng.exponential(1000) / 1000));
      if (this.chance(d.closingPercent)) flags |= this.prng.boolean() ? TF.closing_debit : TF.closing_credit;
    }
    if (this.chance(d.balancingPercent)) flags |= this.prng.boolean() ? TF.balancing_debit : TF.balancing_credit;
    return {
      id: this.chance(5) && this.transferIndex > 0 ? this.transferId(this.prng.range(1, this.transferIndex)) : this.freshTransferId(),
      debit_account_id: debit, credit_account_id: credit, amount: this.amount((flags & (TF.balancing_debit | TF.balancing_credit)) !== 0),
      pending_id: 0n, user_data_128: this.small128(), user_data_64: this.small64(), user_data_32: this.small32(),
      timeout, ledger: dr?.ledger ?? this.prng.range(1, d.ledgers), code: this.prng.range(1, 3), flags, timestamp: 0n,
    };
  }

  /** Two different account ids: usually created accounts of one ledger, else anything in the space. */
  private accountPair(): [bigint, bigint] {
    const debit = this.accountIds.length > 0 && this.chance(this.drawn.validAccountsPercent)
      ? this.prng.pick(this.accountIds) : this.anyAccountId();
    const ledger = this.model.peekAccount(debit)?.ledger;
    for (let attempt = 0; attempt < 8; attempt++) {
      const credit = this.accountIds.length > 1 && this.chance(this.drawn.validAccountsPercent)
        ? this.prng.pick(this.accountIds) : this.anyAccountId();
      if (credit === debit) continue;
      if (attempt < 4 && ledger !== undefined && this.model.peekAccount(credit)?.ledger !== ledger) continue;
      return [debit, credit];
    }
    return [debit, debit === this.accountId(1) ? this.accountId(2) : this.accountId(1)];
  }

  private amount(balancing: boolean): bigint {
    const r = this.prng.int(100);
    if (balancing && r < 30) return AMOUNT_MAX;
    if (r < 5) return 0n;
    if (r < 80) return BigInt(this.prng.range(1, 100));
    if (r < 95) return BigInt(this.prng.range(1, 10_000));
    if (r < 98) return AMOUNT_MAX - BigInt(this.prng.int(10)); // overflows (47–52)
    return 1n << 127n;
  }

  /** §8.3: post or void a pending transfer: full, partial, AMOUNT_MAX, 0, or too much. */
  private postOrVoid(): Transfer | null {
    const p = this.pendingTarget();
    if (p === null) return null;
    const isVoid = this.prng.boolean();
    const r = this.prng.int(100);
    const partial = BigInt(this.prng.int(Number(p.amount < 1000n ? p.amount : 1000n) + 1));
    let amount: bigint;
    if (isVoid) amount = r < 50 ? 0n : r < 92 ? p.amount : r < 96 ? increment(p.amount) : partial;
    else amount = r < 40 ? p.amount : r < 65 ? partial : r < 85 ? AMOUNT_MAX : r < 95 ? 0n : increment(p.amount);
    const inherit = this.prng.boolean();
    return {
      id: this.freshTransferId(),
      debit_account_id: inherit ? 0n : this.chance(95) ? p.debit_account_id : this.anyAccountId(),
      credit_account_id: inherit ? 0n : p.credit_account_id,
      amount, pending_id: p.id,
      user_data_128: this.chance(50) ? 0n : this.small128(), user_data_64: this.chance(50) ? 0n : this.small64(),
      user_data_32: this.chance(50) ? 0 : this.small32(), timeout: 0,
      ledger: inherit ? 0 : p.ledger, code: inherit || this.chance(50) ? 0 : p.code,
      flags: isVoid ? TF.void_pending_transfer : TF.post_pending_transfer, timestamp: 0n,
    };
  }

  /** Usually a transfer still pending; sometimes a resolved/expired one, a non-pending one, or none. */
  private pendingTarget(): Transfer | null {
    this.pendingIds = this.pendingIds.filter((id) => this.model.pendingState(id) === "pending");
    const r = this.prng.int(100);
    let id: bigint | undefined;
    if (r < 80 && this.pendingIds.length > 0) id = this.prng.pick(this.pendingIds);
    else if (r < 95 && this.transferIdsCreated.length > 0) id = this.prng.pick(this.transferIdsCreated);
    if (id !== undefined) return this.model.peekTransfer(id) ?? null;
    if (this.transferIndex === 0) return null;
    // Not (yet) created: pending_transfer_not_found (25), a transient status.
    const missing = this.transferId(this.prng.range(1, this.transferIndex));
    return {
      id: missing, debit_account_id: 0n, credit_account_id: 0n, amount: 10n, pending_id: 0n, user_data_128: 0n,
      user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 0, code: 0, flags: TF.pending, timestamp: 0n,
    };
  }

  /** A submitted transfer again: created ones give exists (or exists_with_* when changed), failed ones 68. */
  private transferRetry(): Transfer | null {
    const ring = this.prng.boolean() ? this.createdRing : this.failedRing;
    if (ring.items.length === 0) return null;
    const base = this.prng.pick(ring.items);
    const t: Transfer = { ...base, flags: base.flags & ~TF.linked };
    switch (this.prng.int(12)) {
      case 0: t.amount = increment(t.amount); break;
      case 1: t.user_data_64 ^= 1n; break;
      case 2: t.code = t.code === 1 ? 2 : 1; break;
      case 3: t.flags ^= TF.pending; break;
      case 4: t.user_data_128 ^= 1n; break;
      case 5: t.user_data_32 ^= 1; break;
      default: break; // identical
    }
    return t;
  }

  /** One of §8's early failures: padding, ids, same accounts, misplaced fields, zeros, ledgers. */
  private spoilTransfer(t: Transfer): void {
    switch (this.prng.int(13)) {
      case 0: t.flags |= 1 << this.prng.range(9, 15); break;
      case 1: t.id = 0n; break;
      case 2: t.id = U128_MAX; break;
      case 3: t.debit_account_id = this.prng.boolean() ? 0n : U128_MAX; break;
      case 4: t.credit_account_id = this.prng.boolean() ? 0n : U128_MAX; break;
      case 5: t.credit_account_id = t.debit_account_id; break;
      case 6: t.pending_id = t.pending_id === 0n ? 1n : this.prng.pick([0n, U128_MAX, t.id]); break;
      case 7: t.timeout = t.timeout === 0 ? 1 : t.timeout; t.flags &= ~TF.pending; break;
      case 8: t.ledger = 0; break;
      case 9: t.code = 0; break;
      case 10: t.ledger += 1; break; // transfer_must_have_the_same_ledger_as_accounts
      case 11: t.flags |= TF.closing_debit; t.flags &= ~TF.pending; break;
      default: if ((t.flags & TF.imported) === 0) t.timestamp = 1n; else t.flags |= TF.post_pending_transfer | TF.void_pending_transfer; break;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Lookups and queries
  // ---------------------------------------------------------------------------------------------

  private ids(n: number, id: () => bigint): bigint[] {
    return Array.from({ length: n }, id);
  }

  private lookupAccountId(): bigint {
    const r = this.prng.int(100);
    if (r < 3) return this.prng.boolean() ? 0n : U128_MAX;
    if (r < 10) return this.accountId(this.drawn.accountsMax + 1 + this.prng.int(4));
    return this.anyAccountId();
  }

  private lookupTransferId(): bigint {
    const r = this.prng.int(100);
    if (r < 3) return this.prng.boolean() ? 0n : U128_MAX;
    if (r < 70 && this.transferIdsCreated.length > 0) return this.prng.pick(this.transferIdsCreated);
    if (r < 85 && this.failedRing.items.length > 0) return this.prng.pick(this.failedRing.items).id; // orphans
    return this.transferId(this.prng.range(1, this.transferIndex + 4));
  }

  private accountFilter(limit: number): AccountFilter {
    const f: AccountFilter = {
      account_id: this.accountIds.length > 0 && this.chance(80) ? this.prng.pick(this.accountIds) : this.lookupAccountId(),
      user_data_128: this.chance(85) ? 0n : this.small128(), user_data_64: this.chance(85) ? 0n : this.small64(),
      user_data_32: this.chance(85) ? 0 : this.small32(), code: this.chance(80) ? 0 : this.prng.range(1, 3),
      timestamp_min: 0n, timestamp_max: 0n, limit, flags: this.prng.range(1, 3) | (this.prng.boolean() ? 4 : 0),
    };
    [f.timestamp_min, f.timestamp_max] = this.timestampRange();
    if (this.chance(this.drawn.invalidPercent * 2)) {
      switch (this.prng.int(4)) {
        case 0: f.flags &= 4; break; // neither debits nor credits
        case 1: f.limit = 0; break;
        case 2: f.flags |= 1 << this.prng.range(3, 31); f.flags >>>= 0; break;
        default: f.timestamp_min = 1n << 63n; break;
      }
    }
    return f;
  }

  private queryFilter(limit: number): QueryFilter {
    const f: QueryFilter = {
      user_data_128: this.chance(75) ? 0n : this.small128(), user_data_64: this.chance(75) ? 0n : this.small64(),
      user_data_32: this.chance(75) ? 0 : this.small32(), ledger: this.chance(70) ? 0 : this.prng.range(1, this.drawn.ledgers),
      code: this.chance(75) ? 0 : this.prng.range(1, 3), timestamp_min: 0n, timestamp_max: 0n, limit,
      flags: this.prng.boolean() ? 1 : 0,
    };
    [f.timestamp_min, f.timestamp_max] = this.timestampRange();
    if (this.chance(this.drawn.invalidPercent * 2)) {
      switch (this.prng.int(3)) {
        case 0: f.limit = 0; break;
        case 1: f.flags = (f.flags | (1 << this.prng.range(1, 31))) >>> 0; break;
        default: f.timestamp_max = 1n; f.timestamp_min = 2n; break;
      }
    }
    return f;
  }

  /** Mostly open; else bounds at (or next to) timestamps of objects that exist. */
  private timestampRange(): [bigint, bigint] {
    const known = this.timestamps.items;
    const near = (): bigint => {
      if (known.length === 0) return 0n;
      const t = this.prng.pick(known) + BigInt(this.prng.range(-1, 1));
      return t < 0n ? 0n : t;
    };
    const lo = this.chance(70) ? 0n : near();
    let hi = this.chance(70) ? 0n : near();
    if (hi !== 0n && hi < lo && this.chance(90)) hi = lo + BigInt(this.prng.int(3));
    return [lo, hi];
  }

  // ---------------------------------------------------------------------------------------------
  // Learning from commits (aims later requests; the check itself is byte for byte)
  // ---------------------------------------------------------------------------------------------

  private learn(operation: number, requestBody: Uint8Array, reply: Uint8Array): void {
    if (operation !== Operation.create_accounts && operation !== Operation.create_transfers) {
      const found = decodeMultiBatch(reply, objectSize);
      assert(typeof found !== "string");
      this.count(`${operationName(operation)}:results`, found.elementTotal);
      return;
    }
    const accounts = operation === Operation.create_accounts;
    const request = decodeMultiBatch(requestBody, accounts ? accountSize : transferSize);
    const results = decodeMultiBatch(reply, 16);
    assert(typeof request !== "string" && typeof results !== "string");
    const requestView = new DataView(requestBody.buffer, requestBody.byteOffset, requestBody.byteLength);
    const replyView = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    for (let k = 0; k < request.batchCount; k++) {
      for (let i = 0; i < request.elementCount(k); i++) {
        const result = decodeCreateResult(replyView, results.batchOffset(k) + 16 * i);
        this.count(`${operationName(operation)}:${result.status === 0xffff_ffff ? "created" : result.status}`, 1);
        const offset = request.batchOffset(k) + i * (accounts ? accountSize : transferSize);
        if (accounts) this.learnAccount(decodeAccount(requestView, offset), result.status, result.timestamp);
        else this.learnTransfer(decodeTransfer(requestView, offset), result.status, result.timestamp);
      }
    }
  }

  private count(key: string, n: number): void {
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + n);
  }

  private learnAccount(a: Account, status: number, timestamp: bigint): void {
    if (status !== 0xffff_ffff) return;
    this.accountIds.push(a.id);
    this.timestamps.push(timestamp);
  }

  private learnTransfer(t: Transfer, status: number, timestamp: bigint): void {
    if (status === 0xffff_ffff) {
      this.transferIdsCreated.push(t.id);
      this.timestamps.push(timestamp);
      this.createdRing.push(t);
      if ((t.flags & TF.pending) !== 0) this.pendingIds.push(t.id);
    } else if (isTransientTransferStatus(status)) {
      this.failedRing.push(t);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Small draws
  // ---------------------------------------------------------------------------------------------

  private chance(percent: number): boolean {
    return this.prng.chance(Math.min(100, Math.max(0, percent)), 100);
  }

  /** Small user_data values so that query conditions match often. */
  private small128(): bigint {
    return this.chance(40) ? 0n : BigInt(this.prng.range(1, 4));
  }

  private small64(): bigint {
    return this.chance(40) ? 0n : BigInt(this.prng.range(1, 4));
  }

  private small32(): number {
    return this.chance(40) ? 0 : this.prng.range(1, 4);
  }

  /** Imported timestamps just past the newest known object (a later commit may make them regress). */
  private importedTimestampBase(): bigint {
    return this.model.maxObjectTimestamp + BigInt(this.prng.range(0, 1000));
  }

  /** Out-of-range or boundary imported timestamps (§6 rule 3.2.d). */
  private rawTimestamp(): bigint {
    return this.prng.pick([0n, TIMESTAMP_MAX, 1n << 63n, (1n << 64n) - 1n]);
  }
}

function codecOf(operation: number): OperationCodec<unknown, unknown> {
  const codec = Object.values(operationCodecs).find((c) => c.operation === operation);
  assert(codec !== undefined, `no codec for operation ${operation}`);
  return codec as OperationCodec<unknown, unknown>;
}

/** x + 1 within u128 (AMOUNT_MAX wraps to 0, still a valid field). */
function increment(x: bigint): bigint {
  return x === AMOUNT_MAX ? 0n : x + 1n;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** The first difference between the model's reply and the replica's, decoded. */
export function describeMismatch(operation: number, timestamp: bigint, expected: Uint8Array, actual: Uint8Array): string {
  const codec = codecOf(operation);
  const prefix = `${operationName(operation)} at timestamp ${timestamp}:`;
  const want = decodeResults(codec, expected);
  const got = decodeResults(codec, actual);
  assert(typeof want !== "string", "the model's reply decodes");
  if (typeof got === "string") return `${prefix} the reply body does not decode (${got}); ${actual.length} bytes`;
  if (want.length !== got.length) return `${prefix} ${got.length} reply batches, expected ${want.length}`;
  for (let k = 0; k < want.length; k++) {
    const count = Math.max(want[k]!.length, got[k]!.length);
    for (let i = 0; i < count; i++) {
      const w = want[k]![i];
      const g = got[k]![i];
      if (show(w) === show(g)) continue;
      return `${prefix} batch ${k} result ${i} (of ${got[k]!.length}, expected ${want[k]!.length}):` +
        ` expected ${w === undefined ? "nothing" : show(w)}, got ${g === undefined ? "nothing" : show(g)}`;
    }
  }
  let at = 0;
  while (at < expected.length && expected[at] === actual[at]) at += 1;
  return `${prefix} decoded results agree, but the bodies differ at byte ${at} (expected ${expected[at]}, got ${actual[at]})`;
}
