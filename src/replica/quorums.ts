// Quorum arithmetic (spec/vsr.md §2), kept apart from the replica so that it can be read, tested
// and asserted on its own (as etcd's raft does with its quorum package).
import { assert } from "../core/assert.js";
import { productionConfig } from "../core/config.js";

export interface Quorums {
  /** Prepare_oks (counting the primary) needed to commit. Capped at 3: flexible Paxos. */
  readonly replication: number;
  /** Exit_view votes / join_views needed to change view. */
  readonly viewChange: number;
  /** Nacks proving that an op never reached a replication quorum, so it may be truncated. */
  readonly nackPrepare: number;
  /** More than half of the replicas. */
  readonly majority: number;
  /** Every replica must advertise a release before the primary upgrades (§15). */
  readonly upgrade: number;
}

/** The quorums of a cluster of `replicaCount` active replicas (standbys never count, §2). */
export function quorums(replicaCount: number): Quorums {
  assert(Number.isInteger(replicaCount), "quorums: replicaCount must be an integer");
  assert(replicaCount >= 1 && replicaCount <= productionConfig.replicasMax,
    `quorums: replicaCount ${replicaCount} out of range`);
  const r = replicaCount;
  // R = 2 is special: with a replication quorum of 1 a single replica could commit alone and a
  // view change of 1 could then lose it, so both replicas must take part in both phases.
  const replication = r === 2 ? 2 : Math.min(3, Math.ceil(r / 2));
  const viewChange = r === 2 ? 2 : r - replication + 1;
  const nackPrepare = r - replication + 1;
  const majority = Math.ceil(r / 2) + (r % 2 === 0 ? 1 : 0);
  const upgrade = r;

  // Every view-change quorum intersects every replication quorum: a committed op survives.
  assert(viewChange + replication > r, "quorums: view_change + replication must exceed R");
  // A nack quorum and a replication quorum cannot both exist for one op: truncation is safe.
  assert(nackPrepare + replication > r, "quorums: nack_prepare + replication must exceed R");
  // Two view-change quorums intersect: two primaries cannot start the same view.
  assert(viewChange >= Math.floor(r / 2) + 1, "quorums: view_change must be a majority");
  assert(replication >= 1 && replication <= r);
  assert(viewChange >= 1 && viewChange <= r);
  assert(nackPrepare >= 1 && nackPrepare <= r);
  assert(majority > Math.floor(r / 2) && majority <= r);
  return { replication, viewChange, nackPrepare, majority, upgrade };
}

/** The primary of `view` is replica `view mod R` (§2). */
export function primaryIndex(view: number, replicaCount: number): number {
  assert(Number.isSafeInteger(view) && view >= 0, "primaryIndex: view must be a u32");
  assert(view <= 0xffff_ffff, "primaryIndex: view must be a u32");
  assert(Number.isInteger(replicaCount) && replicaCount >= 1 &&
    replicaCount <= productionConfig.replicasMax, "primaryIndex: bad replicaCount");
  return view % replicaCount;
}

/** The number of replicas in a bitset of replica indexes (votes, acks). */
export function countVotes(bits: number): number {
  assert(Number.isInteger(bits) && bits >= 0 && bits <= 0xffff_ffff, "countVotes: not a u32 bitset");
  let count = 0;
  for (let b = bits; b !== 0; b = (b & (b - 1)) >>> 0) count++;
  assert(count <= 32);
  return count;
}

/** A prepare of the pipeline, as quorum counting sees it: its op and who acknowledged it. */
export interface AckedOp {
  readonly op: number;
  /** Bitset of the replicas holding the prepare durably. */
  readonly okFrom: number;
}

/**
 * The primary's commit point (vsr.md §5.4): ops commit in op order, so the new commit_max is the
 * op ending the longest prefix of the pipeline above `commitMax` whose every prepare is held by
 * `quorum` replicas. `pipeline` is in op order and contiguous; returns `commitMax` when the first
 * uncommitted prepare still lacks its quorum.
 */
export function pipelineCommit(pipeline: readonly AckedOp[], commitMax: number, quorum: number): number {
  assert(Number.isInteger(quorum) && quorum >= 1, "pipelineCommit: bad quorum");
  let commit = commitMax;
  for (let i = 0; i < pipeline.length; i++) {
    const entry = pipeline[i]!;
    assert(i === 0 || entry.op === pipeline[i - 1]!.op + 1, "pipelineCommit: pipeline not contiguous");
    if (entry.op <= commit) continue;
    if (countVotes(entry.okFrom) < quorum) break;
    assert(entry.op === commit + 1 || commit === commitMax, "pipelineCommit: a gap above commit_max");
    commit = entry.op;
  }
  assert(commit >= commitMax);
  return commit;
}

/**
 * The view `scarab recover` formats a replica that lost its data file in (TigerBeetle's rule):
 * two past the view the cluster committed in after the loss, so it never re-enters a view in
 * which its lost incarnation may have voted or acknowledged prepares; one more if it would lead
 * that view (a replica with an empty log cannot start a view as its primary).
 */
export function recoverView(clusterView: number, replica: number, replicaCount: number): number {
  assert(replicaCount > 1, "recoverView: a lone replica has nobody to recover from");
  assert(replica >= 0 && replica < replicaCount, "recoverView: not an active replica");
  const view = clusterView + 2;
  return primaryIndex(view, replicaCount) === replica ? view + 1 : view;
}
