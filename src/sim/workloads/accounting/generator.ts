// The accounting generator (spec/vopr.md §12.1): what requests to send. It chooses an operation by
// the drawn weights, frames its events or filters into a multi-batch body, and aims them at
// interesting states by reading the model and what it learned from commits. It does not predict
// outcomes: the auditor compares every reply with the model's, byte for byte.
//
// Requests are always valid bodies (ledger.md §12) whose worst-case reply fits the replica's
// message body: an invalid body evicts the client, and a reply that cannot fit would be a
// replica assertion. Both are asserted here, per request. Invalid *events* and invalid *filters*
// are generated on purpose; they are answered with statuses and empty results, not evictions.
import { assert, unreachable } from "../../../core/assert.js";
import { Operation, operationName } from "../../../core/command.js";
import { StateMachine } from "../../../core/ledger/state_machine.js";
import { encodeEvents, operationCodecs, type OperationCodec } from "../../../core/ledger/object_codec.js";
import {
  AccountFilterOffset,
  QueryFilterOffset,
  accountFilterReservedSize,
  accountFilterSize,
  accountSize,
  idSize,
  queryFilterReservedSize,
  queryFilterSize,
  transferSize,
  type AccountFilter,
  type QueryFilter,
} from "../../../core/layouts.js";
import { trailerSize } from "../../../core/multi_batch.js";
import type { Prng } from "../../../core/prng.js";
import { accountBatch } from "./accounts.js";
import { Draws, type ModelView } from "./draws.js";
import { objectSize, type Knowledge } from "./knowledge.js";
import { codecOf, operations, type AccountingOptions } from "./options.js";
import { accountFilter, lookupAccountId, lookupTransferId, queryFilter } from "./queries.js";
import { transferBatch } from "./transfers.js";

/** The request limits of the cluster (WorkloadOptions, with the reply limit resolved). */
export interface RequestLimits {
  readonly batchSizeLimit: number;
  readonly multiBatchPerRequestLimit: number;
  readonly replyBodySizeMax: number;
}

export class AccountingGenerator {
  private readonly d: Draws;

  constructor(
    private readonly prng: Prng,
    private readonly limits: RequestLimits,
    drawn: AccountingOptions,
    model: ModelView,
    known: Knowledge,
  ) {
    this.d = new Draws(prng, drawn, model, known);
  }

  /** A valid request whose worst-case reply fits one message. */
  nextRequest(): { operation: number; body: Uint8Array } {
    const operation = this.chooseOperation();
    const body = this.buildBody(operation);
    // Every request must be accepted (§12) and answerable within one message.
    assert(StateMachine.validateRequest(operation, body, this.limits.batchSizeLimit),
      `AccountingWorkload: generated an invalid ${operationName(operation)} body`);
    assert(StateMachine.replySizeMax(operation, body) <= this.limits.replyBodySizeMax,
      `AccountingWorkload: ${operationName(operation)}'s worst-case reply exceeds ${this.limits.replyBodySizeMax} bytes`);
    return { operation, body };
  }

  private chooseOperation(): number {
    // §12.1: early in a run, create_accounts is forced half of the time.
    const early = Math.max(2, Math.floor(this.d.drawn.accountsMax / 4));
    if (this.d.known.accountIds.length < early && this.d.chance(50)) return Operation.create_accounts;
    const weights = this.d.drawn.weights;
    let pick = this.prng.int(weights.reduce((sum, w) => sum + w, 0));
    for (let i = 0; i < operations.length; i++) {
      if (pick < weights[i]!) return operations[i]!;
      pick -= weights[i]!;
    }
    return unreachable(undefined, "AccountingWorkload: operation weights");
  }

  private buildBody(operation: number): Uint8Array {
    const d = this.d;
    switch (operation) {
      case Operation.create_accounts:
        return encodeEvents(operationCodecs.createAccounts, this.eventBatches(accountSize, (n) => accountBatch(d, n)));
      case Operation.create_transfers:
        return encodeEvents(operationCodecs.createTransfers, this.eventBatches(transferSize, (n) => transferBatch(d, n)));
      case Operation.lookup_accounts:
        return encodeEvents(operationCodecs.lookupAccounts, this.eventBatches(idSize, (n) => ids(n, () => lookupAccountId(d))));
      case Operation.lookup_transfers:
        return encodeEvents(operationCodecs.lookupTransfers, this.eventBatches(idSize, (n) => ids(n, () => lookupTransferId(d))));
      case Operation.get_account_transfers:
      case Operation.get_account_balances:
        return this.queryBody(operation, accountFilterSize, (limit) => accountFilter(d, limit));
      default:
        return this.queryBody(operation, queryFilterSize, (limit) => queryFilter(d, limit));
    }
  }

  /** How many batches fit with at least `elementSize` each and a trailer, within the limits. */
  private batchCount(elementSize: number, perBatchMin: number): number {
    const { batchSizeLimit, replyBodySizeMax } = this.limits;
    let b = this.prng.range(1, this.limits.multiBatchPerRequestLimit);
    const fits = (count: number): boolean =>
      count * perBatchMin * elementSize + trailerSize(elementSize, count) <= batchSizeLimit &&
      count * perBatchMin * objectSize + trailerSize(objectSize, count) <= replyBodySizeMax;
    while (b > 1 && !fits(b)) b -= 1;
    assert(fits(b), "AccountingWorkload: not even one batch fits");
    return b;
  }

  /** Create and lookup requests: events spread over the batches; linked chains stay in a batch. */
  private eventBatches<E>(eventSize: number, batch: (n: number) => E[]): E[][] {
    const { batchSizeLimit, replyBodySizeMax } = this.limits;
    const b = this.batchCount(eventSize, 0);
    let capacity = Math.floor((batchSizeLimit - trailerSize(eventSize, b)) / eventSize);
    // Lookups answer with 128-byte objects for 16-byte ids: bound the worst case (all found).
    if (eventSize === idSize) capacity = Math.min(capacity, Math.floor((replyBodySizeMax - trailerSize(objectSize, b)) / objectSize));
    const span = Math.max(1, Math.ceil((capacity * this.d.drawn.batchFillPercent) / 100));
    const total = this.d.chance(2) ? 0 : this.prng.range(1, span);
    const counts = new Array<number>(b).fill(0);
    for (let i = 0; i < total; i++) counts[this.prng.int(b)]! += 1;
    return counts.map((n) => batch(n));
  }

  /** Query requests: one filter per batch, limits summing to what one reply can hold. */
  private queryBody(operation: number, filterSize: number, filter: (limit: number) => AccountFilter | QueryFilter): Uint8Array {
    const b = this.batchCount(filterSize, 1);
    const budget = Math.floor((this.limits.replyBodySizeMax - trailerSize(objectSize, b)) / objectSize);
    const perFilterMax = Math.max(1, Math.min(this.d.drawn.queryLimitMax, Math.floor(budget / b)));
    const filters = Array.from({ length: b }, () => [filter(this.prng.range(1, perFilterMax))]);
    const codec = codecOf(operation) as OperationCodec<AccountFilter | QueryFilter, unknown>;
    const body = encodeEvents(codec, filters);
    // A non-zero reserved byte makes a filter invalid (§11.2 rule 6); the encoders write zeros.
    if (this.d.chance(this.d.drawn.invalidPercent)) {
      const k = this.prng.int(b);
      const [at, size] = filterSize === accountFilterSize
        ? [AccountFilterOffset.reserved, accountFilterReservedSize] : [QueryFilterOffset.reserved, queryFilterReservedSize];
      body[k * filterSize + at + this.prng.int(size)] = 1 + this.prng.int(255);
    }
    return body;
  }
}

function ids(n: number, id: () => bigint): bigint[] {
  return Array.from({ length: n }, id);
}
