// How a new primary chooses the log from a view-change quorum of join_views (spec/vsr.md §6.3),
// an abbreviated form of Protocol-Aware Recovery's CTRL protocol. Pure: the replica collects the
// JVs, this decides which ops survive.
import { assert } from "../core/assert.js";
import { quorums } from "./quorums.js";
import { noBugs, type PlantedBugs } from "./bugs.js";

/** A valid prepare header in a JV suffix. */
export interface JoinViewHeader {
  readonly op: number;
  readonly checksum: bigint;
  /** The checksum of the prepare at op − 1: the log is a hash chain (§3). */
  readonly parent: bigint;
  readonly view: number;
  /** The commit_max of the primary when it prepared this op. */
  readonly commit: number;
}

export interface JoinView {
  readonly replica: number;
  /** The last view in which this replica installed a log. */
  readonly log_view: number;
  /** The head of the replica's log. */
  readonly op: number;
  readonly commit_min: number;
  readonly checkpoint_op: number;
  /** headers[i] is op − i, from the head down to (at most) the highest op known committed; null
   * is a blank (unknown). The head itself is always known. */
  readonly headers: readonly (JoinViewHeader | null)[];
  /** Bit i: the prepare body of op − i is available to this replica (§6.2). */
  readonly present_bitset: bigint;
  /** Bit i: this replica is certain it never prepared op − i in its log view (§6.2). */
  readonly nack_bitset: bigint;
}

export interface LogChoiceInput {
  readonly replicaCount: number;
  readonly pipelinePrepareQueueMax: number;
  /** A view-change quorum of JVs (the new primary's own included), one per replica. */
  readonly jvs: readonly JoinView[];
  /** Planted bugs (tests only); default none. */
  readonly bugs?: PlantedBugs;
}

export type LogChoice =
  | {
    readonly kind: "complete";
    readonly commitMax: number;
    readonly headOp: number;
    /** The surviving uncommitted headers, ops commitMax + 1 ..= headOp, ascending. */
    readonly headers: readonly JoinViewHeader[];
  }
  /** No JV holds the prepare of `op` yet: wait for more JVs. */
  | { readonly kind: "awaiting_repair"; readonly op: number }
  /** All R replicas answered and `op` can be neither kept nor truncated: a deadlock, which the
   * simulator counts as a legitimate loss of liveness. */
  | { readonly kind: "complete_invalid"; readonly op: number };

const bitsetWidth = 128; // u128 on the wire

export function chooseLog(input: LogChoiceInput): LogChoice {
  const { replicaCount, jvs } = input;
  const bugs = input.bugs ?? noBugs;
  const quorum = quorums(replicaCount);
  assert(jvs.length >= quorum.viewChange && jvs.length <= replicaCount, "chooseLog: bad quorum");
  assert(Number.isInteger(input.pipelinePrepareQueueMax) && input.pipelinePrepareQueueMax > 0);
  assertJoinViews(jvs, replicaCount);

  // The canonical JVs know of every view change in which headers were replaced; a longer log
  // with an older log_view may hold ops that a later view discarded.
  const logViewCanonical = Math.max(...jvs.map((jv) => jv.log_view));
  const opMaxAll = Math.max(...jvs.map((jv) => jv.op));
  const canonical = bugs.logChoiceByHighestOp ? jvs.filter((jv) => jv.op === opMaxAll)
    : jvs.filter((jv) => jv.log_view === logViewCanonical);
  const opHeadMax = Math.max(...canonical.map((jv) => jv.op));
  const commitMax = commitMaxOf(jvs, input.pipelinePrepareQueueMax);
  assert(commitMax <= opHeadMax, "chooseLog: commit_max beyond the canonical head");

  let headOp = opHeadMax;
  for (let op = commitMax + 1; op <= opHeadMax; op++) {
    const header = canonicalHeader(canonical, op);
    const { copies, nacks } = countCopiesAndNacks(jvs, op, header, logViewCanonical);
    // Enough replicas never prepared the op that no replication quorum can have: it was never
    // committed, and neither was anything after it.
    if (nacks >= (bugs.truncateWithoutNackQuorum ? 1 : quorum.nackPrepare)) {
      headOp = op - 1;
      break;
    }
    // Neither provably uncommitted nor recoverable from any JV so far.
    if (header === null || copies === 0) {
      return jvs.length < replicaCount ? { kind: "awaiting_repair", op }
        : { kind: "complete_invalid", op };
    }
  }
  return { kind: "complete", commitMax, headOp, headers: survivors(canonical, commitMax, headOp) };
}

/** The highest op certainly committed, from every JV (§6.3 step 2). */
function commitMaxOf(jvs: readonly JoinView[], pipelineMax: number): number {
  let commitMax = 0;
  for (const jv of jvs) {
    // The suffix stops at an op the sender knew to be committed.
    const suffixTailOp = jv.op - (jv.headers.length - 1);
    // An op more than a pipeline below a head was committed before the head was prepared.
    const pipelineTailOp = Math.max(0, jv.op - pipelineMax);
    commitMax = Math.max(commitMax, jv.commit_min, suffixTailOp, pipelineTailOp,
      jv.headers[0]!.commit);
  }
  return commitMax;
}

/** The header of `op` in the canonical log, or null if no canonical JV knows it. */
function canonicalHeader(canonical: readonly JoinView[], op: number): JoinViewHeader | null {
  let found: JoinViewHeader | null = null;
  for (const jv of canonical) {
    if (jv.op < op) continue; // Canonical, but lagging behind.
    const header = headerAt(jv, op);
    if (header === null) continue;
    // One log_view holds one log: canonical JVs never disagree.
    assert(found === null || found.checksum === header.checksum, "chooseLog: canonical fork");
    found ??= header;
  }
  return found;
}

/** §6.3 step 3.2–3.3: copies hold the canonical prepare; nacks prove it was never prepared. */
function countCopiesAndNacks(jvs: readonly JoinView[], op: number,
  canonical: JoinViewHeader | null, logViewCanonical: number): { copies: number; nacks: number } {
  let copies = 0;
  let nacks = 0;
  for (const jv of jvs) {
    // The suffix does not reach this op: the replica's log ends before it.
    if (jv.op < op) {
      nacks += 1;
      continue;
    }
    const index = jv.op - op;
    const header = headerAt(jv, op);
    const same = header !== null && canonical !== null && header.checksum === canonical.checksum;
    if (same && bit(jv.present_bitset, index)) copies += 1;
    if (bit(jv.nack_bitset, index)) {
      nacks += 1;
    } else if (header !== null && canonical !== null && header.checksum !== canonical.checksum) {
      // A different header: the replica prepared another op here, in an older log view.
      assert(jv.log_view < logViewCanonical, "chooseLog: canonical JVs disagree");
      nacks += 1;
    } else if (header !== null && canonical === null) {
      // A header that the canonical view already truncated.
      assert(jv.log_view < logViewCanonical && header.view < logViewCanonical);
      nacks += 1;
    }
    // Otherwise a blank without a nack: a faulty slot may hold the very prepare, never a nack.
  }
  return { copies, nacks };
}

/** The canonical headers of ops commitMax + 1 ..= headOp, checked to form a hash chain. */
function survivors(canonical: readonly JoinView[], commitMax: number, headOp: number):
  JoinViewHeader[] {
  const headers: JoinViewHeader[] = [];
  for (let op = commitMax + 1; op <= headOp; op++) {
    const header = canonicalHeader(canonical, op);
    assert(header !== null, "chooseLog: a surviving op has no canonical header");
    const previous = headers[headers.length - 1];
    assert(previous === undefined || header.parent === previous.checksum,
      "chooseLog: surviving headers do not form a hash chain");
    headers.push(header);
  }
  return headers;
}

function headerAt(jv: JoinView, op: number): JoinViewHeader | null {
  assert(op <= jv.op);
  const index = jv.op - op;
  // commit_max is at or above every suffix tail, so any op above it that a JV's head reaches is
  // inside that JV's suffix.
  assert(index < jv.headers.length, "chooseLog: op below the JV suffix");
  return jv.headers[index]!;
}

function bit(bitset: bigint, index: number): boolean {
  assert(index >= 0 && index < bitsetWidth);
  return ((bitset >> BigInt(index)) & 1n) === 1n;
}

function assertJoinViews(jvs: readonly JoinView[], replicaCount: number): void {
  const replicas = new Set<number>();
  for (const jv of jvs) {
    assert(Number.isInteger(jv.replica) && jv.replica >= 0 && jv.replica < replicaCount);
    assert(!replicas.has(jv.replica), "chooseLog: two JVs from one replica");
    replicas.add(jv.replica);
    assert(jv.headers.length >= 1 && jv.headers.length <= bitsetWidth);
    assert(jv.op - (jv.headers.length - 1) >= 0, "chooseLog: suffix below op 0");
    assert(jv.headers[0] !== null, "chooseLog: a JV's head is never blank");
    assert(jv.op >= jv.commit_min && jv.commit_min >= jv.checkpoint_op, "chooseLog: §17.2");
    assert(jv.present_bitset >= 0n && jv.present_bitset >> BigInt(jv.headers.length) === 0n);
    assert(jv.nack_bitset >= 0n && jv.nack_bitset >> BigInt(jv.headers.length) === 0n);
    jv.headers.forEach((header, index) => {
      if (header === null) {
        // A blank has no body to offer.
        assert(!bit(jv.present_bitset, index), "chooseLog: a blank cannot be present");
        return;
      }
      assert(header.op === jv.op - index, "chooseLog: suffix headers out of order");
      assert(header.view <= jv.log_view, "chooseLog: header from beyond the JV's log_view");
    });
  }
}
