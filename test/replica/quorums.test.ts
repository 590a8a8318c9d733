import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { primaryIndex, quorums } from "../../src/replica/quorums.js";

// spec/vsr.md §2, row for row.
const table = [
  // R  replication viewChange nackPrepare majority upgrade
  [1, 1, 1, 1, 1, 1],
  [2, 2, 2, 1, 2, 2],
  [3, 2, 2, 2, 2, 3],
  [4, 2, 3, 3, 3, 4],
  [5, 3, 3, 3, 3, 5],
  [6, 3, 4, 4, 4, 6],
] as const;

describe("quorums (§2)", () => {
  it.each(table)("R=%i", (r, replication, viewChange, nackPrepare, majority, upgrade) => {
    expect(quorums(r)).toEqual({ replication, viewChange, nackPrepare, majority, upgrade });
  });

  it.each(table.map((row) => row[0]))("R=%i has the three required properties", (r) => {
    const q = quorums(r);
    expect(q.viewChange + q.replication).toBeGreaterThan(r);
    expect(q.nackPrepare + q.replication).toBeGreaterThan(r);
    expect(q.viewChange).toBeGreaterThanOrEqual(Math.floor(r / 2) + 1);
  });

  it("caps the replication quorum at 3 (flexible Paxos)", () => {
    for (let r = 1; r <= 6; r++) expect(quorums(r).replication).toBeLessThanOrEqual(3);
  });

  it.each([0, 7, 2.5, -1])("rejects replicaCount=%s", (r) => {
    expect(() => quorums(r)).toThrow(AssertionError);
  });
});

describe("primaryIndex (§2)", () => {
  it.each([
    [0, 1, 0], [5, 1, 0], [0, 3, 0], [1, 3, 1], [2, 3, 2], [3, 3, 0], [7, 3, 1],
    [10, 6, 4], [0xffff_ffff, 6, 3], [4, 2, 0], [5, 2, 1],
  ])("view %i, R=%i → replica %i", (view, r, primary) => {
    expect(primaryIndex(view, r)).toBe(primary);
  });

  it("rotates through every replica", () => {
    for (let r = 1; r <= 6; r++) {
      const primaries = new Set(Array.from({ length: r }, (_, view) => primaryIndex(view, r)));
      expect(primaries.size).toBe(r);
    }
  });

  it.each([[-1, 3], [1.5, 3], [2 ** 32, 3], [1, 0], [1, 7]])("rejects view %s, R=%s",
    (view, r) => {
      expect(() => primaryIndex(view, r)).toThrow(AssertionError);
    });
});
