// u128 helpers. Two representations:
// - `bigint` at the API edge (client arguments, tests, logs);
// - four little-endian u32 words inside typed arrays on hot paths (word 0 holds bits 0..31), so
//   the ledger tables and message bodies are operated on without allocating.
// Word arithmetic assumes a little-endian host for Uint32Array views over message bytes.
import { assert } from "./assert.js";

export const u128Max = (1n << 128n) - 1n;
const two32 = 0x1_0000_0000;

assert(new Uint8Array(new Uint32Array([1]).buffer)[0] === 1, "Scarab needs a little-endian host");

export function readU128(view: DataView, offset: number): bigint {
  const lo = view.getBigUint64(offset, true);
  const hi = view.getBigUint64(offset + 8, true);
  return (hi << 64n) | lo;
}

export function writeU128(view: DataView, offset: number, value: bigint): void {
  assert(value >= 0n && value <= u128Max, "u128 out of range");
  if (value <= 0xffff_ffffn) {
    // Zero fields and amounts, most of a batch: no BigInt arithmetic, which allocates.
    view.setUint32(offset, Number(value), true);
    view.setUint32(offset + 4, 0, true);
    view.setBigUint64(offset + 8, 0n, true);
    return;
  }
  view.setBigUint64(offset, BigInt.asUintN(64, value), true);
  view.setBigUint64(offset + 8, value >> 64n, true);
}

export function readU64(view: DataView, offset: number): bigint {
  return view.getBigUint64(offset, true);
}

/** Reads a u64 as a number when it is below 2^53 (timestamps, ops); asserts otherwise. */
export function readU64Number(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  assert(hi < 0x20_0000, "u64 does not fit in a safe integer");
  return hi * two32 + lo;
}

export function writeU64Number(view: DataView, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0);
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / two32), true);
}

// ---- word form: a u128 is words[i .. i+4) ----

export function u128WordsFromBigint(words: Uint32Array, i: number, value: bigint): void {
  assert(value >= 0n && value <= u128Max, "u128 out of range");
  words[i] = Number(value & 0xffff_ffffn);
  words[i + 1] = Number((value >> 32n) & 0xffff_ffffn);
  words[i + 2] = Number((value >> 64n) & 0xffff_ffffn);
  words[i + 3] = Number(value >> 96n);
}

export function u128WordsToBigint(words: Uint32Array, i: number): bigint {
  return (
    (BigInt(words[i + 3]!) << 96n) |
    (BigInt(words[i + 2]!) << 64n) |
    (BigInt(words[i + 1]!) << 32n) |
    BigInt(words[i]!)
  );
}

export function u128IsZero(words: Uint32Array, i: number): boolean {
  return (words[i]! | words[i + 1]! | words[i + 2]! | words[i + 3]!) === 0;
}

export function u128IsMax(words: Uint32Array, i: number): boolean {
  return (words[i]! & words[i + 1]! & words[i + 2]! & words[i + 3]!) === -1;
}

export function u128Equal(a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean {
  return a[ai] === b[bi] && a[ai + 1] === b[bi + 1] && a[ai + 2] === b[bi + 2] && a[ai + 3] === b[bi + 3];
}

/** Returns -1, 0 or 1. */
export function u128Compare(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let w = 3; w >= 0; w--) {
    const x = a[ai + w]!;
    const y = b[bi + w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function u128Copy(dst: Uint32Array, di: number, src: Uint32Array, si: number): void {
  dst[di] = src[si]!;
  dst[di + 1] = src[si + 1]!;
  dst[di + 2] = src[si + 2]!;
  dst[di + 3] = src[si + 3]!;
}

export function u128SetZero(dst: Uint32Array, di: number): void {
  dst[di] = 0;
  dst[di + 1] = 0;
  dst[di + 2] = 0;
  dst[di + 3] = 0;
}

/** dst = a + b (mod 2^128). Returns true when the sum overflowed. dst may alias a or b. */
export function u128Add(
  dst: Uint32Array, di: number, a: Uint32Array, ai: number, b: Uint32Array, bi: number,
): boolean {
  let carry = 0;
  for (let w = 0; w < 4; w++) {
    const sum = a[ai + w]! + b[bi + w]! + carry; // < 2^33, exact in a double
    dst[di + w] = sum >>> 0;
    carry = sum >= two32 ? 1 : 0;
  }
  return carry === 1;
}

/** dst = a - b (mod 2^128). Returns true when it borrowed (a < b). dst may alias a or b. */
export function u128Sub(
  dst: Uint32Array, di: number, a: Uint32Array, ai: number, b: Uint32Array, bi: number,
): boolean {
  let borrow = 0;
  for (let w = 0; w < 4; w++) {
    const difference = a[ai + w]! - b[bi + w]! - borrow;
    dst[di + w] = difference >>> 0;
    borrow = difference < 0 ? 1 : 0;
  }
  return borrow === 1;
}

/** True when a + b would overflow, without writing anything. */
export function u128AddOverflows(a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean {
  let carry = 0;
  for (let w = 0; w < 4; w++) {
    carry = a[ai + w]! + b[bi + w]! + carry >= two32 ? 1 : 0;
  }
  return carry === 1;
}

/** dst = a ⊖ b: saturating subtraction, max(0, a − b). */
export function u128SubSaturating(
  dst: Uint32Array, di: number, a: Uint32Array, ai: number, b: Uint32Array, bi: number,
): void {
  if (u128Sub(dst, di, a, ai, b, bi)) u128SetZero(dst, di);
}

/** A 32-bit mix of a u128, for hash indexes. Deterministic and allocation-free. */
export function u128Hash32(words: Uint32Array, i: number): number {
  let h = Math.imul(words[i]! ^ 0x9e37_79b9, 0x85eb_ca6b);
  h = Math.imul(h ^ words[i + 1]! ^ (h >>> 15), 0xc2b2_ae35);
  h = Math.imul(h ^ words[i + 2]! ^ (h >>> 13), 0x85eb_ca6b);
  h = Math.imul(h ^ words[i + 3]! ^ (h >>> 16), 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
