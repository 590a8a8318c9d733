import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { countVotes, pipelineCommit, primaryIndex, quorums } from "../../src/replica/quorums.js";

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

describe("countVotes", () => {
  it.each([
    [0, 0], [0b1, 1], [0b101, 2], [0b111111, 6], [0x8000_0000, 1], [0xffff_ffff, 32],
  ])("bitset %i has %i votes", (bits, count) => {
    expect(countVotes(bits)).toBe(count);
  });

  it.each([-1, 1.5, 2 ** 32])("rejects %s", (bits) => {
    expect(() => countVotes(bits)).toThrow(AssertionError);
  });
});

// The primary commits the longest prefix of its pipeline (above commit_max) that a replication
// quorum holds (§5.4): a later op with a quorum never commits past an earlier one without.
describe("pipelineCommit (§5.4)", () => {
  const ops = (first: number, ...okFrom: number[]) => okFrom.map((bits, i) => ({ op: first + i, okFrom: bits }));
  it.each([
    // name, pipeline, commitMax, quorum, expected
    ["empty pipeline", ops(5), 4, 2, 4],
    ["first op lacks its quorum", ops(5, 0b001, 0b111), 4, 2, 4],
    ["first op has its quorum", ops(5, 0b011, 0b001), 4, 2, 5],
    ["a whole prefix commits", ops(5, 0b011, 0b110, 0b101), 4, 2, 7],
    ["a gap in quorums stops the prefix", ops(5, 0b111, 0b001, 0b111), 4, 2, 5],
    ["entries at or below commit_max are skipped", ops(3, 0b001, 0b001, 0b011), 4, 2, 5],
    ["solo: its own ack is a quorum", ops(1, 0b1, 0b1), 0, 1, 2],
    ["R=6 needs 3 acks", ops(9, 0b000111, 0b100011, 0b000011), 8, 3, 10],
  ] as const)("%s", (_name, pipeline, commitMax, quorum, expected) => {
    expect(pipelineCommit(pipeline, commitMax, quorum)).toBe(expected);
  });

  it("rejects a pipeline with a gap in its ops", () => {
    expect(() => pipelineCommit([{ op: 5, okFrom: 3 }, { op: 7, okFrom: 3 }], 4, 2)).toThrow(AssertionError);
  });

  it("rejects a quorum of zero", () => {
    expect(() => pipelineCommit(ops(5, 0b1), 4, 0)).toThrow(AssertionError);
  });
});
