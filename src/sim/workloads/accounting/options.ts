// The operations the accounting workload sends, and what it draws once per run (spec/vopr.md
// §12.1) and how it prints it. The options are the first draws the workload makes from its PRNG,
// in this order: changing the order (or adding a draw) changes every seed's run.
import { assert } from "../../../core/assert.js";
import { Operation, operationName } from "../../../core/command.js";
import { operationCodecs, type OperationCodec } from "../../../core/ledger/object_codec.js";
import type { Prng } from "../../../core/prng.js";

/** The operations, in the order of the weights drawn (and printed). */
export const operations = [
  Operation.create_accounts, Operation.create_transfers, Operation.lookup_accounts, Operation.lookup_transfers,
  Operation.get_account_transfers, Operation.get_account_balances, Operation.query_accounts,
  Operation.query_transfers,
] as const;

export function isAccountingOperation(operation: number): boolean {
  return (operations as readonly number[]).includes(operation);
}

/** The object codec of one of the operations (events to bytes, reply bytes to results). */
export function codecOf(operation: number): OperationCodec<unknown, unknown> {
  const codec = Object.values(operationCodecs).find((c) => c.operation === operation);
  assert(codec !== undefined, `no codec for operation ${operation}`);
  return codec as OperationCodec<unknown, unknown>;
}

export type IdPermutation = "sequential" | "reversed" | "zigzag" | "random";

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

/** The drawn options as `name=value` words, for the start-up banner (§1). */
export function describeAccountingOptions(d: AccountingOptions): string {
  const weights = operations.map((operation, i) => `${operationName(operation)}:${d.weights[i]}`).join(",");
  return `weights=${weights} accounts_max=${d.accountsMax} account_id_base=${d.accountIdBase}` +
    ` transfer_ids=${d.transferIds} ledgers=${d.ledgers} batch_fill=${d.batchFillPercent}%` +
    ` query_limit_max=${d.queryLimitMax} linked=${d.linkedPercent}% invalid=${d.invalidPercent}%` +
    ` retry=${d.retryPercent}% pending=${d.pendingPercent}% timeout=${d.timeoutPercent}%` +
    ` post_void=${d.postVoidPercent}% balancing=${d.balancingPercent}% closing=${d.closingPercent}%` +
    ` account_limit=${d.accountLimitPercent}% history=${d.historyPercent}% imported=${d.importedPercent}%` +
    ` valid_accounts=${d.validAccountsPercent}%`;
}
