import { describe, expect, it } from "vitest";
import { id } from "../../src/client/index.js";

describe("id()", () => {
  it("is strictly increasing, with milliseconds since the epoch in its high 48 bits", () => {
    const before = Date.now();
    const ids = Array.from({ length: 100_000 }, () => id());
    const after = Date.now();
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    for (const value of [ids[0]!, ids.at(-1)!]) {
      const ms = Number(value >> 80n);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
      expect(value < 1n << 128n).toBe(true);
    }
    // Within one millisecond the ids are consecutive; a new millisecond draws new random bits.
    const sameMs = ids.findIndex((value, i) => i > 0 && value >> 80n === ids[i - 1]! >> 80n);
    expect(sameMs).toBeGreaterThan(0);
    expect(ids[sameMs]! - ids[sameMs - 1]!).toBe(1n);
  });
});
