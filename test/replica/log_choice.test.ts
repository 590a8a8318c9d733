import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { testConfig } from "../../src/core/config.js";
import {
  chooseLog, type JoinView, type JoinViewHeader, type LogChoice,
} from "../../src/replica/log_choice.js";

const pipeline = testConfig.pipelinePrepareQueueMax; // 4

/**
 * A hash-chained log: `views[op]` is the view that prepared op. A checksum covers op, view and
 * parent, so logs that diverged at some op differ from there on.
 */
function log(views: readonly number[], commit = 3): JoinViewHeader[] {
  const headers: JoinViewHeader[] = [];
  let parent = 0n;
  views.forEach((view, op) => {
    const checksum = (BigInt(op) << 48n) | (BigInt(view) << 32n) | (parent & 0xffff_ffffn);
    headers.push({ op, checksum: checksum ^ 0x5bd1_e995n, parent, view, commit });
    parent = checksum ^ 0x5bd1_e995n;
  });
  return headers;
}

interface JvOptions {
  readonly head: number;
  readonly tail?: number;
  readonly commitMin?: number;
  /** Ops whose slot is faulty: blank, not present, never nacked. */
  readonly faulty?: readonly number[];
  /** Ops the replica is certain it never prepared: blank and nacked. */
  readonly nacked?: readonly number[];
  /** Ops whose header is known but whose body is not. */
  readonly absent?: readonly number[];
}

/** The JV of `replica` from its log `headers` (ops ascending). */
function jv(replica: number, logView: number, headers: readonly JoinViewHeader[],
  options: JvOptions): JoinView {
  const { head, tail = 3, commitMin = 3, faulty = [], nacked = [], absent = [] } = options;
  const suffix: (JoinViewHeader | null)[] = [];
  let present = 0n;
  let nack = 0n;
  for (let op = head; op >= tail; op--) {
    const i = head - op;
    const blank = faulty.includes(op) || nacked.includes(op);
    suffix.push(blank ? null : headers[op]!);
    if (!blank && !absent.includes(op)) present |= 1n << BigInt(i);
    if (nacked.includes(op)) nack |= 1n << BigInt(i);
  }
  return { replica, log_view: logView, op: head, commit_min: commitMin, checkpoint_op: 0,
    headers: suffix, present_bitset: present, nack_bitset: nack };
}

function choose(replicaCount: number, jvs: JoinView[]): LogChoice {
  return chooseLog({ replicaCount, pipelinePrepareQueueMax: pipeline, jvs });
}

function complete(headers: readonly JoinViewHeader[], commitMax: number, headOp: number) {
  return { kind: "complete", commitMax, headOp, headers: headers.slice(commitMax + 1, headOp + 1) };
}

// Ops 0..7 prepared in view 1.
const view1 = log([0, 1, 1, 1, 1, 1, 1, 1]);

describe("log choice (§6.3): agreement", () => {
  it("keeps the whole canonical suffix above commit_max when everyone has it", () => {
    const jvs = [jv(0, 1, view1, { head: 6 }), jv(1, 1, view1, { head: 6 })];
    const result = choose(3, jvs);
    expect(result).toEqual(complete(view1, 3, 6));
    if (result.kind !== "complete") return;
    expect(result.headers.map((h) => h.op)).toEqual([4, 5, 6]);
    // The survivors form a hash chain.
    expect(result.headers[1]!.parent).toBe(result.headers[0]!.checksum);
  });

  it("is complete with no headers when nothing is uncommitted", () => {
    const jvs = [jv(0, 1, view1, { head: 3 }), jv(1, 1, view1, { head: 3 })];
    expect(choose(3, jvs)).toEqual({ kind: "complete", commitMax: 3, headOp: 3, headers: [] });
  });
});

describe("log choice (§6.3): commit_max is the maximum of", () => {
  it.each<[string, JvOptions, number, number?]>([
    ["op − pipeline_max", { head: 8 }, 4],
    ["the suffix tail", { head: 8, tail: 5 }, 5],
    ["commit_min", { head: 8, commitMin: 6 }, 6],
    ["the head's commit", { head: 8 }, 7, 7],
  ])("%s", (_, options, commitMax, headCommit = 3) => {
    const headers = log([0, 1, 1, 1, 1, 1, 1, 1, 1], 3);
    headers[8] = { ...headers[8]!, commit: headCommit };
    const jvs = [jv(0, 1, headers, options), jv(1, 1, headers, { head: 8 })];
    expect(choose(3, jvs)).toEqual(complete(headers, commitMax, 8));
  });
});

describe("log choice (§6.3): truncation needs a nack quorum", () => {
  // R = 3: replication quorum 2, nack quorum 2.
  it("keeps an op with one nack (it may have reached a replication quorum)", () => {
    const jvs = [jv(0, 1, view1, { head: 6 }), jv(1, 1, view1, { head: 5 })];
    expect(choose(3, jvs)).toEqual(complete(view1, 3, 6));
  });

  it("truncates an op, and everything after it, on a nack quorum", () => {
    const jvs = [jv(0, 1, view1, { head: 6 }), jv(1, 1, view1, { head: 5 }),
      jv(2, 1, view1, { head: 5 })];
    expect(choose(3, jvs)).toEqual(complete(view1, 3, 5));
  });

  it("an explicit nack counts even when another replica has a copy", () => {
    const jvs = [jv(0, 1, view1, { head: 6 }), jv(1, 1, view1, { head: 6, nacked: [5] }),
      jv(2, 1, view1, { head: 4 })];
    expect(choose(3, jvs)).toEqual(complete(view1, 3, 4));
  });

  it("a faulty slot is never a nack, so it prevents truncation", () => {
    // Replica 1 jumped its head over op 5. Whether it nacks op 5 (it knows it never prepared it)
    // or its slot is faulty (it may hold op 5) decides between truncating and keeping op 5.
    const faulty = [jv(0, 1, view1, { head: 6 }), jv(1, 1, view1, { head: 6, faulty: [5] }),
      jv(2, 1, view1, { head: 4 })];
    expect(choose(3, faulty)).toEqual(complete(view1, 3, 6));
    const nacked = [jv(0, 1, view1, { head: 6 }), jv(1, 1, view1, { head: 6, nacked: [5] }),
      jv(2, 1, view1, { head: 4 })];
    expect(choose(3, nacked)).toEqual(complete(view1, 3, 4));
  });

  it("R = 2 truncates on a single nack", () => {
    const jvs = [jv(0, 1, view1, { head: 6 }), jv(1, 1, view1, { head: 5 })];
    expect(choose(2, jvs)).toEqual(complete(view1, 3, 5));
  });
});

describe("log choice (§6.3): the canonical log has the highest log_view", () => {
  // View 2 truncated ops 4..7 of view 1 and prepared new ops 4 and 5.
  const view2 = log([0, 1, 1, 1, 2, 2]);

  it("beats a longer log with an older log_view (not the highest op)", () => {
    const jvs = [jv(1, 2, view2, { head: 5 }), jv(2, 1, view1, { head: 7 })];
    const result = choose(3, jvs);
    // Choosing by highest op would install view 1's ops 4..7 and lose ops that view 2 may
    // have committed.
    expect(result).toEqual(complete(view2, 3, 5));
    if (result.kind !== "complete") return;
    expect(result.headers.map((h) => h.view)).toEqual([2, 2]);
  });

  it("counts a different header in an older log_view as a nack", () => {
    const jvs = [jv(0, 2, view2, { head: 5 }), jv(1, 1, view1, { head: 7 }),
      jv(2, 1, view1, { head: 7 })];
    // Two replicas hold view 1's op 4: view 2's op 4 never reached a replication quorum.
    expect(choose(3, jvs)).toEqual(complete(view2, 3, 3));
  });

  it("counts a header that the canonical log view truncated as a nack", () => {
    // Replica 0 (view 2) lost op 5 (faulty) but has op 6; replicas 1 and 2 hold view 1's op 5.
    const lost = log([0, 1, 1, 1, 1, 2, 2]);
    const two = [jv(0, 2, lost, { head: 6, faulty: [5] }), jv(1, 1, view1, { head: 5 })];
    expect(choose(3, two)).toEqual({ kind: "awaiting_repair", op: 5 });
    const three = [...two, jv(2, 1, view1, { head: 5 })];
    expect(choose(3, three)).toEqual(complete(lost, 3, 4));
  });
});

describe("log choice (§6.3): no copy of an op", () => {
  it("awaits repair while some replica has not answered", () => {
    const jvs = [0, 1].map((r) => jv(r, 1, view1, { head: 6, absent: [6] }));
    expect(choose(3, jvs)).toEqual({ kind: "awaiting_repair", op: 6 });
  });

  it("awaits repair when no canonical JV knows the header", () => {
    const jvs = [jv(0, 1, view1, { head: 6, faulty: [5] }),
      jv(1, 1, view1, { head: 6, faulty: [5] })];
    expect(choose(3, jvs)).toEqual({ kind: "awaiting_repair", op: 5 });
  });

  it("is complete_invalid once all R replicas answered", () => {
    const jvs = [0, 1, 2].map((r) => jv(r, 1, view1, { head: 6, absent: [6] }));
    expect(choose(3, jvs)).toEqual({ kind: "complete_invalid", op: 6 });
  });
});

describe("log choice: assertions", () => {
  it("needs a view-change quorum of distinct replicas", () => {
    expect(() => choose(3, [jv(0, 1, view1, { head: 6 })])).toThrow(AssertionError);
    expect(() => choose(3, [jv(0, 1, view1, { head: 6 }), jv(0, 1, view1, { head: 6 })]))
      .toThrow(AssertionError);
  });

  it("rejects a blank head and canonical JVs that disagree", () => {
    expect(() => choose(3, [jv(0, 1, view1, { head: 6, faulty: [6] }),
      jv(1, 1, view1, { head: 6 })])).toThrow(AssertionError);
    const other = log([0, 1, 1, 1, 1, 1, 1], 3).map((h) => ({ ...h, checksum: h.checksum + 1n }));
    expect(() => choose(3, [jv(0, 1, view1, { head: 6 }), jv(1, 1, other, { head: 6 })]))
      .toThrow(AssertionError);
  });
});
