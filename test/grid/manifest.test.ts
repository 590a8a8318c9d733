// The checkpoint root (src/grid/manifest.ts) and block framing (src/grid/block.ts): encode/decode
// round trips, the size bound, rejection of malformed bodies, and block verification against the
// reference that names it (checksum, address, cluster).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BlockType, blockBody, blockChecksum, blockType, buildBlock, readReference, referenceSize, verifyBlock, writeReference,
} from "../../src/grid/block.js";
import {
  decodeManifest, encodeManifest, manifestMagic, manifestReferences, manifestSize, type Manifest,
} from "../../src/grid/manifest.js";

const bodySizeMax = 4096 - 256;

const referenceArb = fc.record({
  address: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  checksum: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
});

const manifestArb: fc.Arbitrary<Manifest> = fc.record({
  blobs: fc.tuple(...[0, 1, 2].map(() => fc.record({
    bytes: fc.integer({ min: 0, max: 2 ** 40 }),
    blocks: fc.array(referenceArb, { maxLength: 6 }),
  }))),
  spaces: fc.array(fc.record({
    usedBytes: fc.integer({ min: 0, max: 2 ** 40 }),
    pageCount: fc.nat(),
    directory: fc.array(referenceArb, { maxLength: 6 }),
  }), { maxLength: 8 }),
});

function sample(): Manifest {
  return {
    blobs: [
      { bytes: 48, blocks: [{ address: 9, checksum: 1n }] },
      { bytes: 5000, blocks: [{ address: 10, checksum: 2n }, { address: 11, checksum: (1n << 128n) - 1n }] },
      { bytes: 0, blocks: [] },
    ],
    spaces: [
      { usedBytes: 0, pageCount: 0, directory: [] },
      { usedBytes: 123_456, pageCount: 33, directory: [{ address: 12, checksum: 3n }] },
    ],
  };
}

describe("manifest", () => {
  it("round-trips random manifests and names every reference in order", () => {
    fc.assert(fc.property(manifestArb, (manifest) => {
      const body = encodeManifest(manifest, 1 << 20);
      expect(body.length).toBe(manifestSize(manifest));
      const decoded = decodeManifest(body);
      expect(decoded).toEqual(manifest);
      expect(manifestReferences(decoded!)).toEqual([
        ...manifest.blobs.flatMap((b) => b.blocks), ...manifest.spaces.flatMap((s) => s.directory),
      ]);
    }), { numRuns: 200 });
  });

  it("starts with the magic and has the documented size", () => {
    const body = encodeManifest(sample(), bodySizeMax);
    expect(new DataView(body.buffer).getUint32(0, true)).toBe(manifestMagic);
    expect(String.fromCharCode(...body.subarray(0, 4))).toBe("GRDM");
    expect(body.length).toBe(16 + 3 * 16 + 2 * 16 + 4 * referenceSize);
  });

  it("asserts when the references do not fit one block", () => {
    const manifest = sample();
    const fits = Math.floor((bodySizeMax - manifestSize(manifest)) / referenceSize);
    manifest.spaces[1]!.directory.push(...Array.from({ length: fits }, (_, i) => ({ address: 100 + i, checksum: 5n })));
    expect(manifestSize(manifest)).toBeLessThanOrEqual(bodySizeMax);
    expect(() => encodeManifest(manifest, bodySizeMax)).not.toThrow();
    manifest.spaces[1]!.directory.push({ address: 99, checksum: 5n });
    expect(() => encodeManifest(manifest, bodySizeMax)).toThrow(/grid manifest full/);
  });

  it("returns null for malformed bodies (wrong magic, version, truncated, extra bytes, address 0)", () => {
    const good = encodeManifest(sample(), bodySizeMax);
    const mutate = (f: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
      const bytes = good.slice();
      f(bytes, new DataView(bytes.buffer));
      return bytes;
    };
    expect(decodeManifest(good)).not.toBeNull();
    expect(decodeManifest(new Uint8Array(0))).toBeNull();
    expect(decodeManifest(mutate((b) => (b[0] ^= 1)))).toBeNull();
    expect(decodeManifest(mutate((_, v) => v.setUint32(4, 2, true)))).toBeNull();
    expect(decodeManifest(mutate((_, v) => v.setUint32(8, 65, true)))).toBeNull(); // space count
    expect(decodeManifest(mutate((_, v) => v.setUint32(12, 1, true)))).toBeNull(); // reserved
    expect(decodeManifest(good.subarray(0, good.length - 1))).toBeNull();
    expect(decodeManifest(good.subarray(0, good.length - referenceSize))).toBeNull();
    const longer = new Uint8Array(good.length + referenceSize);
    longer.set(good);
    expect(decodeManifest(longer)).toBeNull();
    // The first reference's address is at offset 16 + 48 + 32 + 16: make it 0 ("no block").
    expect(decodeManifest(mutate((_, v) => v.setBigUint64(16 + 48 + 32 + 16, 0n, true)))).toBeNull();
    // An address beyond a safe integer.
    expect(decodeManifest(mutate((_, v) => v.setBigUint64(16 + 48 + 32 + 16, 1n << 60n, true)))).toBeNull();
    // A directory count larger than the references present.
    expect(decodeManifest(mutate((_, v) => v.setUint32(16 + 48 + 16 + 12, 2, true)))).toBeNull();
  });
});

describe("blocks", () => {
  const cluster = 3n;

  it("builds a block that verifies against its reference, and only that one", () => {
    const body = new Uint8Array(1000).map((_, i) => i & 0xff);
    const block = buildBlock(4096, cluster, 17, BlockType.page, body);
    expect(block.length).toBe(4096);
    const reference = { address: 17, checksum: blockChecksum(block) };
    expect(verifyBlock(block, reference, cluster)).toBe(true);
    expect(blockType(block)).toBe(BlockType.page);
    expect(blockBody(block)).toEqual(body);
    expect(block.subarray(256 + 1000).every((b) => b === 0)).toBe(true); // padded with zeros
    expect(verifyBlock(block, { ...reference, address: 18 }, cluster)).toBe(false); // misdirected
    expect(verifyBlock(block, { ...reference, checksum: reference.checksum ^ 1n }, cluster)).toBe(false); // stale
    expect(verifyBlock(block, reference, 4n)).toBe(false); // another cluster
    for (const offset of [0, 17, 100, 255, 256, 700, 1255]) {
      const corrupt = block.slice();
      corrupt[offset] ^= 0x40;
      expect(verifyBlock(corrupt, reference, cluster), `a flipped byte at ${offset}`).toBe(false);
    }
    // A block at another address with the same body has another checksum.
    expect(blockChecksum(buildBlock(4096, cluster, 18, BlockType.page, body))).not.toBe(reference.checksum);
  });

  it("a zeroed block (never written) does not verify", () => {
    expect(verifyBlock(new Uint8Array(4096), { address: 1, checksum: 0n }, cluster)).toBe(false);
  });

  it("refuses a body larger than the block and address 0", () => {
    expect(() => buildBlock(4096, cluster, 1, BlockType.blob, new Uint8Array(3841))).toThrow();
    expect(() => buildBlock(4096, cluster, 0, BlockType.blob, new Uint8Array(1))).toThrow();
    expect(() => buildBlock(4096, cluster, 1, BlockType.blob, new Uint8Array(3840))).not.toThrow();
  });

  it("writes and reads references (u128 checksum, u64 address)", () => {
    fc.assert(fc.property(referenceArb, (reference) => {
      const view = new DataView(new ArrayBuffer(referenceSize + 8));
      writeReference(view, 4, reference);
      expect(readReference(view, 4)).toEqual(reference);
    }));
  });
});
