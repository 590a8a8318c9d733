// Timestamps (ledger.md §5). u64 nanoseconds, valid in [1, 2^63 − 1]. BigInt only at the request
// boundary; inside the batch loops a timestamp is a (hi, lo) pair of u32 words.
import { assert } from "../assert.js";

export const timestampMax = (1n << 63n) - 1n;
const two32 = 0x1_0000_0000;

/** ledger.md §5: base = max(max(prev, commitTimestamp) + 1, realtime); returns P = base + eventCount. */
export function prepareTimestamp(
  prev: bigint, commitTimestamp: bigint, realtime: bigint, eventCount: number,
): bigint {
  assert(Number.isSafeInteger(eventCount) && eventCount >= 0);
  const latest = prev > commitTimestamp ? prev : commitTimestamp;
  const base = latest + 1n > realtime ? latest + 1n : realtime;
  return base + BigInt(eventCount);
}

export function hiOf(value: bigint): number {
  return Number(value >> 32n) >>> 0;
}

export function loOf(value: bigint): number {
  return Number(value & 0xffff_ffffn);
}

export function joinTimestamp(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** a < b for (hi, lo) pairs of u32 words. */
export function tsLess(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo < bLo);
}

/** A valid timestamp is in [1, 2^63 − 1] (ledger.md §1). */
export function tsValid(hi: number, lo: number): boolean {
  return hi < 0x8000_0000 && (hi | lo) !== 0;
}

/**
 * out[i], out[i + 1] = (lo, hi) of ts + timeout·10^9 (§9.2), exact without BigInt: timeout < 2^32, so the
 * product is < 2^62, and ts < 2^63 keeps the sum < 2^64. The caller compares hi with 2^31 for
 * overflows_timeout (§8.4.10).
 */
export function addTimeout(
  tsHi: number, tsLo: number, timeoutSeconds: number, out: Uint32Array, i: number,
): void {
  assert(tsHi < 0x8000_0000 && timeoutSeconds >= 0 && timeoutSeconds < two32);
  const high16 = Math.floor(timeoutSeconds / 65536);
  const low16 = timeoutSeconds % 65536;
  const x = high16 * 1e9; // < 2^46; contributes x · 2^16
  const y = low16 * 1e9; // < 2^46
  const xHi = Math.floor(x / 65536);
  const xLo = (x % 65536) * 65536;
  const yHi = Math.floor(y / two32);
  const yLo = y % two32;
  const lo = tsLo + xLo + yLo; // < 3 · 2^32
  const carry = Math.floor(lo / two32);
  out[i] = lo % two32;
  out[i + 1] = tsHi + xHi + yHi + carry; // < 2^31 + 2^30 + 2^14 + 2 < 2^32
}
