// The public library entry, `import ... from "scarab"`: the same API, names, types and enums as
// tigerbeetle-node 0.17.9, plus openLedger(), the embedded in-process ledger.
export {
  AccountFlags, TransferFlags, AccountFilterFlags, QueryFilterFlags, CreateAccountStatus,
  CreateTransferStatus,
} from "../core/layouts.js";
export type {
  Account, Transfer, AccountBalance, AccountFilter, QueryFilter, CreateAccountResult,
  CreateTransferResult,
} from "../core/layouts.js";
export { ErrorCodes, RequestError } from "./errors.js";
export { id } from "./id.js";
export { createClient, type Client, type ClientInitArgs } from "./network_client.js";
export { openLedger, type Ledger, type LedgerOptions } from "./embedded.js";
export { EmbeddedOpenError, LedgerStoppedError } from "./embedded_replica.js";

/** The largest u128 amount: post the full pending amount, or balance "everything available". */
export const amount_max: bigint = (1n << 128n) - 1n;

/** Operation numbers as exported by tigerbeetle-node 0.17.9. */
export enum Operation {
  pulse = 128,
  get_change_events = 137,
  lookup_accounts = 140,
  lookup_transfers = 141,
  get_account_transfers = 142,
  get_account_balances = 143,
  query_accounts = 144,
  query_transfers = 145,
  create_accounts = 146,
  create_transfers = 147,
}

export type AccountID = bigint;
export type TransferID = bigint;
export type Context = object;
