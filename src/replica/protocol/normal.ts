// Normal operation (spec/vsr.md §5): the primary writes each prepare to its own WAL and sends it
// to every replica (star replication); backups write it and answer prepare_ok once durable; the
// primary commits an op once a replication quorum holds it and every earlier op is committed.
// Commit heartbeats keep backups informed and prove the primary alive.
import { assert } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import {
  CommitHeader, PrepareHeader, PrepareOkHeader, setChecksums,
} from "../../core/header.js";
import { Command } from "../../core/command.js";
import type { Replica } from "../replica.js";
import { prepareRequest } from "./request.js";
import { requestView, startViewIfReady, voteToExitView } from "./view_change.js";

/** Primary: append a new prepare to the pipeline, write it locally and send it to everyone. */
export function prepareAndReplicate(replica: Replica, prepare: Uint8Array): void {
  const header = new PrepareHeader(prepare, 0);
  assert(replica.isPrimary && replica.status === "normal");
  assert(header.op === replica.op + 1 && header.op <= replica.opPrepareMax, "prepare beyond the head");
  assert(replica.pipeline.length < replica.config.pipelinePrepareQueueMax);
  replica.op = header.op;
  replica.pipeline.push({
    message: prepare, op: header.op, checksum: header.checksum, client: header.client,
    operation: header.operation, okFrom: 0,
  });
  replica.prepareCache.put(prepare);
  writeAndAck(replica, prepare);
  replica.broadcast(prepare);
  if (!replica.timeouts.prepare.ticking) replica.timeouts.prepare.start();
}

/**
 * Writes a prepare to the local WAL; once it is durable, acknowledges it to the primary of its
 * view (or counts it, on the primary). A standby never acknowledges.
 */
export function writeAndAck(replica: Replica, prepare: Uint8Array): void {
  const header = new PrepareHeader(prepare, 0);
  const op = header.op;
  const checksum = header.checksum;
  if (replica.bugs.ackBeforeDurable && !replica.isPrimary) ack(replica, header);
  replica.journal.writePrepare(prepare, (written) => {
    if (written && replica.checksumOf(op) === checksum) ack(replica, new PrepareHeader(prepare, 0));
  });
}

/**
 * Acknowledges a prepare we hold durably (again, if the primary resent it). The prepare_ok is for
 * our current view, which may be newer than the view the op was prepared in (after a view change
 * the new primary re-replicates the surviving uncommitted ops).
 */
export function ack(replica: Replica, prepare: PrepareHeader): void {
  const view = replica.view;
  if (replica.isStandby || replica.status !== "normal" || prepare.view > view) return;
  if (replica.syncing !== null) return; // a syncing replica does not count towards durability (§8)
  // Never acknowledge in a view that is not durable (vsr.md §6.2, §17.6).
  if (replica.viewDurable !== view) return;
  if (replica.isPrimary) return countPrepareOk(replica, prepare.op, prepare.checksum, replica.replica);
  replica.sendToReplica(replica.primaryOf(view), buildPrepareOk(replica, prepare));
}

function buildPrepareOk(replica: Replica, prepare: PrepareHeader): Uint8Array {
  const message = new Uint8Array(headerSize);
  const ok = new PrepareOkHeader(message, 0);
  replica.frame(ok, Command.prepare_ok, headerSize);
  ok.parent = prepare.parent;
  ok.prepare_checksum = prepare.checksum;
  ok.checkpoint_id = prepare.checkpoint_id;
  ok.client = prepare.client;
  ok.op = prepare.op;
  ok.commit_min = replica.commitMin;
  ok.timestamp = prepare.timestamp;
  ok.request = prepare.request;
  ok.operation = prepare.operation;
  setChecksums(message, 0, headerSize);
  return message;
}

/** Backup (or standby): a prepare from the primary of its view. */
export function onPrepare(replica: Replica, message: Uint8Array): void {
  const prepare = new PrepareHeader(message, 0);
  if (prepare.op === 0) return;
  if (prepare.view > replica.view) return requestView(replica, prepare.view);
  if (sameViewButBehind(replica, prepare.view, prepare.replica)) requestView(replica, prepare.view);
  // Outside normal status, or from an older view, a prepare can only repair a header we hold.
  if (replica.status !== "normal" || prepare.view < replica.view) return repairFromPrepare(replica, message);
  if (replica.isPrimary) return repairFromPrepare(replica, message);
  if (prepare.replica !== replica.primaryOf(replica.view)) return;
  replica.timeouts.normalHeartbeat.reset();
  learnCommit(replica, prepare.commit);
  const op = prepare.op;
  if (op <= replica.op) return repairFromPrepare(replica, message);
  if (op > replica.opPrepareMax) return; // beyond our WAL's capacity until we checkpoint
  if (op === replica.op + 1) {
    const head = replica.headerAt(replica.op);
    // The primary of a view prepares each op once, so its prepares chain within the view.
    assert(head === null || head.checksum === prepare.parent || head.view !== prepare.view,
      `fork in view ${prepare.view} at op ${op}`);
  }
  // A gap (op > head + 1) jumps the head; the missing headers are repaired backwards later.
  replica.op = op;
  const copy = message.slice();
  replica.prepareCache.put(copy);
  writeAndAck(replica, copy);
  replica.commitJournal();
}

/**
 * A prepare at or below our head: the current primary's prepare replaces a missing or older-view
 * header; a prepare matching our header is written if its slot still needs it, or acknowledged
 * again if it is already durable (our prepare_ok may have been lost).
 */
export function repairFromPrepare(replica: Replica, message: Uint8Array): void {
  const prepare = new PrepareHeader(message, 0);
  const op = prepare.op;
  if (op <= replica.commitMin && !replica.journal.isDirty(op)) return;
  if (op > replica.op || op > replica.opPrepareMax) return;
  const existing = replica.journal.header(op);
  const fromPrimary = prepare.view === replica.view && prepare.replica === replica.primaryOf(replica.view);
  if (existing !== null && existing.checksum === prepare.checksum) {
    const copy = message.slice();
    replica.prepareCache.put(copy);
    if (!replica.journal.isDirty(op)) ack(replica, prepare);
    else if (!replica.journal.isWriting(op, prepare.checksum)) writeAndAck(replica, copy);
  } else if (fromPrimary && replica.status === "normal" && replica.installable(op)) {
    // The current primary's prepare in the current view is canonical: it replaces a missing
    // header or a stale one (which may even carry a higher view, from an aborted view).
    const copy = message.slice();
    replica.prepareCache.put(copy);
    writeAndAck(replica, copy);
  } else {
    return;
  }
  if (replica.status === "view_change") startViewIfReady(replica);
  else replica.commitJournal();
}

/** Primary: a backup holds the prepare durably. */
export function onPrepareOk(replica: Replica, message: Uint8Array): void {
  const ok = new PrepareOkHeader(message, 0);
  if (!replica.isPrimary || replica.status !== "normal" || ok.view !== replica.view) return;
  if (ok.replica >= replica.replicaCount) return; // standbys never count
  countPrepareOk(replica, ok.op, ok.prepare_checksum, ok.replica);
}

function countPrepareOk(replica: Replica, op: number, checksum: bigint, from: number): void {
  const entry = replica.pipeline.find((candidate) => candidate.op === op);
  if (entry === undefined || entry.checksum !== checksum) return;
  entry.okFrom |= 1 << from;
  replica.timeouts.primaryAbdicate.reset();
  replica.abdicating = false;
  // Commit in op order: the longest prefix of the pipeline held by a replication quorum.
  let commit = replica.commitMax;
  for (const candidate of replica.pipeline) {
    if (candidate.op <= commit) continue;
    const quorum = replica.bugs.commitWithoutQuorum ? 1 : replica.quorum.replication;
    if (popcount(candidate.okFrom) < quorum) break;
    commit = candidate.op;
  }
  if (commit > replica.commitMax) {
    replica.commitMax = commit;
    replica.commitJournal();
    refillPipeline(replica);
  }
}

/** Primary: move queued requests into the pipeline as it drains. */
export function refillPipeline(replica: Replica): void {
  while (replica.requestQueue.length > 0 &&
    replica.pipeline.length < replica.config.pipelinePrepareQueueMax &&
    replica.op < replica.opPrepareMax && replica.realtimeSynchronized() !== null) {
    prepareRequest(replica, replica.requestQueue.shift()!);
  }
}

export function popcount(bits: number): number {
  let count = 0;
  for (let b = bits; b !== 0; b &= b - 1) count++;
  return count;
}

/** Backup: a commit heartbeat from the primary. */
export function onCommit(replica: Replica, message: Uint8Array): void {
  const commit = new CommitHeader(message, 0);
  if (commit.view > replica.view) return requestView(replica, commit.view);
  if (sameViewButBehind(replica, commit.view, commit.replica)) return requestView(replica, commit.view);
  if (replica.status !== "normal" || commit.view < replica.view || replica.isPrimary) return;
  if (commit.replica !== replica.primaryOf(replica.view)) return;
  replica.timeouts.normalHeartbeat.reset();
  replica.exitViewVotes &= ~(1 << replica.replica); // the primary is alive: withdraw our vote
  learnCommit(replica, commit.commit);
  replica.commitJournal();
}

/**
 * The primary of our view is already in normal status while we are still changing view (we
 * restarted, or missed its `view`): ask for it instead of waiting for a view change that is over.
 */
function sameViewButBehind(replica: Replica, view: number, from: number): boolean {
  return view === replica.view && replica.status === "view_change" && from === replica.primaryOf(view) &&
    from !== replica.replica;
}

/** commit_max only grows (vsr.md §17.3). */
export function learnCommit(replica: Replica, commit: number): void {
  if (commit > replica.commitMax) replica.commitMax = commit;
}

export function tickNormal(replica: Replica): void {
  const timeouts = replica.timeouts;
  if (replica.isPrimary) {
    // Queued requests wait for room in the pipeline and for a synchronised clock.
    if (replica.requestQueue.length > 0) refillPipeline(replica);
    if (timeouts.prepare.fired()) resendPrepares(replica);
    if (timeouts.primaryAbdicate.fired()) {
      timeouts.primaryAbdicate.reset();
      // Prepares are waiting and no prepare_ok came for 10 s: stop heartbeating so that the
      // backups depose us, even if we can still send small messages (vsr.md §5.6).
      replica.abdicating = replica.pipeline.length > 0;
    }
    if (timeouts.commitMessage.fired()) {
      timeouts.commitMessage.reset();
      if (!replica.abdicating) sendCommitHeartbeat(replica);
    }
  } else if (timeouts.normalHeartbeat.fired()) {
    timeouts.normalHeartbeat.reset();
    voteToExitView(replica);
  }
}

/** Primary: resend each uncommitted prepare to the replicas that have not acknowledged it. */
function resendPrepares(replica: Replica): void {
  const timeout = replica.timeouts.prepare;
  if (replica.pipeline.length === 0) return timeout.stop();
  timeout.backoff(replica.prng);
  for (const entry of replica.pipeline) {
    if (entry.message.length === 0) continue; // still being read back from the journal
    for (let node = 0; node < replica.replicaCount + replica.standbyCount; node++) {
      if (node === replica.replica) continue;
      if (node < replica.replicaCount && (entry.okFrom & (1 << node)) !== 0) continue;
      replica.sendToReplica(node, entry.message);
    }
    if ((entry.okFrom & (1 << replica.replica)) !== 0) continue;
    // Our own write may have been superseded, or its ack dropped while the view was persisting.
    if (!replica.journal.isDirty(entry.op)) ack(replica, new PrepareHeader(entry.message, 0));
    else if (!replica.journal.isWriting(entry.op, entry.checksum)) writeAndAck(replica, entry.message);
  }
}

function sendCommitHeartbeat(replica: Replica): void {
  const checksum = replica.checksumOf(replica.commitMax);
  if (checksum === null) return;
  const message = new Uint8Array(headerSize);
  const commit = new CommitHeader(message, 0);
  replica.frame(commit, Command.commit, headerSize);
  commit.commit_checksum = checksum;
  commit.checkpoint_id = replica.checkpointId();
  commit.checkpoint_op = replica.opCheckpoint;
  commit.commit = replica.commitMax;
  commit.timestamp_monotonic = replica.time.monotonic();
  setChecksums(message, 0, headerSize);
  replica.broadcast(message);
}
