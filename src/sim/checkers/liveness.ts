// The liveness phase (spec/vopr.md §6.2): choose a core, and decide whether the core converged,
// or, when it did not, whether the failure is legitimate (a pass, "no liveness …") or a bug
// (exit 128, "no state convergence: …").
import { PrepareHeader } from "../../core/header.js";
import type { Prng } from "../../core/prng.js";
import { checkpointMath } from "../../replica/checkpoint_math.js";
import { quorums } from "../../replica/quorums.js";
import type { Replica } from "../../replica/replica.js";
import type { Cluster } from "../world/cluster.js";
import { CorrectnessError } from "./state_checker.js";

/**
 * §6.2 step 1. After a finished safety phase: a random subset of at least quorum_view_change
 * active replicas plus a random subset of the standbys. After running out of ticks: everyone, so
 * that every repairable fault gets repaired.
 */
export function chooseCore(prng: Prng, cluster: Cluster, safetyFinished: boolean): number[] {
  const core: number[] = [];
  if (!safetyFinished) {
    for (let index = 0; index < cluster.nodeCount; index++) core.push(index);
    return core;
  }
  const active: number[] = [];
  for (let index = 0; index < cluster.replicaCount; index++) active.push(index);
  prng.shuffle(active);
  const size = prng.range(cluster.quorumViewChange, cluster.replicaCount);
  for (let pick = 0; pick < size; pick++) core.push(active[pick]!);
  for (let standby = cluster.replicaCount; standby < cluster.nodeCount; standby++) {
    if (prng.boolean()) core.push(standby);
  }
  return core.sort((a, b) => a - b);
}

/**
 * §6.2 "Convergence", items 1, 3 and 5 (2 and 4 need upgrades, journals and sync, which the
 * replica does not expose yet). Returns null when converged, else why not. Asserts (exit 129)
 * that replicas at the same checkpoint, with no checkpoint in progress, agree on its id.
 */
export function convergence(cluster: Cluster, core: readonly number[], checkpointing: readonly boolean[]): string | null {
  const inFlight = cluster.clients.requestsInFlight;
  if (inFlight > 0) return `${inFlight} client request(s) in flight`;
  const commit = cluster.checker.commitLatest;
  for (const index of core) {
    const replica = cluster.replicas[index];
    if (replica === null || replica === undefined || !cluster.opened[index]) return `replica ${index} is not open`;
    if (replica.commitMin !== commit) return `replica ${index} commit_min=${replica.commitMin}, cluster commit=${commit}`;
    if (replica.syncing !== null) return `replica ${index} is syncing`; // §6.2 item 4
  }
  const first = cluster.replicas[core[0]!]!;
  for (const index of core) {
    const replica = cluster.replicas[index]!;
    if (replica.opCheckpoint !== first.opCheckpoint) {
      return `replica ${index} op_checkpoint=${replica.opCheckpoint}, replica ${core[0]} ${first.opCheckpoint}`;
    }
    if (checkpointing[index]) return `replica ${index} is checkpointing`;
  }
  for (const index of core) {
    const replica = cluster.replicas[index]!;
    if (replica.checkpointId() !== first.checkpointId()) {
      throw new CorrectnessError(`checkpoint ${first.opCheckpoint}: replica ${index} checkpoint_id ` +
        `${replica.checkpointId().toString(16)} differs from replica ${core[0]}'s ${first.checkpointId().toString(16)}`);
    }
  }
  return null;
}

/**
 * §6.2: the legitimate reasons for no convergence that Scarab can prove today. Returns the
 * reason (a pass, "no liveness") or null (unexplained: exit 128).
 */
export function explainNoConvergence(cluster: Cluster, core: readonly number[]): string | null {
  let viewMax = 0;
  let healthy = 0;
  for (const index of core) {
    const replica = cluster.replicas[index];
    if (replica === null || replica === undefined) continue;
    viewMax = Math.max(viewMax, replica.view);
    // Reformatted and still catching up counts as missing too (§6.2 "or reformatting").
    if (index < cluster.replicaCount && replica.status !== "recovering_head" && replica.status !== "recovering" &&
      !cluster.catchingUp(index)) {
      healthy += 1;
    }
  }
  // A primary outside the core that is up can keep part of the core in its view (its links to
  // the core keep their pre-heal state) — a known limitation. A down one cannot.
  const primary = viewMax % cluster.replicaCount;
  if (!core.includes(primary) && cluster.isUp(primary) && !cluster.paused[primary]) return "core_missing_primary";
  if (healthy < cluster.quorumViewChange) return "core_missing_quorum";
  return coreMissingPrepare(cluster, core) ?? uncommittedPrepareMissing(cluster, core);
}

/**
 * §6.2 core_missing_prepare: an op above every core replica's commit_min (so no core replica can
 * state-sync past it or serve it from its own execution) up to the core's commit_max, whose
 * prepare no core replica holds clean in its journal.
 */
function coreMissingPrepare(cluster: Cluster, core: readonly number[]): string | null {
  let executed = 0;
  let committed = 0;
  for (const index of core) {
    const replica = cluster.replicas[index]!;
    executed = Math.max(executed, replica.commitMin);
    committed = Math.max(committed, replica.commitMax);
  }
  for (let op = executed + 1; op <= committed; op++) {
    let found = false;
    for (const index of core) {
      const journal = cluster.replicas[index]!.journal;
      if (journal.header(op) !== null && !journal.isDirty(op)) found = true;
    }
    if (!found) return `core_missing_prepare (op ${op})`;
  }
  return null;
}

/**
 * §6.2 core_missing_prepare, its second half (TigerBeetle's core_missing_prepare): an op from the
 * cluster's commit_max to its head whose prepare at least a nack quorum of active replicas lacks
 * (outside the core, reformatting, or not intact in their journal). A view change then can neither
 * keep the op (no join_view holds it) nor truncate it (too few replicas can nack it): its log
 * choice waits for a join_view that never comes, since the replicas holding the op are in
 * recovering_head or outside the core.
 *
 * The head and the uncommitted headers come from the core replicas that could repair: in normal
 * status, or view-changing without lagging a durable checkpoint behind. A view-changing replica
 * whose superblock's log_view is behind its view takes them from its view headers, as its
 * journal may hold headers a restart restored after a truncation.
 */
function uncommittedPrepareMissing(cluster: Cluster, core: readonly number[]): string | null {
  const math = checkpointMath(cluster.config);
  const repairable = core.filter((index) => {
    const replica = cluster.replicas[index];
    if (index >= cluster.replicaCount || replica === null || replica === undefined || cluster.catchingUp(index)) return false;
    if (replica.status === "normal") return true;
    return replica.status === "view_change" &&
      !math.checkpointDurable(math.checkpointAfter(replica.opCheckpoint), replica.commitMax);
  }).map((index) => cluster.replicas[index]!);
  if (repairable.length === 0) return null;
  const logView = Math.max(...repairable.map((replica) => replica.logView));
  const canonical = repairable.filter((replica) => replica.logView === logView);
  const head = Math.max(...canonical.map((replica) => replica.op));
  const commitMax = Math.max(...repairable.map((replica) => replica.commitMax));
  const nackQuorum = quorums(cluster.replicaCount).nackPrepare;
  for (let op = commitMax + 1; op <= head; op++) {
    const checksum = uncommittedChecksum(canonical, op);
    if (checksum === null) continue; // no repairable replica knows the op's header: not judged here
    let missing = 0;
    for (let index = 0; index < cluster.replicaCount; index++) {
      const replica = cluster.replicas[index];
      if (!core.includes(index) || replica === null || replica === undefined || cluster.catchingUp(index) ||
        !replica.journal.hasPrepare(op, checksum)) {
        missing += 1;
      }
    }
    if (missing >= nackQuorum) return `core_missing_prepare (op ${op}, uncommitted, missing on ${missing} replicas)`;
  }
  return null;
}

/** The checksum of op's header in the canonical log of these replicas, or null if none holds one. */
function uncommittedChecksum(canonical: readonly Replica[], op: number): bigint | null {
  for (const replica of canonical) {
    const working = replica.superblock.working!;
    if (working.vsr_state.log_view < working.vsr_state.view) {
      for (const bytes of working.view_headers) {
        const header = new PrepareHeader(bytes, 0);
        if (header.op === op) return header.checksum;
      }
    } else {
      const header = replica.journal.header(op);
      if (header !== null) return header.checksum;
    }
  }
  return null;
}
