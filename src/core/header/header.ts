// Hot-path design: a `Header` wraps (buffer, offset); accessors read and write the bytes in place,
// so they neither copy nor allocate (but for the BigInt a BigInt field returns). u8/u16/u32 fields are
// numbers. u64 fields that count ops, commits or sessions (always < 2^53) are numbers under the
// spec name, with a `<name>_bigint` twin for the API edge; other u64 fields (timestamps, bitsets)
// and all u128 fields are BigInt, which allocates, so hot paths compare and copy u128 regions with
// `u128Equals`, `copyBytes`, `readU128Words` and `writeU128Words` instead.
import { assert } from "../assert.js";
import { bytesEqual, readU32, writeU32 } from "../bytes.js";
import { headerSize } from "../config.js";
import { setChecksums, setReplyChecksums, verifyBodyChecksum, verifyHeaderChecksum } from "./checksums.js";
import {
  BlockField, CommitField, EvictionField, FrameField, GetHeadersField, GetPrepareField, GetReplyField, GetViewField,
  JoinViewField, PingClientField, PingField, PongClientField, PongField, PrepareField, PrepareOkField, ReplyField,
  RequestField, ViewField, safeIntegerHighWordLimit, u128Max, u64Max,
} from "./fields.js";

// ---------------------------------------------------------------------------------------------
// Header: zero-copy accessors over (buffer, offset).
// ---------------------------------------------------------------------------------------------

/**
 * BigInt fields are read and written through this one scratch: a DataView made per accessor (the
 * handlers make an accessor per message) cost more than the field access itself.
 */
const scratchBytes = new Uint8Array(16);
const scratchView = new DataView(scratchBytes.buffer);

function copyRange(from: Uint8Array, fromOffset: number, to: Uint8Array, toOffset: number, length: number): void {
  for (let i = 0; i < length; i++) to[toOffset + i] = from[fromOffset + i]!;
}

export class Header {
  // Declared, and assigned in the constructor: class-field initializers (define semantics) cost
  // several times more per construction once a dozen subclasses share them, and the handlers
  // make an accessor per message.
  declare buffer: Uint8Array;
  /** Absolute offset of the header inside `buffer`. */
  declare offset: number;

  constructor(buffer: Uint8Array, offset = 0) {
    assert(Number.isInteger(offset) && offset >= 0 && offset + headerSize <= buffer.length, "header out of bounds");
    this.buffer = buffer;
    this.offset = offset;
  }

  /** Re-points this accessor. */
  reset(buffer: Uint8Array, offset = 0): this {
    assert(Number.isInteger(offset) && offset >= 0 && offset + headerSize <= buffer.length, "header out of bounds");
    this.buffer = buffer;
    this.offset = offset;
    return this;
  }

  // ---- frame fields ----
  get checksum(): bigint { return this.getU128(FrameField.checksum); }
  set checksum(value: bigint) { this.setU128(FrameField.checksum, value); }
  get checksum_body(): bigint { return this.getU128(FrameField.checksum_body); }
  set checksum_body(value: bigint) { this.setU128(FrameField.checksum_body, value); }
  get cluster(): bigint { return this.getU128(FrameField.cluster); }
  set cluster(value: bigint) { this.setU128(FrameField.cluster, value); }
  get size(): number { return this.getU32(FrameField.size); }
  set size(value: number) { this.setU32(FrameField.size, value); }
  get epoch(): number { return this.getU32(FrameField.epoch); }
  set epoch(value: number) { this.setU32(FrameField.epoch, value); }
  get view(): number { return this.getU32(FrameField.view); }
  set view(value: number) { this.setU32(FrameField.view, value); }
  get release(): number { return this.getU32(FrameField.release); }
  set release(value: number) { this.setU32(FrameField.release, value); }
  get protocol(): number { return this.getU16(FrameField.protocol); }
  set protocol(value: number) { this.setU16(FrameField.protocol, value); }
  get command(): number { return this.getU8(FrameField.command); }
  set command(value: number) { this.setU8(FrameField.command, value); }
  get replica(): number { return this.getU8(FrameField.replica); }
  set replica(value: number) { this.setU8(FrameField.replica, value); }

  // ---- typed field access at an offset relative to the header ----
  getU8(field: number): number { return this.buffer[this.offset + field]!; }
  setU8(field: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, "u8 out of range");
    this.buffer[this.offset + field] = value;
  }
  getU16(field: number): number {
    const at = this.offset + field;
    return this.buffer[at]! | (this.buffer[at + 1]! << 8);
  }
  setU16(field: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff, "u16 out of range");
    const at = this.offset + field;
    this.buffer[at] = value;
    this.buffer[at + 1] = value >>> 8;
  }
  getU32(field: number): number { return readU32(this.buffer, this.offset + field); }
  setU32(field: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, "u32 out of range");
    writeU32(this.buffer, this.offset + field, value);
  }
  getU64(field: number): bigint {
    copyRange(this.buffer, this.offset + field, scratchBytes, 0, 8);
    return scratchView.getBigUint64(0, true);
  }
  setU64(field: number, value: bigint): void {
    assert(value >= 0n && value <= u64Max, "u64 out of range");
    scratchView.setBigUint64(0, value, true);
    copyRange(scratchBytes, 0, this.buffer, this.offset + field, 8);
  }
  /** A u64 known to be below 2^53 (validity guarantees it for `u64n` fields of valid headers). */
  getU64Number(field: number): number {
    const high = readU32(this.buffer, this.offset + field + 4);
    assert(high < safeIntegerHighWordLimit, "u64 does not fit in a safe integer");
    return high * 0x1_0000_0000 + readU32(this.buffer, this.offset + field);
  }
  setU64Number(field: number, value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, "u64 number out of range");
    writeU32(this.buffer, this.offset + field, value >>> 0);
    writeU32(this.buffer, this.offset + field + 4, Math.floor(value / 0x1_0000_0000));
  }
  getU128(field: number): bigint {
    copyRange(this.buffer, this.offset + field, scratchBytes, 0, 16);
    return (scratchView.getBigUint64(8, true) << 64n) | scratchView.getBigUint64(0, true);
  }
  setU128(field: number, value: bigint): void {
    assert(value >= 0n && value <= u128Max, "u128 out of range");
    scratchView.setBigUint64(0, value & u64Max, true);
    scratchView.setBigUint64(8, value >> 64n, true);
    copyRange(scratchBytes, 0, this.buffer, this.offset + field, 16);
  }

  // ---- allocation-free region helpers ----
  /** True when bytes [field, field + size) of the header are all zero. */
  isZero(field: number, size: number): boolean {
    // Word reads first: validation checks ~200 zero bytes per header, on every message.
    const start = this.offset + field;
    const end = start + size;
    const words = start + (size & ~3);
    const buffer = this.buffer;
    let i = start;
    for (; i < words; i += 4) if ((buffer[i]! | buffer[i + 1]! | buffer[i + 2]! | buffer[i + 3]!) !== 0) return false;
    for (; i < end; i++) if (this.buffer[i] !== 0) return false;
    return true;
  }
  /** Compares this header's 16 bytes at `field` with `other`'s at `otherField` (u128 equality). */
  u128Equals(field: number, other: Header, otherField: number): boolean {
    return bytesEqual(this.buffer, this.offset + field, other.buffer, other.offset + otherField, 16);
  }
  /** Compares 16 bytes at `field` with bytes[bytesOffset, +16) of any buffer. */
  u128EqualsBytes(field: number, bytes: Uint8Array, bytesOffset: number): boolean {
    return bytesEqual(this.buffer, this.offset + field, bytes, bytesOffset, 16);
  }
  /** Copies `size` bytes from `from`'s header at `fromField` into this header at `field`. */
  copyBytes(field: number, from: Header, fromField: number, size: number): void {
    // A byte loop rather than `set(subarray)`: fields are small and this must not allocate.
    const source = from.buffer;
    const start = from.offset + fromField;
    const target = this.buffer;
    const at = this.offset + field;
    assert(source !== target || start + size <= at || at + size <= start, "copyBytes regions overlap");
    for (let i = 0; i < size; i++) target[at + i] = source[start + i]!;
  }
  /** u128 at `field` into words[index .. index + 4), word 0 least significant (u128.ts form). */
  readU128Words(field: number, words: Uint32Array, index: number): void {
    const at = this.offset + field;
    for (let w = 0; w < 4; w++) words[index + w] = readU32(this.buffer, at + 4 * w);
  }
  writeU128Words(field: number, words: Uint32Array, index: number): void {
    const at = this.offset + field;
    for (let w = 0; w < 4; w++) writeU32(this.buffer, at + 4 * w, words[index + w]!);
  }

  // ---- message views and checksums (size taken from the header) ----
  /** The 256 header bytes. Allocates a subarray view. */
  bytes(): Uint8Array { return this.buffer.subarray(this.offset, this.offset + headerSize); }
  /** The body bytes [256, size). Allocates a subarray view. */
  body(): Uint8Array { return this.buffer.subarray(this.offset + headerSize, this.offset + this.size); }
  /** The whole message [0, size). Allocates a subarray view. */
  message(): Uint8Array { return this.buffer.subarray(this.offset, this.offset + this.size); }
  setChecksums(): void { setChecksums(this.buffer, this.offset, this.size); }
  setReplyChecksums(): void { setReplyChecksums(this.buffer, this.offset, this.size); }
  verifyChecksum(): boolean { return verifyHeaderChecksum(this.buffer, this.offset); }
  verifyBodyChecksum(): boolean { return verifyBodyChecksum(this.buffer, this.offset); }
}

// ---------------------------------------------------------------------------------------------
// Per-command accessors. Construct once over a buffer (or `reset` onto another) and reuse.
// ---------------------------------------------------------------------------------------------

export class RequestHeader extends Header {
  get parent(): bigint { return this.getU128(RequestField.parent); }
  set parent(value: bigint) { this.setU128(RequestField.parent, value); }
  get client(): bigint { return this.getU128(RequestField.client); }
  set client(value: bigint) { this.setU128(RequestField.client, value); }
  get session(): number { return this.getU64Number(RequestField.session); }
  set session(value: number) { this.setU64Number(RequestField.session, value); }
  get session_bigint(): bigint { return this.getU64(RequestField.session); }
  set session_bigint(value: bigint) { this.setU64(RequestField.session, value); }
  get timestamp(): bigint { return this.getU64(RequestField.timestamp); }
  set timestamp(value: bigint) { this.setU64(RequestField.timestamp, value); }
  get request(): number { return this.getU32(RequestField.request); }
  set request(value: number) { this.setU32(RequestField.request, value); }
  get operation(): number { return this.getU8(RequestField.operation); }
  set operation(value: number) { this.setU8(RequestField.operation, value); }
  get previous_request_latency(): number { return this.getU32(RequestField.previous_request_latency); }
  set previous_request_latency(value: number) { this.setU32(RequestField.previous_request_latency, value); }
}

export class ReplyHeader extends Header {
  get request_checksum(): bigint { return this.getU128(ReplyField.request_checksum); }
  set request_checksum(value: bigint) { this.setU128(ReplyField.request_checksum, value); }
  get context(): bigint { return this.getU128(ReplyField.context); }
  set context(value: bigint) { this.setU128(ReplyField.context, value); }
  get client(): bigint { return this.getU128(ReplyField.client); }
  set client(value: bigint) { this.setU128(ReplyField.client, value); }
  get op(): number { return this.getU64Number(ReplyField.op); }
  set op(value: number) { this.setU64Number(ReplyField.op, value); }
  get op_bigint(): bigint { return this.getU64(ReplyField.op); }
  set op_bigint(value: bigint) { this.setU64(ReplyField.op, value); }
  get commit(): number { return this.getU64Number(ReplyField.commit); }
  set commit(value: number) { this.setU64Number(ReplyField.commit, value); }
  get commit_bigint(): bigint { return this.getU64(ReplyField.commit); }
  set commit_bigint(value: bigint) { this.setU64(ReplyField.commit, value); }
  get timestamp(): bigint { return this.getU64(ReplyField.timestamp); }
  set timestamp(value: bigint) { this.setU64(ReplyField.timestamp, value); }
  get request(): number { return this.getU32(ReplyField.request); }
  set request(value: number) { this.setU32(ReplyField.request, value); }
  get operation(): number { return this.getU8(ReplyField.operation); }
  set operation(value: number) { this.setU8(ReplyField.operation, value); }
}

export class PingClientHeader extends Header {
  get client(): bigint { return this.getU128(PingClientField.client); }
  set client(value: bigint) { this.setU128(PingClientField.client, value); }
  get ping_timestamp_monotonic(): bigint { return this.getU64(PingClientField.ping_timestamp_monotonic); }
  set ping_timestamp_monotonic(value: bigint) { this.setU64(PingClientField.ping_timestamp_monotonic, value); }
  get session(): number { return this.getU64Number(PingClientField.session); }
  set session(value: number) { this.setU64Number(PingClientField.session, value); }
  get session_bigint(): bigint { return this.getU64(PingClientField.session); }
  set session_bigint(value: bigint) { this.setU64(PingClientField.session, value); }
}

export class PongClientHeader extends Header {
  get ping_timestamp_monotonic(): bigint { return this.getU64(PongClientField.ping_timestamp_monotonic); }
  set ping_timestamp_monotonic(value: bigint) { this.setU64(PongClientField.ping_timestamp_monotonic, value); }
}

export class EvictionHeader extends Header {
  get client(): bigint { return this.getU128(EvictionField.client); }
  set client(value: bigint) { this.setU128(EvictionField.client, value); }
  get reason(): number { return this.getU8(EvictionField.reason); }
  set reason(value: number) { this.setU8(EvictionField.reason, value); }
}

export class PingHeader extends Header {
  get checkpoint_id(): bigint { return this.getU128(PingField.checkpoint_id); }
  set checkpoint_id(value: bigint) { this.setU128(PingField.checkpoint_id, value); }
  get checkpoint_op(): number { return this.getU64Number(PingField.checkpoint_op); }
  set checkpoint_op(value: number) { this.setU64Number(PingField.checkpoint_op, value); }
  get checkpoint_op_bigint(): bigint { return this.getU64(PingField.checkpoint_op); }
  set checkpoint_op_bigint(value: bigint) { this.setU64(PingField.checkpoint_op, value); }
  get ping_timestamp_monotonic(): bigint { return this.getU64(PingField.ping_timestamp_monotonic); }
  set ping_timestamp_monotonic(value: bigint) { this.setU64(PingField.ping_timestamp_monotonic, value); }
  get release_count(): number { return this.getU16(PingField.release_count); }
  set release_count(value: number) { this.setU16(PingField.release_count, value); }
}

export class PongHeader extends Header {
  get ping_timestamp_monotonic(): bigint { return this.getU64(PongField.ping_timestamp_monotonic); }
  set ping_timestamp_monotonic(value: bigint) { this.setU64(PongField.ping_timestamp_monotonic, value); }
  get pong_timestamp_wall(): bigint { return this.getU64(PongField.pong_timestamp_wall); }
  set pong_timestamp_wall(value: bigint) { this.setU64(PongField.pong_timestamp_wall, value); }
}

export class PrepareHeader extends Header {
  get parent(): bigint { return this.getU128(PrepareField.parent); }
  set parent(value: bigint) { this.setU128(PrepareField.parent, value); }
  get request_checksum(): bigint { return this.getU128(PrepareField.request_checksum); }
  set request_checksum(value: bigint) { this.setU128(PrepareField.request_checksum, value); }
  get checkpoint_id(): bigint { return this.getU128(PrepareField.checkpoint_id); }
  set checkpoint_id(value: bigint) { this.setU128(PrepareField.checkpoint_id, value); }
  get client(): bigint { return this.getU128(PrepareField.client); }
  set client(value: bigint) { this.setU128(PrepareField.client, value); }
  get op(): number { return this.getU64Number(PrepareField.op); }
  set op(value: number) { this.setU64Number(PrepareField.op, value); }
  get op_bigint(): bigint { return this.getU64(PrepareField.op); }
  set op_bigint(value: bigint) { this.setU64(PrepareField.op, value); }
  get commit(): number { return this.getU64Number(PrepareField.commit); }
  set commit(value: number) { this.setU64Number(PrepareField.commit, value); }
  get commit_bigint(): bigint { return this.getU64(PrepareField.commit); }
  set commit_bigint(value: bigint) { this.setU64(PrepareField.commit, value); }
  get timestamp(): bigint { return this.getU64(PrepareField.timestamp); }
  set timestamp(value: bigint) { this.setU64(PrepareField.timestamp, value); }
  get request(): number { return this.getU32(PrepareField.request); }
  set request(value: number) { this.setU32(PrepareField.request, value); }
  get request_release(): number { return this.getU32(PrepareField.request_release); }
  set request_release(value: number) { this.setU32(PrepareField.request_release, value); }
  get operation(): number { return this.getU8(PrepareField.operation); }
  set operation(value: number) { this.setU8(PrepareField.operation, value); }
}

export class PrepareOkHeader extends Header {
  get parent(): bigint { return this.getU128(PrepareOkField.parent); }
  set parent(value: bigint) { this.setU128(PrepareOkField.parent, value); }
  get prepare_checksum(): bigint { return this.getU128(PrepareOkField.prepare_checksum); }
  set prepare_checksum(value: bigint) { this.setU128(PrepareOkField.prepare_checksum, value); }
  get checkpoint_id(): bigint { return this.getU128(PrepareOkField.checkpoint_id); }
  set checkpoint_id(value: bigint) { this.setU128(PrepareOkField.checkpoint_id, value); }
  get client(): bigint { return this.getU128(PrepareOkField.client); }
  set client(value: bigint) { this.setU128(PrepareOkField.client, value); }
  get op(): number { return this.getU64Number(PrepareOkField.op); }
  set op(value: number) { this.setU64Number(PrepareOkField.op, value); }
  get op_bigint(): bigint { return this.getU64(PrepareOkField.op); }
  set op_bigint(value: bigint) { this.setU64(PrepareOkField.op, value); }
  get commit_min(): number { return this.getU64Number(PrepareOkField.commit_min); }
  set commit_min(value: number) { this.setU64Number(PrepareOkField.commit_min, value); }
  get commit_min_bigint(): bigint { return this.getU64(PrepareOkField.commit_min); }
  set commit_min_bigint(value: bigint) { this.setU64(PrepareOkField.commit_min, value); }
  get timestamp(): bigint { return this.getU64(PrepareOkField.timestamp); }
  set timestamp(value: bigint) { this.setU64(PrepareOkField.timestamp, value); }
  get request(): number { return this.getU32(PrepareOkField.request); }
  set request(value: number) { this.setU32(PrepareOkField.request, value); }
  get operation(): number { return this.getU8(PrepareOkField.operation); }
  set operation(value: number) { this.setU8(PrepareOkField.operation, value); }
}

export class CommitHeader extends Header {
  get commit_checksum(): bigint { return this.getU128(CommitField.commit_checksum); }
  set commit_checksum(value: bigint) { this.setU128(CommitField.commit_checksum, value); }
  get checkpoint_id(): bigint { return this.getU128(CommitField.checkpoint_id); }
  set checkpoint_id(value: bigint) { this.setU128(CommitField.checkpoint_id, value); }
  get checkpoint_op(): number { return this.getU64Number(CommitField.checkpoint_op); }
  set checkpoint_op(value: number) { this.setU64Number(CommitField.checkpoint_op, value); }
  get checkpoint_op_bigint(): bigint { return this.getU64(CommitField.checkpoint_op); }
  set checkpoint_op_bigint(value: bigint) { this.setU64(CommitField.checkpoint_op, value); }
  get commit(): number { return this.getU64Number(CommitField.commit); }
  set commit(value: number) { this.setU64Number(CommitField.commit, value); }
  get commit_bigint(): bigint { return this.getU64(CommitField.commit); }
  set commit_bigint(value: bigint) { this.setU64(CommitField.commit, value); }
  get timestamp_monotonic(): bigint { return this.getU64(CommitField.timestamp_monotonic); }
  set timestamp_monotonic(value: bigint) { this.setU64(CommitField.timestamp_monotonic, value); }
}

export class JoinViewHeader extends Header {
  get op(): number { return this.getU64Number(JoinViewField.op); }
  set op(value: number) { this.setU64Number(JoinViewField.op, value); }
  get op_bigint(): bigint { return this.getU64(JoinViewField.op); }
  set op_bigint(value: bigint) { this.setU64(JoinViewField.op, value); }
  get commit_min(): number { return this.getU64Number(JoinViewField.commit_min); }
  set commit_min(value: number) { this.setU64Number(JoinViewField.commit_min, value); }
  get commit_min_bigint(): bigint { return this.getU64(JoinViewField.commit_min); }
  set commit_min_bigint(value: bigint) { this.setU64(JoinViewField.commit_min, value); }
  get checkpoint_op(): number { return this.getU64Number(JoinViewField.checkpoint_op); }
  set checkpoint_op(value: number) { this.setU64Number(JoinViewField.checkpoint_op, value); }
  get checkpoint_op_bigint(): bigint { return this.getU64(JoinViewField.checkpoint_op); }
  set checkpoint_op_bigint(value: bigint) { this.setU64(JoinViewField.checkpoint_op, value); }
  get present_bitset(): bigint { return this.getU64(JoinViewField.present_bitset); }
  set present_bitset(value: bigint) { this.setU64(JoinViewField.present_bitset, value); }
  get nack_bitset(): bigint { return this.getU64(JoinViewField.nack_bitset); }
  set nack_bitset(value: bigint) { this.setU64(JoinViewField.nack_bitset, value); }
  get log_view(): number { return this.getU32(JoinViewField.log_view); }
  set log_view(value: number) { this.setU32(JoinViewField.log_view, value); }
}

export class GetViewHeader extends Header {
  get nonce(): bigint { return this.getU128(GetViewField.nonce); }
  set nonce(value: bigint) { this.setU128(GetViewField.nonce, value); }
}

export class GetHeadersHeader extends Header {
  get op_min(): number { return this.getU64Number(GetHeadersField.op_min); }
  set op_min(value: number) { this.setU64Number(GetHeadersField.op_min, value); }
  get op_min_bigint(): bigint { return this.getU64(GetHeadersField.op_min); }
  set op_min_bigint(value: bigint) { this.setU64(GetHeadersField.op_min, value); }
  get op_max(): number { return this.getU64Number(GetHeadersField.op_max); }
  set op_max(value: number) { this.setU64Number(GetHeadersField.op_max, value); }
  get op_max_bigint(): bigint { return this.getU64(GetHeadersField.op_max); }
  set op_max_bigint(value: bigint) { this.setU64(GetHeadersField.op_max, value); }
}

export class GetPrepareHeader extends Header {
  get prepare_checksum(): bigint { return this.getU128(GetPrepareField.prepare_checksum); }
  set prepare_checksum(value: bigint) { this.setU128(GetPrepareField.prepare_checksum, value); }
  get op(): number { return this.getU64Number(GetPrepareField.op); }
  set op(value: number) { this.setU64Number(GetPrepareField.op, value); }
  get op_bigint(): bigint { return this.getU64(GetPrepareField.op); }
  set op_bigint(value: bigint) { this.setU64(GetPrepareField.op, value); }
}

export class GetReplyHeader extends Header {
  get reply_checksum(): bigint { return this.getU128(GetReplyField.reply_checksum); }
  set reply_checksum(value: bigint) { this.setU128(GetReplyField.reply_checksum, value); }
  get client(): bigint { return this.getU128(GetReplyField.client); }
  set client(value: bigint) { this.setU128(GetReplyField.client, value); }
  get reply_op(): number { return this.getU64Number(GetReplyField.reply_op); }
  set reply_op(value: number) { this.setU64Number(GetReplyField.reply_op, value); }
  get reply_op_bigint(): bigint { return this.getU64(GetReplyField.reply_op); }
  set reply_op_bigint(value: bigint) { this.setU64(GetReplyField.reply_op, value); }
}

export class BlockHeader extends Header {
  get address(): number { return this.getU64Number(BlockField.address); }
  set address(value: number) { this.setU64Number(BlockField.address, value); }
  get address_bigint(): bigint { return this.getU64(BlockField.address); }
  set address_bigint(value: bigint) { this.setU64(BlockField.address, value); }
  get block_type(): number { return this.getU8(BlockField.block_type); }
  set block_type(value: number) { this.setU8(BlockField.block_type, value); }
}

export class ViewHeader extends Header {
  get nonce(): bigint { return this.getU128(ViewField.nonce); }
  set nonce(value: bigint) { this.setU128(ViewField.nonce, value); }
  get op(): number { return this.getU64Number(ViewField.op); }
  set op(value: number) { this.setU64Number(ViewField.op, value); }
  get op_bigint(): bigint { return this.getU64(ViewField.op); }
  set op_bigint(value: bigint) { this.setU64(ViewField.op, value); }
  get commit_max(): number { return this.getU64Number(ViewField.commit_max); }
  set commit_max(value: number) { this.setU64Number(ViewField.commit_max, value); }
  get commit_max_bigint(): bigint { return this.getU64(ViewField.commit_max); }
  set commit_max_bigint(value: bigint) { this.setU64(ViewField.commit_max, value); }
  get checkpoint_op(): number { return this.getU64Number(ViewField.checkpoint_op); }
  set checkpoint_op(value: number) { this.setU64Number(ViewField.checkpoint_op, value); }
  get checkpoint_op_bigint(): bigint { return this.getU64(ViewField.checkpoint_op); }
  set checkpoint_op_bigint(value: bigint) { this.setU64(ViewField.checkpoint_op, value); }
}
