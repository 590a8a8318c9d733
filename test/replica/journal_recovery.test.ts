import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { testConfig } from "../../src/core/config.js";
import {
  classifyTornSlots, recoveryCase, recoveryCases, recoveryCasesMatching, recoveryConditionNames,
  recoveryDecision, type OpRelation, type RecoveryCaseLabel, type RecoveryConditions,
  type RecoveryDecision, type RecoveryInputs, type TornSlotSummary,
} from "../../src/replica/journal/recovery_table.js";

/** Conditions from an 11-bit number, bit i = recoveryConditionNames[i]. */
function conditionsOf(bits: number): RecoveryConditions {
  const entries = recoveryConditionNames.map((name, i) => [name, ((bits >> i) & 1) === 1]);
  return Object.fromEntries(entries) as unknown as RecoveryConditions;
}

function outcome(conditions: RecoveryConditions): RecoveryCaseLabel | "assertion" {
  try {
    return recoveryCase(conditions).label;
  } catch (error) {
    expect(error).toBeInstanceOf(AssertionError);
    return "assertion";
  }
}

describe("WAL recovery table (§11.3): all 2^11 combinations", () => {
  // The eleven conditions are h, hr, p, pr, pmax, p>, h>, =c, op=, op<, =v; the op relation is
  // the two booleans op= and op< (op= ∧ op< is a contradiction). R is not a condition: it picks
  // the decision column of the case.
  const combinations = Array.from({ length: 2 ** 11 }, (_, bits) => conditionsOf(bits));

  it("has eleven conditions", () => {
    expect(recoveryConditionNames).toHaveLength(11);
    expect(combinations).toHaveLength(2048);
  });

  it("every combination hits exactly one case", () => {
    const misses = combinations.filter((c) => recoveryCasesMatching(c).length !== 1);
    expect(misses).toEqual([]);
  });

  it("partitions the 2048 combinations among the 16 cases", () => {
    const hits = new Map<string, number>();
    for (const c of combinations) {
      const label = recoveryCasesMatching(c)[0]!.label;
      hits.set(label, (hits.get(label) ?? 0) + 1);
    }
    // Each case matches 2^(its ignored and asserted columns) combinations.
    const expected = Object.fromEntries(recoveryCases.map((c) =>
      [c.label, 2 ** c.pattern.filter((m) => m === "·" || m === "a0" || m === "a1").length]));
    expect(Object.fromEntries(hits)).toEqual(expected);
    expect([...hits.values()].reduce((a, b) => a + b)).toBe(2048);
  });

  it("a combination the hit case asserts against is a contradiction, never a decision", () => {
    let contradictions = 0;
    for (const c of combinations) {
      const hit = recoveryCasesMatching(c)[0]!;
      const contradicts = hit.pattern.some((m, i) =>
        (m === "a0" && c[recoveryConditionNames[i]!]) ||
        (m === "a1" && !c[recoveryConditionNames[i]!]));
      expect(outcome(c)).toBe(contradicts ? "assertion" : hit.label);
      if (contradicts) contradictions += 1;
    }
    // Documented contradictions: an invalid prepare or header compared with op_prepare_max (A,
    // B, C, D, E, F); header.op < prepare.op although header.op > op_prepare_max (I, J); two
    // reserved headers that differ (L); equal ops that are also less (O, P); equal ops in one
    // view with different checksums, a fork (O); equal checksums with different ops or views (P).
    // Per case, 2^(ignored + asserted) − 2^ignored: A 512−128, B/C/D 256−128 each, E/F 64−32
    // each, I 32−16, J 64−32, L 128−8, O 8−2, P 16−2; G, H, K, M, N assert nothing.
    expect(contradictions).toBe(384 + 3 * 128 + 2 * 32 + 16 + 32 + 120 + 6 + 14);
  });

  it("op= ∧ op< (impossible) is rejected wherever the op relation matters", () => {
    for (const c of combinations.filter((c) => c.opEqual && c.opLess)) {
      const hit = recoveryCasesMatching(c)[0]!.label;
      if (["I", "J", "L", "M", "N", "O", "P"].includes(hit)) expect(outcome(c)).toBe("assertion");
    }
  });
});

const base: RecoveryInputs = {
  h: true, hr: false, p: true, pr: false, pmax: false, pGreater: false, hGreater: false,
  checksumsEqual: true, opRelation: "eq", viewsEqual: true, soloReplica: false,
};

type Expected = RecoveryDecision | "unreachable" | "assertion";

function decide(inputs: RecoveryInputs): string {
  try {
    const result = recoveryDecision(inputs);
    return `${result.case}:${result.decision}`;
  } catch (error) {
    expect(error).toBeInstanceOf(AssertionError);
    return (error as Error).message.includes("unreachable") ? "unreachable" : "assertion";
  }
}

describe("recoveryDecision: one story per case", () => {
  it.each<[string, RecoveryCaseLabel | null, Partial<RecoveryInputs>, Expected, Expected]>([
    ["nothing valid", "A", { h: false, p: false }, "vsr", "vsr"],
    ["reserved header, corrupt prepare", "B", { hr: true, p: false }, "vsr", "vsr"],
    ["header, corrupt prepare (torn write?)", "C", { p: false }, "vsr", "vsr"],
    ["corrupt header, reserved prepare", "D", { h: false, pr: true }, "vsr", "fix"],
    ["corrupt header, prepare below the max", "E", { h: false }, "vsr", "fix"],
    ["corrupt header, the maximum prepare", "F", { h: false, pmax: true }, "fix", "fix"],
    ["reserved header, valid prepare", "G", { hr: true }, "fix", "fix"],
    ["prepare beyond op_prepare_max", "H", { pGreater: true, opRelation: "lt" }, "cut",
      "unreachable"],
    ["header beyond op_prepare_max", "I", { hGreater: true, checksumsEqual: false,
      opRelation: "gt" }, "cut", "unreachable"],
    ["header beyond op_prepare_max, reserved prepare", "J", { pr: true, hGreater: true,
      checksumsEqual: false, opRelation: "gt" }, "cut", "unreachable"],
    ["header, reserved prepare (lost prepare write)", "K", { pr: true, checksumsEqual: false,
      opRelation: "gt" }, "vsr", "vsr"],
    ["both reserved", "L", { hr: true, pr: true }, "nil", "nil"],
    ["log wrapped, header write lost", "M", { checksumsEqual: false, opRelation: "lt" }, "fix",
      "fix"],
    ["header has the higher op", "N", { checksumsEqual: false, opRelation: "gt" }, "vsr", "vsr"],
    ["same op, different views", "O", { checksumsEqual: false, viewsEqual: false }, "vsr", "vsr"],
    ["intact", "P", {}, "eql", "eql"],
    ["contradiction: reserved pair with different checksums", null, { hr: true, pr: true,
      checksumsEqual: false }, "assertion", "assertion"],
    ["contradiction: equal checksums, different ops", null, { opRelation: "lt" }, "assertion",
      "assertion"],
    ["contradiction: one op and view, two checksums (a fork)", null, { checksumsEqual: false },
      "assertion", "assertion"],
    ["contradiction: invalid prepare beyond op_prepare_max", null, { h: false, p: false,
      pGreater: true }, "assertion", "assertion"],
    ["contradiction: header beyond op_prepare_max below the prepare", null, { hGreater: true,
      checksumsEqual: false, opRelation: "lt" }, "assertion", "assertion"],
  ])("%s", (_, label, overrides, cluster, solo) => {
    const inputs = { ...base, ...overrides };
    const expected = (decision: Expected): string =>
      decision === "assertion" || decision === "unreachable" ? decision : `${label}:${decision}`;
    expect(decide({ ...inputs, soloReplica: false })).toBe(expected(cluster));
    expect(decide({ ...inputs, soloReplica: true })).toBe(expected(solo));
  });
});

describe("recoveryDecision: all 2^9 · 3 · 2 caller inputs", () => {
  // The caller's op relation is three-valued, so op= ∧ op< cannot be expressed; with R as an
  // input this is 3072 combinations, each consistent with the boolean table.
  it("agrees with the boolean table, and H/I/J are unreachable solo", () => {
    const relations: OpRelation[] = ["lt", "eq", "gt"];
    const tally = new Map<string, number>();
    for (let bits = 0; bits < 2 ** 9; bits++) {
      for (const opRelation of relations) {
        for (const soloReplica of [false, true]) {
          const flag = (i: number): boolean => ((bits >> i) & 1) === 1;
          const inputs: RecoveryInputs = {
            h: flag(0), hr: flag(1), p: flag(2), pr: flag(3), pmax: flag(4), pGreater: flag(5),
            hGreater: flag(6), checksumsEqual: flag(7), viewsEqual: flag(8), opRelation,
            soloReplica,
          };
          const got = decide(inputs);
          const hit = recoveryCasesMatching({ ...inputs, opEqual: opRelation === "eq",
            opLess: opRelation === "lt" })[0]!;
          if (got === "unreachable") {
            expect(soloReplica && ["H", "I", "J"].includes(hit.label)).toBe(true);
          } else if (got !== "assertion") {
            const decision = soloReplica ? hit.decisionSolo : hit.decisionCluster;
            expect(got).toBe(`${hit.label}:${decision}`);
          }
          const key = got.includes(":") ? "decided" : got;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
      }
    }
    // 1536 (op, other) combinations; valid per case, counting the op values each case allows:
    // A/B/C/D 96, E/F 24, G 48, H 192, I 16, J 32, K 48, L 8, M/N 4, O/P 2 = 788. Solo, the 240
    // valid H/I/J inputs are unreachable.
    const valid = 4 * 96 + 2 * 24 + 48 + 192 + 16 + 32 + 48 + 8 + 2 * 4 + 2 * 2;
    expect(Object.fromEntries(tally)).toEqual({
      decided: 2 * valid - 240, assertion: 2 * (1536 - valid), unreachable: 192 + 16 + 32,
    });
  });
});

// §11.4, in the simulator's geometry: 32 slots, checkpoint 19, op_prepare_max 51, 2 write IOPs.
const slotCount = testConfig.journalSlotCount;
const opCheckpoint = 19;
const opPrepareMax = 51;

/** A clean journal whose head is `opMax`: each slot holds its latest op ≤ opMax, or is empty. */
function journal(opMax: number): TornSlotSummary[] {
  return Array.from({ length: slotCount }, (_, slot) => {
    const op = slot + slotCount * Math.floor((opMax - slot) / slotCount);
    if (op < 0) {
      return { decision: "nil", headerValid: true, headerReserved: true, headerOp: null,
        prepareChecksumValid: true };
    }
    return { decision: "eql", headerValid: true, headerReserved: false, headerOp: op,
      prepareChecksumValid: true };
  });
}

/** The append of `op` was torn: the prepare is garbage under the previous wrap's header. */
function torn(slots: TornSlotSummary[], op: number): void {
  slots[op % slotCount] = { ...slots[op % slotCount]!, decision: "vsr",
    prepareChecksumValid: false };
}

function classify(opMax: number, slots: TornSlotSummary[], iopsWriteMax = 2) {
  return classifyTornSlots({ opCheckpoint, opMax, opPrepareMax, iopsWriteMax, slots });
}

describe("torn writes versus corruption (§11.4)", () => {
  it("a clean journal has a certain head and nothing to truncate", () => {
    expect(classify(40, journal(40))).toEqual({ kind: "truncate", torn: [] });
  });

  it("truncates a torn append right after op_max", () => {
    const slots = journal(40);
    torn(slots, 41);
    expect(classify(40, slots)).toEqual({ kind: "truncate", torn: [{ slot: 9, op: 41 }] });
  });

  it("accepts as many torn slots as writes may be in flight, and no more", () => {
    const slots = journal(40);
    torn(slots, 41);
    torn(slots, 43);
    expect(classify(40, slots)).toEqual({ kind: "truncate",
      torn: [{ slot: 9, op: 41 }, { slot: 11, op: 43 }] });
    torn(slots, 44);
    expect(classify(40, slots)).toEqual({ kind: "recovering_head", reason: "torn_over_limit",
      slot: 12 });
    expect(classify(40, slots, 3).kind).toBe("truncate");
  });

  it.each<[string, Partial<TornSlotSummary>]>([
    ["a corrupt redundant header", { headerValid: false, headerOp: null }],
    ["a prepare with a valid checksum (misdirected)", { prepareChecksumValid: true }],
  ])("any other fault after op_max makes the head uncertain: %s", (_, fault) => {
    const slots = journal(40);
    torn(slots, 41);
    slots[9] = { ...slots[9]!, ...fault };
    expect(classify(40, slots)).toEqual({ kind: "recovering_head", reason: "fault_not_torn",
      slot: 9 });
  });

  it("ignores faults at or below op_max: they are repaired, the head stays certain", () => {
    const slots = journal(40);
    slots[35 % slotCount] = { ...slots[35 % slotCount]!, decision: "vsr",
      headerValid: false, headerOp: null };
    expect(classify(40, slots)).toEqual({ kind: "truncate", torn: [] });
  });

  it("never wraps onto op_max's own slot when op_max is the checkpoint", () => {
    // op_prepare_max − op_checkpoint = 32 slots: op 51 would be slot 19, which holds op 19.
    const slots = journal(19);
    slots[19] = { ...slots[19]!, decision: "vsr", prepareChecksumValid: false };
    expect(classify(19, slots)).toEqual({ kind: "truncate", torn: [] });
  });

  it("a torn append in the first wrap (reserved header, torn prepare) is truncated", () => {
    // Deliberate departure from "not reserved" (see tornWrite): a solo replica must survive it.
    const slots = journal(19);
    slots[20] = { ...slots[20]!, decision: "vsr", headerReserved: true, headerOp: null, prepareChecksumValid: false };
    expect(classify(19, slots)).toEqual({ kind: "truncate", torn: [{ slot: 20, op: 20 }] });
  });

  it("a head below the checkpoint is uncertain", () => {
    expect(classify(15, journal(15))).toEqual({ kind: "recovering_head",
      reason: "op_max_below_checkpoint", slot: null });
  });

  it("looks at nothing when op_max reached op_prepare_max", () => {
    const slots = journal(51);
    torn(slots, 40);
    expect(classify(51, slots)).toEqual({ kind: "truncate", torn: [] });
  });

  it("asserts op_max is the maximum of the valid headers", () => {
    const slots = journal(40);
    slots[10] = { ...slots[10]!, headerOp: 42 };
    expect(() => classify(40, slots)).toThrow(AssertionError);
  });
});
