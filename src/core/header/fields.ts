// Wire constants, the frame and command-specific field offsets, and the per-command field
// layouts (spec/wire.md §2, §4). The bottom of src/core/header/: imports nothing from it.
import { assert } from "../assert.js";
import { checksumInto } from "../checksum.js";
import { Command, commandMax } from "../command.js";
import { headerSize, productionConfig } from "../config.js";

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

export const safeIntegerHighWordLimit = 0x20_0000; // a u64 is < 2^53 iff its high u32 word is < 2^21
export const u64Max = (1n << 64n) - 1n;
export const u128Max = (1n << 128n) - 1n;

/** checksum("") (wire.md §6): the `checksum_body` of every message without a body. */
export const checksumBodyEmpty = 0x49f1_7461_8255_402d_e6e7_e3c4_0d60_cc83n;
export const checksumBodyEmptyBytes = new Uint8Array(16);
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
export const checksummedStart = 16;

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
export const layouts: (readonly FieldLayout[] | undefined)[] = [];
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
