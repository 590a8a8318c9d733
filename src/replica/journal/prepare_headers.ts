// The fixed prepare headers of the WAL (spec/vsr.md §3, §11.1) and the slot validity test of the
// recovery table (§11.3). Shared by the journal and the superblock (whose root checkpoint is the
// root prepare).
import { assert } from "../../core/assert.js";
import { bytesEqual, readU32 } from "../../core/bytes.js";
import { Command, Operation } from "../../core/command.js";
import { headerSize } from "../../core/config.js";
import {
  FrameField, PrepareField, PrepareHeader, setChecksums, verifyBodyChecksum, verifyHeaderChecksum,
} from "../../core/header.js";

/** A u64 is a safe integer iff its high u32 word is below 2^21. */
const safeHighWordLimit = 0x20_0000;

const scratch = new PrepareHeader(new Uint8Array(headerSize));

/**
 * Op 0, the root of the hash-chained log (§3): command prepare, operation root, the cluster, and
 * every other field zero. Fixed per cluster, so every replica derives the same checksum.
 */
export function rootPrepare(cluster: bigint): Uint8Array {
  const buffer = new Uint8Array(headerSize);
  writeFixedPrepare(buffer, 0, cluster, Operation.root, 0);
  return buffer;
}

/**
 * The header of an empty slot (§11.1): operation reserved and op = slot, so that a header read
 * from the wrong slot (a misdirected read or write) is detectable.
 */
export function reservedPrepareInto(target: Uint8Array, offset: number, cluster: bigint, slot: number): void {
  writeFixedPrepare(target, offset, cluster, Operation.reserved, slot);
}

function writeFixedPrepare(target: Uint8Array, offset: number, cluster: bigint, operation: number, op: number): void {
  target.fill(0, offset, offset + headerSize);
  const header = scratch.reset(target, offset);
  header.command = Command.prepare;
  header.cluster = cluster;
  header.size = headerSize;
  header.operation = operation;
  header.op = op;
  setChecksums(target, offset, headerSize);
}

/** The cluster as the 16 little-endian bytes of the header field, for allocation-free compares. */
export function clusterBytes(cluster: bigint): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, cluster & 0xffff_ffff_ffff_ffffn, true);
  view.setBigUint64(8, cluster >> 64n, true);
  return bytes;
}

export function operationOf(buffer: Uint8Array, offset: number): number {
  return buffer[offset + PrepareField.operation]!;
}

export function isReservedPrepare(buffer: Uint8Array, offset: number): boolean {
  return buffer[offset + PrepareField.operation] === Operation.reserved;
}

/** The op of a header already known to be valid (so the u64 fits a safe integer). */
export function opOf(buffer: Uint8Array, offset: number): number {
  const high = readU32(buffer, offset + PrepareField.op + 4);
  assert(high < safeHighWordLimit, "op does not fit a safe integer");
  return high * 0x1_0000_0000 + readU32(buffer, offset + PrepareField.op);
}

export function viewOf(buffer: Uint8Array, offset: number): number {
  return readU32(buffer, offset + FrameField.view);
}

export function sizeOf(buffer: Uint8Array, offset: number): number {
  return readU32(buffer, offset + FrameField.size);
}

/** The 16 checksum bytes of two headers are equal. */
export function checksumsEqual(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): boolean {
  return bytesEqual(a, aOffset + FrameField.checksum, b, bOffset + FrameField.checksum, 16);
}

export interface SlotHeaderContext {
  readonly cluster: Uint8Array;
  readonly slotCount: number;
  readonly messageSizeMax: number;
}

/**
 * §11.3 "valid": a correct header checksum, the right cluster, command = prepare and the right slot
 * (op = slot when reserved, op mod slot_count = slot otherwise). The checksum is checked first, so
 * no other field of untrusted bytes is interpreted before it is known to be what was written.
 */
export function slotHeaderValid(buffer: Uint8Array, offset: number, slot: number, context: SlotHeaderContext): boolean {
  if (!verifyHeaderChecksum(buffer, offset)) return false;
  if (buffer[offset + FrameField.command] !== Command.prepare) return false;
  if (!bytesEqual(buffer, offset + FrameField.cluster, context.cluster, 0, 16)) return false;
  const size = sizeOf(buffer, offset);
  if (size < headerSize || size > context.messageSizeMax) return false;
  if (readU32(buffer, offset + PrepareField.op + 4) >= safeHighWordLimit) return false;
  const op = opOf(buffer, offset);
  if (isReservedPrepare(buffer, offset)) return op === slot && size === headerSize;
  return op % context.slotCount === slot;
}

/** A whole prepare read from a slot: a valid header (above) and a correct body checksum. */
export function slotPrepareValid(buffer: Uint8Array, slot: number, context: SlotHeaderContext): boolean {
  return slotHeaderValid(buffer, 0, slot, context) && sizeOf(buffer, 0) <= buffer.length && verifyBodyChecksum(buffer, 0);
}
