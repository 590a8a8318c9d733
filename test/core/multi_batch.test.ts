// Multi-batch bodies (spec/wire.md §8): trailer sizes, the five worked examples byte for byte,
// encode/decode round trips, the incremental writer, and rejection of every malformed trailer in
// the decoder's order of checks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MultiBatchReader, MultiBatchWriter, decodeMultiBatch, encodeMultiBatch, trailerSize,
} from "../../src/core/multi_batch.js";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** `count` elements of size E, each byte tagged with its element index (so batches differ). */
function elements(count: number, elementSize: number, tag = 0): Uint8Array {
  const bytes = new Uint8Array(count * elementSize);
  for (let i = 0; i < count; i++) bytes.fill((tag * 31 + i + 1) & 0xff, i * elementSize, (i + 1) * elementSize);
  return bytes;
}

/** A body spelled out as in wire.md §8: payload, then `padding` × FF, then the u16s given. */
function spelled(payload: Uint8Array, padding: number, u16s: number[]): Uint8Array {
  const body = new Uint8Array(payload.length + padding + 2 * u16s.length);
  body.set(payload, 0);
  body.fill(0xff, payload.length, payload.length + padding);
  u16s.forEach((value, i) => {
    body[payload.length + padding + 2 * i] = value & 0xff;
    body[payload.length + padding + 2 * i + 1] = value >> 8;
  });
  return body;
}

function decodeCounts(body: Uint8Array, elementSize: number): number[] {
  const reader = new MultiBatchReader();
  expect(reader.reset(body, elementSize)).toBeNull();
  return Array.from({ length: reader.batchCount }, (_, i) => reader.elementCount(i));
}

describe("trailerSize", () => {
  it("is ceil((2b + 2) / E) · E", () => {
    for (let b = 1; b <= 63; b++) expect(trailerSize(128, b)).toBe(128);
    expect(trailerSize(128, 64)).toBe(256);
    for (let b = 1; b <= 7; b++) expect(trailerSize(16, b)).toBe(16);
    expect(trailerSize(16, 8)).toBe(32);
    for (let b = 1; b <= 31; b++) expect(trailerSize(64, b)).toBe(64);
    expect(trailerSize(64, 32)).toBe(128);
    expect(trailerSize(128, 65534)).toBe(131_072);
    expect(() => trailerSize(0, 1)).toThrow();
    expect(() => trailerSize(16, 65535)).toThrow();
  });
});

describe("worked examples (wire.md §8)", () => {
  it("1: createAccounts([a, b, c]) request and reply", () => {
    const accounts = elements(3, 128);
    const request = encodeMultiBatch([accounts], 128);
    expect(request.length).toBe(512);
    expect(hex(request)).toBe(hex(spelled(accounts, 124, [3, 1])));
    const results = elements(3, 16);
    const reply = encodeMultiBatch([results], 16);
    expect(reply.length).toBe(64);
    expect(hex(reply)).toBe(hex(spelled(results, 12, [3, 1])));
    expect(decodeCounts(request, 128)).toEqual([3]);
    expect(decodeCounts(reply, 16)).toEqual([3]);
  });

  it("2: lookupAccounts([x]) request, and replies with k accounts found", () => {
    const request = encodeMultiBatch([elements(1, 16)], 16);
    expect(hex(request)).toBe(hex(spelled(elements(1, 16), 12, [1, 1])));
    expect(request.length).toBe(32);
    for (const k of [0, 1, 2]) {
      const reply = encodeMultiBatch([elements(k, 128)], 128);
      expect(hex(reply)).toBe(hex(spelled(elements(k, 128), 124, [k, 1])));
      expect(decodeCounts(reply, 128)).toEqual([k]);
    }
  });

  it("3: two merged create_transfers calls of 2 and 1 events", () => {
    const first = elements(2, 128, 1);
    const second = elements(1, 128, 2);
    const request = encodeMultiBatch([first, second], 128);
    const payload = new Uint8Array([...first, ...second]);
    expect(payload.length).toBe(384);
    expect(hex(request)).toBe(hex(spelled(payload, 122, [1, 2, 2])));
    const reply = encodeMultiBatch([elements(2, 16, 1), elements(1, 16, 2)], 16);
    expect(hex(reply)).toBe(hex(spelled(new Uint8Array([...elements(2, 16, 1), ...elements(1, 16, 2)]), 10, [1, 2, 2])));
    const reader = decodeMultiBatch(request, 128);
    expect(typeof reader).not.toBe("string");
    if (typeof reader === "string") return;
    expect(hex(reader.batch(0))).toBe(hex(first));
    expect(hex(reader.batch(1))).toBe(hex(second));
    expect(reader.batchOffset(1)).toBe(256);
  });

  it("4: four batches of 8, 1, 0 and 4 transfers", () => {
    const batches = [elements(8, 128, 1), elements(1, 128, 2), elements(0, 128, 3), elements(4, 128, 4)];
    const body = encodeMultiBatch(batches, 128);
    const payload = new Uint8Array(batches.flatMap((batch) => [...batch]));
    expect(payload.length).toBe(1664);
    expect(hex(body)).toBe(hex(spelled(payload, 118, [4, 0, 1, 8, 4])));
    expect(body.length).toBe(1664 + 128);
    expect(decodeCounts(body, 128)).toEqual([8, 1, 0, 4]);
    const reader = new MultiBatchReader();
    reader.reset(body, 128);
    expect([0, 1, 2, 3].map((i) => reader.batchOffset(i))).toEqual([0, 1024, 1152, 1152]);
    expect(reader.elementTotal).toBe(13);
  });

  it("5: the empty call createAccounts([])", () => {
    const request = encodeMultiBatch([new Uint8Array(0)], 128);
    expect(hex(request)).toBe(hex(spelled(new Uint8Array(0), 124, [0, 1])));
    const reply = encodeMultiBatch([new Uint8Array(0)], 16);
    expect(hex(reply)).toBe(hex(spelled(new Uint8Array(0), 12, [0, 1])));
    expect(decodeCounts(request, 128)).toEqual([0]);
    expect(decodeCounts(reply, 16)).toEqual([0]);
  });
});

const elementSizeArbitrary = fc.constantFrom(16, 64, 128);
const countsArbitrary = fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 70 });

describe("round trip", () => {
  it("encode → decode gives back every batch", () => {
    fc.assert(
      fc.property(elementSizeArbitrary, countsArbitrary, (elementSize, counts) => {
        const batches = counts.map((count, i) => elements(count, elementSize, i));
        const body = encodeMultiBatch(batches, elementSize);
        const payload = counts.reduce((sum, count) => sum + count, 0) * elementSize;
        expect(body.length).toBe(payload + trailerSize(elementSize, counts.length));
        const reader = new MultiBatchReader();
        expect(reader.reset(body, elementSize)).toBeNull();
        expect(reader.batchCount).toBe(counts.length);
        counts.forEach((count, i) => {
          expect(reader.elementCount(i)).toBe(count);
          expect(hex(reader.batch(i))).toBe(hex(batches[i]!));
        });
      }),
      { numRuns: 300 },
    );
  });

  it("the incremental writer (one element at a time, at an offset) matches encodeMultiBatch", () => {
    fc.assert(
      fc.property(elementSizeArbitrary, countsArbitrary, fc.nat({ max: 40 }), (elementSize, counts, offset) => {
        const batches = counts.map((count, i) => elements(count, elementSize, i));
        const expected = encodeMultiBatch(batches, elementSize);
        const buffer = new Uint8Array(offset + expected.length + 5).fill(0x5a);
        const writer = new MultiBatchWriter().reset(buffer, elementSize, offset, expected.length);
        batches.forEach((batch, i) => {
          writer.beginBatch();
          for (let e = 0; e < counts[i]!; e++) {
            const at = writer.reserveElements(1);
            buffer.set(batch.subarray(e * elementSize, (e + 1) * elementSize), at);
          }
          writer.endBatch();
        });
        expect(writer.finish()).toBe(expected.length);
        expect(hex(buffer.subarray(offset, offset + expected.length))).toBe(hex(expected));
        expect(buffer[offset + expected.length]).toBe(0x5a); // nothing written past the body
        expect(offset === 0 || buffer[offset - 1] === 0x5a).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("one reader decodes many bodies, growing past 64 batches", () => {
    const reader = new MultiBatchReader();
    for (const batchCount of [1, 200, 3, 1000]) {
      const body = encodeMultiBatch(Array.from({ length: batchCount }, (_, i) => elements(i % 3, 16, i)), 16);
      expect(reader.reset(body, 16)).toBeNull();
      expect(reader.batchCount).toBe(batchCount);
      expect(reader.elementCount(batchCount - 1)).toBe((batchCount - 1) % 3);
    }
    expect(reader.reset(new Uint8Array(1), 16)).toBe("body too short");
    expect(reader.batchCount).toBe(0);
    expect(() => reader.elementCount(0)).toThrow();
  });
});

describe("writer limits", () => {
  it("refuses to overrun its capacity, and reports what fits", () => {
    const writer = new MultiBatchWriter().reset(new Uint8Array(64), 16);
    writer.beginBatch();
    expect(writer.fits(3)).toBe(true);
    expect(writer.fits(4)).toBe(false);
    writer.reserveElements(3);
    expect(() => writer.reserveElements(1)).toThrow();
    writer.endBatch();
    expect(writer.fits(0, 1)).toBe(true); // 48 + trailer(16, 2) = 64
    expect(writer.finish()).toBe(64);
    expect(() => writer.finish()).toThrow();
  });

  it("asserts on misuse: no batch, open batch, element outside a batch", () => {
    const writer = new MultiBatchWriter().reset(new Uint8Array(256), 16);
    expect(() => writer.finish()).toThrow();
    expect(() => writer.reserveElements(1)).toThrow();
    writer.beginBatch();
    expect(() => writer.beginBatch()).toThrow();
    expect(() => writer.finish()).toThrow();
    expect(() => writer.appendElements(new Uint8Array(15))).toThrow();
  });

  it("grows past 64 batches", () => {
    const body = new Uint8Array(4096);
    const writer = new MultiBatchWriter().reset(body, 16);
    for (let i = 0; i < 100; i++) writer.addBatch(elements(1, 16, i));
    const length = writer.finish();
    expect(decodeCounts(body.subarray(0, length), 16)).toEqual(new Array(100).fill(1));
  });
});

describe("rejection of malformed bodies, in the decoder's order", () => {
  const reader = new MultiBatchReader();

  it("fewer than 2 bytes", () => {
    expect(reader.reset(new Uint8Array(0), 128)).toBe("body too short");
    expect(reader.reset(new Uint8Array([1]), 16)).toBe("body too short");
  });

  it("batch_count 0", () => {
    expect(reader.reset(spelled(new Uint8Array(0), 14, [0]), 16)).toBe("batch_count zero");
    expect(reader.reset(new Uint8Array(2), 16)).toBe("batch_count zero");
  });

  it("batch_count 0xFFFF", () => {
    expect(reader.reset(spelled(new Uint8Array(0), 14, [0xffff]), 16)).toBe("batch_count reserved");
    expect(reader.reset(new Uint8Array(128).fill(0xff), 128)).toBe("batch_count reserved");
  });

  it("body shorter than the trailer", () => {
    expect(reader.reset(new Uint8Array([0, 0, 1, 0]), 128)).toBe("body shorter than trailer");
    expect(reader.reset(spelled(new Uint8Array(0), 0, [0, 0, 0, 0, 0, 0, 0, 0, 8]), 16)).toBe("body shorter than trailer");
    const valid = encodeMultiBatch([elements(2, 16)], 16);
    expect(reader.reset(valid.subarray(valid.length - 15), 16)).toBe("body shorter than trailer");
  });

  it("any padding byte that is not 0xFF", () => {
    fc.assert(
      fc.property(elementSizeArbitrary, countsArbitrary, fc.nat(), fc.integer({ min: 0, max: 0xfe }),
        (elementSize, counts, pick, value) => {
          const body = encodeMultiBatch(counts.map((count) => elements(count, elementSize)), elementSize);
          const payload = counts.reduce((sum, count) => sum + count, 0) * elementSize;
          const paddingLength = trailerSize(elementSize, counts.length) - 2 - 2 * counts.length;
          fc.pre(paddingLength > 0);
          body[payload + (pick % paddingLength)] = value;
          expect(reader.reset(body, elementSize)).toBe("padding not 0xFF");
        }),
      { numRuns: 300 },
    );
  });

  it("payload one byte longer or shorter than Σ counts · E", () => {
    fc.assert(
      fc.property(elementSizeArbitrary, countsArbitrary, (elementSize, counts) => {
        const body = encodeMultiBatch(counts.map((count) => elements(count, elementSize)), elementSize);
        const longer = new Uint8Array(body.length + 1);
        longer.set(body, 1);
        expect(reader.reset(longer, elementSize)).toBe("payload size mismatch");
        const payload = counts.reduce((sum, count) => sum + count, 0) * elementSize;
        if (payload > 0) expect(reader.reset(body.subarray(1), elementSize)).toBe("payload size mismatch");
      }),
      { numRuns: 200 },
    );
  });

  it("a batch count off by one", () => {
    fc.assert(
      fc.property(elementSizeArbitrary, countsArbitrary, fc.nat(), fc.boolean(), (elementSize, counts, pick, up) => {
        const body = encodeMultiBatch(counts.map((count) => elements(count, elementSize)), elementSize);
        const batch = pick % counts.length;
        const at = body.length - 4 - 2 * batch;
        const count = counts[batch]!;
        fc.pre(up || count > 0);
        const changed = up ? count + 1 : count - 1;
        body[at] = changed & 0xff;
        body[at + 1] = changed >> 8;
        expect(reader.reset(body, elementSize)).toBe("payload size mismatch");
      }),
      { numRuns: 200 },
    );
  });

  it("decodeMultiBatch returns the reason", () => {
    expect(decodeMultiBatch(new Uint8Array(0), 16)).toBe("body too short");
  });
});
