// checksum(x) = AEGIS-128L MAC with a zero key (spec/wire.md §6–7). The 16 tag bytes, read as a
// little-endian u128, are the header field's value. Uses the native AES-NI path when the addon is
// built, and the pure-TypeScript implementation otherwise; both give identical tags.
import { aegisMacTs } from "./aegis.js";
import { nativeAddon } from "./native_addon.js";

export const checksumImplementation: "native" | "typescript" = nativeAddon ? "native" : "typescript";

const macInto: (data: Uint8Array, out: Uint8Array, outOffset: number) => void =
  nativeAddon ? nativeAddon.aegisMac : aegisMacTs;

const scratch = new Uint8Array(16);
const scratchView = new DataView(scratch.buffer);

/** Writes checksum(data) into out[outOffset .. outOffset + 16). */
export function checksumInto(data: Uint8Array, out: Uint8Array, outOffset: number): void {
  macInto(data, out, outOffset);
}

/** checksum(data) as a u128 (API edge; allocates a BigInt). */
export function checksum(data: Uint8Array): bigint {
  macInto(data, scratch, 0);
  return (scratchView.getBigUint64(8, true) << 64n) | scratchView.getBigUint64(0, true);
}

/** True when checksum(data) equals the 16 bytes at expected[expectedOffset..]. No allocation. */
export function checksumMatches(data: Uint8Array, expected: Uint8Array, expectedOffset: number): boolean {
  macInto(data, scratch, 0);
  for (let i = 0; i < 16; i++) {
    if (scratch[i] !== expected[expectedOffset + i]) return false;
  }
  return true;
}

// The same over data[start, end) without a subarray per call: headers are checksummed in place, in
// a message or a slab, millions of times per VOPR run. Older addon builds lack the range calls.
const macRangeInto: (data: Uint8Array, start: number, end: number, out: Uint8Array, outOffset: number) => void =
  nativeAddon?.aegisMacRange ?? ((data, start, end, out, outOffset) => macInto(data.subarray(start, end), out, outOffset));
const macRangeMatches: (data: Uint8Array, start: number, end: number, expected: Uint8Array, expectedOffset: number) => boolean =
  nativeAddon?.aegisMacRangeMatches ??
  ((data, start, end, expected, expectedOffset) => checksumMatches(data.subarray(start, end), expected, expectedOffset));

/** Writes checksum(data[start, end)) into out[outOffset .. outOffset + 16). */
export function checksumRangeInto(data: Uint8Array, start: number, end: number, out: Uint8Array, outOffset: number): void {
  macRangeInto(data, start, end, out, outOffset);
}

/** True when checksum(data[start, end)) equals the 16 bytes at expected[expectedOffset..]. */
export function checksumRangeMatches(data: Uint8Array, start: number, end: number, expected: Uint8Array,
  expectedOffset: number): boolean {
  return macRangeMatches(data, start, end, expected, expectedOffset);
}
