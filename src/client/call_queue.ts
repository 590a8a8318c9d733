// Coalescing of client calls into multi-batch requests, as tigerbeetle-node 0.17.9 (tb_client)
// does: a VSR session has one request in flight, so calls that arrive meanwhile wait here, and a
// call joins the first waiting request of the same operation that still has room for it; when the
// in-flight request is answered, the oldest waiting request is sent, each of its calls being one
// batch of the multi-batch body (wire.md §8) and receiving that batch of the reply.
//
// Room means: the request body (events + trailer) fits in the cluster's batch_size_limit and the
// worst-case reply (expected results + trailer) fits in a message body. A call may thus overtake
// calls of another operation queued before it, exactly as in the official client; calls of one
// operation keep their order.
import { assert } from "../core/assert.js";
import { batchCountMax, trailerSize } from "../core/multi_batch.js";

export interface QueuedCall {
  readonly operation: number;
  readonly eventSize: number;
  readonly resultSize: number;
  /** The call's events, encoded: one batch. */
  readonly events: Uint8Array;
  /** Events for create and lookup, min(limit, results max) for a query. */
  readonly resultCountExpected: number;
}

/** One future request: calls of one operation, each a batch, in arrival order. */
export class PendingRequest<Call extends QueuedCall> {
  readonly calls: Call[] = [];
  eventBytes = 0;
  resultCount = 0;

  constructor(readonly operation: number, readonly eventSize: number, readonly resultSize: number) {}

  add(call: Call): void {
    assert(call.operation === this.operation);
    this.calls.push(call);
    this.eventBytes += call.events.length;
    this.resultCount += call.resultCountExpected;
  }

  /** Takes a call out (it timed out before the request was sent). */
  remove(call: Call): boolean {
    const index = this.calls.indexOf(call);
    if (index < 0) return false;
    this.calls.splice(index, 1);
    this.eventBytes -= call.events.length;
    this.resultCount -= call.resultCountExpected;
    return true;
  }
}

export class CallQueue<Call extends QueuedCall> {
  private readonly requests: PendingRequest<Call>[] = [];

  constructor(private readonly batchSizeLimit: number, private readonly replyBodySizeMax: number) {
    assert(batchSizeLimit > 0 && replyBodySizeMax > 0);
  }

  get length(): number {
    return this.requests.length;
  }

  /** The caller has checked that the call fits in a request of its own. */
  push(call: Call): void {
    for (const request of this.requests) {
      if (request.operation === call.operation && this.fits(request, call)) return request.add(call);
    }
    const request = new PendingRequest<Call>(call.operation, call.eventSize, call.resultSize);
    assert(this.fits(request, call), "a call must fit in a request of its own");
    request.add(call);
    this.requests.push(request);
  }

  /** The oldest request; undefined when none waits. */
  shift(): PendingRequest<Call> | undefined {
    return this.requests.shift();
  }

  /** Takes a waiting call out of its request (dropping the request if it empties). */
  remove(call: Call): boolean {
    for (let i = 0; i < this.requests.length; i++) {
      const request = this.requests[i]!;
      if (!request.remove(call)) continue;
      if (request.calls.length === 0) this.requests.splice(i, 1);
      return true;
    }
    return false;
  }

  /** Every waiting call, oldest request first; the queue is left empty. */
  drain(): Call[] {
    return this.requests.splice(0).flatMap((request) => request.calls);
  }

  private fits(request: PendingRequest<Call>, call: Call): boolean {
    const batches = request.calls.length + 1;
    if (batches > batchCountMax) return false; // a trailer counts batches in a u16
    const requestSize = request.eventBytes + call.events.length + trailerSize(call.eventSize, batches);
    if (requestSize > this.batchSizeLimit) return false;
    const replySize = (request.resultCount + call.resultCountExpected) * call.resultSize + trailerSize(call.resultSize, batches);
    return replySize <= this.replyBodySizeMax;
  }
}
