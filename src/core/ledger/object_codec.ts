// The object forms of each client operation (the API edge): how a call's arguments become a
// multi-batch request body, and how a reply body becomes result objects. Shared by the embedded
// ledger, the network client and tests, so there is one encoding of every operation.
import { Operation } from "../command.js";
import {
  accountBalanceSize, accountFilterSize, accountSize, checkU128, createResultSize, decodeAccount,
  decodeAccountBalance, decodeCreateResult, decodeTransfer, encodeAccount, encodeAccountFilter,
  encodeQueryFilter, encodeTransfer, idSize, queryFilterSize, transferSize,
} from "../layouts.js";
import { decodeMultiBatch, encodeMultiBatch } from "../multi_batch.js";
import { writeU128 } from "../u128.js";
import { encodeAccounts, encodeTransfers } from "./batch_encoders.js";

export interface OperationCodec<Event, Result> {
  readonly operation: number;
  readonly eventSize: number;
  readonly encode: (view: DataView, offset: number, event: Event) => void;
  readonly resultSize: number;
  readonly decode: (view: DataView, offset: number) => Result;
  /** A whole batch at once, where the hot path has one (batch_encoders.ts): the same bytes and errors. */
  readonly encodeMany?: (batch: readonly Event[]) => Uint8Array;
}

// Lookup ids are named "lookup" in errors, as tigerbeetle-node 0.17.9 names them.
const writeId = (view: DataView, offset: number, id: bigint): void => writeU128(view, offset, checkU128(id, "lookup"));

/**
 * Objects (accounts, transfers, filters) must not be null or undefined: tigerbeetle-node reads
 * their fields with napi_get_named_property, which fails with this TypeError of V8's ToObject;
 * any other value (a number, a string, an array) is read for fields and fails on the first one.
 */
function objectEncoder<Event>(encode: (view: DataView, offset: number, event: Event) => void) {
  return (view: DataView, offset: number, event: Event): void => {
    if (event === null || event === undefined) throw new TypeError("Cannot convert undefined or null to object");
    encode(view, offset, event);
  };
}
const encodeAccountObject = objectEncoder(encodeAccount);
const encodeTransferObject = objectEncoder(encodeTransfer);
const encodeAccountFilterObject = objectEncoder(encodeAccountFilter);
const encodeQueryFilterObject = objectEncoder(encodeQueryFilter);

/** One entry per client method, named as in tigerbeetle-node. */
export const operationCodecs = {
  createAccounts: { operation: Operation.create_accounts, eventSize: accountSize, encode: encodeAccountObject, resultSize: createResultSize, decode: decodeCreateResult, encodeMany: encodeAccounts },
  createTransfers: { operation: Operation.create_transfers, eventSize: transferSize, encode: encodeTransferObject, resultSize: createResultSize, decode: decodeCreateResult, encodeMany: encodeTransfers },
  lookupAccounts: { operation: Operation.lookup_accounts, eventSize: idSize, encode: writeId, resultSize: accountSize, decode: decodeAccount },
  lookupTransfers: { operation: Operation.lookup_transfers, eventSize: idSize, encode: writeId, resultSize: transferSize, decode: decodeTransfer },
  getAccountTransfers: { operation: Operation.get_account_transfers, eventSize: accountFilterSize, encode: encodeAccountFilterObject, resultSize: transferSize, decode: decodeTransfer },
  getAccountBalances: { operation: Operation.get_account_balances, eventSize: accountFilterSize, encode: encodeAccountFilterObject, resultSize: accountBalanceSize, decode: decodeAccountBalance },
  queryAccounts: { operation: Operation.query_accounts, eventSize: queryFilterSize, encode: encodeQueryFilterObject, resultSize: accountSize, decode: decodeAccount },
  queryTransfers: { operation: Operation.query_transfers, eventSize: queryFilterSize, encode: encodeQueryFilterObject, resultSize: transferSize, decode: decodeTransfer },
} as const;

/**
 * Encodes one batch of events (validating each, in order: the first bad field throws). A hole in
 * a sparse array is read as undefined, as the official client reads it, never skipped.
 */
export function encodeBatch<Event>(codec: OperationCodec<Event, unknown>, batch: readonly Event[]): Uint8Array {
  if (codec.encodeMany !== undefined) return codec.encodeMany(batch);
  const bytes = new Uint8Array(batch.length * codec.eventSize);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < batch.length; i++) codec.encode(view, i * codec.eventSize, batch[i]!);
  return bytes;
}

/** Encodes batches of events as one multi-batch request body (wire.md §8). */
export function encodeEvents<Event>(codec: OperationCodec<Event, unknown>, batches: readonly (readonly Event[])[]): Uint8Array {
  return encodeMultiBatch(batches.map((batch) => encodeBatch(codec, batch)), codec.eventSize);
}

/** Decodes a multi-batch reply body into result objects per batch; a string when malformed. */
export function decodeResults<Result>(codec: { readonly resultSize: number; readonly decode: (view: DataView, offset: number) => Result }, body: Uint8Array): Result[][] | string {
  const reader = decodeMultiBatch(body, codec.resultSize);
  if (typeof reader === "string") return reader;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const batches: Result[][] = [];
  for (let k = 0; k < reader.batchCount; k++) {
    const batch: Result[] = [];
    const offset = reader.batchOffset(k);
    for (let i = 0; i < reader.elementCount(k); i++) batch.push(codec.decode(view, offset + i * codec.resultSize));
    batches.push(batch);
  }
  return batches;
}
