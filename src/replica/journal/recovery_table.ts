// WAL recovery decisions (spec/vsr.md §11.3–11.4), as pure functions over what was read from a
// slot's redundant header and prepare. The journal reads the slots; these functions decide.
import { AssertionError, assert, assertFailed } from "../../core/assert.js";

export type RecoveryCaseLabel =
  | "A" | "B" | "C" | "D" | "E" | "F" | "G" | "H"
  | "I" | "J" | "K" | "L" | "M" | "N" | "O" | "P";

/**
 * eql: the slot is intact. nil: a legitimately empty (reserved) slot. fix: rewrite the redundant
 * header from the intact prepare. vsr: dirty and faulty, repair from peers (fatal WALCorrupt when
 * solo). cut: beyond op_prepare_max, truncate so the checkpoint can be replayed.
 */
export type RecoveryDecision = "eql" | "nil" | "fix" | "vsr" | "cut";

/**
 * The eleven conditions of the §11.3 table. The op relation is two booleans, `opEqual`
 * (header.op == prepare.op) and `opLess` (header.op < prepare.op), which is what makes the table
 * 2^11 combinations; `opEqual && opLess` is a contradiction that the cases which look at the op
 * relation reject by assertion.
 */
export interface RecoveryConditions {
  /** The redundant header is valid (checksum, cluster, slot, command = prepare). */
  readonly h: boolean;
  /** The redundant header is reserved. */
  readonly hr: boolean;
  /** The prepare is valid. */
  readonly p: boolean;
  /** The prepare is reserved. */
  readonly pr: boolean;
  /** prepare.op is the maximum prepare op in the WAL. */
  readonly pmax: boolean;
  /** prepare.op > op_prepare_max. */
  readonly pGreater: boolean;
  /** header.op > op_prepare_max. */
  readonly hGreater: boolean;
  readonly checksumsEqual: boolean;
  readonly opEqual: boolean;
  readonly opLess: boolean;
  readonly viewsEqual: boolean;
}

export type OpRelation = "lt" | "eq" | "gt";

/** The inputs as a caller has them: the op relation as one three-valued comparison. */
export interface RecoveryInputs {
  readonly h: boolean;
  readonly hr: boolean;
  readonly p: boolean;
  readonly pr: boolean;
  readonly pmax: boolean;
  readonly pGreater: boolean;
  readonly hGreater: boolean;
  readonly checksumsEqual: boolean;
  /** header.op compared with prepare.op. */
  readonly opRelation: OpRelation;
  readonly viewsEqual: boolean;
  /** R = 1: a solo replica has no peers to repair from. */
  readonly soloReplica: boolean;
}

/** "·" ignored; "0"/"1" must match; "a0"/"a1" asserted: a mismatch is a bug, not a case. */
export type Matcher = "·" | "0" | "1" | "a0" | "a1";

export interface RecoveryCase {
  readonly label: RecoveryCaseLabel;
  /** The decision when R > 1. */
  readonly decisionCluster: RecoveryDecision;
  /** The decision when R = 1; "unreachable" where a solo replica cannot get there. */
  readonly decisionSolo: RecoveryDecision | "unreachable";
  /** One matcher per condition, in `recoveryConditionNames` order. */
  readonly pattern: readonly Matcher[];
}

export const recoveryConditionNames = [
  "h", "hr", "p", "pr", "pmax", "pGreater", "hGreater", "checksumsEqual", "opEqual", "opLess",
  "viewsEqual",
] as const satisfies readonly (keyof RecoveryConditions)[];

function row(label: RecoveryCaseLabel, decisionCluster: RecoveryDecision,
  decisionSolo: RecoveryDecision | "unreachable", pattern: string): RecoveryCase {
  const matchers = pattern.trim().split(/\s+/) as Matcher[];
  if (matchers.length !== recoveryConditionNames.length) assertFailed(`case ${label}: bad pattern`);
  return { label, decisionCluster, decisionSolo, pattern: matchers };
}

/**
 * The §11.3 table. Where the spec writes the op relation as "equal" or "(equal)" the pattern
 * also asserts `opLess = 0`, since equal ops cannot be less. Cases I and J write "not (h<p)"
 * without parentheses; it is read as an assertion because it always holds there (header.op >
 * op_prepare_max ≥ prepare.op, or prepare reserved at op = slot ≤ op_prepare_max), and only that
 * reading makes the table exhaustive.
 */
export const recoveryCases: readonly RecoveryCase[] = [
  //                         h  hr p  pr pmax p> h> =c op= op< =v
  row("A", "vsr", "vsr", "   0  ·  0  ·  ·   a0 a0 ·  ·   ·   · "),
  row("B", "vsr", "vsr", "   1  1  0  ·  ·   a0 ·  ·  ·   ·   · "),
  row("C", "vsr", "vsr", "   1  0  0  ·  ·   a0 ·  ·  ·   ·   · "),
  row("D", "vsr", "fix", "   0  ·  1  1  ·   ·  a0 ·  ·   ·   · "),
  row("E", "vsr", "fix", "   0  ·  1  0  0   0  a0 ·  ·   ·   · "),
  row("F", "fix", "fix", "   0  ·  1  0  1   0  a0 ·  ·   ·   · "),
  row("G", "fix", "fix", "   1  1  1  0  ·   0  ·  ·  ·   ·   · "),
  row("H", "cut", "unreachable", "·  ·  1  0  ·   1  ·  ·  ·   ·   · "),
  row("I", "cut", "unreachable", "1  0  1  0  ·   0  1  ·  ·   a0  · "),
  row("J", "cut", "unreachable", "1  0  1  1  ·   ·  1  ·  ·   a0  · "),
  row("K", "vsr", "vsr", "   1  0  1  1  ·   ·  0  ·  ·   ·   · "),
  row("L", "nil", "nil", "   1  1  1  1  ·   ·  ·  a1 a1  a0  a1"),
  row("M", "fix", "fix", "   1  0  1  0  ·   0  0  0  0   1   · "),
  row("N", "vsr", "vsr", "   1  0  1  0  ·   0  0  0  0   0   · "),
  row("O", "vsr", "vsr", "   1  0  1  0  ·   0  0  0  1   a0  a0"),
  row("P", "eql", "eql", "   1  0  1  0  ·   0  0  1  a1  a0  a1"),
];

/**
 * The cases whose plain matchers ("0"/"1") all match, treating assertions as wildcards. The
 * table is exhaustive and disjoint when this is exactly one case for every combination.
 */
export function recoveryCasesMatching(conditions: RecoveryConditions): RecoveryCase[] {
  return recoveryCases.filter((c) => c.pattern.every((matcher, i) => {
    const value = conditions[recoveryConditionNames[i]!];
    if (matcher === "0") return !value;
    if (matcher === "1") return value;
    return true;
  }));
}

/** The one case of the table for these conditions; throws AssertionError on a contradiction. */
export function recoveryCase(conditions: RecoveryConditions): RecoveryCase {
  const matching = recoveryCasesMatching(conditions);
  if (matching.length !== 1) assertFailed(`recovery table: ${matching.length} cases match`);
  const match = matching[0]!;
  match.pattern.forEach((matcher, i) => {
    const name = recoveryConditionNames[i]!;
    if (matcher === "a0" && conditions[name]) {
      throw new AssertionError(`recovery case ${match.label}: ${name} asserted false`);
    }
    if (matcher === "a1" && !conditions[name]) {
      throw new AssertionError(`recovery case ${match.label}: ${name} asserted true`);
    }
  });
  return match;
}

export function recoveryDecision(inputs: RecoveryInputs):
  { case: RecoveryCaseLabel; decision: RecoveryDecision } {
  const match = recoveryCase(recoveryConditions(inputs));
  const decision = inputs.soloReplica ? match.decisionSolo : match.decisionCluster;
  // A solo replica never prepares past its own op_prepare_max, so H/I/J mean a bug.
  if (decision === "unreachable") {
    throw new AssertionError(`recovery case ${match.label} is unreachable with R = 1`);
  }
  return { case: match.label, decision };
}

export function recoveryConditions(inputs: RecoveryInputs): RecoveryConditions {
  return {
    h: inputs.h, hr: inputs.hr, p: inputs.p, pr: inputs.pr, pmax: inputs.pmax,
    pGreater: inputs.pGreater, hGreater: inputs.hGreater, checksumsEqual: inputs.checksumsEqual,
    opEqual: inputs.opRelation === "eq",
    opLess: inputs.opRelation === "lt",
    viewsEqual: inputs.viewsEqual,
  };
}

// §11.4: a torn write versus corruption.

/** What recovery knows about one slot, for the torn-write rule. */
export interface TornSlotSummary {
  /** The §11.3 decision for the slot. */
  readonly decision: RecoveryDecision;
  /** The redundant header is valid (h), reserved (hr), and its op when valid and not reserved
   * (a reserved header's op is its slot, which says nothing about the log). */
  readonly headerValid: boolean;
  readonly headerReserved: boolean;
  readonly headerOp: number | null;
  /** The prepare's checksum alone is valid (it may still be misdirected, so not `p`). */
  readonly prepareChecksumValid: boolean;
}

export interface TornWriteInputs {
  readonly opCheckpoint: number;
  /** The largest op among all valid headers and prepares. */
  readonly opMax: number;
  readonly opPrepareMax: number;
  /** journal_iops_write_max: how many prepare writes may have been in flight at a crash. */
  readonly iopsWriteMax: number;
  /** One summary per slot, indexed by slot. */
  readonly slots: readonly TornSlotSummary[];
}

export interface TornSlot {
  readonly slot: number;
  /** The op whose append was torn. */
  readonly op: number;
}

/**
 * "truncate": op_max is certain, and the torn slots (possibly none) are truncated.
 * "recovering_head": op_max is uncertain; nothing is truncated and the replica waits for a view.
 */
export type TornWriteVerdict =
  | { readonly kind: "truncate"; readonly torn: readonly TornSlot[] }
  | {
    readonly kind: "recovering_head";
    readonly reason: "op_max_below_checkpoint" | "fault_not_torn" | "torn_over_limit";
    readonly slot: number | null;
  };

export function classifyTornSlots(inputs: TornWriteInputs): TornWriteVerdict {
  const { opCheckpoint, opMax, opPrepareMax, iopsWriteMax, slots } = inputs;
  const slotCount = slots.length;
  assert(slotCount > 0 && iopsWriteMax > 0);
  assert(opCheckpoint <= opPrepareMax && opPrepareMax - slotCount <= opCheckpoint);
  // The head can never be below the checkpoint (§17.2): the ops up to op_max were lost.
  if (opMax < opCheckpoint) {
    return { kind: "recovering_head", reason: "op_max_below_checkpoint", slot: null };
  }
  // Nothing can have been appended past op_prepare_max: case H/I/J cut those slots already.
  if (opMax >= opPrepareMax) return { kind: "truncate", torn: [] };

  const torn: TornSlot[] = [];
  // The slots after op_max, up to op_prepare_max but never wrapping onto op_max's own slot.
  const opLast = Math.min(opPrepareMax, opMax + slotCount - 1);
  for (let op = opMax + 1; op <= opLast; op++) {
    const slot = op % slotCount;
    const summary = slots[slot]!;
    assertSummary(summary, slot, slotCount, opMax);
    if (summary.decision !== "vsr") continue;
    // Any other fault here could be the true head: op_max is uncertain.
    if (!tornWrite(summary)) return { kind: "recovering_head", reason: "fault_not_torn", slot };
    // "From a previous wrap" always holds: the header's op shares the slot and is ≤ op_max < op.
    // A reserved header is the first wrap's "previous" content (op = slot).
    if (!summary.headerReserved) {
      assert(summary.headerOp !== null && summary.headerOp <= op - slotCount);
      assert(summary.headerOp <= opCheckpoint);
    }
    // More torn slots than writes in flight means corruption, not a crash.
    if (torn.length === iopsWriteMax) {
      return { kind: "recovering_head", reason: "torn_over_limit", slot };
    }
    torn.push({ slot, op });
  }
  return { kind: "truncate", torn };
}

/**
 * A crash while appending an op leaves the redundant header of the previous wrap (it is written
 * only after the prepare, §11.2) over a prepare whose write was torn. A prepare with a valid
 * checksum is not torn, even if misdirected: it is a fault that might hide the head.
 *
 * Departure from the letter of vsr.md §11.4 ("not reserved"): in the first wrap the previous
 * content of a slot is its reserved header, and a solo replica — whose WAL the VOPR does tear on
 * crash (vopr.md §7.5) — could otherwise never recover from a crash during its first 32 ops. The
 * slot is still only accepted as torn when its prepare fails its checksum, above op_max, within
 * the write-IOPS bound; older TigerBeetle releases accept reserved headers here too.
 */
function tornWrite(summary: TornSlotSummary): boolean {
  return summary.headerValid && !summary.prepareChecksumValid;
}

function assertSummary(summary: TornSlotSummary, slot: number, slotCount: number, opMax: number):
  void {
  assert(!summary.headerReserved || summary.headerValid, "a reserved header is a valid header");
  assert((summary.headerValid && !summary.headerReserved) === (summary.headerOp !== null),
    "headerOp iff the header is valid and not reserved");
  if (summary.headerOp !== null) {
    assert(summary.headerOp % slotCount === slot, "a valid header belongs to its slot");
    assert(summary.headerOp <= opMax, "op_max is the maximum over valid headers");
  }
}
