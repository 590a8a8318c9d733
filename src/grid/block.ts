// Grid blocks (DESIGN.md "Data file and storage engine"): every block is a message with a 256-byte
// header (command `block`, the cluster, its own grid address, a type) followed by its body, padded
// with zeros to the block size. A block is referenced from outside by (address, checksum): the
// checksum is kept by whoever points at the block, never trusted from the block itself, so a stale,
// torn or misdirected block is detected on read.
import { assert } from "../core/assert.js";
import { headerSize } from "../core/config.js";
import { Command } from "../core/command.js";
import { BlockHeader, setChecksums, verifyBodyChecksum, verifyHeaderChecksum } from "../core/header.js";

export const BlockType = {
  /** A page of a state machine's space (the ledger's tables). */
  page: 1,
  /** A checkpoint's root: the references to everything else. */
  manifest: 2,
  /** A run of a space's page references. */
  directory: 3,
  /** Part of a byte string: state-machine metadata, client sessions or the free set. */
  blob: 4,
  /** Where an interrupted state sync staged blocks that belong where the old checkpoint lived (sync_moves.ts). */
  sync_moves: 5,
} as const;

/** (address, checksum): how a block is named from outside it. */
export interface BlockReference {
  address: number;
  checksum: bigint;
}

/** Bytes of a serialised BlockReference: checksum u128, address u64. */
export const referenceSize = 24;

/** Builds the block at `address` holding `body` (at most blockSize − 256 bytes). */
export function buildBlock(blockSize: number, cluster: bigint, address: number, type: number, body: Uint8Array): Uint8Array {
  assert(address >= 1 && body.length <= blockSize - headerSize, "a block body within the block");
  const block = new Uint8Array(blockSize);
  block.set(body, headerSize);
  sealBlock(block, cluster, address, type, body.length);
  return block;
}

/** Fills in the header of a block whose body (bodyLength bytes) is already in place. */
export function sealBlock(block: Uint8Array, cluster: bigint, address: number, type: number, bodyLength: number): void {
  const header = new BlockHeader(block, 0);
  header.command = Command.block;
  header.cluster = cluster;
  header.size = headerSize + bodyLength;
  header.address = address;
  header.block_type = type;
  setChecksums(block, 0, header.size);
}

export function blockChecksum(block: Uint8Array): bigint {
  return new BlockHeader(block, 0).checksum;
}

/** True when the block is intact, of this cluster, at this address, and the one referenced. */
export function verifyBlock(block: Uint8Array, reference: BlockReference, cluster: bigint): boolean {
  return intactAt(block, reference.address, cluster, reference.checksum);
}

/**
 * True when the block is intact, of this cluster and at this address, by its own checksum only: for
 * a block named by address alone (the superblock's sync_moves_address), which must then prove
 * what it is by its contents.
 */
export function verifyBlockAt(block: Uint8Array, address: number, cluster: bigint): boolean {
  return intactAt(block, address, cluster, null);
}

/**
 * True when a block that failed verifyBlock is nonetheless an intact block of this cluster, only
 * not the one referenced: another address's, or an older block of this address. That is what a
 * lost or misdirected write leaves behind (the new block landed elsewhere), as opposed to bytes
 * that are simply corrupt. Called only on the failure path.
 */
export function misplacedBlock(block: Uint8Array, reference: BlockReference, cluster: bigint): boolean {
  if (block.length < headerSize || !verifyHeaderChecksum(block, 0)) return false;
  const header = new BlockHeader(block, 0);
  if (header.cluster !== cluster || header.command !== Command.block) return false;
  return header.address !== reference.address || header.checksum !== reference.checksum;
}

/** verifyBlock without the body checksum: only for the planted bug gridReadWithoutBodyChecksum. */
export function verifyBlockHeader(block: Uint8Array, reference: BlockReference, cluster: bigint): boolean {
  if (block.length < headerSize || !verifyHeaderChecksum(block, 0)) return false;
  const header = new BlockHeader(block, 0);
  return header.checksum === reference.checksum && header.cluster === cluster && header.address === reference.address;
}

/** The checks of both: the header first, so a wrong block costs no body checksum. */
function intactAt(block: Uint8Array, address: number, cluster: bigint, checksum: bigint | null): boolean {
  if (block.length < headerSize || !verifyHeaderChecksum(block, 0)) return false;
  const header = new BlockHeader(block, 0);
  if ((checksum !== null && header.checksum !== checksum) || header.cluster !== cluster || header.command !== Command.block) return false;
  if (header.address !== address) return false;
  return header.size <= block.length && verifyBodyChecksum(block, 0);
}

export function blockType(block: Uint8Array): number {
  return new BlockHeader(block, 0).block_type;
}

/** The block's body (a view). */
export function blockBody(block: Uint8Array): Uint8Array {
  return block.subarray(headerSize, new BlockHeader(block, 0).size);
}

export function writeReference(view: DataView, offset: number, reference: BlockReference): void {
  assert(reference.checksum >= 0n && reference.address >= 0, "a block reference in range");
  view.setBigUint64(offset, reference.checksum & 0xffff_ffff_ffff_ffffn, true);
  view.setBigUint64(offset + 8, reference.checksum >> 64n, true);
  view.setBigUint64(offset + 16, BigInt(reference.address), true);
}

/** Null when the address does not fit a safe integer (only a malformed block says so). */
export function readReference(view: DataView, offset: number): BlockReference | null {
  const checksum = (view.getBigUint64(offset + 8, true) << 64n) | view.getBigUint64(offset, true);
  const address = view.getBigUint64(offset + 16, true);
  if (address > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return { address: Number(address), checksum };
}
