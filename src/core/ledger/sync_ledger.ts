// The object-level synchronous facade over StateMachine, used by the embedded ledger, tests and
// benchmarks. Each call is one request: N, P = prepareTimestamp(prev, prev, realtime(), N), the
// multi-batch body, execute, and the decoded reply (ledger.md §5, wire.md §8).
import { stateMachinePulseOperation } from "../command.js";
import type {
  Account, AccountBalance, AccountFilter, CreateAccountResult, CreateTransferResult, QueryFilter,
  Transfer,
} from "../layouts.js";
import { decodeResults, encodeEvents, operationCodecs, type OperationCodec } from "./object_codec.js";
import { StateMachine, type LedgerOptions } from "./state_machine.js";
import { prepareTimestamp } from "./timestamps.js";
import { replyBodySizeMax } from "./validate.js";

/** Requests are checked against the production batch_size_limit (ledger.md §12). */
const batchSizeLimit = replyBodySizeMax;

export type BeforeExecute = (operation: number, timestamp: bigint, body: Uint8Array) => void;

export class SyncLedger {
  readonly stateMachine: StateMachine;
  private readonly realtime: () => bigint;
  private readonly beforeExecute: BeforeExecute | undefined;
  private prev = 0n;

  /**
   * `stateMachine` adopts an existing (e.g. restored) state machine and its last timestamp.
   * `beforeExecute` runs before each request executes: where a grid holds the state, it makes the
   * pages the request touches resident (prefetch.ts), as the replica does.
   */
  constructor(options: LedgerOptions & {
    realtime?: () => bigint; stateMachine?: StateMachine; beforeExecute?: BeforeExecute;
  } = {}) {
    this.stateMachine = options.stateMachine ?? new StateMachine(options);
    this.beforeExecute = options.beforeExecute;
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
    return this.call(operationCodecs.createAccounts, batches) as CreateAccountResult[][];
  }

  createTransfersBatches(batches: Transfer[][]): CreateTransferResult[][] {
    return this.call(operationCodecs.createTransfers, batches) as CreateTransferResult[][];
  }

  lookupAccounts(ids: bigint[]): Account[] {
    return this.call(operationCodecs.lookupAccounts, [ids])[0]!;
  }

  lookupTransfers(ids: bigint[]): Transfer[] {
    return this.call(operationCodecs.lookupTransfers, [ids])[0]!;
  }

  getAccountTransfers(filter: AccountFilter): Transfer[] {
    return this.call(operationCodecs.getAccountTransfers, [[filter]])[0]!;
  }

  getAccountBalances(filter: AccountFilter): AccountBalance[] {
    return this.call(operationCodecs.getAccountBalances, [[filter]])[0]!;
  }

  queryAccounts(filter: QueryFilter): Account[] {
    return this.call(operationCodecs.queryAccounts, [[filter]])[0]!;
  }

  queryTransfers(filter: QueryFilter): Transfer[] {
    return this.call(operationCodecs.queryTransfers, [[filter]])[0]!;
  }

  /** One request: encode with the shared codec (object_codec.ts), execute, decode. */
  private call<Event, Result>(codec: OperationCodec<Event, Result>, batches: readonly (readonly Event[])[]): Result[][] {
    const results = decodeResults(codec, this.request(codec.operation, encodeEvents(codec, batches)));
    if (typeof results === "string") throw new Error(`bug: the reply does not decode: ${results}`);
    return results;
  }

  /** Runs a pulse if pulseNeeded(max(prev, realtime())); returns true if it ran (§9.3). */
  pulse(): boolean {
    const realtime = this.realtime();
    const now = realtime > this.prev ? realtime : this.prev;
    if (!this.stateMachine.pulseNeeded(now)) return false;
    const empty = new Uint8Array(0);
    const timestamp = prepareTimestamp(this.prev, this.prev, realtime, StateMachine.eventCount(stateMachinePulseOperation, empty));
    this.beforeExecute?.(stateMachinePulseOperation, timestamp, empty);
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
    this.beforeExecute?.(operation, timestamp, body);
    const length = this.stateMachine.execute(operation, timestamp, body, reply);
    this.prev = timestamp;
    return reply.subarray(0, length);
  }
}
