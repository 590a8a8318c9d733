// The client core that createClient() and the durable openLedger({ path }) share: the
// IO-agnostic VSR client (src/replica/client.ts, the same code the VOPR runs) with a real 10 ms
// tick, the official client's checks and encoding at call time, and its coalescing
// (call_queue.ts): while a request is in flight, calls wait, and calls of one operation travel
// together as the batches of one multi-batch request. How messages reach the cluster (TCP, or a
// replica in this process) is the transport's business.
import { randomBytes } from "node:crypto";
import { headerSize, productionConfig, releaseCurrent } from "../core/config.js";
import { EvictionReason } from "../core/command.js";
import type {
  Account, AccountBalance, AccountFilter, CreateAccountResult, CreateTransferResult, QueryFilter,
  Transfer,
} from "../core/layouts.js";
import { encodeMultiBatch } from "../core/multi_batch.js";
import { Prng } from "../core/prng.js";
import { decodeResults, encodeBatch, operationCodecs, type OperationCodec } from "../core/ledger/object_codec.js";
import { eventMax, replyBodySizeMax, resultMax, shapeOf, type OperationShape } from "../core/ledger/validate.js";
import { VsrClient, type ClientFailure } from "../replica/client.js";
import type { MessageBus } from "../io/message_bus.js";
import { RealTime } from "../io/real_time.js";
import { CallQueue, type PendingRequest, type QueuedCall } from "./call_queue.js";
import { ErrorCodes, RequestError } from "./errors.js";
import { batchError } from "./validation.js";

/** The methods of a tigerbeetle-node client. */
export interface Client {
  createAccounts: (batch: Account[]) => Promise<CreateAccountResult[]>;
  createTransfers: (batch: Transfer[]) => Promise<CreateTransferResult[]>;
  lookupAccounts: (batch: bigint[]) => Promise<Account[]>;
  lookupTransfers: (batch: bigint[]) => Promise<Transfer[]>;
  getAccountTransfers: (filter: AccountFilter) => Promise<Transfer[]>;
  getAccountBalances: (filter: AccountFilter) => Promise<AccountBalance[]>;
  queryAccounts: (filter: QueryFilter) => Promise<Account[]>;
  queryTransfers: (filter: QueryFilter) => Promise<Transfer[]>;
  destroy: () => void;
}

const tickMs = 10;

type AnyCodec = OperationCodec<any, any>;

/** registering: waits for batch_size_limit; queued: in the CallQueue; sent: in flight; done: settled. */
type CallState = "registering" | "queued" | "sent" | "done";

interface Call extends QueuedCall {
  readonly codec: AnyCodec;
  readonly shape: OperationShape;
  readonly eventCount: number;
  readonly resolve: (results: unknown[]) => void;
  readonly reject: (error: Error) => void;
  state: CallState;
  timer: ReturnType<typeof setTimeout> | null;
}

function failureError(failure: ClientFailure): RequestError {
  switch (failure) {
    case "closed": return new RequestError(ErrorCodes.ERR_CLIENT_CLOSED);
    case EvictionReason.client_release_too_low: return new RequestError(ErrorCodes.ERR_CLIENT_RELEASE_TOO_LOW);
    case EvictionReason.client_release_too_high: return new RequestError(ErrorCodes.ERR_CLIENT_RELEASE_TOO_HIGH);
    default: return new RequestError(ErrorCodes.ERR_CLIENT_EVICTED);
  }
}

export function checkTimeout(value: unknown): number | null {
  if (value === undefined) return null;
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError("request_timeout_ms must be a positive number of milliseconds, or undefined for no timeout");
  }
  return value;
}

/** Results a call may produce: one per event for create and lookup, min(limit, max) for a query. */
function resultCountExpected(shape: OperationShape, events: Uint8Array, eventCount: number): number {
  if (shape.kind !== "query") return eventCount;
  const limit = new DataView(events.buffer, events.byteOffset, events.byteLength).getUint32(shape.limitOffset, true);
  return Math.min(limit, resultMax(shape));
}

/**
 * How a ClientCore reaches the cluster: a bus for the VSR client, and its lifetime. The transport
 * reports a condition that makes every call fail for good (a replica of another cluster, a data
 * file that cannot be opened) through the `fail` it was given.
 */
export interface ClientTransport {
  readonly bus: MessageBus;
  readonly replicaCount: number;
  /** Keep the process alive (calls outstanding) or not. */
  setRef(ref: boolean): void;
  close(): void;
}

export interface TransportHandlers {
  readonly onMessage: (message: Uint8Array) => void;
  readonly fail: (error: Error) => void;
}

export class ClientCore {
  private readonly time = new RealTime();
  private readonly transport: ClientTransport;
  private readonly vsr: VsrClient;
  private readonly timer: ReturnType<typeof setInterval>;
  /** Calls made before registration, when batch_size_limit is not known yet. */
  private waiting: Call[] = [];
  /** Created at registration, sized by the cluster's batch_size_limit. */
  private queue: CallQueue<Call> | null = null;
  private inFlight: PendingRequest<Call> | null = null;
  /** Calls not settled yet: the process is kept alive while there are any. */
  private outstanding = 0;
  /** Set when the transport failed for good (e.g. a replica of another cluster): every call fails with it. */
  private fatal: Error | null = null;
  private destroyed = false;

  constructor(cluster: bigint, connect: (handlers: TransportHandlers) => ClientTransport,
    private readonly timeoutMs: number | null) {
    this.transport = connect({ onMessage: (message) => this.onMessage(message), fail: (error) => this.failFatal(error) });
    const clientId = BigInt("0x" + randomBytes(16).toString("hex")) || 1n;
    this.vsr = new VsrClient({
      cluster, replicaCount: this.transport.replicaCount, clientId, release: releaseCurrent,
      messageSizeMax: productionConfig.messageSizeMax,
      queueMax: 1, // we hand it one request at a time: the others wait here, to be coalesced
      time: this.time, bus: this.transport.bus,
      prng: new Prng(BigInt("0x" + randomBytes(8).toString("hex"))),
    });
    this.timer = setInterval(() => this.onTick(), tickMs);
    this.updateRef();
  }

  /** One call: checks as the official client does, in its order, then queues the encoded batch. */
  call(codec: AnyCodec, events: readonly unknown[], isBatch: boolean): Promise<unknown[]> {
    if (this.destroyed) return Promise.reject(new RequestError(ErrorCodes.ERR_CLIENT_CLOSED));
    // After an eviction, as in the official client, calls fail as closed (the evicted ones were told).
    if (this.vsr.failure !== null) return Promise.reject(this.fatal ?? new RequestError(ErrorCodes.ERR_CLIENT_CLOSED));
    const error = isBatch ? batchError(events) : null;
    if (error !== null) return Promise.reject(error);
    let bytes: Uint8Array;
    try {
      bytes = encodeBatch(codec, events); // now: the caller may change its objects afterwards
    } catch (thrown) {
      return Promise.reject(thrown);
    }
    return new Promise((resolve, reject) => this.submit(codec, bytes, events.length, resolve, reject));
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const calls = this.takeAll();
    this.stop();
    // The official client fails pending calls from its native thread, after destroy() returns.
    setImmediate(() => {
      for (const call of calls) this.settle(call, new RequestError(ErrorCodes.ERR_CLIENT_CLOSED), null);
    });
  }

  private submit(codec: AnyCodec, events: Uint8Array, eventCount: number,
    resolve: (results: unknown[]) => void, reject: (error: Error) => void): void {
    const shape = shapeOf(codec.operation)!;
    const call: Call = {
      operation: codec.operation, eventSize: codec.eventSize, resultSize: codec.resultSize, events,
      resultCountExpected: resultCountExpected(shape, events, eventCount), codec, shape, eventCount,
      resolve, reject, state: "registering", timer: null,
    };
    this.outstanding += 1;
    if (this.outstanding === 1) this.updateRef();
    if (this.timeoutMs !== null) call.timer = setTimeout(() => this.onTimeout(call), this.timeoutMs);
    if (this.queue === null) this.waiting.push(call);
    else this.admit(call);
    this.pump();
  }

  /** Queues a call for coalescing, unless it is too large for the cluster's batch_size_limit. */
  private admit(call: Call): void {
    if (call.eventCount > eventMax(call.shape, this.vsr.batchSizeLimit)) {
      return this.settle(call, new RequestError(ErrorCodes.ERR_TOO_MUCH_DATA), null);
    }
    call.state = "queued";
    this.queue!.push(call);
  }

  /** Sends the oldest waiting request when nothing is in flight. */
  private pump(): void {
    if (this.inFlight !== null || this.queue === null || this.vsr.failure !== null) return;
    const request = this.queue.shift();
    if (request === undefined) return;
    this.inFlight = request;
    const batches = request.calls.map((call) => {
      call.state = "sent";
      return call.events;
    });
    const body = encodeMultiBatch(batches, request.eventSize);
    this.vsr.request(request.operation, body, (failure, reply) => this.onReply(request, failure, reply));
  }

  /** Each call of the request gets its batch of the reply (the batches come back in order). */
  private onReply(request: PendingRequest<Call>, failure: ClientFailure | null, reply: Uint8Array | null): void {
    if (request !== this.inFlight) return; // abandoned by destroy() or a failure
    if (failure !== null) return this.failAll(this.errorOf(failure)); // this request's calls too
    this.inFlight = null;
    const results = decodeResults(request.calls[0]!.codec, reply!.subarray(headerSize));
    if (typeof results === "string" || results.length !== request.calls.length) {
      const why = typeof results === "string" ? results : `${results.length} batches for ${request.calls.length} calls`;
      for (const call of request.calls) this.settle(call, new Error(`malformed reply from the cluster: ${why}`), null);
      return;
    }
    request.calls.forEach((call, k) => this.settle(call, null, results[k]!));
  }

  private onMessage(message: Uint8Array): void {
    this.vsr.onMessage(message);
    // The next request goes out here, not from inside the VSR client's reply callback: after that
    // callback it still looks for a next request of its own, asserting that none is in flight.
    this.afterEvent();
  }

  private onTick(): void {
    this.time.tick();
    this.vsr.tick();
    this.afterEvent();
  }

  private afterEvent(): void {
    if (this.destroyed) return;
    if (this.vsr.failure !== null) return this.failAll(this.errorOf(this.vsr.failure));
    if (this.queue === null && this.vsr.registered) this.onRegistered();
    this.pump();
  }

  /** Calls made meanwhile are taken in order, as if made now: the first goes alone, as ever. */
  private onRegistered(): void {
    this.queue = new CallQueue<Call>(this.vsr.batchSizeLimit, replyBodySizeMax);
    const waiting = this.waiting;
    this.waiting = [];
    for (const call of waiting) {
      this.admit(call);
      this.pump();
    }
  }

  private onTimeout(call: Call): void {
    call.timer = null;
    if (call.state === "done" || this.destroyed) return;
    const ms = this.timeoutMs;
    if (call.state === "sent") {
      return this.settle(call, new RequestError(ErrorCodes.ERR_REQUEST_TIMEOUT, `Request timed out after ${ms} ms: ` +
        "its outcome is unknown, it may still commit (the client keeps it in flight, later calls wait for it)."), null);
    }
    if (call.state === "registering") this.waiting.splice(this.waiting.indexOf(call), 1);
    else this.queue!.remove(call);
    this.settle(call, new RequestError(ErrorCodes.ERR_REQUEST_TIMEOUT,
      `Request timed out after ${ms} ms before it was sent: it did not execute.`), null);
  }

  private settle(call: Call, error: Error | null, results: unknown[] | null): void {
    if (call.state === "done") return; // timed out already
    call.state = "done";
    if (call.timer !== null) clearTimeout(call.timer);
    call.timer = null;
    this.outstanding -= 1;
    if (this.outstanding === 0) this.updateRef();
    if (error !== null) call.reject(error);
    else call.resolve(results!);
  }

  /** Every unsettled call, in flight first; nothing is left in flight or queued. */
  private takeAll(): Call[] {
    const calls = [...(this.inFlight?.calls ?? []), ...(this.queue?.drain() ?? []), ...this.waiting];
    this.inFlight = null;
    this.waiting = [];
    return calls.filter((call) => call.state !== "done");
  }

  private failAll(error: Error): void {
    for (const call of this.takeAll()) this.settle(call, error, null);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.vsr.close(); // its in-flight callback finds the request abandoned
    this.transport.close();
  }

  /** The transport failed for good: every call, now and later, fails with `error`. */
  private failFatal(error: Error): void {
    if (this.fatal !== null || this.destroyed) return;
    this.fatal = error;
    const calls = this.takeAll();
    this.stop();
    for (const call of calls) this.settle(call, error, null);
  }

  /** The VSR client's failure, or the transport's fatal error that closed it. */
  private errorOf(failure: ClientFailure): Error {
    return failure === "closed" && this.fatal !== null ? this.fatal : failureError(failure);
  }

  /** Keep the process alive only while calls are outstanding, so an idle client never pins it. */
  private updateRef(): void {
    if (this.outstanding > 0) this.timer.ref();
    else this.timer.unref();
    this.transport.setRef(this.outstanding > 0);
  }
}

/** The client methods over a core, with the official client's argument shapes. */
export function clientMethods(core: ClientCore): Client {
  const codecs = operationCodecs;
  const batchCall = (codec: AnyCodec) => (batch: unknown) => core.call(codec, batch as unknown[], true);
  // A filter is a batch of one (the official client wraps it: [filter]), so no array checks.
  const filterCall = (codec: AnyCodec) => (filter: unknown) => core.call(codec, [filter], false);
  return {
    createAccounts: batchCall(codecs.createAccounts) as Client["createAccounts"],
    createTransfers: batchCall(codecs.createTransfers) as Client["createTransfers"],
    lookupAccounts: batchCall(codecs.lookupAccounts) as Client["lookupAccounts"],
    lookupTransfers: batchCall(codecs.lookupTransfers) as Client["lookupTransfers"],
    getAccountTransfers: filterCall(codecs.getAccountTransfers) as Client["getAccountTransfers"],
    getAccountBalances: filterCall(codecs.getAccountBalances) as Client["getAccountBalances"],
    queryAccounts: filterCall(codecs.queryAccounts) as Client["queryAccounts"],
    queryTransfers: filterCall(codecs.queryTransfers) as Client["queryTransfers"],
    destroy: () => core.destroy(),
  };
}
