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
  // several times more per construction, and the handlers make an accessor per message.
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
//
// One runtime class serves every command (CommandHeader): a command's accessor differs from
// another's only by its table of field offsets. V8 keeps a property access fast while the site
// sees at most four hidden classes. With a class per command, the frame accessors and the Header
// methods saw eighteen, and every access through them took the megamorphic path: about 40 ns
// instead of 3, so that `Replica.frame` alone cost 0.2 µs per message in the VOPR. The
// per-command types keep the compile-time check that code reads only its command's fields.
// ---------------------------------------------------------------------------------------------

/** The command-specific field names that have accessors (fields.ts). */
type CommandFieldName =
  "parent" | "client" | "session" | "timestamp" | "request" | "operation" | "previous_request_latency" |
  "request_checksum" | "context" | "op" | "commit" | "ping_timestamp_monotonic" | "reason" |
  "checkpoint_id" | "checkpoint_op" | "release_count" | "pong_timestamp_wall" | "request_release" |
  "prepare_checksum" | "commit_min" | "commit_checksum" | "timestamp_monotonic" | "present_bitset" |
  "nack_bitset" | "log_view" | "nonce" | "op_min" | "op_max" | "reply_checksum" | "reply_op" | "address" |
  "block_type" | "commit_max";

/** Byte offsets of a command's fields; -1 for the names the command does not have. */
type FieldOffsets = { readonly [name in CommandFieldName]: number };

/**
 * A command's offsets table. The literal names every field in one order, so that all tables share one
 * hidden class and `this.fields.<name>` stays a monomorphic load.
 */
function fieldOffsets(table: Partial<Record<CommandFieldName, number>>): FieldOffsets {
  return {
    parent: table.parent ?? -1, client: table.client ?? -1, session: table.session ?? -1,
    timestamp: table.timestamp ?? -1, request: table.request ?? -1, operation: table.operation ?? -1,
    previous_request_latency: table.previous_request_latency ?? -1,
    request_checksum: table.request_checksum ?? -1, context: table.context ?? -1, op: table.op ?? -1,
    commit: table.commit ?? -1, ping_timestamp_monotonic: table.ping_timestamp_monotonic ?? -1,
    reason: table.reason ?? -1, checkpoint_id: table.checkpoint_id ?? -1,
    checkpoint_op: table.checkpoint_op ?? -1, release_count: table.release_count ?? -1,
    pong_timestamp_wall: table.pong_timestamp_wall ?? -1, request_release: table.request_release ?? -1,
    prepare_checksum: table.prepare_checksum ?? -1, commit_min: table.commit_min ?? -1,
    commit_checksum: table.commit_checksum ?? -1, timestamp_monotonic: table.timestamp_monotonic ?? -1,
    present_bitset: table.present_bitset ?? -1, nack_bitset: table.nack_bitset ?? -1,
    log_view: table.log_view ?? -1, nonce: table.nonce ?? -1, op_min: table.op_min ?? -1,
    op_max: table.op_max ?? -1, reply_checksum: table.reply_checksum ?? -1, reply_op: table.reply_op ?? -1,
    address: table.address ?? -1, block_type: table.block_type ?? -1, commit_max: table.commit_max ?? -1,
  };
}

/** The one runtime class of every per-command accessor (see above); each command's type picks its fields. */
class CommandHeader extends Header {
  declare fields: FieldOffsets;

  constructor(buffer: Uint8Array, offset: number, fields: FieldOffsets) {
    super(buffer, offset);
    this.fields = fields;
  }

  get parent(): bigint { return this.getU128(this.fields.parent); }
  set parent(value: bigint) { this.setU128(this.fields.parent, value); }
  get client(): bigint { return this.getU128(this.fields.client); }
  set client(value: bigint) { this.setU128(this.fields.client, value); }
  get session(): number { return this.getU64Number(this.fields.session); }
  set session(value: number) { this.setU64Number(this.fields.session, value); }
  get session_bigint(): bigint { return this.getU64(this.fields.session); }
  set session_bigint(value: bigint) { this.setU64(this.fields.session, value); }
  get timestamp(): bigint { return this.getU64(this.fields.timestamp); }
  set timestamp(value: bigint) { this.setU64(this.fields.timestamp, value); }
  get request(): number { return this.getU32(this.fields.request); }
  set request(value: number) { this.setU32(this.fields.request, value); }
  get operation(): number { return this.getU8(this.fields.operation); }
  set operation(value: number) { this.setU8(this.fields.operation, value); }
  get previous_request_latency(): number { return this.getU32(this.fields.previous_request_latency); }
  set previous_request_latency(value: number) { this.setU32(this.fields.previous_request_latency, value); }
  get request_checksum(): bigint { return this.getU128(this.fields.request_checksum); }
  set request_checksum(value: bigint) { this.setU128(this.fields.request_checksum, value); }
  get context(): bigint { return this.getU128(this.fields.context); }
  set context(value: bigint) { this.setU128(this.fields.context, value); }
  get op(): number { return this.getU64Number(this.fields.op); }
  set op(value: number) { this.setU64Number(this.fields.op, value); }
  get op_bigint(): bigint { return this.getU64(this.fields.op); }
  set op_bigint(value: bigint) { this.setU64(this.fields.op, value); }
  get commit(): number { return this.getU64Number(this.fields.commit); }
  set commit(value: number) { this.setU64Number(this.fields.commit, value); }
  get commit_bigint(): bigint { return this.getU64(this.fields.commit); }
  set commit_bigint(value: bigint) { this.setU64(this.fields.commit, value); }
  get ping_timestamp_monotonic(): bigint { return this.getU64(this.fields.ping_timestamp_monotonic); }
  set ping_timestamp_monotonic(value: bigint) { this.setU64(this.fields.ping_timestamp_monotonic, value); }
  get reason(): number { return this.getU8(this.fields.reason); }
  set reason(value: number) { this.setU8(this.fields.reason, value); }
  get checkpoint_id(): bigint { return this.getU128(this.fields.checkpoint_id); }
  set checkpoint_id(value: bigint) { this.setU128(this.fields.checkpoint_id, value); }
  get checkpoint_op(): number { return this.getU64Number(this.fields.checkpoint_op); }
  set checkpoint_op(value: number) { this.setU64Number(this.fields.checkpoint_op, value); }
  get checkpoint_op_bigint(): bigint { return this.getU64(this.fields.checkpoint_op); }
  set checkpoint_op_bigint(value: bigint) { this.setU64(this.fields.checkpoint_op, value); }
  get release_count(): number { return this.getU16(this.fields.release_count); }
  set release_count(value: number) { this.setU16(this.fields.release_count, value); }
  get pong_timestamp_wall(): bigint { return this.getU64(this.fields.pong_timestamp_wall); }
  set pong_timestamp_wall(value: bigint) { this.setU64(this.fields.pong_timestamp_wall, value); }
  get request_release(): number { return this.getU32(this.fields.request_release); }
  set request_release(value: number) { this.setU32(this.fields.request_release, value); }
  get prepare_checksum(): bigint { return this.getU128(this.fields.prepare_checksum); }
  set prepare_checksum(value: bigint) { this.setU128(this.fields.prepare_checksum, value); }
  get commit_min(): number { return this.getU64Number(this.fields.commit_min); }
  set commit_min(value: number) { this.setU64Number(this.fields.commit_min, value); }
  get commit_min_bigint(): bigint { return this.getU64(this.fields.commit_min); }
  set commit_min_bigint(value: bigint) { this.setU64(this.fields.commit_min, value); }
  get commit_checksum(): bigint { return this.getU128(this.fields.commit_checksum); }
  set commit_checksum(value: bigint) { this.setU128(this.fields.commit_checksum, value); }
  get timestamp_monotonic(): bigint { return this.getU64(this.fields.timestamp_monotonic); }
  set timestamp_monotonic(value: bigint) { this.setU64(this.fields.timestamp_monotonic, value); }
  get present_bitset(): bigint { return this.getU64(this.fields.present_bitset); }
  set present_bitset(value: bigint) { this.setU64(this.fields.present_bitset, value); }
  get nack_bitset(): bigint { return this.getU64(this.fields.nack_bitset); }
  set nack_bitset(value: bigint) { this.setU64(this.fields.nack_bitset, value); }
  get log_view(): number { return this.getU32(this.fields.log_view); }
  set log_view(value: number) { this.setU32(this.fields.log_view, value); }
  get nonce(): bigint { return this.getU128(this.fields.nonce); }
  set nonce(value: bigint) { this.setU128(this.fields.nonce, value); }
  get op_min(): number { return this.getU64Number(this.fields.op_min); }
  set op_min(value: number) { this.setU64Number(this.fields.op_min, value); }
  get op_min_bigint(): bigint { return this.getU64(this.fields.op_min); }
  set op_min_bigint(value: bigint) { this.setU64(this.fields.op_min, value); }
  get op_max(): number { return this.getU64Number(this.fields.op_max); }
  set op_max(value: number) { this.setU64Number(this.fields.op_max, value); }
  get op_max_bigint(): bigint { return this.getU64(this.fields.op_max); }
  set op_max_bigint(value: bigint) { this.setU64(this.fields.op_max, value); }
  get reply_checksum(): bigint { return this.getU128(this.fields.reply_checksum); }
  set reply_checksum(value: bigint) { this.setU128(this.fields.reply_checksum, value); }
  get reply_op(): number { return this.getU64Number(this.fields.reply_op); }
  set reply_op(value: number) { this.setU64Number(this.fields.reply_op, value); }
  get reply_op_bigint(): bigint { return this.getU64(this.fields.reply_op); }
  set reply_op_bigint(value: bigint) { this.setU64(this.fields.reply_op, value); }
  get address(): number { return this.getU64Number(this.fields.address); }
  set address(value: number) { this.setU64Number(this.fields.address, value); }
  get address_bigint(): bigint { return this.getU64(this.fields.address); }
  set address_bigint(value: bigint) { this.setU64(this.fields.address, value); }
  get block_type(): number { return this.getU8(this.fields.block_type); }
  set block_type(value: number) { this.setU8(this.fields.block_type, value); }
  get commit_max(): number { return this.getU64Number(this.fields.commit_max); }
  set commit_max(value: number) { this.setU64Number(this.fields.commit_max, value); }
  get commit_max_bigint(): bigint { return this.getU64(this.fields.commit_max); }
  set commit_max_bigint(value: bigint) { this.setU64(this.fields.commit_max, value); }
}

/** `new XHeader(buffer, offset)`: a CommandHeader over X's field offsets, typed as X's view. */
export type HeaderConstructor<View extends Header> = new (buffer: Uint8Array, offset?: number) => View;

function commandHeader<View extends Header>(table: Partial<Record<CommandFieldName, number>>): HeaderConstructor<View> {
  const fields = fieldOffsets(table);
  // Called with `new`, a function that returns an object yields that object.
  return function (buffer: Uint8Array, offset = 0) {
    return new CommandHeader(buffer, offset, fields);
  } as unknown as HeaderConstructor<View>;
}

export type RequestHeader = Header & Pick<CommandHeader,
  "parent" | "client" | "session" | "session_bigint" | "timestamp" | "request" | "operation" |
  "previous_request_latency">;
export const RequestHeader = commandHeader<RequestHeader>(RequestField);

export type ReplyHeader = Header & Pick<CommandHeader,
  "request_checksum" | "context" | "client" | "op" | "op_bigint" | "commit" | "commit_bigint" | "timestamp" |
  "request" | "operation">;
export const ReplyHeader = commandHeader<ReplyHeader>(ReplyField);

export type PingClientHeader = Header & Pick<CommandHeader,
  "client" | "ping_timestamp_monotonic" | "session" | "session_bigint">;
export const PingClientHeader = commandHeader<PingClientHeader>(PingClientField);

export type PongClientHeader = Header & Pick<CommandHeader, "ping_timestamp_monotonic">;
export const PongClientHeader = commandHeader<PongClientHeader>(PongClientField);

export type EvictionHeader = Header & Pick<CommandHeader, "client" | "reason">;
export const EvictionHeader = commandHeader<EvictionHeader>(EvictionField);

export type PingHeader = Header & Pick<CommandHeader,
  "checkpoint_id" | "checkpoint_op" | "checkpoint_op_bigint" | "ping_timestamp_monotonic" | "release_count">;
export const PingHeader = commandHeader<PingHeader>(PingField);

export type PongHeader = Header & Pick<CommandHeader, "ping_timestamp_monotonic" | "pong_timestamp_wall">;
export const PongHeader = commandHeader<PongHeader>(PongField);

export type PrepareHeader = Header & Pick<CommandHeader,
  "parent" | "request_checksum" | "checkpoint_id" | "client" | "op" | "op_bigint" | "commit" |
  "commit_bigint" | "timestamp" | "request" | "request_release" | "operation">;
export const PrepareHeader = commandHeader<PrepareHeader>(PrepareField);

export type PrepareOkHeader = Header & Pick<CommandHeader,
  "parent" | "prepare_checksum" | "checkpoint_id" | "client" | "op" | "op_bigint" | "commit_min" |
  "commit_min_bigint" | "timestamp" | "request" | "operation">;
export const PrepareOkHeader = commandHeader<PrepareOkHeader>(PrepareOkField);

export type CommitHeader = Header & Pick<CommandHeader,
  "commit_checksum" | "checkpoint_id" | "checkpoint_op" | "checkpoint_op_bigint" | "commit" | "commit_bigint" |
  "timestamp_monotonic">;
export const CommitHeader = commandHeader<CommitHeader>(CommitField);

export type JoinViewHeader = Header & Pick<CommandHeader,
  "op" | "op_bigint" | "commit_min" | "commit_min_bigint" | "checkpoint_op" | "checkpoint_op_bigint" |
  "present_bitset" | "nack_bitset" | "log_view">;
export const JoinViewHeader = commandHeader<JoinViewHeader>(JoinViewField);

export type GetViewHeader = Header & Pick<CommandHeader, "nonce">;
export const GetViewHeader = commandHeader<GetViewHeader>(GetViewField);

export type GetHeadersHeader = Header & Pick<CommandHeader, "op_min" | "op_min_bigint" | "op_max" | "op_max_bigint">;
export const GetHeadersHeader = commandHeader<GetHeadersHeader>(GetHeadersField);

export type GetPrepareHeader = Header & Pick<CommandHeader, "prepare_checksum" | "op" | "op_bigint">;
export const GetPrepareHeader = commandHeader<GetPrepareHeader>(GetPrepareField);

export type GetReplyHeader = Header & Pick<CommandHeader,
  "reply_checksum" | "client" | "reply_op" | "reply_op_bigint">;
export const GetReplyHeader = commandHeader<GetReplyHeader>(GetReplyField);

export type BlockHeader = Header & Pick<CommandHeader, "address" | "address_bigint" | "block_type">;
export const BlockHeader = commandHeader<BlockHeader>(BlockField);

export type ViewHeader = Header & Pick<CommandHeader,
  "nonce" | "op" | "op_bigint" | "commit_max" | "commit_max_bigint" | "checkpoint_op" |
  "checkpoint_op_bigint">;
export const ViewHeader = commandHeader<ViewHeader>(ViewField);
