import { assert } from "../assert.js";
import { commandMax } from "../command.js";
import { headerSize } from "../config.js";
import { readSize, verifyBodyChecksum, verifyHeaderChecksum } from "./checksums.js";
import { FrameField, wireMessageSizeMax } from "./fields.js";

// ---------------------------------------------------------------------------------------------
// MessageFramer: messages out of a byte stream (wire.md §1 steps 1–4). Pure, no IO.
// ---------------------------------------------------------------------------------------------

/** Fatal framing errors: the caller closes the connection and drops the framer's state. */
export type FramingError = "header checksum" | "unknown command" | "size out of range" | "body checksum";

/**
 * Feed it chunks of any split; it calls `onMessage` once per complete, checksum-verified message.
 * The message passed to `onMessage` is a view of either the caller's chunk (zero-copy when the
 * whole message lies inside one chunk) or the framer's own buffer: it is valid only until
 * `onMessage` returns, so copy what must outlive it. Memory is bounded by one `messageSizeMax`
 * buffer, allocated once. After an error every later `feed` returns it again, until `reset`.
 */
export class MessageFramer {
  private readonly pending: Uint8Array;
  /** Bytes of a partial message held in `pending`. */
  private pendingLength = 0;
  /** The partial message's size once its header has been checked; 0 before that. */
  private pendingSize = 0;
  private error: FramingError | null = null;
  private feeding = false;

  constructor(readonly messageSizeMax: number = wireMessageSizeMax) {
    assert(Number.isInteger(messageSizeMax) && messageSizeMax >= headerSize, "messageSizeMax");
    this.pending = new Uint8Array(messageSizeMax);
  }

  /** Bytes held for a message that has not arrived completely. */
  get bufferedBytes(): number { return this.pendingLength; }

  /** For a new connection, or after an error. */
  reset(): void {
    this.pendingLength = 0;
    this.pendingSize = 0;
    this.error = null;
  }

  feed(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): FramingError | null {
    assert(!this.feeding, "MessageFramer.feed is not re-entrant");
    if (this.error !== null) return this.error;
    this.feeding = true;
    try {
      this.error = this.consume(chunk, onMessage);
      if (this.error !== null) this.pendingLength = this.pendingSize = 0;
      return this.error;
    } finally {
      this.feeding = false;
    }
  }

  private consume(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): FramingError | null {
    let position = 0;
    while (position < chunk.length) {
      if (this.pendingLength === 0 && chunk.length - position >= headerSize) {
        // Fast path: the header is inside the chunk; so, often, is the whole message.
        const size = this.checkHeader(chunk, position);
        if (typeof size === "string") return size;
        if (chunk.length - position < size) {
          this.pending.set(chunk.subarray(position), 0);
          this.pendingLength = chunk.length - position;
          this.pendingSize = size;
          return null;
        }
        if (!verifyBodyChecksum(chunk, position)) return "body checksum";
        onMessage(chunk.subarray(position, position + size));
        position += size;
        continue;
      }
      const result = this.accumulate(chunk, position, onMessage);
      if (typeof result === "string") return result;
      position = result;
    }
    return null;
  }

  /** Copies from chunk[position..] into `pending` until the header, then the message, is whole. */
  private accumulate(
    chunk: Uint8Array, position: number, onMessage: (message: Uint8Array) => void,
  ): number | FramingError {
    const target = this.pendingSize === 0 ? headerSize : this.pendingSize;
    const take = Math.min(target - this.pendingLength, chunk.length - position);
    this.pending.set(chunk.subarray(position, position + take), this.pendingLength);
    this.pendingLength += take;
    position += take;
    if (this.pendingLength < target) return position;
    if (this.pendingSize === 0) {
      const size = this.checkHeader(this.pending, 0);
      if (typeof size === "string") return size;
      this.pendingSize = size;
      if (this.pendingLength < size) return position;
    }
    const size = this.pendingSize;
    if (!verifyBodyChecksum(this.pending, 0)) return "body checksum";
    this.pendingLength = 0;
    this.pendingSize = 0;
    onMessage(this.pending.subarray(0, size));
    return position;
  }

  /** Steps 1–3 of wire.md §1, in order. Returns the message size, or the error. */
  private checkHeader(bytes: Uint8Array, at: number): number | FramingError {
    if (!verifyHeaderChecksum(bytes, at)) return "header checksum";
    if (bytes[at + FrameField.command]! > commandMax) return "unknown command";
    const size = readSize(bytes, at);
    if (size < headerSize || size > this.messageSizeMax) return "size out of range";
    return size;
  }
}
