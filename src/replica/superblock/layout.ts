// The superblock's durable VSR state and its on-disk encoding (spec/vsr.md §9, §10). One copy is a
// fixed little-endian layout, zero padded to config.superblockCopySize:
//
//   offset size  field
//        0   16  checksum                 MAC of bytes [34, copy_size): everything after `copy`
//       16   16  checksum_padding         zero
//       32    2  copy                     0..3; NOT checksummed, so all four copies hash the same
//                                         and a copy read from the wrong slot is detectable
//       34    2  version                  superblockVersion
//       36    4  release_format           the release that formatted the data file
//       40    8  sequence                 1 at format, +1 per update
//       48   16  cluster
//       64   16  parent                   checksum of sequence − 1 (0 at sequence 1)
//       80   16  reserved                 zero
//       96  448  vsr_state:
//       96   16    replica_id
//      112    8    commit_max
//      120    8    sync_op_min
//      128    8    sync_op_max
//      136    4    log_view
//      140    4    view
//      144    1    replica_count
//      145   15    reserved               zero
//      160  384    checkpoint (CheckpointState, offsets below relative to 160):
//                    0 header [256] | 256 parent_checkpoint_id u128 | 272 grandparent_checkpoint_id
//                    u128 | 288 manifest_checksum u128 | 304 free_set_checksum u128
//                    320 client_sessions_checksum u128 | 336 manifest_address u64
//                    344 manifest_size u64 | 352 free_set_address u64 | 360 client_sessions_address
//                    u64 | 368 storage_size u64 | 376 release u32 | 380 reserved [4]
//      544    4  view_headers_count       ≤ config.viewHeadersMax
//      548    4  reserved                 zero
//      552    8  sync_moves_address       the staged blocks of a state sync still to move (0: none;
//                                         grid/sync_moves.ts); outside the checkpoint id
//      560  n·256 view_headers            whole 256-byte prepare headers
//
// checkpoint_id = checksum of the 384 checkpoint bytes (§9).
import { assert } from "../../core/assert.js";
import { allZero, bytesEqual } from "../../core/bytes.js";
import { checksum, checksumInto, checksumMatches } from "../../core/checksum.js";
import { Command } from "../../core/command.js";
import { type Config, headerSize } from "../../core/config.js";
import { FrameField, verifyHeaderChecksum } from "../../core/header.js";
import { clusterBytes } from "../journal/prepare_headers.js";

/**
 * The data file's format. 2: a checkpoint's free set stores the blocks its interval released apart
 * from the acquired bits (grid/free_set.ts), so version 1 files do not open.
 */
export const superblockVersion = 2;

export interface CheckpointState {
  /** The 256-byte prepare header of the checkpoint op (op 0: the root prepare). */
  header: Uint8Array;
  parent_checkpoint_id: bigint;
  grandparent_checkpoint_id: bigint;
  manifest_address: number;
  manifest_checksum: bigint;
  /** Bytes of the state snapshot, for the grid layer. */
  manifest_size: number;
  free_set_address: number;
  free_set_checksum: bigint;
  client_sessions_address: number;
  client_sessions_checksum: bigint;
  storage_size: number;
  release: number;
}

export interface VsrState {
  checkpoint: CheckpointState;
  replica_id: bigint;
  replica_count: number;
  commit_max: number;
  sync_op_min: number;
  sync_op_max: number;
  /** The first block of an interrupted state sync's moves (grid/sync_moves.ts), 0 when none. */
  sync_moves_address: number;
  log_view: number;
  view: number;
}

export interface SuperBlockState {
  checksum: bigint;
  sequence: number;
  parent: bigint;
  cluster: bigint;
  /** The release that formatted the data file. */
  release_format: number;
  vsr_state: VsrState;
  /** Up to config.viewHeadersMax prepare headers of 256 bytes: JV headers when log_view < view,
   * the view's headers when log_view == view (§10). */
  view_headers: Uint8Array[];
}

// Working states are built by literals in one key order (these, and decodeSuperBlock's). A state
// made with spreads (`{ ...vsr, view }`) gets a hidden class of its own, and the replica reads
// `working.vsr_state.view` for every message it frames: through a dozen classes that read takes
// V8's slow (megamorphic) path.

function checkpointStateOf(c: CheckpointState): CheckpointState {
  return {
    header: c.header, parent_checkpoint_id: c.parent_checkpoint_id, grandparent_checkpoint_id: c.grandparent_checkpoint_id,
    manifest_address: c.manifest_address, manifest_checksum: c.manifest_checksum, manifest_size: c.manifest_size,
    free_set_address: c.free_set_address, free_set_checksum: c.free_set_checksum,
    client_sessions_address: c.client_sessions_address, client_sessions_checksum: c.client_sessions_checksum,
    storage_size: c.storage_size, release: c.release,
  };
}

function vsrStateOf(v: VsrState): VsrState {
  return {
    checkpoint: checkpointStateOf(v.checkpoint), replica_id: v.replica_id, replica_count: v.replica_count,
    commit_max: v.commit_max, sync_op_min: v.sync_op_min, sync_op_max: v.sync_op_max,
    sync_moves_address: v.sync_moves_address, log_view: v.log_view, view: v.view,
  };
}

export function superBlockStateOf(s: SuperBlockState): SuperBlockState {
  return {
    checksum: s.checksum, sequence: s.sequence, parent: s.parent, cluster: s.cluster, release_format: s.release_format,
    vsr_state: vsrStateOf(s.vsr_state), view_headers: s.view_headers,
  };
}

export const SuperBlockField = {
  checksum: 0, checksum_padding: 16, copy: 32, version: 34, release_format: 36, sequence: 40,
  cluster: 48, parent: 64, reserved: 80, vsr_state: 96,
} as const;
const checksummedStart = SuperBlockField.version;
const VsrField = {
  replica_id: 96, commit_max: 112, sync_op_min: 120, sync_op_max: 128, log_view: 136, view: 140,
  replica_count: 144, reserved: 145, checkpoint: 160,
} as const;
const CheckpointField = {
  header: 0, parent_checkpoint_id: 256, grandparent_checkpoint_id: 272, manifest_checksum: 288,
  free_set_checksum: 304, client_sessions_checksum: 320, manifest_address: 336, manifest_size: 344,
  free_set_address: 352, client_sessions_address: 360, storage_size: 368, release: 376, reserved: 380,
} as const;
export const checkpointStateSize = 384;
export const viewHeadersCountOffset = 544;
const syncMovesAddressOffset = 552;
const viewHeadersOffset = 560;

export function superblockCopySizeMin(viewHeadersMax: number): number {
  return viewHeadersOffset + viewHeadersMax * headerSize;
}

const u64Mask = 0xffff_ffff_ffff_ffffn;

class Writer {
  constructor(readonly bytes: Uint8Array, readonly view: DataView) {}
  u16(at: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff);
    this.view.setUint16(at, value, true);
  }
  u32(at: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff);
    this.view.setUint32(at, value, true);
  }
  u8(at: number, value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff);
    this.bytes[at] = value;
  }
  u64(at: number, value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, "superblock: u64 field out of range");
    this.view.setUint32(at, value >>> 0, true);
    this.view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
  }
  u128(at: number, value: bigint): void {
    assert(value >= 0n && value < 1n << 128n, "superblock: u128 field out of range");
    this.view.setBigUint64(at, value & u64Mask, true);
    this.view.setBigUint64(at + 8, value >> 64n, true);
  }
}

class Reader {
  /** Set when a u64 field does not fit a safe integer: the copy is then invalid. */
  unsafe = false;
  constructor(readonly bytes: Uint8Array, readonly view: DataView) {}
  u16(at: number): number { return this.view.getUint16(at, true); }
  u32(at: number): number { return this.view.getUint32(at, true); }
  u64(at: number): number {
    const high = this.view.getUint32(at + 4, true);
    if (high >= 0x20_0000) this.unsafe = true;
    return high * 0x1_0000_0000 + this.view.getUint32(at, true);
  }
  u128(at: number): bigint {
    return (this.view.getBigUint64(at + 8, true) << 64n) | this.view.getBigUint64(at, true);
  }
  zero(at: number, size: number): boolean {
    for (let i = at; i < at + size; i++) if (this.bytes[i] !== 0) return false;
    return true;
  }
}

function writerOver(bytes: Uint8Array): Writer {
  return new Writer(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function encodeCheckpoint(state: CheckpointState, w: Writer, base: number): void {
  assert(state.header.length === headerSize, "checkpoint header must be 256 bytes");
  w.bytes.set(state.header, base + CheckpointField.header);
  w.u128(base + CheckpointField.parent_checkpoint_id, state.parent_checkpoint_id);
  w.u128(base + CheckpointField.grandparent_checkpoint_id, state.grandparent_checkpoint_id);
  w.u128(base + CheckpointField.manifest_checksum, state.manifest_checksum);
  w.u128(base + CheckpointField.free_set_checksum, state.free_set_checksum);
  w.u128(base + CheckpointField.client_sessions_checksum, state.client_sessions_checksum);
  w.u64(base + CheckpointField.manifest_address, state.manifest_address);
  w.u64(base + CheckpointField.manifest_size, state.manifest_size);
  w.u64(base + CheckpointField.free_set_address, state.free_set_address);
  w.u64(base + CheckpointField.client_sessions_address, state.client_sessions_address);
  w.u64(base + CheckpointField.storage_size, state.storage_size);
  w.u32(base + CheckpointField.release, state.release);
}

function decodeCheckpoint(r: Reader, base: number): CheckpointState {
  return {
    header: r.bytes.slice(base + CheckpointField.header, base + CheckpointField.header + headerSize),
    parent_checkpoint_id: r.u128(base + CheckpointField.parent_checkpoint_id),
    grandparent_checkpoint_id: r.u128(base + CheckpointField.grandparent_checkpoint_id),
    manifest_address: r.u64(base + CheckpointField.manifest_address),
    manifest_checksum: r.u128(base + CheckpointField.manifest_checksum),
    manifest_size: r.u64(base + CheckpointField.manifest_size),
    free_set_address: r.u64(base + CheckpointField.free_set_address),
    free_set_checksum: r.u128(base + CheckpointField.free_set_checksum),
    client_sessions_address: r.u64(base + CheckpointField.client_sessions_address),
    client_sessions_checksum: r.u128(base + CheckpointField.client_sessions_checksum),
    storage_size: r.u64(base + CheckpointField.storage_size),
    release: r.u32(base + CheckpointField.release),
  };
}

/**
 * checkpoint_id (§9): the checksum of the encoded CheckpointState, with the manifest's grid
 * address left out. Grid addresses are the same on every replica (src/grid/grid.ts) and the
 * manifest's checksum covers its own address, so leaving it out changes nothing today; it keeps
 * the id a function of the blocks' checksums alone, whatever the grid's layout.
 */
export function checkpointId(state: CheckpointState): bigint {
  return checksum(encodeCheckpointState({ ...state, manifest_address: 0 }));
}

/** The CheckpointState alone (checkpointStateSize bytes), as carried by a `view` message. */
export function encodeCheckpointState(state: CheckpointState): Uint8Array {
  const bytes = new Uint8Array(checkpointStateSize);
  encodeCheckpoint(state, writerOver(bytes), 0);
  return bytes;
}

/** Decodes encodeCheckpointState's bytes; null when they are malformed (u64 fields too large). */
export function decodeCheckpointState(bytes: Uint8Array): CheckpointState | null {
  if (bytes.length !== checkpointStateSize) return null;
  const reader = new Reader(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const state = decodeCheckpoint(reader, 0);
  return reader.unsafe ? null : state;
}

/**
 * Encodes `state` as copy `copy` into `target` (one whole copy, zero padded) and returns the
 * checksum, which is the same for every copy index.
 */
export function encodeSuperBlock(state: Omit<SuperBlockState, "checksum">, copy: number, target: Uint8Array,
  config: Config): bigint {
  assert(target.length === config.superblockCopySize && copy >= 0 && copy < 4);
  assert(state.view_headers.length <= config.viewHeadersMax, "superblock: too many view headers");
  assert(superblockCopySizeMin(config.viewHeadersMax) <= target.length);
  target.fill(0);
  const w = writerOver(target);
  w.u16(SuperBlockField.copy, copy);
  w.u16(SuperBlockField.version, superblockVersion);
  w.u32(SuperBlockField.release_format, state.release_format);
  w.u64(SuperBlockField.sequence, state.sequence);
  w.u128(SuperBlockField.cluster, state.cluster);
  w.u128(SuperBlockField.parent, state.parent);
  const vsr = state.vsr_state;
  w.u128(VsrField.replica_id, vsr.replica_id);
  w.u64(VsrField.commit_max, vsr.commit_max);
  w.u64(VsrField.sync_op_min, vsr.sync_op_min);
  w.u64(VsrField.sync_op_max, vsr.sync_op_max);
  w.u32(VsrField.log_view, vsr.log_view);
  w.u32(VsrField.view, vsr.view);
  w.u8(VsrField.replica_count, vsr.replica_count);
  encodeCheckpoint(vsr.checkpoint, w, VsrField.checkpoint);
  w.u32(viewHeadersCountOffset, state.view_headers.length);
  w.u64(syncMovesAddressOffset, vsr.sync_moves_address);
  state.view_headers.forEach((header, index) => {
    assert(header.length === headerSize, "superblock: a view header is 256 bytes");
    target.set(header, viewHeadersOffset + index * headerSize);
  });
  checksumInto(target.subarray(checksummedStart), target, SuperBlockField.checksum);
  return readChecksum(target);
}

function readChecksum(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (view.getBigUint64(8, true) << 64n) | view.getBigUint64(0, true);
}

export function setCopyIndex(target: Uint8Array, copy: number): void {
  assert(copy >= 0 && copy < 4);
  target[SuperBlockField.copy] = copy;
  target[SuperBlockField.copy + 1] = 0;
}

export interface DecodedCopy {
  readonly state: SuperBlockState;
  /** The copy index as read (untrusted: it is not checksummed). */
  readonly copy: number;
}

/**
 * Whether a copy's bytes hold exactly what its checksum names: the checksum verifies and the one
 * other field it does not cover but decodeSuperBlock checks (the padding after it) is zero. Two
 * such copies with one checksum decode alike but for their copy index.
 */
export function superblockMatchesChecksum(bytes: Uint8Array, config: Config): boolean {
  return bytes.length === config.superblockCopySize && allZero(bytes, SuperBlockField.checksum_padding, SuperBlockField.copy) &&
    checksumMatches(bytes.subarray(checksummedStart), bytes, SuperBlockField.checksum);
}

/** The copy index as stored (untrusted: the checksum does not cover it). */
export function superblockCopyIndex(bytes: Uint8Array): number {
  return bytes[SuperBlockField.copy]! | (bytes[SuperBlockField.copy + 1]! << 8);
}

/** The format version a copy's bytes name (superblockVersion when this release wrote it). */
export function superblockVersionOf(bytes: Uint8Array): number {
  return bytes[SuperBlockField.version]! | (bytes[SuperBlockField.version + 1]! << 8);
}

/** Decodes one copy; null unless checksum, version, cluster and every size are sane. */
export function decodeSuperBlock(bytes: Uint8Array, config: Config, cluster: bigint): DecodedCopy | null {
  if (!superblockMatchesChecksum(bytes, config)) return null;
  const r = new Reader(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (!r.zero(SuperBlockField.reserved, 16)) return null;
  if (!r.zero(VsrField.reserved, 15) || !r.zero(VsrField.checkpoint + CheckpointField.reserved, 4)) return null;
  if (!r.zero(viewHeadersCountOffset + 4, 4)) return null;
  if (r.u16(SuperBlockField.version) !== superblockVersion) return null;
  if (r.u128(SuperBlockField.cluster) !== cluster) return null;
  const count = r.u32(viewHeadersCountOffset);
  if (count > config.viewHeadersMax) return null;
  const expectedCluster = clusterBytes(cluster);
  const checkpointHeader = VsrField.checkpoint + CheckpointField.header;
  if (!prepareHeaderValid(bytes, checkpointHeader, expectedCluster)) return null;
  const viewHeaders: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const at = viewHeadersOffset + index * headerSize;
    if (!prepareHeaderValid(bytes, at, expectedCluster)) return null;
    viewHeaders.push(bytes.slice(at, at + headerSize));
  }
  const state: SuperBlockState = {
    checksum: r.u128(SuperBlockField.checksum),
    sequence: r.u64(SuperBlockField.sequence),
    parent: r.u128(SuperBlockField.parent),
    cluster,
    release_format: r.u32(SuperBlockField.release_format),
    vsr_state: {
      checkpoint: decodeCheckpoint(r, VsrField.checkpoint),
      replica_id: r.u128(VsrField.replica_id),
      replica_count: bytes[VsrField.replica_count]!,
      commit_max: r.u64(VsrField.commit_max),
      sync_op_min: r.u64(VsrField.sync_op_min),
      sync_op_max: r.u64(VsrField.sync_op_max),
      sync_moves_address: r.u64(syncMovesAddressOffset),
      log_view: r.u32(VsrField.log_view),
      view: r.u32(VsrField.view),
    },
    view_headers: viewHeaders,
  };
  if (r.unsafe || state.sequence < 1 || state.vsr_state.log_view > state.vsr_state.view) return null;
  return { state, copy: superblockCopyIndex(bytes) };
}

function prepareHeaderValid(bytes: Uint8Array, at: number, cluster: Uint8Array): boolean {
  return verifyHeaderChecksum(bytes, at) && bytes[at + FrameField.command] === Command.prepare &&
    bytesEqual(bytes, at + FrameField.cluster, cluster, 0, 16);
}
