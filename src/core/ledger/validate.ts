// Request-body validity, event counts and reply sizes (ledger.md §5 rule 2, §12; wire.md §8).
import { Operation, stateMachinePulseOperation } from "../command.js";
import { pulseTimestampReserve, queryResultsMax } from "../config.js";
import {
  accountBalanceSize, accountFilterSize, accountSize, createResultSize, idSize, queryFilterSize, transferSize,
} from "../layouts.js";
import { MultiBatchReader, trailerSize } from "../multi_batch.js";
import { AccountFilterOffset, QueryFilterOffset } from "../layouts.js";

/** §12: the largest message body (1 MiB − 256). Replies are bounded by it, whatever the request limit. */
export const replyBodySizeMax = 1_048_320;

export type OperationKind = "create" | "lookup" | "query";

export interface OperationShape {
  readonly kind: OperationKind;
  readonly eventSize: number;
  readonly resultSize: number;
  /** Byte offset of the filter's `limit` (queries only). */
  readonly limitOffset: number;
}

const shapes: ReadonlyMap<number, OperationShape> = new Map([
  [Operation.lookup_accounts, { kind: "lookup", eventSize: idSize, resultSize: accountSize, limitOffset: -1 }],
  [Operation.lookup_transfers, { kind: "lookup", eventSize: idSize, resultSize: transferSize, limitOffset: -1 }],
  [Operation.get_account_transfers, {
    kind: "query", eventSize: accountFilterSize, resultSize: transferSize, limitOffset: AccountFilterOffset.limit,
  }],
  [Operation.get_account_balances, {
    kind: "query", eventSize: accountFilterSize, resultSize: accountBalanceSize, limitOffset: AccountFilterOffset.limit,
  }],
  [Operation.query_accounts, {
    kind: "query", eventSize: queryFilterSize, resultSize: accountSize, limitOffset: QueryFilterOffset.limit,
  }],
  [Operation.query_transfers, {
    kind: "query", eventSize: queryFilterSize, resultSize: transferSize, limitOffset: QueryFilterOffset.limit,
  }],
  [Operation.create_accounts, { kind: "create", eventSize: accountSize, resultSize: createResultSize, limitOffset: -1 }],
  [Operation.create_transfers, { kind: "create", eventSize: transferSize, resultSize: createResultSize, limitOffset: -1 }],
] as const);

export function isPulse(operation: number): boolean {
  return operation === Operation.pulse || operation === stateMachinePulseOperation;
}

/** The shape of a multi-batch operation (140–147), or undefined. */
export function shapeOf(operation: number): OperationShape | undefined {
  return shapes.get(operation);
}

/** The most results one batch can hold in a reply: floor((1,048,320 − trailer(E, 1)) / E). */
export function resultMax(shape: OperationShape): number {
  return Math.floor((replyBodySizeMax - trailerSize(shape.resultSize, 1)) / shape.resultSize);
}

/** §12: event_max(op, L). */
export function eventMax(shape: OperationShape, batchSizeLimit: number): number {
  const byRequest = Math.floor((batchSizeLimit - trailerSize(shape.eventSize, 1)) / shape.eventSize);
  return Math.min(byRequest, resultMax(shape));
}

/** Results batch k can produce at most: events for create/lookup, min(limit, 8189) for queries. */
function expectedResults(shape: OperationShape, reader: MultiBatchReader, k: number): number {
  if (shape.kind !== "query") return reader.elementCount(k);
  const at = reader.batchOffset(k) + shape.limitOffset;
  const body = reader.body;
  const limit = (body[at]! | (body[at + 1]! << 8) | (body[at + 2]! << 16) | (body[at + 3]! << 24)) >>> 0;
  return Math.min(limit, queryResultsMax);
}

/**
 * The reader every function here decodes with: each is done with it before it returns. A reader
 * per call, with its offset table, was 0.7% of the VOPR's CPU in its constructor alone (profile).
 * It keeps a reference to the last body it read.
 */
const scratchReader = new MultiBatchReader();

/** ledger.md §12: true when the request body is valid (otherwise eviction invalid_request_body). */
export function validateRequest(operation: number, body: Uint8Array, batchSizeLimit: number): boolean {
  if (isPulse(operation)) return body.length === 0;
  const shape = shapeOf(operation);
  if (shape === undefined) return false;
  if (body.length > batchSizeLimit) return false;
  const reader = scratchReader;
  if (reader.reset(body, shape.eventSize) !== null) return false;
  const perBatchMax = shape.kind === "query" ? 1 : eventMax(shape, batchSizeLimit);
  const resultsPerBatchMax = resultMax(shape);
  let replySize = trailerSize(shape.resultSize, reader.batchCount);
  for (let k = 0; k < reader.batchCount; k++) {
    const count = reader.elementCount(k);
    if (shape.kind === "query" ? count !== 1 : count > perBatchMax) return false;
    replySize += Math.min(expectedResults(shape, reader, k), resultsPerBatchMax) * shape.resultSize;
  }
  return replySize <= replyBodySizeMax;
}

/** The shared reader, over `body`: read it before anything else here decodes again. */
function decodeValid(shape: OperationShape, body: Uint8Array): MultiBatchReader {
  const reader = scratchReader;
  const error = reader.reset(body, shape.eventSize);
  if (error !== null) throw new RangeError(`request body does not decode: ${error}`);
  return reader;
}

/** §5 rule 2: N = events over all batches for create operations, 0 for lookups and queries, 8190 for pulse. */
export function eventCount(operation: number, body: Uint8Array): number {
  if (isPulse(operation)) return pulseTimestampReserve;
  const shape = shapeOf(operation);
  if (shape === undefined) throw new RangeError(`operation ${operation} is not a ledger operation`);
  if (shape.kind !== "create") return 0;
  return decodeValid(shape, body).elementTotal;
}

/** The largest reply body a valid request of this operation can produce given its body. */
export function replySizeMax(operation: number, body: Uint8Array): number {
  if (isPulse(operation)) return 0;
  const shape = shapeOf(operation);
  if (shape === undefined) throw new RangeError(`operation ${operation} is not a ledger operation`);
  const reader = decodeValid(shape, body);
  let size = trailerSize(shape.resultSize, reader.batchCount);
  for (let k = 0; k < reader.batchCount; k++) size += expectedResults(shape, reader, k) * shape.resultSize;
  return size;
}
