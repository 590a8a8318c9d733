import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import {
  superblockOpen, vsrStateMonotonic, type SuperblockCopy,
} from "../../src/replica/superblock/quorum.js";

/** Sequence n of a hash chain: its checksum is 1000 + n and its parent is sequence n − 1. */
function sb(sequence: number, overrides: Partial<SuperblockCopy> = {}): SuperblockCopy {
  return {
    checksum: 1000n + BigInt(sequence), sequence, parent: 1000n + BigInt(sequence - 1), copy: 0,
    view: sequence, log_view: sequence, commit_max: 10 * sequence, checkpoint_op: 0,
    ...overrides,
  };
}

/** The working header: the copy index is per slot, not part of the superblock. */
function working(header: SuperblockCopy): Omit<SuperblockCopy, "copy"> {
  const { copy: _copy, ...rest } = header;
  return rest;
}

/** `header` as read from a slot, carrying copy index `copy`. */
function at(header: SuperblockCopy, copy: number): SuperblockCopy {
  return { ...header, copy };
}

/** The four home copies of `header`, with some slots replaced. */
function four(header: SuperblockCopy, replace: Record<number, SuperblockCopy | null> = {}) {
  return [0, 1, 2, 3].map((slot) => (slot in replace ? replace[slot]! : at(header, slot)));
}

describe("superblock open (§10)", () => {
  const s5 = sb(5);
  const s6 = sb(6);

  it("opens four intact copies without repairs", () => {
    expect(superblockOpen(four(s5))).toEqual({ kind: "working", header: working(s5), copies: 4,
      repairs: [] });
  });

  it("opens with one or two unreadable copies and rewrites them", () => {
    expect(superblockOpen(four(s5, { 2: null }))).toMatchObject({ kind: "working", copies: 3,
      repairs: [2] });
    expect(superblockOpen(four(s5, { 0: null, 3: null }))).toMatchObject({ kind: "working",
      copies: 2, repairs: [0, 3] });
  });

  it.each<[string, (SuperblockCopy | null)[], string]>([
    ["NotFound: nothing readable", [null, null, null, null], "NotFound"],
    ["QuorumLost: one readable copy", [at(s5, 0), null, null, null], "QuorumLost"],
    ["QuorumLost: four different sequences", [at(sb(2), 0), at(sb(3), 1), at(sb(4), 2),
      at(sb(5), 3)], "QuorumLost"],
    ["Fork: two quorums at one sequence", [at(s5, 0), at(s5, 1),
      at(sb(5, { checksum: 99n }), 2), at(sb(5, { checksum: 99n }), 3)], "Fork"],
    ["Fork: a lone copy at the working sequence", [at(s5, 0), at(s5, 1), at(s5, 2),
      at(sb(5, { checksum: 99n }), 3)], "Fork"],
    ["ParentSkipped: (2,2,2,4)", [at(sb(2), 0), at(sb(2), 1), at(sb(2), 2), at(sb(4), 3)],
      "ParentSkipped"],
    ["ParentNotConnected: the previous sequence is not the parent", [at(s6, 0), at(s6, 1),
      at(sb(5, { checksum: 77n }), 2), at(sb(5, { checksum: 77n }), 3)], "ParentNotConnected"],
    ["VSRStateNotMonotonic: the view went backwards", [at(s6, 0), at(s6, 1),
      at(sb(5, { view: 9 }), 2), at(sb(5, { view: 9 }), 3)], "VSRStateNotMonotonic"],
  ])("%s", (_, copies, error) => {
    expect(superblockOpen(copies)).toEqual({ kind: "error", error });
  });

  it("opens the newest quorum when its parent quorum is connected", () => {
    expect(superblockOpen([at(s6, 0), at(s6, 1), at(s5, 2), at(s5, 3)]))
      .toEqual({ kind: "working", header: working(s6), copies: 2, repairs: [2, 3] });
  });

  it("ignores an ancestor older than the parent", () => {
    expect(superblockOpen([at(sb(7), 0), at(sb(7), 1), at(s5, 2), at(s5, 3)]))
      .toMatchObject({ kind: "working", header: working(sb(7)) });
  });

  it("ignores a newer copy that never reached a quorum (crash mid-write)", () => {
    // The write of sequence 6 reached copy 0 only and was never verified (3 of 4).
    expect(superblockOpen([at(s6, 0), at(s5, 1), at(s5, 2), at(sb(4), 3)]))
      .toEqual({ kind: "working", header: working(s5), copies: 2, repairs: [0, 3] });
  });

  it("a misdirected read cannot change the outcome: picking only the newest copy would", () => {
    // On disk: the sole copy of sequence 6 in slot 0, after a crash mid-write. Reading slot 0
    // correctly, "newest copy wins" would open 6; on the next boot a misdirected read of slot 0
    // (returning slot 1) hides it and the state would go back to 5. The quorum opens 5 both times.
    const correct = [at(s6, 0), at(s5, 1), at(s5, 2), at(s5, 3)];
    const misdirected = [at(s5, 1), at(s5, 1), at(s5, 2), at(s5, 3)];
    expect(superblockOpen(correct))
      .toEqual({ kind: "working", header: working(s5), copies: 3, repairs: [0] });
    expect(superblockOpen(misdirected))
      .toEqual({ kind: "working", header: working(s5), copies: 3, repairs: [1, 0] });
  });

  it("counts a copy read twice (misdirected) once", () => {
    expect(superblockOpen([at(s5, 0), at(s5, 0), null, null]))
      .toEqual({ kind: "error", error: "QuorumLost" });
  });

  it("repairs empty slots first, then the misdirected duplicate", () => {
    // Slot 0 returned copy 1; slot 1 holds copy 1 as well; slot 2 is unreadable.
    expect(superblockOpen([at(s5, 1), at(s5, 1), null, at(s5, 3)]))
      .toEqual({ kind: "working", header: working(at(s5, 1)), copies: 2, repairs: [2, 1, 0] });
  });

  it("leaves swapped copies alone: every copy is on disk", () => {
    expect(superblockOpen([at(s5, 1), at(s5, 0), at(s5, 2), at(s5, 3)]))
      .toMatchObject({ kind: "working", copies: 4, repairs: [] });
  });

  it("trusts a copy with a corrupt (unchecksummed) copy index as its own slot's copy", () => {
    expect(superblockOpen([at(s5, 7), at(s5, 1), null, null]))
      .toMatchObject({ kind: "working", copies: 2, repairs: [2, 3] });
  });

  it("asserts four copies and equal contents under one checksum", () => {
    expect(() => superblockOpen([at(s5, 0)])).toThrow(AssertionError);
    expect(() => superblockOpen([at(s5, 0), at(sb(5, { view: 1 }), 1), null, null]))
      .toThrow(AssertionError);
  });
});

describe("vsrStateMonotonic", () => {
  const previous = sb(5);
  it.each<[string, Partial<SuperblockCopy>, boolean]>([
    ["equal", {}, true],
    ["everything advances", { view: 6, log_view: 6, commit_max: 60, checkpoint_op: 19 }, true],
    ["view backwards", { view: 4 }, false],
    ["log_view backwards", { log_view: 4 }, false],
    ["commit_max backwards", { commit_max: 49 }, false],
    ["checkpoint backwards", { checkpoint_op: -1 }, false],
  ])("%s", (_, next, monotonic) => {
    expect(vsrStateMonotonic(previous, sb(6, { ...previous, ...next }))).toBe(monotonic);
  });
});
