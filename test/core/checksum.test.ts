// The checksum (AEGIS-128L MAC with a zero key and nonce, spec/wire.md §6–§7): the spec's vectors
// for every implementation (TypeScript, native AES-NI, native portable C), a slow byte-wise
// reference written here from the AEGIS specification, the §7.8 stability test, and properties
// that all implementations agree on arbitrary inputs at arbitrary byte offsets.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aegisInitState, aegisMacTs, aesRound } from "../../src/core/aegis.js";
import {
  checksum, checksumImplementation, checksumInto, checksumMatches, checksumRangeInto, checksumRangeMatches,
} from "../../src/core/checksum.js";
import { nativeAddon, nativeAddonStatus } from "../../src/core/native_addon.js";
import { Prng } from "../../src/core/prng.js";

type Mac = (data: Uint8Array, out: Uint8Array, outOffset: number) => void;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

function tagOf(mac: Mac, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  mac(data, out, 0);
  return out;
}

function u128le(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = 15; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

// ---------------------------------------------------------------------------------------------
// A slow, independent reference: byte-wise AES round and general AEGIS-128L (key, nonce, message)
// from the spec and the CFRG draft. It shares nothing with src/core/aegis.ts (no T-tables, no
// cached init state), so agreement is evidence rather than a tautology.
// ---------------------------------------------------------------------------------------------

function gfMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) product ^= a;
    const carry = a & 0x80;
    a = (a << 1) & 0xff;
    if (carry) a ^= 0x1b; // reduce modulo x^8 + x^4 + x^3 + x + 1 (0x11B)
    b >>= 1;
  }
  return product;
}

/** S-box: multiplicative inverse in GF(2^8) (found by search; 0 maps to 0), then the affine map. */
const referenceSbox: number[] = (() => {
  const table: number[] = [];
  for (let x = 0; x < 256; x++) {
    let inverse = 0;
    for (let y = 1; y < 256 && x !== 0; y++) {
      if (gfMul(x, y) === 1) {
        inverse = y;
        break;
      }
    }
    let s = 0x63;
    for (let bit = 0; bit < 8; bit++) {
      // b'_i = b_i ^ b_(i+4) ^ b_(i+5) ^ b_(i+6) ^ b_(i+7) ^ c_i
      const b = (k: number): number => (inverse >> ((bit + k) % 8)) & 1;
      s ^= (b(0) ^ b(4) ^ b(5) ^ b(6) ^ b(7)) << bit;
    }
    table.push(s);
  }
  return table;
})();

/** AESRound(X, RK) of §7.1, one step at a time over byte indices (row j%4, column j/4). */
function referenceAesRound(x: Uint8Array, roundKey: Uint8Array): Uint8Array {
  const substituted = x.map((byte) => referenceSbox[byte]!);
  const shifted = new Uint8Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) shifted[r + 4 * c] = substituted[r + 4 * ((c + r) % 4)]!;
  }
  const mixed = new Uint8Array(16);
  for (let c = 0; c < 4; c++) {
    const [a0, a1, a2, a3] = [0, 1, 2, 3].map((r) => shifted[r + 4 * c]!) as [number, number, number, number];
    mixed[4 * c] = gfMul(2, a0) ^ gfMul(3, a1) ^ a2 ^ a3;
    mixed[4 * c + 1] = a0 ^ gfMul(2, a1) ^ gfMul(3, a2) ^ a3;
    mixed[4 * c + 2] = a0 ^ a1 ^ gfMul(2, a2) ^ gfMul(3, a3);
    mixed[4 * c + 3] = gfMul(3, a0) ^ a1 ^ a2 ^ gfMul(2, a3);
  }
  return xor(mixed, roundKey);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((byte, i) => byte ^ b[i]!);
}

function and(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((byte, i) => byte & b[i]!);
}

const C0 = fromHex("000101020305080d1522375990e97962");
const C1 = fromHex("db3d18556dc22ff12011314273b528dd");

class ReferenceAegis128L {
  state: Uint8Array[];

  constructor(key: Uint8Array, nonce: Uint8Array) {
    const kn = xor(key, nonce);
    this.state = [kn, C1, C0, C1, kn, xor(key, C0), xor(key, C1), xor(key, C0)];
    for (let i = 0; i < 10; i++) this.update(nonce, key);
  }

  /** §7.3: every S'i from the old state, then M0 into S'0 and M1 into S'4. */
  update(m0: Uint8Array, m1: Uint8Array): void {
    const s = this.state;
    const next = s.map((block, i) => referenceAesRound(s[(i + 7) % 8]!, block));
    next[0] = xor(next[0]!, m0);
    next[4] = xor(next[4]!, m1);
    this.state = next;
  }

  absorb(block: Uint8Array): void {
    this.update(block.subarray(0, 16), block.subarray(16, 32));
  }

  /** CFRG draft Enc(xi): keystream from S1, S2, S3, S5, S6, S7, then absorb the plaintext. */
  encryptBlock(block: Uint8Array): Uint8Array {
    const s = this.state as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const z0 = xor(xor(s[6], s[1]), and(s[2], s[3]));
    const z1 = xor(xor(s[2], s[5]), and(s[6], s[7]));
    const out = new Uint8Array(32);
    out.set(xor(block.subarray(0, 16), z0), 0);
    out.set(xor(block.subarray(16, 32), z1), 16);
    this.absorb(block);
    return out;
  }

  finalize(adLength: number, messageLength: number): Uint8Array {
    const lengths = new Uint8Array(16);
    const view = new DataView(lengths.buffer);
    view.setBigUint64(0, BigInt(adLength) * 8n, true);
    view.setBigUint64(8, BigInt(messageLength) * 8n, true);
    const t = xor(this.state[2]!, lengths);
    for (let i = 0; i < 7; i++) this.update(t, t);
    return this.state.slice(0, 7).reduce((tag, block) => xor(tag, block));
  }
}

/** Splits into 32-byte blocks, zero-padding the last partial one. */
function blocks32(data: Uint8Array): Uint8Array[] {
  const result: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; offset += 32) {
    const block = new Uint8Array(32);
    block.set(data.subarray(offset, offset + 32));
    result.push(block);
  }
  return result;
}

function referenceEncrypt(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, message: Uint8Array): { ciphertext: Uint8Array; tag: Uint8Array } {
  const aegis = new ReferenceAegis128L(key, nonce);
  for (const block of blocks32(ad)) aegis.absorb(block);
  const ciphertext = new Uint8Array(message.length);
  blocks32(message).forEach((block, i) => {
    const encrypted = aegis.encryptBlock(block);
    ciphertext.set(encrypted.subarray(0, Math.min(32, message.length - 32 * i)), 32 * i);
  });
  return { ciphertext, tag: aegis.finalize(ad.length, message.length) };
}

const zero16 = new Uint8Array(16);

/** The checksum per the reference: AD = data, empty message, zero key and nonce. */
const referenceMac: Mac = (data, out, outOffset) => {
  out.set(referenceEncrypt(zero16, zero16, data, new Uint8Array(0)).tag, outOffset);
};

// ---------------------------------------------------------------------------------------------
// Implementations under test.
// ---------------------------------------------------------------------------------------------

const portableMac = (nativeAddon as unknown as { aegisMacPortable?: Mac } | null)?.aegisMacPortable;

const implementations: { name: string; mac: Mac | undefined }[] = [
  { name: "TypeScript", mac: aegisMacTs },
  { name: "native (dispatched)", mac: nativeAddon?.aegisMac },
  { name: "native (portable C)", mac: portableMac },
];

function pattern(length: number, multiplier: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * multiplier) & 0xff;
  return data;
}

// wire.md §7.7: [description, input, tag bytes, u128 (LE)].
const vectors: [string, () => Uint8Array, string, bigint][] = [
  ["empty", () => new Uint8Array(0), "83cc600dc4e3e7e62d4055826174f149", 0x49f174618255402de6e7e3c40d60cc83n],
  ["16 zero bytes", () => new Uint8Array(16), "f72ad48dd05dd1656133101cd4be3a26", 0x263abed41c10336165d15dd08dd42af7n],
  ["1 byte 0x00", () => Uint8Array.of(0), "6e12b8774264fed574e418fe77b706bc", 0xbc06b777fe18e474d5fe644277b8126en],
  ["1 byte 0x01", () => Uint8Array.of(1), "c0bd83422e004a8da49e7c6bf122faa9", 0xa9fa22f16b7c9ea48d4a002e4283bdc0n],
  ["ASCII abc", () => new TextEncoder().encode("abc"), "3b3182a3fd642bfdbd200bdbe1b4eb4d", 0x4debb4e1db0b20bdfd2b64fda382313bn],
  ["31 zero bytes", () => new Uint8Array(31), "6b89371cd295fca16ac3213f93a68315", 0x1583a6933f21c36aa1fc95d21c37896bn],
  ["bytes 0x00..0x1f", () => pattern(32, 1), "2a7ca5353eba9161dc6c83c36d2e6adb", 0xdb6a2e6dc3836cdc6191ba3e35a57c2an],
  ["33 zero bytes", () => new Uint8Array(33), "6e8e73d4abef7c822c07fa88b3e9ae71", 0x71aee9b388fa072c827cefabd4738e6en],
  ["240 zero bytes", () => new Uint8Array(240), "4596626538a66e8fa71479f4e53c2925", 0x25293ce5f47914a78f6ea63865629645n],
  ["256 zero bytes", () => new Uint8Array(256), "651b82f3ddd4fcbf2deb8496e8ff613c", 0x3c61ffe89684eb2dbffcd4ddf3821b65n],
  ["byte i = i & 0xff, 256", () => pattern(256, 1), "d6ba1c495ca4c976f5d0993644aa9acd", 0xcd9aaa443699d0f576c9a45c491cbad6n],
  ["byte i = (i*7) & 0xff, 4096", () => pattern(4096, 7), "2991000277bcec8b2d4c8137a9362e72", 0x722e36a937814c2d8becbc7702009129n],
  ["byte i = (i*13) & 0xff, 1 MiB", () => pattern(1_048_576, 13), "3dc35b8042cb8649b94e1576afcf167b", 0x7b16cfaf76154eb94986cb42805bc33dn],
];

/** §7.8: 896 tags (zero prefixes, single bits, PRNG fills), concatenated, then checksummed. */
function stabilityChecksum(mac: Mac): bigint {
  const tags = new Uint8Array(896 * 16);
  let count = 0;
  const add = (data: Uint8Array): void => {
    mac(data, tags, 16 * count++);
  };
  for (let n = 0; n < 128; n++) add(new Uint8Array(n));
  for (let b = 0; b < 512; b++) {
    const data = new Uint8Array(64);
    data[b >> 3] = 1 << (b & 7);
    add(data);
  }
  const prng = new Prng(92);
  for (let k = 0; k < 256; k++) {
    const data = new Uint8Array(k + 13);
    prng.fill(data);
    add(data);
  }
  expect(count).toBe(896);
  return u128le(tagOf(mac, tags));
}

// ---------------------------------------------------------------------------------------------

describe("AES round (wire.md §7.1)", () => {
  const x = pattern(16, 1);
  const key = x.map((byte) => byte + 0x10);
  const expected = "7a7b4e5638782546a8c0477a3b813f43";

  it("aesRound (T-tables, LE words) matches the spec vector", () => {
    const out = new Uint32Array(4);
    aesRound(new Uint32Array(x.buffer.slice(0)), new Uint32Array(key.buffer.slice(0)), out);
    expect(hex(new Uint8Array(out.buffer))).toBe(expected);
  });

  it("the byte-wise reference round matches the spec vector and S-box anchors", () => {
    expect(referenceSbox[0x00]).toBe(0x63);
    expect(referenceSbox[0x01]).toBe(0x7c);
    expect(new Set(referenceSbox).size).toBe(256); // a permutation
    expect(hex(referenceAesRound(x, key))).toBe(expected);
  });
});

describe("slow reference AEGIS-128L", () => {
  it("reproduces the CFRG draft vectors with a non-zero key and nonce", () => {
    const key = fromHex("10010000000000000000000000000000");
    const nonce = fromHex("10000200000000000000000000000000");
    const one = referenceEncrypt(key, nonce, new Uint8Array(0), new Uint8Array(16));
    expect(hex(one.ciphertext)).toBe("c1c0e58bd913006feba00f4b3cc3594e");
    expect(hex(one.tag)).toBe("abe0ece80c24868a226a35d16bdae37a");
    const empty = referenceEncrypt(key, nonce, new Uint8Array(0), new Uint8Array(0));
    expect(hex(empty.tag)).toBe("c2b879a67def9d74e6c14f708bbcc9b4");
  });

  it("recomputes the cached init state (§7.4) from C0 and C1", () => {
    const state = new ReferenceAegis128L(zero16, zero16).state;
    const spec = [
      "72f2f45d9ec742023e84aa66aefd3592", "42071dcd301af7cf8a7c6c4a20f63065",
      "f84ea4a1c6aa99cea51d8b5c9cc3058f", "0fc05e1117af1075a41119f329c5a8d2",
      "57888c33d3160355364035c8f21e7986", "48fa4b5dd57042c4084fe9f51508b644",
      "0b9989cc910503850305de7ef1a98bfe", "b30e7521390ccf8ecfe94af687955dd7",
    ];
    expect(state.map(hex)).toEqual(spec);
    // The TypeScript implementation's cached constant, as LE words, is the same bytes.
    const cached = new Uint8Array(aegisInitState.buffer.slice(0));
    expect(hex(cached)).toBe(spec.join(""));
  });

  it("agrees with every §7.7 vector up to 4 KiB (the 1 MiB row is too slow for it)", () => {
    for (const [name, input, tag] of vectors.slice(0, -1)) {
      expect(hex(tagOf(referenceMac, input())), name).toBe(tag);
    }
  });
});

for (const { name, mac } of implementations) {
  describe.skipIf(mac === undefined)(`${name} implementation`, () => {
    const impl = mac!;

    it.each(vectors)("§7.7 vector: %s", (_, input, tag, value) => {
      const out = tagOf(impl, input());
      expect(hex(out)).toBe(tag);
      expect(u128le(out)).toBe(value);
    });

    it("passes the §7.8 stability test", () => {
      expect(stabilityChecksum(impl)).toBe(0x82dcaacf4875b279446825b6830d1263n);
    });

    it("handles views with a byteOffset and writes only out[outOffset .. +16)", () => {
      const backing = new Uint8Array(300).fill(0xee);
      backing.set(pattern(256, 1), 7);
      const out = new Uint8Array(40).fill(0xaa);
      impl(backing.subarray(7, 7 + 256), out, 11);
      expect(hex(out.subarray(11, 27))).toBe("d6ba1c495ca4c976f5d0993644aa9acd");
      expect(out.subarray(0, 11).every((byte) => byte === 0xaa)).toBe(true);
      expect(out.subarray(27).every((byte) => byte === 0xaa)).toBe(true);
    });

    it("accepts pooled Buffers and output that overlaps the input", () => {
      const buffer = Buffer.from("abc"); // a small Buffer: a view into Node's shared pool
      expect(hex(tagOf(impl, buffer))).toBe("3b3182a3fd642bfdbd200bdbe1b4eb4d");
      const data = new Uint8Array(16);
      impl(data, data, 0);
      expect(hex(data)).toBe("f72ad48dd05dd1656133101cd4be3a26");
    });
  });
}

describe.skipIf(nativeAddon === null)("native addon argument checks", () => {
  const mac = nativeAddon?.aegisMac as unknown as (...args: unknown[]) => void;
  const data = new Uint8Array(4);

  it("throws TypeError for values that are not Uint8Arrays or numbers", () => {
    expect(() => mac()).toThrow(TypeError);
    expect(() => mac("abc", new Uint8Array(16), 0)).toThrow(TypeError);
    expect(() => mac(new Uint16Array(4), new Uint8Array(16), 0)).toThrow(TypeError);
    expect(() => mac(data, new ArrayBuffer(16), 0)).toThrow(TypeError);
    expect(() => mac(data, new Uint8Array(16), "0")).toThrow(TypeError);
    expect(() => mac(data, new Uint8Array(16), 0n)).toThrow(TypeError);
  });

  it("throws RangeError when the tag would not fit at outOffset", () => {
    expect(() => mac(data, new Uint8Array(15), 0)).toThrow(RangeError);
    expect(() => mac(data, new Uint8Array(16), 1)).toThrow(RangeError);
    expect(() => mac(data, new Uint8Array(32), -1)).toThrow(RangeError);
    expect(() => mac(data, new Uint8Array(32), 0.5)).toThrow(RangeError);
    expect(() => mac(data, new Uint8Array(32), Number.NaN)).toThrow(RangeError);
    expect(() => mac(data, new Uint8Array(32), Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => mac(data, new Uint8Array(32), 2 ** 60)).toThrow(RangeError);
    expect(() => mac(data, new Uint8Array(32), 16)).not.toThrow();
  });

  it("range calls check their range and their output like aegisMac", () => {
    const range = nativeAddon?.aegisMacRange as unknown as (...args: unknown[]) => void;
    const matches = nativeAddon?.aegisMacRangeMatches as unknown as (...args: unknown[]) => boolean;
    for (const call of [range, matches]) {
      expect(() => call(data, 0, 4, new Uint8Array(16), 0)).not.toThrow();
      expect(() => call(data, 0, 5, new Uint8Array(16), 0)).toThrow(RangeError); // past the end
      expect(() => call(data, 3, 2, new Uint8Array(16), 0)).toThrow(RangeError); // end before start
      expect(() => call(data, -1, 2, new Uint8Array(16), 0)).toThrow(RangeError);
      expect(() => call(data, 0.5, 2, new Uint8Array(16), 0)).toThrow(RangeError);
      expect(() => call(data, "0", 2, new Uint8Array(16), 0)).toThrow(TypeError);
      expect(() => call(data, 0, 4, new Uint8Array(16), 1)).toThrow(RangeError);
      expect(() => call("abc", 0, 0, new Uint8Array(16), 0)).toThrow(TypeError);
    }
  });

  it("reports whether AES-NI is in use", () => {
    expect(typeof nativeAddon!.aesni()).toBe("boolean");
    expect(nativeAddonStatus).toBe(nativeAddon!.aesni() ? "AES-NI" : "portable C (no AES-NI on this CPU)");
  });
});

describe("native addon presence", () => {
  it.runIf(process.env["SCARAB_REQUIRE_NATIVE"] === "1")("is built and loaded (SCARAB_REQUIRE_NATIVE=1)", () => {
    expect(nativeAddon, `native addon: ${nativeAddonStatus}`).not.toBeNull();
  });
});

describe("all implementations agree (property)", () => {
  const available = implementations.flatMap(({ name, mac }) => (mac ? [{ name, mac }] : []));
  // fast-check keeps arrays short by default; mix in full-range lengths so multi-block inputs and
  // every tail length are covered too.
  const inputs = fc.oneof(fc.uint8Array({ maxLength: 5000, size: "max" }), fc.uint8Array({ maxLength: 100 }));

  it("on arbitrary inputs at arbitrary byte offsets, including the slow reference", () => {
    fc.assert(
      fc.property(inputs, fc.nat({ max: 63 }), fc.nat({ max: 31 }), (bytes, dataOffset, outOffset) => {
        // Copy into a larger buffer so the view starts at an unaligned byteOffset.
        const backing = new Uint8Array(dataOffset + bytes.length + 5);
        backing.set(bytes, dataOffset);
        const view = backing.subarray(dataOffset, dataOffset + bytes.length);
        const expected = hex(tagOf(referenceMac, bytes));
        for (const { name, mac } of available) {
          const out = new Uint8Array(outOffset + 16);
          mac(view, out, outOffset);
          expect(hex(out.subarray(outOffset)), name).toBe(expected);
        }
      }),
      { numRuns: 60, seed: 0x5ca7ab },
    );
  });

  it("on many more inputs between the fast implementations", () => {
    fc.assert(
      fc.property(inputs, fc.nat({ max: 63 }), (bytes, dataOffset) => {
        const backing = new Uint8Array(dataOffset + bytes.length);
        backing.set(bytes, dataOffset);
        const view = backing.subarray(dataOffset);
        const expected = hex(tagOf(aegisMacTs, bytes));
        for (const { name, mac } of available) expect(hex(tagOf(mac, view)), name).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("checksum.ts", () => {
  it("uses the native addon exactly when it is loaded", () => {
    expect(checksumImplementation).toBe(nativeAddon ? "native" : "typescript");
  });

  it("checksum() returns the u128 (LE) value", () => {
    expect(checksum(new Uint8Array(0))).toBe(0x49f174618255402de6e7e3c40d60cc83n);
    expect(checksum(new Uint8Array(256))).toBe(0x3c61ffe89684eb2dbffcd4ddf3821b65n);
    expect(checksum(new TextEncoder().encode("abc"))).toBe(0x4debb4e1db0b20bdfd2b64fda382313bn);
  });

  it("checksumInto() writes the tag bytes at the offset", () => {
    const out = new Uint8Array(48);
    checksumInto(new Uint8Array(16), out, 20);
    expect(hex(out.subarray(20, 36))).toBe("f72ad48dd05dd1656133101cd4be3a26");
    expect(out.subarray(0, 20).every((byte) => byte === 0)).toBe(true);
    expect(out.subarray(36).every((byte) => byte === 0)).toBe(true);
  });

  it("checksumRangeInto() and checksumRangeMatches() are checksumInto and checksumMatches of the range", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat({ max: 600 }), fc.nat({ max: 600 }), fc.nat({ max: 16 }),
        (bytes, a, b, outOffset) => {
          const start = Math.min(a, b, bytes.length);
          const end = Math.min(Math.max(a, b), bytes.length);
          const expected = new Uint8Array(outOffset + 16);
          checksumInto(bytes.subarray(start, end), expected, outOffset);
          const out = new Uint8Array(outOffset + 16);
          checksumRangeInto(bytes, start, end, out, outOffset);
          expect(hex(out)).toBe(hex(expected));
          expect(checksumRangeMatches(bytes, start, end, expected, outOffset)).toBe(true);
          expected[outOffset + (a % 16)]! ^= 0x10;
          expect(checksumRangeMatches(bytes, start, end, expected, outOffset)).toBe(false);
        }),
      { numRuns: 300 },
    );
  });

  it("checksumMatches() compares against 16 bytes at an offset", () => {
    const data = pattern(256, 1);
    const expected = new Uint8Array(20);
    expected.set(fromHex("d6ba1c495ca4c976f5d0993644aa9acd"), 3);
    expect(checksumMatches(data, expected, 3)).toBe(true);
    expect(checksumMatches(data, expected, 2)).toBe(false);
    for (const position of [0, 7, 15]) {
      const corrupted = expected.slice();
      corrupted[3 + position]! ^= 0x01;
      expect(checksumMatches(data, corrupted, 3)).toBe(false);
    }
    const flipped = data.slice();
    flipped[100]! ^= 0x80;
    expect(checksumMatches(flipped, expected, 3)).toBe(false);
  });
});
