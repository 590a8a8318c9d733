// The object-level synchronous facade over StateMachine, used by the embedded ledger, tests and
// benchmarks. Each call is one request: N, P = prepareTimestamp(prev, prev, realtime(), N), the
// multi-batch body, execute, and the decoded reply (ledger.md §5, wire.md §8).
import { Operation, stateMachinePulseOperation } from "../command.js";
import {
  accountBalanceSize, accountFilterSize, accountSize, createResultSize, decodeAccount, decodeAccountBalance,
  decodeCreateResult, decodeTransfer, encodeAccount, encodeAccountFilter, encodeQueryFilter, encodeTransfer,
  idSize, queryFilterSize, transferSize,
  type Account, type AccountBalance, type AccountFilter, type CreateAccountResult, type CreateTransferResult,
  type QueryFilter, type Transfer,
} from "../layouts.js";
import { decodeMultiBatch, encodeMultiBatch } from "../multi_batch.js";
import { writeU128 } from "../u128.js";
import { StateMachine, type LedgerOptions } from "./state_machine.js";
import { prepareTimestamp } from "./timestamps.js";
import { replyBodySizeMax } from "./validate.js";

/** Requests are checked against the production batch_size_limit (ledger.md §12). */
const batchSizeLimit = replyBodySizeMax;

export class SyncLedger {
  readonly stateMachine: StateMachine;
  private readonly realtime: () => bigint;
  private prev = 0n;

  /** `stateMachine` adopts an existing (e.g. restored) state machine and its last timestamp. */
  constructor(options: LedgerOptions & { realtime?: () => bigint; stateMachine?: StateMachine } = {}) {
    this.stateMachine = options.stateMachine ?? new StateMachine(options);
    this.prev = this.stateMachine.lastTimestamp;
    // Default: a deterministic logical clock, one nanosecond after the previous timestamp.
    this.realtime = options.realtime ?? ((): bigint => this.prev + 1n);
  }

  /** P of the last executed request. */
  get lastTimestamp(): bigint {
    return this.prev;
  }

  createAccounts(accounts: Account[]): CreateAccountResult[] {
    return this.createAccountsBatches([accounts])[0]!;
  }

  createTransfers(transfers: Transfer[]): CreateTransferResult[] {
    return this.createTransfersBatches([transfers])[0]!;
  }

  createAccountsBatches(batches: Account[][]): CreateAccountResult[][] {
    const body = encodeBatches(batches, accountSize, encodeAccount);
    return this.decode(this.request(Operation.create_accounts, body), createResultSize, decodeCreateResult);
  }

  createTransfersBatches(batches: Transfer[][]): CreateTransferResult[][] {
    const body = encodeBatches(batches, transferSize, encodeTransfer);
    return this.decode(this.request(Operation.create_transfers, body), createResultSize, decodeCreateResult);
  }

  lookupAccounts(ids: bigint[]): Account[] {
    const body = encodeBatches([ids], idSize, (view, offset, id: bigint) => writeU128(view, offset, id));
    return this.decode(this.request(Operation.lookup_accounts, body), accountSize, decodeAccount)[0]!;
  }

  lookupTransfers(ids: bigint[]): Transfer[] {
    const body = encodeBatches([ids], idSize, (view, offset, id: bigint) => writeU128(view, offset, id));
    return this.decode(this.request(Operation.lookup_transfers, body), transferSize, decodeTransfer)[0]!;
  }

  getAccountTransfers(filter: AccountFilter): Transfer[] {
    const body = encodeBatches([[filter]], accountFilterSize, encodeAccountFilter);
    return this.decode(this.request(Operation.get_account_transfers, body), transferSize, decodeTransfer)[0]!;
  }

  getAccountBalances(filter: AccountFilter): AccountBalance[] {
    const body = encodeBatches([[filter]], accountFilterSize, encodeAccountFilter);
    return this.decode(this.request(Operation.get_account_balances, body), accountBalanceSize, decodeAccountBalance)[0]!;
  }

  queryAccounts(filter: QueryFilter): Account[] {
    const body = encodeBatches([[filter]], queryFilterSize, encodeQueryFilter);
    return this.decode(this.request(Operation.query_accounts, body), accountSize, decodeAccount)[0]!;
  }

  queryTransfers(filter: QueryFilter): Transfer[] {
    const body = encodeBatches([[filter]], queryFilterSize, encodeQueryFilter);
    return this.decode(this.request(Operation.query_transfers, body), transferSize, decodeTransfer)[0]!;
  }

  /** Runs a pulse if pulseNeeded(max(prev, realtime())); returns true if it ran (§9.3). */
  pulse(): boolean {
    const realtime = this.realtime();
    const now = realtime > this.prev ? realtime : this.prev;
    if (!this.stateMachine.pulseNeeded(now)) return false;
    const empty = new Uint8Array(0);
    const timestamp = prepareTimestamp(this.prev, this.prev, realtime, StateMachine.eventCount(stateMachinePulseOperation, empty));
    this.stateMachine.execute(stateMachinePulseOperation, timestamp, empty, empty);
    this.prev = timestamp;
    return true;
  }

  private request(operation: number, body: Uint8Array): Uint8Array {
    if (!StateMachine.validateRequest(operation, body, batchSizeLimit)) {
      throw new RangeError(`invalid request body for operation ${operation} (too many events or batches, or a limit too large; ledger.md §12)`);
    }
    const eventCount = StateMachine.eventCount(operation, body);
    const timestamp = prepareTimestamp(this.prev, this.prev, this.realtime(), eventCount);
    const reply = new Uint8Array(StateMachine.replySizeMax(operation, body));
    const length = this.stateMachine.execute(operation, timestamp, body, reply);
    this.prev = timestamp;
    return reply.subarray(0, length);
  }

  private decode<T>(reply: Uint8Array, size: number, decodeOne: (view: DataView, offset: number) => T): T[][] {
    const reader = decodeMultiBatch(reply, size);
    if (typeof reader === "string") throw new Error(`bug: the reply does not decode: ${reader}`);
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    const batches: T[][] = [];
    for (let k = 0; k < reader.batchCount; k++) {
      const batch: T[] = [];
      const offset = reader.batchOffset(k);
      for (let i = 0; i < reader.elementCount(k); i++) batch.push(decodeOne(view, offset + i * size));
      batches.push(batch);
    }
    return batches;
  }
}

function encodeBatches<T>(
  batches: T[][], size: number, encodeOne: (view: DataView, offset: number, value: T) => void,
): Uint8Array {
  const encoded = batches.map((batch) => {
    const bytes = new Uint8Array(batch.length * size);
    const view = new DataView(bytes.buffer);
    batch.forEach((value, i) => encodeOne(view, i * size, value));
    return bytes;
  });
  return encodeMultiBatch(encoded, size);
}
