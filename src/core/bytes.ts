// Byte helpers shared by every layer: little-endian reads straight from a Uint8Array (no DataView
// to allocate) and ranged comparison. Everything on the wire and on disk is little-endian.

/** The u32 at `offset`, little-endian. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

/** Writes the u32 `value` at `offset`, little-endian. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value;
  bytes[offset + 1] = value >>> 8;
  bytes[offset + 2] = value >>> 16;
  bytes[offset + 3] = value >>> 24;
}

/** The u64 at `offset`, little-endian, as a number (ops and sizes stay below 2^53). */
export function readU64AsNumber(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) + readU32(bytes, offset + 4) * 2 ** 32;
}

/** The u128 at `offset`, little-endian (ids, checksums, cluster numbers). */
export function readU128(bytes: Uint8Array, offset: number): bigint {
  const lo = BigInt(readU32(bytes, offset)) | (BigInt(readU32(bytes, offset + 4)) << 32n);
  const hi = BigInt(readU32(bytes, offset + 8)) | (BigInt(readU32(bytes, offset + 12)) << 32n);
  return lo | (hi << 64n);
}

/** a[aStart, aStart + length) equals b[bStart, bStart + length). */
export function bytesEqual(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** Every byte of bytes[from, to) is zero. */
export function allZero(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}
