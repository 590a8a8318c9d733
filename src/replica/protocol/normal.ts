// Normal operation (spec/vsr.md §5): backups write each prepare from the primary of their view and
// acknowledge it once durable (pipeline.ts); the primary counts prepare_oks and commits; commit
// heartbeats keep backups informed and prove the primary alive.
//
// Each handler first runs its `ignore*` check, which names why a message is dropped (trace.ts);
// what follows the check asserts what must then hold.
import { assert } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import { CommitHeader, PrepareHeader, PrepareOkHeader, setChecksums } from "../../core/header.js";
import { Command } from "../../core/command.js";
import type { Replica } from "../replica.js";
import { ack, countPrepareOk, fillPipelineEntry, readBackIntoPipeline, refillPipeline, writeAndAck } from "./pipeline.js";
import { requestView, startViewIfReady, voteToExitView } from "./view_change.js";
import { tickRepairSync } from "./repair.js";
import { newMessage } from "../../core/message_slab.js";

// ---- prepare ----

/** Why a prepare is dropped outright (before it may still serve repair), or null. */
function ignorePrepare(replica: Replica, prepare: PrepareHeader): string | null {
  if (prepare.op === 0) return "the root prepare is never sent";
  if (prepare.replica !== replica.primaryOf(prepare.view)) return "not from the primary of its view";
  return null;
}

/** Backup (or standby): a prepare from the primary of its view. */
export function onPrepare(replica: Replica, message: Uint8Array): void {
  const prepare = new PrepareHeader(message, 0);
  const reason = ignorePrepare(replica, prepare);
  if (reason !== null) return replica.ignored("prepare", reason);
  // Validated on receipt: a prepare's commit is below its op (wire.md §4).
  assert(prepare.op > 0 && prepare.commit < prepare.op, "a prepare committing itself");
  assert(prepare.replica < replica.replicaCount && prepare.size === message.length);
  if (prepare.view > replica.view) {
    replica.ignored("prepare", "newer view (asking for it)");
    return requestView(replica, prepare.view);
  }
  if (sameViewButBehind(replica, prepare.view, prepare.replica)) requestView(replica, prepare.view);
  // Outside normal status, or from an older view, a prepare can only repair a header we hold.
  if (replica.status !== "normal" || prepare.view < replica.view || replica.isPrimary) {
    return repairFromPrepare(replica, message);
  }
  assert(replica.status === "normal" && prepare.view === replica.view && !replica.isPrimary);
  assert(prepare.replica === replica.primaryOf(replica.view));
  assert(replica.logView === replica.view, "a backup in normal status has the view's log");
  replica.timeouts.normalHeartbeat.reset();
  replica.advanceCommitMax(prepare.commit);
  assert(replica.commitMax >= prepare.commit);
  const op = prepare.op;
  if (op <= replica.op) return repairFromPrepare(replica, message);
  if (op > replica.opPrepareMax) return replica.ignored("prepare", "beyond the WAL until we checkpoint");
  assert(op > replica.op && op <= replica.opPrepareMax);
  if (op === replica.op + 1) {
    const head = replica.headerAt(replica.op);
    // The primary of a view prepares each op once, so its prepares chain within the view.
    assert(head === null || head.checksum === prepare.parent || head.view !== prepare.view,
      `fork in view ${prepare.view} at op ${op}`);
  }
  // A gap (op > head + 1) jumps the head; the missing headers are repaired backwards later.
  replica.advanceHead(op);
  assert(replica.op === op && replica.op > replica.commitMin);
  const copy = message.slice();
  replica.prepareCache.put(copy);
  // The ops this prepare commits execute once its acknowledgement is on its way: the primary
  // waits for our ack, not for our execution (which blocked the ack by a whole batch's execution
  // when it ran first). If the write is slow, commit heartbeats and the repair timeout commit.
  writeAndAck(replica, copy, replica.commitJournalAfterAck);
}

/** Why a prepare at or below our head (or from another view) cannot repair our log, or null. */
/** An op we executed whose prepare, exactly this one, is still durable in our WAL. */
function executedAndHeld(replica: Replica, prepare: PrepareHeader): boolean {
  const op = prepare.op;
  if (op > replica.commitMin || op <= replica.opCheckpoint || replica.journal.isDirty(op)) return false;
  const held = replica.journal.header(op);
  return held !== null && held.checksum === prepare.checksum;
}

function ignoreRepairPrepare(replica: Replica, prepare: PrepareHeader): string | null {
  const op = prepare.op;
  if (op <= replica.commitMin && !replica.journal.isDirty(op)) return "already executed";
  if (op > replica.op) return "beyond our head";
  if (op > replica.opPrepareMax) return "beyond the WAL until we checkpoint";
  return null;
}

/**
 * A prepare at or below our head: the current primary's prepare replaces a missing or older-view
 * header; a prepare matching our header is written if its slot still needs it, or acknowledged
 * again if it is already durable (our prepare_ok may have been lost).
 */
export function repairFromPrepare(replica: Replica, message: Uint8Array): void {
  const prepare = new PrepareHeader(message, 0);
  if (executedAndHeld(replica, prepare)) {
    // A new primary re-replicates the uncommitted suffix it inherited, and needs a replication
    // quorum of acks even for ops an earlier view already committed (and we executed): without
    // ours it may never reach one (seed 18153026792772691287). Our WAL holds this very prepare.
    return ack(replica, prepare);
  }
  const reason = ignoreRepairPrepare(replica, prepare);
  if (reason !== null) return replica.ignored("prepare", reason);
  const op = prepare.op;
  assert(op <= replica.op && op <= replica.opPrepareMax);
  assert(op > replica.commitMin || replica.journal.isDirty(op), "repairing an executed op whose slot is clean");
  const existing = replica.journal.header(op);
  const fromPrimary = prepare.view === replica.view && prepare.replica === replica.primaryOf(replica.view);
  if (existing !== null && existing.checksum === prepare.checksum) {
    assert(existing.op === op, "the journal's header of another op");
    const copy = message.slice();
    replica.prepareCache.put(copy);
    if (!replica.journal.isDirty(op)) ack(replica, prepare);
    else if (!replica.journal.isWriting(op, prepare.checksum)) {
      replica.probe("wal_prepare_repaired");
      replica.notice("repair_prepare", () => `repaired prepare op ${op} (view ${prepare.view}) from replica ${prepare.replica}`);
      writeAndAck(replica, copy);
    }
  } else if (fromPrimary && replica.status === "normal" && replica.installable(op)) {
    // The current primary's prepare in the current view is canonical: it replaces a missing
    // header or a stale one (which may even carry a higher view, from an aborted view).
    assert(!replica.isPrimary, "a primary's own prepare is already in its journal");
    assert(op > replica.commitMin && prepare.view === replica.view, "only uncommitted ops of our view are replaced");
    const copy = message.slice();
    replica.prepareCache.put(copy);
    replica.probe("wal_prepare_repaired");
    replica.notice("repair_prepare", () => `replaced prepare op ${op} with the primary's (view ${prepare.view})`);
    writeAndAck(replica, copy);
  } else {
    return replica.ignored("prepare", existing === null ? "no header to repair with it" : "does not match our header");
  }
  if (replica.status === "view_change") startViewIfReady(replica);
  else replica.commitJournal();
}

// ---- prepare_ok ----

function ignorePrepareOk(replica: Replica, ok: PrepareOkHeader): string | null {
  if (!replica.isPrimary) return "not primary";
  if (replica.status !== "normal") return `status ${replica.status}`;
  if (ok.view < replica.view) return "older view";
  if (ok.view > replica.view) return "newer view";
  if (ok.replica >= replica.replicaCount) return "from a standby";
  if (ok.replica === replica.replica) return "from ourselves";
  return null;
}

/** Primary: a backup holds the prepare durably. */
export function onPrepareOk(replica: Replica, message: Uint8Array): void {
  const ok = new PrepareOkHeader(message, 0);
  const reason = ignorePrepareOk(replica, ok);
  if (reason !== null) return replica.ignored("prepare_ok", reason);
  assert(replica.isPrimary && replica.status === "normal" && ok.view === replica.view);
  assert(ok.replica < replica.replicaCount && ok.replica !== replica.replica);
  assert(message.length === headerSize, "a prepare_ok is a bare header");
  countPrepareOk(replica, ok.op, ok.prepare_checksum, ok.replica);
}

// ---- commit ----

function ignoreCommit(replica: Replica, commit: CommitHeader): string | null {
  if (commit.replica !== replica.primaryOf(commit.view)) return "not from the primary of its view";
  if (commit.view < replica.view) return "older view";
  if (commit.replica === replica.replica) return "from ourselves";
  return null;
}

/** Backup: a commit heartbeat from the primary. */
export function onCommit(replica: Replica, message: Uint8Array): void {
  const commit = new CommitHeader(message, 0);
  const reason = ignoreCommit(replica, commit);
  if (reason !== null) return replica.ignored("commit", reason);
  assert(commit.view >= replica.view && commit.replica < replica.replicaCount);
  if (commit.view > replica.view || sameViewButBehind(replica, commit.view, commit.replica)) {
    replica.ignored("commit", commit.view > replica.view ? "newer view (asking for it)" : "view still changing here");
    return requestView(replica, commit.view);
  }
  if (replica.status !== "normal") return replica.ignored("commit", `status ${replica.status}`);
  assert(replica.status === "normal" && commit.view === replica.view && !replica.isPrimary);
  assert(commit.replica === replica.primaryOf(replica.view));
  replica.timeouts.normalHeartbeat.reset();
  replica.exitViewVotes &= ~(1 << replica.replica); // the primary is alive: withdraw our vote
  replica.advanceCommitMax(commit.commit);
  assert(replica.commitMax >= commit.commit && (replica.exitViewVotes & (1 << replica.replica)) === 0);
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

// ---- the tick ----

export function tickNormal(replica: Replica): void {
  assert(replica.status === "normal");
  const timeouts = replica.timeouts;
  assert(replica.logView === replica.view, "normal status without the view's log");
  if (replica.isPrimary) {
    // Queued requests wait for room in the pipeline and for a synchronised clock.
    if (replica.requestQueue.length > 0) refillPipeline(replica);
    if (timeouts.prepare.fired()) resendPrepares(replica);
    if (timeouts.primaryAbdicate.fired()) {
      timeouts.primaryAbdicate.reset();
      // Prepares are waiting and no prepare_ok came for 10 s: stop heartbeating so that the
      // backups depose us, even if we can still send small messages (vsr.md §5.6).
      replica.abdicating = replica.pipeline.length > 0;
      if (replica.abdicating) replica.probe("primary_abdicated");
    }
    if (timeouts.commitMessage.fired()) {
      timeouts.commitMessage.reset();
      if (!replica.abdicating) sendCommitHeartbeat(replica);
    }
  } else {
    if (timeouts.repairSync.fired()) {
      timeouts.repairSync.reset();
      tickRepairSync(replica);
    }
    if (timeouts.normalHeartbeat.fired()) {
      timeouts.normalHeartbeat.reset();
      if (!replica.isStandby) replica.probe("view_change_by_timeout");
      voteToExitView(replica);
    }
  }
}

/** Primary: resend each uncommitted prepare to the replicas that have not acknowledged it. */
function resendPrepares(replica: Replica): void {
  assert(replica.isPrimary && replica.status === "normal");
  const timeout = replica.timeouts.prepare;
  if (replica.pipeline.length === 0) return timeout.stop();
  assert(replica.pipeline.length <= replica.config.pipelinePrepareQueueMax);
  timeout.backoff(replica.prng);
  for (const entry of replica.pipeline) {
    if (entry.message.length === 0) {
      // Its read-back failed, or is still in flight. Skipped for good, the op was never sent
      // again and a 2-replica cluster stalled (crash-heavy VOPR seed 9400690418971263029).
      const cached = replica.prepareCache.get(entry.op, entry.checksum);
      if (cached !== null) fillPipelineEntry(replica, entry, cached);
      else if (entry.readingBack !== true && !replica.journal.isDirty(entry.op)) readBackIntoPipeline(replica, entry);
      // Filling it counted our own prepare_ok, which may have committed it.
      if (entry.message.length === 0 || entry.op <= replica.commitMin) continue;
    }
    assert(entry.op > replica.commitMin && entry.op <= replica.op);
    assert(entry.message.length >= headerSize, "a pipeline entry holds a whole prepare");
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
  assert(replica.isPrimary && replica.status === "normal" && !replica.abdicating);
  // A primary learns commits only from its own quorum: never beyond its head.
  assert(replica.commitMax >= replica.commitMin && replica.commitMax <= replica.op);
  const checksum = replica.checksumOf(replica.commitMax);
  if (checksum === null) return;
  const message = newMessage(headerSize);
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
