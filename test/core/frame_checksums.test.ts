// A message's two checksums in one call (core/header/checksums.ts setChecksums and verifyFrame,
// native/addon.c aegisSealFrame and aegisVerifyFrame): the same bytes and verdicts as the two
// MACs of wire.md §6 computed apart, by the TypeScript AEGIS.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aegisMacTs } from "../../src/core/aegis.js";
import { headerSize } from "../../src/core/config.js";
import { setChecksums, verifyFrame } from "../../src/core/header.js";
import { FrameField, checksummedStart } from "../../src/core/header/fields.js";
import { nativeAddon } from "../../src/core/native_addon.js";

/** A message of `size` bytes (header.size set) with arbitrary other bytes, sealed by the TS AEGIS. */
function sealedByTs(bytes: Uint8Array): Uint8Array {
  const message = bytes.slice();
  new DataView(message.buffer).setUint32(FrameField.size, message.length, true);
  aegisMacTs(message.subarray(headerSize), message, FrameField.checksum_body);
  aegisMacTs(message.subarray(checksummedStart, headerSize), message, FrameField.checksum);
  return message;
}

const messages = fc.integer({ min: headerSize, max: 3000 }).chain((size) => fc.uint8Array({ minLength: size, maxLength: size }));

describe("setChecksums and verifyFrame", () => {
  it("seal as the two MACs apart do, and accept what they sealed", () => {
    fc.assert(fc.property(messages, (bytes) => {
      const expected = sealedByTs(bytes);
      const message = expected.slice();
      message.fill(0, 0, 16);
      message.fill(0, FrameField.checksum_body, FrameField.checksum_body + 16);
      setChecksums(message, 0, message.length);
      expect(message).toEqual(expected);
      expect(verifyFrame(message)).toBeNull();
    }), { numRuns: 200 });
  });

  it("do so for a bare header too (most messages: pings' pongs, heartbeats)", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: headerSize, maxLength: headerSize }), (bytes) => {
      const expected = sealedByTs(bytes);
      const message = expected.slice();
      message.fill(0, 0, 16);
      message.fill(0, FrameField.checksum_body, FrameField.checksum_body + 16);
      setChecksums(message, 0, headerSize);
      expect(message).toEqual(expected);
      expect(verifyFrame(message)).toBeNull();
      message[FrameField.checksum_body] ^= 1; // covered by the header checksum
      expect(verifyFrame(message)).toBe("bad header checksum");
    }), { numRuns: 50 });
  });

  it("name the first check that fails: header checksum, then size, then body checksum", () => {
    fc.assert(fc.property(messages, fc.nat(), (bytes, at) => {
      const sealed = sealedByTs(bytes);
      const header = sealed.slice();
      header[checksummedStart + (at % (headerSize - checksummedStart))]! ^= 1;
      expect(verifyFrame(header)).toBe("bad header checksum");
      // A shorter or longer frame than its header says, with the header itself intact.
      expect(verifyFrame(sealed.subarray(0, sealed.length - 1))).toBe(sealed.length > headerSize ? "size does not match the frame" : "bad header checksum");
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      expect(verifyFrame(longer)).toBe("size does not match the frame");
      if (sealed.length > headerSize) {
        const body = sealed.slice();
        body[headerSize + (at % (sealed.length - headerSize))]! ^= 0x80;
        expect(verifyFrame(body)).toBe("bad body checksum");
      }
    }), { numRuns: 200 });
  });

  it("verify a frame inside a larger buffer by its own bytes only", () => {
    const sealed = sealedByTs(new Uint8Array(300).fill(7));
    const backing = new Uint8Array(400).fill(0xee);
    backing.set(sealed, 50);
    expect(verifyFrame(backing.subarray(50, 350))).toBeNull();
  });
});

describe.skipIf(nativeAddon?.aegisSealFrame === undefined)("native frame calls check their arguments", () => {
  const seal = nativeAddon?.aegisSealFrame as unknown as (...args: unknown[]) => void;
  const verify = nativeAddon?.aegisVerifyFrame as unknown as (...args: unknown[]) => number;

  it("throw TypeError and RangeError for bad arguments, and never read past the message", () => {
    const message = new Uint8Array(300);
    expect(() => seal(message, 300)).not.toThrow();
    expect(() => seal("abc", 300)).toThrow(TypeError);
    expect(() => seal(new Uint16Array(300), 300)).toThrow(TypeError);
    expect(() => seal(message, "300")).toThrow(TypeError);
    expect(() => seal(message, 255)).toThrow(RangeError); // below a header
    expect(() => seal(message, 301)).toThrow(RangeError); // past the end
    expect(() => seal(message, 256.5)).toThrow(RangeError);
    expect(() => seal(message, Number.NaN)).toThrow(RangeError);
    expect(() => verify("abc")).toThrow(TypeError);
    expect(() => verify()).toThrow(TypeError);
    expect(verify(new Uint8Array(10))).toBe(1); // shorter than a header: its checksum cannot hold
  });
});
