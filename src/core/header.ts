// The 256-byte message header (spec/wire.md §2–§6) and the codecs built on it: typed zero-copy
// accessors, checksums, header validity, a stream framer and builders for client-facing messages.
//
// Hot-path design: a `Header` wraps (buffer, offset) with a DataView over the buffer; accessors
// read and write the bytes in place, so they neither copy nor allocate. u8/u16/u32 fields are
// numbers. u64 fields that count ops, commits or sessions (always < 2^53) are numbers under the
// spec name, with a `<name>_bigint` twin for the API edge; other u64 fields (timestamps, bitsets)
// and all u128 fields are BigInt, which allocates, so hot paths compare and copy u128 regions with
// `u128Equals`, `copyBytes`, `readU128Words` and `writeU128Words` instead.
import { assert } from "./assert.js";
import { checksumInto, checksumMatches } from "./checksum.js";
import {
  Command, EvictionReason, Operation, commandMax, isValidEvictionReason, vsrOperationsReserved,
} from "./command.js";
import { headerSize, productionConfig } from "./config.js";

/** The largest message a client or replica may send on the wire (wire.md §1 step 3). */
export const wireMessageSizeMax = productionConfig.messageSizeMax;
/** Active replicas plus standbys: a replica index at or above this is never valid (vsr.md §1). */
export const replicaIndexLimit = productionConfig.replicasMax + productionConfig.standbysMax;
/** A pong_client with `replica` at or above this crashes the official client (wire.md §11). */
export const pongClientReplicaLimit = 6;
/** Upper bound of ping.release_count (the releases a replica advertises in a ping body). */
export const releasesMax = 64;
/** RegisterRequest and RegisterResult body sizes (wire.md §5). */
export const registerRequestBodySize = 256;
export const registerResultBodySize = 64;

const safeIntegerHighWordLimit = 0x20_0000; // a u64 is < 2^53 iff its high u32 word is < 2^21
const u64Max = (1n << 64n) - 1n;
const u128Max = (1n << 128n) - 1n;

/** checksum("") (wire.md §6): the `checksum_body` of every message without a body. */
export const checksumBodyEmpty = 0x49f1_7461_8255_402d_e6e7_e3c4_0d60_cc83n;
const checksumBodyEmptyBytes = new Uint8Array(16);
checksumInto(new Uint8Array(0), checksumBodyEmptyBytes, 0);

// ---------------------------------------------------------------------------------------------
// Frame (wire.md §2). Offsets are relative to the start of the header.
// ---------------------------------------------------------------------------------------------

export const FrameField = {
  checksum: 0,
  checksum_padding: 16,
  checksum_body: 32,
  checksum_body_padding: 48,
  nonce_reserved: 64,
  cluster: 80,
  size: 96,
  epoch: 100,
  view: 104,
  release: 108,
  protocol: 112,
  command: 114,
  replica: 115,
  reserved_frame: 116,
} as const;

/** The header's own checksum covers bytes [16, 256): everything but the checksum field. */
const checksummedStart = 16;

// ---------------------------------------------------------------------------------------------
// Command-specific layouts, bytes [128, 256).
//
// Client commands are fixed by wire.md §4. Replica commands are Scarab's own layout (vsr.md says
// only the frame is shared); u128 fields sit at 16-byte and u64 at 8-byte offsets, and every byte
// not named is `reserved` and must be zero. `u64n` marks a u64 that is a count of ops, commits or
// sessions: a number accessor, and validity requires it to be below 2^53.
//
// request (5)      128 parent u128 | 144 parent_padding [16] | 160 client u128 | 176 session u64n
//                  184 timestamp u64 | 192 request u32 | 196 operation u8 | 197 padding [3]
//                  200 previous_request_latency u32 | 204 reserved [52]
// reply (8)        128 request_checksum u128 | 144 request_checksum_padding [16] | 160 context u128
//                  176 context_padding [16] | 192 client u128 | 208 op u64n | 216 commit u64n
//                  224 timestamp u64 | 232 request u32 | 236 operation u8 | 237 reserved [19]
// ping_client (3)  128 client u128 | 144 ping_timestamp_monotonic u64 | 152 session u64n
//                  160 reserved [96]
// pong_client (4)  128 ping_timestamp_monotonic u64 | 136 reserved [120]
// eviction (18)    128 client u128 | 144 reserved [111] | 255 reason u8
//
// ping (1)         128 checkpoint_id u128 | 144 checkpoint_op u64n | 152 ping_timestamp_monotonic u64
//                  160 release_count u16 | 162 reserved [94]        body: release_count × u32 release
// pong (2)         128 ping_timestamp_monotonic u64 | 136 pong_timestamp_wall u64 | 144 reserved [112]
// prepare (6)      128 parent u128 | 144 request_checksum u128 | 160 checkpoint_id u128
//                  176 client u128 | 192 op u64n | 200 commit u64n | 208 timestamp u64
//                  216 request u32 | 220 request_release u32 | 224 operation u8 | 225 reserved [31]
//                  body: the request body. `request_release` is the client's release, which the
//                  reply must echo (wire.md §9.1); the frame `release` is the executing release.
// prepare_ok (7)   128 parent u128 | 144 prepare_checksum u128 | 160 checkpoint_id u128
//                  176 client u128 | 192 op u64n | 200 commit_min u64n | 208 timestamp u64
//                  216 request u32 | 220 operation u8 | 221 reserved [35]
// commit (9)       128 commit_checksum u128 | 144 checkpoint_id u128 | 160 checkpoint_op u64n
//                  168 commit u64n | 176 timestamp_monotonic u64 | 184 reserved [72]
// exit_view (10)   128 reserved [128]
// join_view (11)   128 op u64n | 136 commit_min u64n | 144 checkpoint_op u64n
//                  152 present_bitset u64 | 160 nack_bitset u64 | 168 log_view u32
//                  172 reserved [84]                                 body: whole 256-byte headers
// get_view (13)    128 nonce u128 | 144 reserved [112]
// get_headers (14) 128 op_min u64n | 136 op_max u64n | 144 reserved [112]
// get_prepare (15) 128 prepare_checksum u128 | 144 op u64n | 152 reserved [104]
// get_reply (16)   128 reply_checksum u128 | 144 client u128 | 160 reply_op u64n | 168 reserved [88]
// headers (17)     128 reserved [128]                                body: whole 256-byte headers
// get_blocks (19)  128 reserved [128]                                body: block references
// block (20)       128 address u64n | 136 block_type u8 | 137 reserved [119]   body: block data.
//                  The block's checksum is this header's own `checksum`; its parent holds it.
// view (24)        128 nonce u128 | 144 op u64n | 152 commit_max u64n | 160 checkpoint_op u64n
//                  168 reserved [88]                 body: checkpoint state and view headers
// ---------------------------------------------------------------------------------------------

export const RequestField = {
  parent: 128, parent_padding: 144, client: 160, session: 176, timestamp: 184, request: 192,
  operation: 196, padding: 197, previous_request_latency: 200, reserved: 204,
} as const;
export const ReplyField = {
  request_checksum: 128, request_checksum_padding: 144, context: 160, context_padding: 176,
  client: 192, op: 208, commit: 216, timestamp: 224, request: 232, operation: 236, reserved: 237,
} as const;
export const PingClientField = { client: 128, ping_timestamp_monotonic: 144, session: 152, reserved: 160 } as const;
export const PongClientField = { ping_timestamp_monotonic: 128, reserved: 136 } as const;
export const EvictionField = { client: 128, reserved: 144, reason: 255 } as const;
export const PingField = {
  checkpoint_id: 128, checkpoint_op: 144, ping_timestamp_monotonic: 152, release_count: 160, reserved: 162,
} as const;
export const PongField = { ping_timestamp_monotonic: 128, pong_timestamp_wall: 136, reserved: 144 } as const;
export const PrepareField = {
  parent: 128, request_checksum: 144, checkpoint_id: 160, client: 176, op: 192, commit: 200,
  timestamp: 208, request: 216, request_release: 220, operation: 224, reserved: 225,
} as const;
export const PrepareOkField = {
  parent: 128, prepare_checksum: 144, checkpoint_id: 160, client: 176, op: 192, commit_min: 200,
  timestamp: 208, request: 216, operation: 220, reserved: 221,
} as const;
export const CommitField = {
  commit_checksum: 128, checkpoint_id: 144, checkpoint_op: 160, commit: 168, timestamp_monotonic: 176,
  reserved: 184,
} as const;
export const JoinViewField = {
  op: 128, commit_min: 136, checkpoint_op: 144, present_bitset: 152, nack_bitset: 160, log_view: 168,
  reserved: 172,
} as const;
export const GetViewField = { nonce: 128, reserved: 144 } as const;
export const GetHeadersField = { op_min: 128, op_max: 136, reserved: 144 } as const;
export const GetPrepareField = { prepare_checksum: 128, op: 144, reserved: 152 } as const;
export const GetReplyField = { reply_checksum: 128, client: 144, reply_op: 160, reserved: 168 } as const;
export const BlockField = { address: 128, block_type: 136, reserved: 137 } as const;
export const ViewField = { nonce: 128, op: 144, commit_max: 152, checkpoint_op: 160, reserved: 168 } as const;
/** exit_view, headers and get_blocks carry nothing in [128, 256). */
export const EmptyField = { reserved: 128 } as const;

export type FieldKind = "u8" | "u16" | "u32" | "u64" | "u64n" | "u128" | "zero";

/** One field of a command layout. `zero` fields (padding, reserved) must be all zero bytes. */
export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: FieldKind;
  /** Precomputed so that validation returns a constant string without allocating. */
  readonly invalid_reason: string;
}

const kindSizes: Readonly<Record<Exclude<FieldKind, "zero">, number>> = {
  u8: 1, u16: 2, u32: 4, u64: 8, u64n: 8, u128: 16,
};

type FieldSpec = readonly [name: string, kind: FieldKind, zeroSize?: number];

/** Builds a layout from the field order; offsets come from the sizes, starting at 128. */
function layout(fields: readonly FieldSpec[]): readonly FieldLayout[] {
  let offset = 128;
  const result: FieldLayout[] = [];
  for (const [name, kind, zeroSize] of fields) {
    const size = kind === "zero" ? zeroSize! : kindSizes[kind];
    const invalid_reason = kind === "u64n" ? `${name} too large` : `${name} nonzero`;
    result.push({ name, offset, size, kind, invalid_reason });
    offset += size;
  }
  assert(offset === headerSize, "a command layout must cover [128, 256) exactly");
  return result;
}

const emptyLayout = layout([["reserved", "zero", 128]]);
const layouts: (readonly FieldLayout[] | undefined)[] = [];
layouts[Command.request] = layout([
  ["parent", "u128"], ["parent_padding", "zero", 16], ["client", "u128"], ["session", "u64n"],
  ["timestamp", "u64"], ["request", "u32"], ["operation", "u8"], ["padding", "zero", 3],
  ["previous_request_latency", "u32"], ["reserved", "zero", 52],
]);
layouts[Command.reply] = layout([
  ["request_checksum", "u128"], ["request_checksum_padding", "zero", 16], ["context", "u128"],
  ["context_padding", "zero", 16], ["client", "u128"], ["op", "u64n"], ["commit", "u64n"],
  ["timestamp", "u64"], ["request", "u32"], ["operation", "u8"], ["reserved", "zero", 19],
]);
layouts[Command.ping_client] = layout([
  ["client", "u128"], ["ping_timestamp_monotonic", "u64"], ["session", "u64n"], ["reserved", "zero", 96],
]);
layouts[Command.pong_client] = layout([["ping_timestamp_monotonic", "u64"], ["reserved", "zero", 120]]);
layouts[Command.eviction] = layout([["client", "u128"], ["reserved", "zero", 111], ["reason", "u8"]]);
layouts[Command.ping] = layout([
  ["checkpoint_id", "u128"], ["checkpoint_op", "u64n"], ["ping_timestamp_monotonic", "u64"],
  ["release_count", "u16"], ["reserved", "zero", 94],
]);
layouts[Command.pong] = layout([
  ["ping_timestamp_monotonic", "u64"], ["pong_timestamp_wall", "u64"], ["reserved", "zero", 112],
]);
layouts[Command.prepare] = layout([
  ["parent", "u128"], ["request_checksum", "u128"], ["checkpoint_id", "u128"], ["client", "u128"],
  ["op", "u64n"], ["commit", "u64n"], ["timestamp", "u64"], ["request", "u32"],
  ["request_release", "u32"], ["operation", "u8"], ["reserved", "zero", 31],
]);
layouts[Command.prepare_ok] = layout([
  ["parent", "u128"], ["prepare_checksum", "u128"], ["checkpoint_id", "u128"], ["client", "u128"],
  ["op", "u64n"], ["commit_min", "u64n"], ["timestamp", "u64"], ["request", "u32"],
  ["operation", "u8"], ["reserved", "zero", 35],
]);
layouts[Command.commit] = layout([
  ["commit_checksum", "u128"], ["checkpoint_id", "u128"], ["checkpoint_op", "u64n"], ["commit", "u64n"],
  ["timestamp_monotonic", "u64"], ["reserved", "zero", 72],
]);
layouts[Command.exit_view] = emptyLayout;
layouts[Command.join_view] = layout([
  ["op", "u64n"], ["commit_min", "u64n"], ["checkpoint_op", "u64n"], ["present_bitset", "u64"],
  ["nack_bitset", "u64"], ["log_view", "u32"], ["reserved", "zero", 84],
]);
layouts[Command.get_view] = layout([["nonce", "u128"], ["reserved", "zero", 112]]);
layouts[Command.get_headers] = layout([["op_min", "u64n"], ["op_max", "u64n"], ["reserved", "zero", 112]]);
layouts[Command.get_prepare] = layout([["prepare_checksum", "u128"], ["op", "u64n"], ["reserved", "zero", 104]]);
layouts[Command.get_reply] = layout([
  ["reply_checksum", "u128"], ["client", "u128"], ["reply_op", "u64n"], ["reserved", "zero", 88],
]);
layouts[Command.headers] = emptyLayout;
layouts[Command.get_blocks] = emptyLayout;
layouts[Command.block] = layout([["address", "u64n"], ["block_type", "u8"], ["reserved", "zero", 119]]);
layouts[Command.view] = layout([
  ["nonce", "u128"], ["op", "u64n"], ["commit_max", "u64n"], ["checkpoint_op", "u64n"], ["reserved", "zero", 88],
]);

/** The layout of bytes [128, 256) for a command, or null for reserved/deprecated/unknown ones. */
export function commandLayout(command: number): readonly FieldLayout[] | null {
  return command >= 0 && command <= commandMax ? layouts[command] ?? null : null;
}

// ---------------------------------------------------------------------------------------------
// Header: zero-copy accessors over (buffer, offset).
// ---------------------------------------------------------------------------------------------

export class Header {
  buffer!: Uint8Array;
  /** Absolute offset of the header inside `buffer`. */
  offset = 0;
  /** Over the whole of `buffer`; field reads add `offset`. */
  dataView!: DataView;

  constructor(buffer: Uint8Array, offset = 0) {
    this.reset(buffer, offset);
  }

  /** Re-points this accessor; allocates a DataView only when the buffer object changes. */
  reset(buffer: Uint8Array, offset = 0): this {
    assert(Number.isInteger(offset) && offset >= 0 && offset + headerSize <= buffer.length, "header out of bounds");
    if (this.buffer !== buffer) {
      this.buffer = buffer;
      this.dataView = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
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
  getU16(field: number): number { return this.dataView.getUint16(this.offset + field, true); }
  setU16(field: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff, "u16 out of range");
    this.dataView.setUint16(this.offset + field, value, true);
  }
  getU32(field: number): number { return this.dataView.getUint32(this.offset + field, true); }
  setU32(field: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, "u32 out of range");
    this.dataView.setUint32(this.offset + field, value, true);
  }
  getU64(field: number): bigint { return this.dataView.getBigUint64(this.offset + field, true); }
  setU64(field: number, value: bigint): void {
    assert(value >= 0n && value <= u64Max, "u64 out of range");
    this.dataView.setBigUint64(this.offset + field, value, true);
  }
  /** A u64 known to be below 2^53 (validity guarantees it for `u64n` fields of valid headers). */
  getU64Number(field: number): number {
    const high = this.dataView.getUint32(this.offset + field + 4, true);
    assert(high < safeIntegerHighWordLimit, "u64 does not fit in a safe integer");
    return high * 0x1_0000_0000 + this.dataView.getUint32(this.offset + field, true);
  }
  setU64Number(field: number, value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, "u64 number out of range");
    this.dataView.setUint32(this.offset + field, value >>> 0, true);
    this.dataView.setUint32(this.offset + field + 4, Math.floor(value / 0x1_0000_0000), true);
  }
  getU128(field: number): bigint {
    const at = this.offset + field;
    return (this.dataView.getBigUint64(at + 8, true) << 64n) | this.dataView.getBigUint64(at, true);
  }
  setU128(field: number, value: bigint): void {
    assert(value >= 0n && value <= u128Max, "u128 out of range");
    const at = this.offset + field;
    this.dataView.setBigUint64(at, value & u64Max, true);
    this.dataView.setBigUint64(at + 8, value >> 64n, true);
  }

  // ---- allocation-free region helpers ----
  /** True when bytes [field, field + size) of the header are all zero. */
  isZero(field: number, size: number): boolean {
    // Word reads first: validation checks ~200 zero bytes per header, on every message.
    const start = this.offset + field;
    const end = start + size;
    const words = start + (size & ~3);
    const dataView = this.dataView;
    let i = start;
    for (; i < words; i += 4) if (dataView.getUint32(i, true) !== 0) return false;
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
    for (let w = 0; w < 4; w++) words[index + w] = this.dataView.getUint32(at + 4 * w, true);
  }
  writeU128Words(field: number, words: Uint32Array, index: number): void {
    const at = this.offset + field;
    for (let w = 0; w < 4; w++) this.dataView.setUint32(at + 4 * w, words[index + w]!, true);
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

function bytesEqual(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
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

/**
 * Every field of a header (frame and command-specific) by spec name, values as bigint for u64
 * and u128. For logs, `scarab inspect` and tests; allocates.
 */
export function decodeHeaderFields(header: Header): Record<string, number | bigint> {
  const fields: Record<string, number | bigint> = {
    checksum: header.checksum, checksum_body: header.checksum_body, cluster: header.cluster,
    size: header.size, epoch: header.epoch, view: header.view, release: header.release,
    protocol: header.protocol, command: header.command, replica: header.replica,
  };
  for (const field of commandLayout(header.command) ?? []) {
    if (field.kind === "zero") continue;
    fields[field.name] = readLayoutField(header, field);
  }
  return fields;
}

function readLayoutField(header: Header, field: FieldLayout): number | bigint {
  switch (field.kind) {
    case "u8": return header.getU8(field.offset);
    case "u16": return header.getU16(field.offset);
    case "u32": return header.getU32(field.offset);
    case "u64": case "u64n": return header.getU64(field.offset);
    case "u128": return header.getU128(field.offset);
    case "zero": return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Checksums (wire.md §6). Each call allocates only the subarray views handed to the MAC.
// ---------------------------------------------------------------------------------------------

function readSize(buffer: Uint8Array, offset: number): number {
  const at = offset + FrameField.size;
  return (buffer[at]! | (buffer[at + 1]! << 8) | (buffer[at + 2]! << 16) | (buffer[at + 3]! << 24)) >>> 0;
}

function setBodyChecksum(buffer: Uint8Array, offset: number, size: number): void {
  assert(size >= headerSize && offset + size <= buffer.length, "message out of bounds");
  assert(readSize(buffer, offset) === size, "size argument differs from header.size");
  checksumInto(buffer.subarray(offset + headerSize, offset + size), buffer, offset + FrameField.checksum_body);
}

function setHeaderChecksum(buffer: Uint8Array, offset: number): void {
  checksumInto(buffer.subarray(offset + checksummedStart, offset + headerSize), buffer, offset);
}

/** Every field filled: sets checksum_body, then checksum, which covers checksum_body. */
export function setChecksums(buffer: Uint8Array, offset: number, size: number): void {
  setBodyChecksum(buffer, offset, size);
  setHeaderChecksum(buffer, offset);
}

const contextScratch = new Uint8Array(16);

/**
 * Replies (wire.md §6): body checksum, then `context` = MAC(header[16..256)) computed while
 * context is still 0, then the header checksum, which now covers context. The context is computed
 * into a scratch buffer because the MAC's input contains the context bytes themselves.
 */
export function setReplyChecksums(buffer: Uint8Array, offset: number, size: number): void {
  assert(buffer[offset + FrameField.command] === Command.reply, "not a reply");
  const context = offset + ReplyField.context;
  buffer.fill(0, context, context + 16);
  setBodyChecksum(buffer, offset, size);
  checksumInto(buffer.subarray(offset + checksummedStart, offset + headerSize), contextScratch, 0);
  buffer.set(contextScratch, context);
  setHeaderChecksum(buffer, offset);
}

/** Only the header checksum, for a header whose body is unchanged (e.g. a reply re-stamped with a newer view). */
export function setHeaderChecksumOnly(buffer: Uint8Array, offset: number): void {
  setHeaderChecksum(buffer, offset);
}

export function verifyHeaderChecksum(buffer: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + headerSize > buffer.length) return false;
  return checksumMatches(buffer.subarray(offset + checksummedStart, offset + headerSize), buffer, offset);
}

/** False also when header.size is out of range or runs past the end of `buffer`. */
export function verifyBodyChecksum(buffer: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + headerSize > buffer.length) return false;
  const size = readSize(buffer, offset);
  if (size < headerSize || offset + size > buffer.length) return false;
  return checksumMatches(
    buffer.subarray(offset + headerSize, offset + size), buffer, offset + FrameField.checksum_body,
  );
}

/**
 * A replica resending an old reply in a newer durable log view (wire.md §4.2): new `view`, new
 * header checksum, same `context`, so the client's hash chain stays valid.
 */
export function restampReplyView(buffer: Uint8Array, offset: number, view: number): void {
  const reply = scratchReply.reset(buffer, offset);
  assert(reply.command === Command.reply, "not a reply");
  reply.view = view;
  setHeaderChecksum(buffer, offset);
}

// ---------------------------------------------------------------------------------------------
// Header validity (wire.md §2, §4; replica commands: Scarab's own rules). Returns null when
// valid, else a short constant reason. Such messages are dropped silently (wire.md §1 step 5).
// Checksums are not checked here: the framer (or the journal) has verified them already.
// ---------------------------------------------------------------------------------------------

export function validateHeader(header: Header, messageSizeMax: number = wireMessageSizeMax): string | null {
  const frame = validateFrame(header, messageSizeMax);
  if (frame !== null) return frame;
  const command = header.command;
  if (command > commandMax) return "command unknown";
  const fields = layouts[command];
  if (fields === undefined) return command === Command.reserved ? "command reserved" : "command deprecated";
  const generic = validateLayoutFields(header, fields);
  if (generic !== null) return generic;
  return validateCommand(header, command);
}

function validateFrame(header: Header, messageSizeMax: number): string | null {
  if (!header.isZero(FrameField.checksum_padding, 16)) return "checksum_padding nonzero";
  if (!header.isZero(FrameField.checksum_body_padding, 16)) return "checksum_body_padding nonzero";
  if (!header.isZero(FrameField.nonce_reserved, 16)) return "nonce_reserved nonzero";
  const size = header.size;
  if (size < headerSize) return "size < header";
  if (size > messageSizeMax) return "size > message_size_max";
  if (header.epoch !== 0) return "epoch nonzero";
  if (header.protocol !== 0) return "protocol nonzero";
  if (!header.isZero(FrameField.reserved_frame, 12)) return "reserved_frame nonzero";
  return null;
}

/** Zero fields are zero; `u64n` fields are below 2^53 so that number accessors cannot throw. */
function validateLayoutFields(header: Header, fields: readonly FieldLayout[]): string | null {
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.kind === "zero") {
      if (!header.isZero(field.offset, field.size)) return field.invalid_reason;
    } else if (field.kind === "u64n") {
      if (header.getU32(field.offset + 4) >= safeIntegerHighWordLimit) return field.invalid_reason;
    }
  }
  return null;
}

function validateCommand(header: Header, command: number): string | null {
  switch (command) {
    case Command.request: return validateRequest(header);
    case Command.reply: return validateReply(header);
    case Command.ping_client: return validatePingClient(header);
    case Command.pong_client: return validatePongClient(header);
    case Command.eviction: return validateEviction(header);
    default: return validateReplicaCommand(header, command);
  }
}

function validateRequest(header: Header): string | null {
  if (header.release === 0) return "release zero";
  const operation = header.getU8(RequestField.operation);
  if (operation === Operation.reserved) return "operation reserved";
  if (operation === Operation.root) return "operation root";
  if (operation === Operation.register) return validateRegisterRequest(header);
  if (operation === Operation.pulse || operation === Operation.upgrade) {
    return header.isZero(RequestField.client, 16) ? null : "client nonzero";
  }
  // reconfigure (3) and noop (6) are permitted by TigerBeetle with their own rules; Scarab
  // implements neither, so like 7..127 they are invalid (wire.md §4.1 allows this).
  if (operation < vsrOperationsReserved) return "operation invalid";
  if (header.replica !== 0) return "replica nonzero";
  if (header.isZero(RequestField.client, 16)) return "client zero";
  if (header.isZero(RequestField.session, 8)) return "session zero";
  if (header.getU32(RequestField.request) === 0) return "request zero";
  return null;
}

function validateRegisterRequest(header: Header): string | null {
  if (header.replica !== 0) return "replica nonzero";
  if (header.isZero(RequestField.client, 16)) return "client zero";
  if (!header.isZero(RequestField.parent, 16)) return "parent nonzero";
  if (!header.isZero(RequestField.session, 8)) return "session nonzero";
  if (header.getU32(RequestField.request) !== 0) return "request nonzero";
  const size = header.size;
  if (size !== headerSize && size !== headerSize + registerRequestBodySize) return "register size";
  return null;
}

function validateReply(header: Header): string | null {
  if (header.release === 0) return "release zero";
  if (header.isZero(ReplyField.client, 16)) return "client zero";
  if (!bytesEqual(header.buffer, header.offset + ReplyField.op, header.buffer, header.offset + ReplyField.commit, 8)) {
    return "op != commit";
  }
  if (header.isZero(ReplyField.timestamp, 8)) return "timestamp zero";
  if (header.isZero(ReplyField.commit, 8)) return "commit zero";
  const request = header.getU32(ReplyField.request);
  if (header.getU8(ReplyField.operation) === Operation.register) {
    if (header.size !== headerSize + registerResultBodySize) return "register reply size";
    if (request !== 0) return "register reply request nonzero";
  } else if (request === 0) {
    return "request zero";
  }
  return null;
}

/** ping_client, pong_client and eviction have no body: size 256 and checksum_body = MAC(""). */
function validateEmptyBody(header: Header): string | null {
  if (header.size !== headerSize) return "size != header";
  if (!header.u128EqualsBytes(FrameField.checksum_body, checksumBodyEmptyBytes, 0)) return "checksum_body not empty";
  return null;
}

function validatePingClient(header: Header): string | null {
  const empty = validateEmptyBody(header);
  if (empty !== null) return empty;
  if (header.release === 0) return "release zero";
  if (header.replica !== 0) return "replica nonzero";
  if (header.view !== 0) return "view nonzero";
  if (header.isZero(PingClientField.client, 16)) return "client zero";
  return null;
}

function validatePongClient(header: Header): string | null {
  const empty = validateEmptyBody(header);
  if (empty !== null) return empty;
  if (header.release === 0) return "release zero";
  // Not a wire.md §4.4 validity rule, but the official client indexes an array of 6 with it
  // (wire.md §11): dropping is the safe reading for our own client too.
  if (header.replica >= pongClientReplicaLimit) return "replica out of range";
  return null;
}

function validateEviction(header: Header): string | null {
  const empty = validateEmptyBody(header);
  if (empty !== null) return empty;
  if (header.release === 0) return "release zero";
  if (header.isZero(EvictionField.client, 16)) return "client zero";
  if (!isValidEvictionReason(header.getU8(EvictionField.reason))) return "reason invalid";
  return null;
}

/** Replica-to-replica commands: structural sanity only; protocol rules live in src/replica. */
function validateReplicaCommand(header: Header, command: number): string | null {
  if (header.replica >= replicaIndexLimit) return "replica out of range";
  const size = header.size;
  switch (command) {
    case Command.ping: return validatePing(header);
    case Command.prepare: return validatePrepare(header);
    case Command.join_view:
      if (header.getU32(JoinViewField.log_view) > header.view) return "log_view > view";
      return (size - headerSize) % headerSize === 0 ? null : "body not whole headers";
    case Command.headers:
      return (size - headerSize) % headerSize === 0 ? null : "body not whole headers";
    case Command.get_headers:
      if (size !== headerSize) return "size != header";
      return header.getU64Number(GetHeadersField.op_min) <= header.getU64Number(GetHeadersField.op_max)
        ? null : "op_min > op_max";
    case Command.get_reply:
      if (size !== headerSize) return "size != header";
      return header.isZero(GetReplyField.client, 16) ? "client zero" : null;
    case Command.block:
      return header.isZero(BlockField.address, 8) ? "address zero" : null;
    case Command.view: case Command.get_blocks:
      return null; // bodies are decoded (and bounded) by their receivers
    default: // pong, prepare_ok, commit, exit_view, get_view, get_prepare
      return size === headerSize ? null : "size != header";
  }
}

function validatePing(header: Header): string | null {
  if (header.release === 0) return "release zero";
  const count = header.getU16(PingField.release_count);
  if (count === 0) return "release_count zero";
  if (count > releasesMax) return "release_count > releases_max";
  return header.size === headerSize + 4 * count ? null : "ping size";
}

function validatePrepare(header: Header): string | null {
  const operation = header.getU8(PrepareField.operation);
  const op = header.getU64Number(PrepareField.op);
  if (operation === Operation.root) return validateRootPrepare(header, op);
  if (op === 0) return "op zero";
  if (operation === Operation.reserved) return "operation reserved";
  if (header.getU64Number(PrepareField.commit) >= op) return "commit >= op";
  if (header.isZero(PrepareField.timestamp, 8)) return "timestamp zero";
  const clientZero = header.isZero(PrepareField.client, 16);
  const request = header.getU32(PrepareField.request);
  if (operation === Operation.register) {
    if (clientZero) return "client zero";
    if (request !== 0) return "request nonzero";
  } else if (operation === Operation.pulse || operation === Operation.upgrade || operation === Operation.noop) {
    if (!clientZero) return "client nonzero";
    if (request !== 0) return "request nonzero";
  } else if (operation < vsrOperationsReserved) {
    return "operation invalid";
  } else {
    if (clientZero) return "client zero";
    if (request === 0) return "request zero";
  }
  // The reply echoes the client's release, so a client op must carry one; others carry none.
  if ((header.getU32(PrepareField.request_release) === 0) !== clientZero) return "request_release invalid";
  return null;
}

/** Op 0 is the fixed root of the hash-chained log (vsr.md §3): everything but the frame is zero. */
function validateRootPrepare(header: Header, op: number): string | null {
  if (op !== 0) return "root op nonzero";
  if (header.size !== headerSize) return "size != header";
  const start = PrepareField.parent;
  const end = PrepareField.operation;
  return header.isZero(start, end - start) ? null : "root field nonzero";
}

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
        if (!bodyChecksumMatches(chunk, position, size)) return "body checksum";
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
    if (!bodyChecksumMatches(this.pending, 0, size)) return "body checksum";
    this.pendingLength = 0;
    this.pendingSize = 0;
    onMessage(this.pending.subarray(0, size));
    return position;
  }

  /** Steps 1–3 of wire.md §1, in order. Returns the message size, or the error. */
  private checkHeader(bytes: Uint8Array, at: number): number | FramingError {
    if (!checksumMatches(bytes.subarray(at + checksummedStart, at + headerSize), bytes, at)) {
      return "header checksum";
    }
    if (bytes[at + FrameField.command]! > commandMax) return "unknown command";
    const size = readSize(bytes, at);
    if (size < headerSize || size > this.messageSizeMax) return "size out of range";
    return size;
  }
}

function bodyChecksumMatches(bytes: Uint8Array, at: number, size: number): boolean {
  return checksumMatches(bytes.subarray(at + headerSize, at + size), bytes, at + FrameField.checksum_body);
}

// ---------------------------------------------------------------------------------------------
// Builders for client-facing messages. Each writes a whole message into `out` (from offset 0,
// zeroing the header first) or into a fresh buffer, and returns the message view [0, size).
// ---------------------------------------------------------------------------------------------

const scratchRequest = new RequestHeader(new Uint8Array(headerSize));
const scratchReply = new ReplyHeader(new Uint8Array(headerSize));
const scratchPingClient = new PingClientHeader(new Uint8Array(headerSize));
const scratchPongClient = new PongClientHeader(new Uint8Array(headerSize));
const scratchEviction = new EvictionHeader(new Uint8Array(headerSize));

function messageBuffer(size: number, output: Uint8Array | undefined): Uint8Array {
  if (output === undefined) return new Uint8Array(size);
  assert(output.length >= size, "output buffer too small");
  output.fill(0, 0, headerSize);
  return output;
}

/** Frame fields shared by every builder; the header bytes are already zero. */
function writeFrame(
  header: Header, command: Command, cluster: bigint, size: number, view: number, release: number, replica: number,
): void {
  header.command = command;
  header.cluster = cluster;
  header.size = size;
  header.view = view;
  header.release = release;
  header.replica = replica;
}

/**
 * The reply to `request` (wire.md §4.2, §6): cluster, request_checksum, client, request, operation
 * and **release** come from the request; `view` is the view in which `op` was prepared and
 * `replica` the primary that prepared it; commit = op. Checksums in the order body → context →
 * checksum.
 */
export function buildReply(
  request: Header, op: number, timestamp: bigint, view: number, replica: number,
  body: Uint8Array, output?: Uint8Array,
): Uint8Array {
  assert(request.command === Command.request, "buildReply needs a request");
  const size = headerSize + body.length;
  const buffer = messageBuffer(size, output);
  const reply = scratchReply.reset(buffer, 0);
  writeFrame(reply, Command.reply, 0n, size, view, request.release, replica);
  reply.copyBytes(FrameField.cluster, request, FrameField.cluster, 16);
  reply.copyBytes(ReplyField.request_checksum, request, FrameField.checksum, 16);
  reply.copyBytes(ReplyField.client, request, RequestField.client, 16);
  reply.request = request.getU32(RequestField.request);
  reply.operation = request.getU8(RequestField.operation);
  return finishReply(reply, buffer, op, timestamp, body);
}

/**
 * The reply to the request inside `prepare` (used when committing a prepare whose request
 * message is gone, e.g. on a backup or after recovery): view, replica, op and timestamp are the
 * prepare's, release is the client's (`request_release`).
 */
export function buildReplyFromPrepare(prepare: Header, body: Uint8Array, output?: Uint8Array): Uint8Array {
  assert(prepare.command === Command.prepare, "buildReplyFromPrepare needs a prepare");
  const size = headerSize + body.length;
  const buffer = messageBuffer(size, output);
  const reply = scratchReply.reset(buffer, 0);
  const release = prepare.getU32(PrepareField.request_release);
  writeFrame(reply, Command.reply, 0n, size, prepare.view, release, prepare.replica);
  reply.copyBytes(FrameField.cluster, prepare, FrameField.cluster, 16);
  reply.copyBytes(ReplyField.request_checksum, prepare, PrepareField.request_checksum, 16);
  reply.copyBytes(ReplyField.client, prepare, PrepareField.client, 16);
  reply.request = prepare.getU32(PrepareField.request);
  reply.operation = prepare.getU8(PrepareField.operation);
  const op = prepare.getU64Number(PrepareField.op);
  return finishReply(reply, buffer, op, prepare.getU64(PrepareField.timestamp), body);
}

function finishReply(
  reply: ReplyHeader, buffer: Uint8Array, op: number, timestamp: bigint, body: Uint8Array,
): Uint8Array {
  assert(op > 0 && timestamp > 0n, "a reply needs op and timestamp (wire.md §4.2)");
  reply.op = op;
  reply.commit = op;
  reply.timestamp = timestamp;
  buffer.set(body, headerSize);
  const size = reply.size;
  setReplyChecksums(buffer, 0, size);
  return messageView(buffer, size);
}

function messageView(buffer: Uint8Array, size: number): Uint8Array {
  return buffer.length === size ? buffer : buffer.subarray(0, size);
}

/** pong_client (wire.md §4.4): `view` = durable log view, `release` = the replica's own. */
export function buildPongClient(
  cluster: bigint, ping_timestamp_monotonic: bigint, view: number, replica: number, release: number,
  output?: Uint8Array,
): Uint8Array {
  assert(replica < pongClientReplicaLimit, "pong_client.replica must be < 6");
  const buffer = messageBuffer(headerSize, output);
  const pong = scratchPongClient.reset(buffer, 0);
  writeFrame(pong, Command.pong_client, cluster, headerSize, view, release, replica);
  pong.ping_timestamp_monotonic = ping_timestamp_monotonic;
  setChecksums(buffer, 0, headerSize);
  return messageView(buffer, headerSize);
}

/** eviction (wire.md §4.5): from the primary, with its durable log view and its own release. */
export function buildEviction(
  cluster: bigint, client: bigint, reason: EvictionReason, view: number, replica: number, release: number,
  output?: Uint8Array,
): Uint8Array {
  assert(isValidEvictionReason(reason) && client !== 0n, "eviction reason and client");
  const buffer = messageBuffer(headerSize, output);
  const eviction = scratchEviction.reset(buffer, 0);
  writeFrame(eviction, Command.eviction, cluster, headerSize, view, release, replica);
  eviction.client = client;
  eviction.reason = reason;
  setChecksums(buffer, 0, headerSize);
  return messageView(buffer, headerSize);
}

/** ping_client (wire.md §4.3): `session` is 0 before the register reply. */
export function buildPingClient(
  cluster: bigint, client: bigint, ping_timestamp_monotonic: bigint, session: number, release: number,
  output?: Uint8Array,
): Uint8Array {
  assert(client !== 0n, "ping_client.client must be nonzero");
  const buffer = messageBuffer(headerSize, output);
  const ping = scratchPingClient.reset(buffer, 0);
  writeFrame(ping, Command.ping_client, cluster, headerSize, 0, release, 0);
  ping.client = client;
  ping.ping_timestamp_monotonic = ping_timestamp_monotonic;
  ping.session = session;
  setChecksums(buffer, 0, headerSize);
  return messageView(buffer, headerSize);
}

export interface RequestParams {
  readonly cluster: bigint;
  readonly client: bigint;
  /** The `context` of the previous reply; 0 for register. */
  readonly parent: bigint;
  /** 0 for register, then the register's commit number. */
  readonly session: number;
  /** 0 for register, then 1, 2, 3, … */
  readonly request: number;
  readonly operation: number;
  /** The highest view the client has seen. */
  readonly view: number;
  readonly release: number;
  /** Informational, in µs. */
  readonly previous_request_latency?: number;
}

/** A request (wire.md §4.1) with `body`; `timestamp` and `replica` are 0. */
export function buildRequest(params: RequestParams, body: Uint8Array, output?: Uint8Array): Uint8Array {
  const size = headerSize + body.length;
  const buffer = messageBuffer(size, output);
  const request = scratchRequest.reset(buffer, 0);
  writeFrame(request, Command.request, params.cluster, size, params.view, params.release, 0);
  request.parent = params.parent;
  request.client = params.client;
  request.session = params.session;
  request.request = params.request;
  request.operation = params.operation;
  request.previous_request_latency = params.previous_request_latency ?? 0;
  buffer.set(body, headerSize);
  setChecksums(buffer, 0, size);
  return messageView(buffer, size);
}

const registerRequestBody = new Uint8Array(registerRequestBodySize);

/** The register request (wire.md §9.2): operation 2, size 512, body RegisterRequest{0}. */
export function buildRegisterRequest(
  cluster: bigint, client: bigint, release: number, output?: Uint8Array,
): Uint8Array {
  assert(client !== 0n, "register needs a nonzero client id");
  const params: RequestParams = {
    cluster, client, parent: 0n, session: 0, request: 0, operation: Operation.register, view: 0, release,
  };
  return buildRequest(params, registerRequestBody, output);
}
