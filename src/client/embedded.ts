// The embedded ledger: the state machine in the calling process, behind the same methods and
// result shapes as a tigerbeetle-node client. Useful for tests, tools and single-process apps.
//
// This is the edge where the deterministic core meets the real world: the cluster clock is the
// wall clock (made monotonic), and a real timer runs the pulse so that pending transfers with a
// timeout expire on their own (spec/ledger.md §9.3), within about 100 ms of their due time.
import { SyncLedger } from "../core/ledger/sync_ledger.js";
import type {
  Account, AccountBalance, AccountFilter, CreateAccountResult, CreateTransferResult, QueryFilter,
  Transfer,
} from "../core/layouts.js";
import { ErrorCodes, RequestError } from "./errors.js";
import { batchError } from "./validation.js";
import { RealTime } from "../io/real_time.js";

export interface LedgerOptions {
  /** Initial capacity of the accounts table; it grows as needed (transfers grow by pages). */
  accountsCapacity?: number;
  /** How often to check for expired pending transfers, in ms (default 100, as a replica). */
  pulseIntervalMs?: number;
}

export interface Ledger {
  createAccounts(batch: Account[]): Promise<CreateAccountResult[]>;
  createTransfers(batch: Transfer[]): Promise<CreateTransferResult[]>;
  lookupAccounts(batch: bigint[]): Promise<Account[]>;
  lookupTransfers(batch: bigint[]): Promise<Transfer[]>;
  getAccountTransfers(filter: AccountFilter): Promise<Transfer[]>;
  getAccountBalances(filter: AccountFilter): Promise<AccountBalance[]>;
  queryAccounts(filter: QueryFilter): Promise<Account[]>;
  queryTransfers(filter: QueryFilter): Promise<Transfer[]>;
  destroy(): void;
}

export function openLedger(options: LedgerOptions = {}): Ledger {
  const time = new RealTime();
  const ledger = new SyncLedger({
    ...(options.accountsCapacity !== undefined && { accountsCapacity: options.accountsCapacity }),
    realtime: () => time.realtime(),
  });
  let closed = false;
  const pulseTimer = setInterval(() => ledger.pulse(), options.pulseIntervalMs ?? 100);
  pulseTimer.unref(); // an idle embedded ledger must not keep the process alive

  // Each call runs synchronously but answers through a promise, as a remote client would. Errors
  // reject, never throw, and are those of tigerbeetle-node in its order: closed, then the batch
  // argument (validation.ts), then each event's fields as it is encoded.
  function call<T>(batch: unknown, run: () => T): Promise<T> {
    if (closed) return Promise.reject(new RequestError(ErrorCodes.ERR_CLIENT_CLOSED));
    const error = batchError(batch);
    return error !== null ? Promise.reject(error) : answer(run);
  }
  // A filter is a batch of one, so it has no array checks; its limit is capped by the ledger.
  function filterCall<T>(run: () => T): Promise<T> {
    if (closed) return Promise.reject(new RequestError(ErrorCodes.ERR_CLIENT_CLOSED));
    return answer(run);
  }
  function answer<T>(run: () => T): Promise<T> {
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  return {
    createAccounts: (batch) => call(batch, () => ledger.createAccounts(batch)),
    createTransfers: (batch) => call(batch, () => ledger.createTransfers(batch)),
    lookupAccounts: (batch) => call(batch, () => ledger.lookupAccounts(batch)),
    lookupTransfers: (batch) => call(batch, () => ledger.lookupTransfers(batch)),
    getAccountTransfers: (filter) => filterCall(() => ledger.getAccountTransfers(filter)),
    getAccountBalances: (filter) => filterCall(() => ledger.getAccountBalances(filter)),
    queryAccounts: (filter) => filterCall(() => ledger.queryAccounts(filter)),
    queryTransfers: (filter) => filterCall(() => ledger.queryTransfers(filter)),
    destroy: () => {
      closed = true;
      clearInterval(pulseTimer);
    },
  };
}
