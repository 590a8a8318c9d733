// The deterministic PRNG (xoshiro256++ seeded by SplitMix64, spec/wire.md §7.8): the spec's sanity
// vectors, fill's tail rule, exact determinism, split streams, seed parsing and the integer helpers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { Prng, parseSeed } from "../../src/core/prng.js";

const mask64 = (1n << 64n) - 1n;

/** Little-endian bytes of a u64. */
function le64(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));
}

function draws(prng: Prng, count: number): bigint[] {
  return Array.from({ length: count }, () => prng.next());
}

/** Counts of `draw()` per value over `count` draws, for a range of `buckets` values. */
function bucketCounts(buckets: number, count: number, draw: () => number): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (let i = 0; i < count; i++) counts[draw()]! += 1;
  return counts;
}

describe("sanity vectors (wire.md §7.8)", () => {
  it("seed 92 gives the spec's initial state", () => {
    expect(new Prng(92).state()).toEqual([
      0x9d589011dcd0f76fn, 0xec9c2fa2b6081484n, 0x65e39a8af782b25fn, 0xa77ae2ff253279b8n,
    ]);
  });

  it("seed 92 gives the spec's first outputs", () => {
    expect(draws(new Prng(92), 3)).toEqual([0x25d991ca70736128n, 0x3b532872acfccd46n, 0xabcf431a1a81562en]);
  });

  it("seed 0: the first SplitMix64 output is state word 0", () => {
    expect(new Prng(0).state()[0]).toBe(0xe220a8397b1dcdafn);
    expect(new Prng(0n).state()).toEqual(new Prng(0).state());
  });

  it("seed 92, 1000 draws of next() mod 8 give the spec's bucket counts", () => {
    const prng = new Prng(92);
    expect(bucketCounts(8, 1000, () => Number(prng.next() % 8n))).toEqual([134, 134, 117, 121, 117, 128, 131, 118]);
  });

  it("accepts the whole u64 seed range and rejects the rest", () => {
    expect(() => new Prng(mask64)).not.toThrow();
    expect(() => new Prng(mask64 + 1n)).toThrow(AssertionError);
    expect(() => new Prng(-1n)).toThrow(AssertionError);
  });
});

describe("fill", () => {
  it("writes whole outputs little-endian and one more output's low bytes for a tail", () => {
    const outputs = draws(new Prng(92), 3);
    const prng = new Prng(92);
    const bytes = new Uint8Array(13);
    prng.fill(bytes);
    expect(Array.from(bytes)).toEqual([...le64(outputs[0]!), ...le64(outputs[1]!).slice(0, 5)]);
    // The tail consumed exactly one output: the next draw is the third.
    expect(prng.next()).toBe(outputs[2]);
  });

  it("consumes ceil(length / 8) outputs for every length", () => {
    for (let length = 0; length <= 24; length++) {
      const filler = new Prng(7);
      filler.fill(new Uint8Array(length));
      const reference = new Prng(7);
      draws(reference, Math.ceil(length / 8));
      expect(filler.next(), `length ${length}`).toBe(reference.next());
    }
  });

  it("fills a subarray view without touching the bytes around it", () => {
    const backing = new Uint8Array(20).fill(0xaa);
    new Prng(92).fill(backing.subarray(3, 14));
    const direct = new Uint8Array(11);
    new Prng(92).fill(direct);
    expect(Array.from(backing.subarray(3, 14))).toEqual(Array.from(direct));
    expect([...backing.subarray(0, 3), ...backing.subarray(14)].every((byte) => byte === 0xaa)).toBe(true);
  });
});

describe("determinism", () => {
  it("two generators from the same seed give identical sequences across every helper", () => {
    const trace = (prng: Prng): unknown[] => {
      const out: unknown[] = [];
      for (let i = 0; i < 200; i++) {
        out.push(prng.next(), prng.nextU32(), prng.next53(), prng.intInclusive(i), prng.intInclusive(2 ** 40 + i));
        out.push(prng.range(-5, 5), prng.chance(1, 3), prng.boolean(), prng.exponential(100));
        const bytes = new Uint8Array(i % 17);
        prng.fill(bytes);
        out.push(Array.from(bytes));
      }
      out.push(prng.shuffle([1, 2, 3, 4, 5, 6, 7, 8]), prng.pick(["a", "b", "c"]), prng.split().next());
      return out;
    };
    expect(trace(new Prng(123456789n))).toEqual(trace(new Prng(123456789)));
  });

  it("different seeds give different sequences", () => {
    expect(draws(new Prng(1), 4)).not.toEqual(draws(new Prng(2), 4));
  });
});

describe("split", () => {
  it("seeds the child from the parent's next output", () => {
    const parent = new Prng(92);
    const child = parent.split();
    expect(child.state()).toEqual(new Prng(0x25d991ca70736128n).state());
    // The parent advanced by exactly one output.
    expect(parent.next()).toBe(0x3b532872acfccd46n);
  });

  it("gives streams independent of the parent and of each other", () => {
    const parent = new Prng(42);
    const a = parent.split();
    const b = parent.split();
    const streams = [draws(a, 1000), draws(b, 1000), draws(parent, 1000)];
    const seen = new Set<bigint>();
    for (const stream of streams) for (const value of stream) seen.add(value);
    // 3000 random u64s: any repeat between streams would mean overlapping or correlated sequences.
    expect(seen.size).toBe(3000);
    // Crude correlation check: low bits of matching positions agree about half the time.
    const agree = streams[0]!.filter((value, i) => (value & 1n) === (streams[1]![i]! & 1n)).length;
    expect(agree).toBeGreaterThan(430);
    expect(agree).toBeLessThan(570);
  });

  it("is itself deterministic", () => {
    const one = new Prng(5);
    const two = new Prng(5);
    expect(draws(one.split().split(), 10)).toEqual(draws(two.split().split(), 10));
  });
});

describe("intInclusive", () => {
  it("stays in range for small and boundary maxima", () => {
    const prng = new Prng(3);
    for (const max of [0, 1, 2, 7, 255, 1000, 0xffff_fffe, 0xffff_ffff, 2 ** 32, 2 ** 53 - 1]) {
      for (let i = 0; i < 2000; i++) {
        const value = prng.intInclusive(max);
        expect(Number.isInteger(value) && value >= 0 && value <= max, `max ${max}: ${value}`).toBe(true);
      }
    }
    expect(prng.intInclusive(0)).toBe(0);
  });

  it("is close to uniform (fixed seed, 60,000 draws over 6 values)", () => {
    const prng = new Prng(2024);
    const counts = bucketCounts(6, 60_000, () => prng.intInclusive(5));
    // Expected 10,000 each; the standard deviation is about 91, so ±400 is a > 4σ tolerance.
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(400);
  });

  it("does not favour low values for a range that does not divide 2^32", () => {
    // max + 1 = 3·2^30: a plain `u32 % (max + 1)` would put half of all draws in the first third.
    const prng = new Prng(77);
    const max = 3 * 2 ** 30 - 1;
    const counts = bucketCounts(3, 30_000, () => Math.floor(prng.intInclusive(max) / 2 ** 30));
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(400);
  });

  it("is close to uniform for max >= 2^32 (the BigInt path)", () => {
    const prng = new Prng(11);
    const max = 2 ** 40 - 1;
    const counts = bucketCounts(4, 20_000, () => Math.floor(prng.intInclusive(max) / 2 ** 38));
    for (const count of counts) expect(Math.abs(count - 5_000)).toBeLessThan(300);
  });

  it("rejects bad maxima", () => {
    const prng = new Prng(1);
    for (const max of [-1, 0.5, Number.NaN, 2 ** 53]) expect(() => prng.intInclusive(max)).toThrow(AssertionError);
  });

  it("stays in range for any max >= 2^32 (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: mask64 }), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }), (seed, max) => {
        const prng = new Prng(seed);
        for (let i = 0; i < 20; i++) {
          const value = prng.intInclusive(max);
          if (!Number.isSafeInteger(value) || value < 0 || value > max) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

describe("chance", () => {
  it("0/den is never true and den/den is always true", () => {
    const prng = new Prng(9);
    for (const denominator of [1, 2, 3, 1000, 2 ** 32, 2 ** 40]) {
      for (let i = 0; i < 500; i++) {
        expect(prng.chance(0, denominator)).toBe(false);
        expect(prng.chance(denominator, denominator)).toBe(true);
      }
    }
  });

  it("1/4 is true about a quarter of the time", () => {
    const prng = new Prng(10);
    let hits = 0;
    for (let i = 0; i < 40_000; i++) if (prng.chance(1, 4)) hits++;
    expect(Math.abs(hits - 10_000)).toBeLessThan(400);
  });

  it("rejects ratios outside [0, 1]", () => {
    const prng = new Prng(1);
    expect(() => prng.chance(1, 0)).toThrow(AssertionError);
    expect(() => prng.chance(-1, 2)).toThrow(AssertionError);
    expect(() => prng.chance(3, 2)).toThrow(AssertionError);
  });
});

describe("parseSeed", () => {
  it("parses decimal u64 values", () => {
    expect(parseSeed("0")).toBe(0n);
    expect(parseSeed("92")).toBe(92n);
    expect(parseSeed("007")).toBe(7n);
    expect(parseSeed("18446744073709551615")).toBe(mask64);
  });

  it("takes the low 64 bits (last 16 hex digits) of a 40-hex-digit commit hash", () => {
    expect(parseSeed("e85d8d2aaaaaaaaaaaaaaaaaaaaaaaaa0123456789abcdef")).toBeNull(); // 48 digits
    expect(parseSeed("e85d8d2aaaaaaaaaaaaaaaaa0123456789abcdef")).toBe(0x0123456789abcdefn);
    expect(parseSeed("E85D8D2AAAAAAAAAAAAAAAAAFFFFFFFFFFFFFFFF")).toBe(mask64);
    // 40 decimal digits are read as a hash too, never as an out-of-range decimal.
    expect(parseSeed("1234567890123456789012345678901234567890")).toBe(0x5678901234567890n);
  });

  it("rejects junk and values of 2^64 or more", () => {
    const junk = ["", " ", "-1", "+1", " 1", "1 ", "1.5", "1e3", "0x10", "abc", "92n", "١٢"];
    junk.push("18446744073709551616", "99999999999999999999", "123456789012345678901");
    junk.push("e85d8d2aaaaaaaaaaaaaaaaa0123456789abcde", "e85d8d2aaaaaaaaaaaaaaaaa0123456789abcdef0", "g85d8d2aaaaaaaaaaaaaaaaa0123456789abcdef");
    for (const text of junk) expect(parseSeed(text), JSON.stringify(text)).toBeNull();
  });
});
