// Multi-batch body encoding (spec/wire.md §8), used by operations 140..147 in requests and replies.
//
//   body = batch 0 | batch 1 | … | batch b−1 | trailer
//   trailer = 0xFF padding | count(b−1) u16 | … | count(1) u16 | count(0) u16 | b u16
//
// Batch i is count_i · E bytes (E = element size: event size in requests, result size in replies).
// The trailer is trailer(E, b) = ceil((2b + 2) / E) · E bytes, so the body stays a whole number of
// elements. Decoding is strict: any deviation makes the body invalid (eviction
// `invalid_request_body` for a request; the official client crashes on a bad reply).
import { assert } from "./assert.js";

/** batch_count 0xFFFF is reserved; 1 … 65534 are valid. */
export const batchCountMax = 0xfffe;
/** A batch's element count is a u16. */
export const batchElementsMax = 0xffff;

/** Reasons a body does not decode, in the order the decoder checks them (wire.md §8). */
export type MultiBatchError =
  | "body too short"
  | "batch_count zero"
  | "batch_count reserved"
  | "body shorter than trailer"
  | "padding not 0xFF"
  | "payload size mismatch";

/** trailer(E, b) = ceil((2b + 2) / E) · E. */
export function trailerSize(elementSize: number, batchCount: number): number {
  assert(Number.isInteger(elementSize) && elementSize > 0, "element size must be positive");
  assert(Number.isInteger(batchCount) && batchCount >= 0 && batchCount <= batchCountMax, "batch count");
  return Math.ceil((2 * batchCount + 2) / elementSize) * elementSize;
}

function readU16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

function writeU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = value >>> 8;
}

/**
 * Zero-copy decoder. `reset` validates a body and, when valid, exposes each batch's element count
 * and byte offset. Reuse one reader: it allocates only when a body has more batches than any
 * before (its offset table grows, amortised). The body is referenced, not copied.
 */
export class MultiBatchReader {
  body: Uint8Array = new Uint8Array(0);
  elementSize = 1;
  /** 0 until a successful `reset`. */
  batchCount = 0;
  /** starts[i] = the element index where batch i begins; starts[batchCount] = the total. */
  private starts = new Uint32Array(64);

  /** Decodes `body`; returns null when valid, or why not (then `batchCount` is 0). */
  reset(body: Uint8Array, elementSize: number): MultiBatchError | null {
    assert(Number.isInteger(elementSize) && elementSize > 0, "element size must be positive");
    this.body = body;
    this.elementSize = elementSize;
    this.batchCount = 0;
    const length = body.length;
    if (length < 2) return "body too short";
    const batchCount = readU16(body, length - 2);
    if (batchCount === 0) return "batch_count zero";
    if (batchCount === 0xffff) return "batch_count reserved";
    const trailer = trailerSize(elementSize, batchCount);
    if (length < trailer) return "body shorter than trailer";
    this.ensureCapacity(batchCount + 1);
    const starts = this.starts;
    let total = 0;
    for (let i = 0; i < batchCount; i++) {
      starts[i] = total;
      total += readU16(body, length - 4 - 2 * i);
    }
    starts[batchCount] = total;
    const countsStart = length - 2 - 2 * batchCount;
    for (let i = length - trailer; i < countsStart; i++) {
      if (body[i] !== 0xff) return "padding not 0xFF";
    }
    if (length - trailer !== total * elementSize) return "payload size mismatch";
    this.batchCount = batchCount;
    return null;
  }

  /** Elements in batch i. */
  elementCount(i: number): number {
    this.checkIndex(i);
    return this.starts[i + 1]! - this.starts[i]!;
  }

  /** Byte offset of batch i's first element within the body. */
  batchOffset(i: number): number {
    this.checkIndex(i);
    return this.starts[i]! * this.elementSize;
  }

  /** Byte length of batch i. */
  batchSize(i: number): number {
    return this.elementCount(i) * this.elementSize;
  }

  /** Elements across all batches. */
  get elementTotal(): number {
    return this.batchCount === 0 ? 0 : this.starts[this.batchCount]!;
  }

  /** Batch i as a view of the body (allocates the view; use batchOffset on hot paths). */
  batch(i: number): Uint8Array {
    const start = this.batchOffset(i);
    return this.body.subarray(start, start + this.batchSize(i));
  }

  private checkIndex(i: number): void {
    assert(Number.isInteger(i) && i >= 0 && i < this.batchCount, "batch index out of range");
  }

  private ensureCapacity(entries: number): void {
    if (this.starts.length >= entries) return;
    let capacity = this.starts.length;
    while (capacity < entries) capacity *= 2;
    this.starts = new Uint32Array(capacity);
  }
}

/** Decodes `body` into a fresh reader, or returns the reason it is invalid (API edge). */
export function decodeMultiBatch(body: Uint8Array, elementSize: number): MultiBatchReader | MultiBatchError {
  const reader = new MultiBatchReader();
  const error = reader.reset(body, elementSize);
  return error === null ? reader : error;
}

/**
 * Encoder into a caller-owned region: the state machine writes reply batches with it and clients
 * build requests. Elements are written in place by the caller at the offsets this returns, so
 * nothing is copied twice. Usage: `reset`, then per batch `beginBatch`, `reserveElements` (any
 * number of times), `endBatch`, and finally `finish`, which writes the trailer and returns the body
 * length. Capacity overruns are assertions: the caller sizes the region for the worst case
 * (ledger.md §12) before it starts.
 */
export class MultiBatchWriter {
  buffer: Uint8Array = new Uint8Array(0);
  /** Absolute offset of the body inside `buffer`. */
  offset = 0;
  /** Bytes available for the body, from `offset`. */
  capacity = 0;
  elementSize = 1;
  batchCount = 0;
  /** Elements written so far, across all batches. */
  elementTotal = 0;
  private counts = new Uint16Array(64);
  private batchOpen = false;
  private finished = false;

  reset(buffer: Uint8Array, elementSize: number, offset = 0, capacity = buffer.length - offset): this {
    assert(Number.isInteger(elementSize) && elementSize > 0, "element size must be positive");
    assert(Number.isInteger(offset) && offset >= 0 && capacity >= 0 && offset + capacity <= buffer.length);
    this.buffer = buffer;
    this.offset = offset;
    this.capacity = capacity;
    this.elementSize = elementSize;
    this.batchCount = 0;
    this.elementTotal = 0;
    this.batchOpen = false;
    this.finished = false;
    return this;
  }

  beginBatch(): void {
    assert(!this.batchOpen && !this.finished, "beginBatch: a batch is open or the body is finished");
    assert(this.batchCount < batchCountMax, "too many batches");
    if (this.counts.length === this.batchCount) this.growCounts();
    this.counts[this.batchCount] = 0;
    this.batchCount += 1;
    this.batchOpen = true;
    assert(this.fits(0), "multi-batch body exceeds capacity");
  }

  /** Reserves `count` elements in the open batch; returns the absolute offset of the first one. */
  reserveElements(count: number): number {
    assert(this.batchOpen, "reserveElements outside a batch");
    const index = this.batchCount - 1;
    assert(Number.isInteger(count) && count >= 0 && this.counts[index]! + count <= batchElementsMax, "batch too large");
    assert(this.fits(count), "multi-batch body exceeds capacity");
    const at = this.offset + this.elementTotal * this.elementSize;
    this.counts[index] = this.counts[index]! + count;
    this.elementTotal += count;
    return at;
  }

  /** Appends whole elements from `elements` (length a multiple of E) to the open batch. */
  appendElements(elements: Uint8Array): void {
    assert(elements.length % this.elementSize === 0, "not a whole number of elements");
    const at = this.reserveElements(elements.length / this.elementSize);
    this.buffer.set(elements, at);
  }

  endBatch(): void {
    assert(this.batchOpen, "endBatch without beginBatch");
    this.batchOpen = false;
  }

  /** A whole batch in one call. */
  addBatch(elements: Uint8Array): void {
    this.beginBatch();
    this.appendElements(elements);
    this.endBatch();
  }

  /** True when `count` more elements fit in the open batch (and the trailer still fits). */
  fits(count: number, extraBatches = 0): boolean {
    const payload = (this.elementTotal + count) * this.elementSize;
    return payload + trailerSize(this.elementSize, this.batchCount + extraBatches) <= this.capacity;
  }

  /** Writes the trailer; returns the body length. The body is buffer[offset, offset + length). */
  finish(): number {
    assert(!this.batchOpen && !this.finished, "finish: a batch is open or the body is finished");
    assert(this.batchCount > 0, "a multi-batch body has at least one batch");
    this.finished = true;
    const payload = this.elementTotal * this.elementSize;
    const trailer = trailerSize(this.elementSize, this.batchCount);
    const end = this.offset + payload + trailer;
    assert(end <= this.offset + this.capacity, "multi-batch body exceeds capacity");
    const countsStart = end - 2 - 2 * this.batchCount;
    this.buffer.fill(0xff, this.offset + payload, countsStart);
    for (let i = 0; i < this.batchCount; i++) writeU16(this.buffer, end - 4 - 2 * i, this.counts[i]!);
    writeU16(this.buffer, end - 2, this.batchCount);
    return payload + trailer;
  }

  private growCounts(): void {
    const counts = new Uint16Array(this.counts.length * 2);
    counts.set(this.counts);
    this.counts = counts;
  }
}

/** Encodes whole batches into a fresh body (API edge: clients, tests). */
export function encodeMultiBatch(batches: readonly Uint8Array[], elementSize: number): Uint8Array {
  let payload = 0;
  for (const batch of batches) payload += batch.length;
  const body = new Uint8Array(payload + trailerSize(elementSize, batches.length));
  const writer = new MultiBatchWriter().reset(body, elementSize);
  for (const batch of batches) writer.addBatch(batch);
  const length = writer.finish();
  assert(length === body.length);
  return body;
}
