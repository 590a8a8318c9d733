// u128 helpers (src/core/u128.ts) at the API edge: writeU128/readU128 round-trip every range
// (the small-value fast path, the 32/64-bit boundaries, the full width), little-endian, and
// writeU128 refuses values outside [0, 2^128).
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { readU128, u128Max, writeU128 } from "../../src/core/u128.js";

function written(value: bigint): DataView {
  const view = new DataView(new ArrayBuffer(24));
  for (let i = 0; i < 24; i++) view.setUint8(i, 0xa5); // stale bytes: every byte must be written
  writeU128(view, 4, value);
  return view;
}

describe("writeU128 / readU128", () => {
  const edges = [0n, 1n, 0xffff_fffen, 0xffff_ffffn, 1n << 32n, (1n << 64n) - 1n, 1n << 64n, (1n << 96n) + 5n, u128Max];
  test.each(edges.map((value) => [value]))("%s round-trips, little-endian, touching only its 16 bytes", (value) => {
    const view = written(value);
    expect(readU128(view, 4)).toBe(value);
    expect(view.getBigUint64(4, true)).toBe(value & ((1n << 64n) - 1n));
    expect(view.getBigUint64(12, true)).toBe(value >> 64n);
    expect([view.getUint32(0), view.getUint32(20)]).toEqual([0xa5a5_a5a5, 0xa5a5_a5a5]);
  });

  test("every value round-trips", () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: u128Max }), (value) => readU128(written(value), 4) === value));
  });

  test("values outside [0, 2^128) are a bug of the caller: assertion", () => {
    expect(() => written(-1n)).toThrow(/u128 out of range/);
    expect(() => written(u128Max + 1n)).toThrow(/u128 out of range/);
  });
});
