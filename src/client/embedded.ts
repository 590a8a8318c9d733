// The embedded ledger, behind the same methods and result shapes as a tigerbeetle-node client:
// - openLedger({ path }): durable, like SQLite: a one-replica Scarab on a data file in this
//   process (durable_ledger.ts);
// - openLedger(): the state machine alone, in memory, for tests, tools and throwaway work.
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
import { openDurableLedger } from "./durable_ledger.js";

export interface LedgerOptions {
  /**
   * The data file of a durable ledger, formatted on first use (about 1.1 GiB, sparse, plus the
   * ledger's growth). Without it the ledger is in memory and gone when the process ends.
   */
  path?: string;
  /** Durable only: bytes of grid pages cached in memory (default 64 MiB). */
  cacheGridBytes?: number;
  /** Durable only: the most the data file may grow to, in bytes (default: 16 TiB of grid). */
  limitStorageBytes?: number;
  /** In memory only: initial capacity of the accounts table; it grows as needed. */
  accountsCapacity?: number;
  /** In memory only: how often to expire pending transfers, in ms (default 100, as a replica). */
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
  /** destroy(), then resolves once a durable ledger's file is closed and unlocked. */
  close(): Promise<void>;
}

export function openLedger(options: LedgerOptions = {}): Ledger {
  if (options.path !== undefined) return openDurable(options);
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
    destroy,
    close: () => {
      destroy();
      return Promise.resolve();
    },
  };
  function destroy(): void {
    closed = true;
    clearInterval(pulseTimer);
  }
}

function openDurable(options: LedgerOptions): Ledger {
  if (typeof options.path !== "string" || options.path === "") throw new TypeError("path must be a non-empty string");
  for (const name of ["cacheGridBytes", "limitStorageBytes"] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
      throw new TypeError(`${name} must be a positive integer number of bytes`);
    }
  }
  return openDurableLedger({
    path: options.path,
    ...(options.cacheGridBytes !== undefined && { cacheGridBytes: options.cacheGridBytes }),
    ...(options.limitStorageBytes !== undefined && { limitStorageBytes: options.limitStorageBytes }),
  });
}
