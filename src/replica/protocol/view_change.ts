// View change (spec/vsr.md §6): backups that lose the primary vote to exit the view; a quorum of
// votes moves everyone to view + 1, where each replica persists its view and sends its log suffix
// (join_view) to the new primary. The new primary chooses the log (log_choice.ts), repairs what it
// lacks, and starts the view by sending `view` to the backups. Laggards ask with get_view.
import { assert } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import {
  FrameField, GetViewHeader, Header, JoinViewHeader as JoinViewMessage, PrepareField, PrepareHeader, setChecksums, ViewHeader,
  verifyHeaderChecksum,
} from "../../core/header.js";
import { Command } from "../../core/command.js";
import { chooseLog, type JoinView, type JoinViewHeader } from "../log_choice.js";
import { checkpointStateSize, decodeCheckpointState, encodeCheckpointState } from "../superblock/superblock.js";
import { cancelSync, startSync, syncNeeded, syncTargetStale } from "./sync.js";
import type { Replica } from "../replica.js";
import { countVotes } from "../quorums.js";
import { ack, ackJournal, readBackIntoPipeline, refillPipeline } from "./pipeline.js";
import { newMessage } from "../../core/message_slab.js";

// ---- exit_view votes ----

/** Our vote to leave the current view (normal backup whose primary went quiet, or a stuck view change). */
export function voteToExitView(replica: Replica): void {
  if (replica.isStandby || replica.status === "recovering_head") return;
  assert(replica.status === "normal" || replica.status === "view_change");
  assert(replica.replica < replica.replicaCount, "only active replicas vote");
  replica.exitViewVotes |= 1 << replica.replica;
  sendExitView(replica);
  if (!replica.timeouts.exitViewWindow.ticking) replica.timeouts.exitViewWindow.start();
  checkExitViewQuorum(replica);
}

function sendExitView(replica: Replica): void {
  assert(!replica.isStandby && (replica.exitViewVotes & (1 << replica.replica)) !== 0, "sending a vote not cast");
  replica.broadcast(frameOnly(replica, Command.exit_view, replica.view), false);
}

function ignoreExitView(replica: Replica, vote: Header): string | null {
  if (replica.isStandby) return "standbys do not vote";
  if (vote.replica >= replica.replicaCount) return "from a standby";
  if (vote.replica === replica.replica) return "from ourselves";
  if (replica.status === "recovering_head") return "status recovering_head";
  if (vote.view < replica.view) return "older view";
  return null;
}

export function onExitView(replica: Replica, message: Uint8Array): void {
  const vote = new Header(message, 0);
  const reason = ignoreExitView(replica, vote);
  if (reason !== null) return replica.ignored("exit_view", reason);
  assert(!replica.isStandby && vote.replica < replica.replicaCount && vote.view >= replica.view);
  // A vote to leave a newer view: the sender reached that view through a quorum of votes (or is
  // stuck there alone after the others withdrew theirs). Join it, so views cannot split.
  if (vote.view > replica.view) enterViewChange(replica, vote.view);
  assert(vote.view === replica.view);
  assert(replica.status === "normal" || replica.status === "view_change");
  replica.exitViewVotes |= 1 << vote.replica;
  assert(countVotes(replica.exitViewVotes) <= replica.replicaCount, "a vote from a non-voter");
  checkExitViewQuorum(replica);
}

/**
 * A ping or pong from an active replica in a newer view (the durable view it advertises): join that
 * view's change, as TigerBeetle's jump_view does for pings and pongs. Views advance only by a
 * quorum's votes, so a newer durable view is one the cluster reached. Without this, a primary that
 * restarted in its own view with an uncertain head waited in recovering_head for a view only it
 * could start, while the others carried on in the view before (crash-heavy VOPR seed
 * 5093316227051821357): its pings now bring them to its view, whose change fails over to the next.
 */
export function joinNewerView(replica: Replica, header: Header): void {
  if (replica.isStandby || header.replica >= replica.replicaCount) return;
  if (replica.status !== "normal" && replica.status !== "view_change") return;
  if (header.view <= replica.view) return;
  enterViewChange(replica, header.view);
}

/** A view-change quorum of votes for the current view, our own included, moves on (§6.1). */
function checkExitViewQuorum(replica: Replica): void {
  assert(!replica.isStandby && replica.status !== "recovering_head");
  if ((replica.exitViewVotes & (1 << replica.replica)) === 0) return;
  if (countVotes(replica.exitViewVotes) < replica.quorum.viewChange) return;
  const view = replica.view;
  enterViewChange(replica, view + 1);
  assert(replica.view === view + 1 && replica.status === "view_change" && replica.exitViewVotes === 0);
}

// ---- entering a view change ----

/** Moves to view_change for `view`, persists it, then sends our join_view (§6.2). */
export function enterViewChange(replica: Replica, view: number): void {
  assert(view >= replica.view && !replica.isStandby);
  if (view === replica.view && replica.status === "view_change") return;
  replica.toViewChange(view);
  assert(replica.status === "view_change" && replica.view === view && replica.pipeline.length === 0);
  // Every way into a view change goes to a view whose log this replica has not installed yet.
  assert(replica.logView < replica.view && !replica.viewLogChosen && replica.joinViews.size === 0);
  persistView(replica, () => sendJoinView(replica));
}

/**
 * Persists view, log_view and the view headers through the superblock queue, then runs `then` if
 * nothing changed meanwhile. Each update writes the latest state, so a superseded one is harmless.
 */
export function persistView(replica: Replica, then: () => void): void {
  // A view update already queued (not started) will write the latest state: just retarget it.
  if (replica.queuedViewThen !== null) {
    replica.queuedViewThen = then;
    return;
  }
  replica.queuedViewThen = then;
  replica.runSuperblockJob((done) => {
    const after = replica.queuedViewThen;
    assert(after !== null, "a queued view update lost its continuation");
    replica.queuedViewThen = null;
    const view = replica.view;
    const logView = replica.logView;
    replica.superblock.updateViewChange({
      view, log_view: logView, view_headers: replica.viewHeadersSuffix(), commit_max: replica.commitMax,
    }, () => {
      assert(replica.viewDurable === view && replica.logViewDurable === logView, "the view update is not durable");
      assert(replica.view >= view && replica.logView >= logView, "view or log_view went back");
      done();
      if (replica.view === view && replica.logView === logView) after();
    });
  });
}

// ---- join_view ----

function sendJoinView(replica: Replica): void {
  if (replica.status !== "view_change") return;
  if (replica.viewDurable !== replica.view && !replica.bugs.joinViewBeforeDurable) return;
  // A replica that installed the view's log (adopted from its primary's `view`, or chosen as the
  // new primary) needs no join_view: that is for entering a view whose log is not installed.
  if (replica.logView === replica.view) return;
  // The log_view a join_view advertises is durable (vsr.md §6.2).
  assert(!replica.isStandby && replica.logView < replica.view);
  assert(replica.logView === replica.logViewDurable || replica.bugs.joinViewBeforeDurable, "advertising a log_view not durable");
  const message = buildJoinView(replica);
  if (message === null) return replica.trace("no join_view: no head we can vouch for in our log_view");
  assert(new JoinViewMessage(message, 0).view === replica.view);
  assert(message.length >= 2 * headerSize && message.length <= replica.config.messageSizeMax, "a join_view's size");
  const primary = replica.primaryOf(replica.view);
  if (primary === replica.replica) onJoinView(replica, message);
  else replica.sendToReplica(primary, message);
}

/**
 * Our log suffix from the head down to the highest op known committed (§6.2 step 3–4). A head
 * whose header we do not know (jumped over, or installed but lost in a crash before it was
 * written, so never acknowledged) is not advertised: the JV's head must be a real header (a
 * faulty slot above it stops the JV altogether, buildJoinView). Nor is a header from a view newer
 * than our log_view: such a JV would claim a log we never installed — except the checkpoint a
 * state sync adopted when it discarded our log (see below). With no head left we send no JV at
 * all (that is safe).
 */
function suffixHeader(replica: Replica, op: number): PrepareHeader | null {
  const header = replica.headerAt(op);
  if (header === null) return null;
  // A synced checkpoint's header is committed, in every later view's log: we vouch for it in any
  // view from its own (joinViewLogView advertises that view), else three of six replicas synced
  // past their log_view sent no JV and starved the quorum (seed 12088501490416423088).
  if (replica.logDiscardedBySync && op === replica.commitMin) return header.view <= replica.view ? header : null;
  return header.view <= replica.logView ? header : null;
}

/**
 * The log_view a join_view advertises. After a state sync whose view we could not re-apply (the
 * view moved on meanwhile), our log above the checkpoint is gone: claiming log_view's log ends at
 * the checkpoint could truncate committed ops (seed 14892162328192992224), and sending nothing
 * can starve the view-change quorum (seed 5935596963316649552). Our log is then exactly the
 * checkpoint's prefix, which every later view's log extends: we advertise the view of its head,
 * so our join_view is never canonical over a log that holds more.
 */
function joinViewLogView(replica: Replica, head: number): number {
  if (!replica.logDiscardedBySync) return replica.logView;
  const header = replica.headerAt(head);
  assert(header !== null && head === replica.commitMin, "a discarded log ends at what we executed");
  assert(header.view <= replica.view, "a join_view's log_view is at most its view");
  return header.view;
}

function buildJoinView(replica: Replica): Uint8Array | null {
  // With a log discarded by sync, only the checkpoint's prefix is ours to vouch for.
  let head = replica.logDiscardedBySync ? replica.commitMin : replica.op;
  while (head > replica.commitMin && suffixHeader(replica, head) === null) head--;
  if (suffixHeader(replica, head) === null) return null;
  // A join_view that ends below a faulty slot nacks it, and the slot may hold a prepare we
  // acknowledged (its header is lost with it; restart-heavy seed 34): none until it is repaired.
  for (let op = head + 1; op <= replica.op; op++) if (replica.journal.isFaulty(op)) return null;
  assert(head >= replica.commitMin && head <= replica.op);
  const suffixMax = replica.config.viewChangeHeadersSuffixMax;
  // What we knew committed before a restart (persisted with each view change) still is: a former
  // primary that restarts knows its commit_max only from there, and nacking the committed ops it
  // never wrote could truncate them (restart-heavy seed 175).
  const committed = Math.max(replica.commitMax, replica.superblock.working!.vsr_state.commit_max);
  const count = Math.max(1, Math.min(suffixMax, head - committed + 1, head + 1));
  assert(count >= 1 && count <= suffixMax && count <= 64, "a join_view's bitsets hold 64 ops");
  const message = newMessage(headerSize * (1 + count));
  // The u64 bitsets as two u32 halves: no BigInt per op (a join_view is resent every 500 ms).
  const present = new BitHalves();
  const nack = new BitHalves();
  let above: PrepareHeader | null = null; // the header sent for op + 1, if any
  for (let i = 0; i < count; i++) {
    const op = head - i;
    let header = suffixHeader(replica, op);
    // Adjacent headers of a log chain by hash (TigerBeetle's ViewChangeHeaders.verify). One that
    // does not chain to the header above it is stale: an older view's prepare that a crash left
    // in the slot before this view's was written there (crash-heavy seed 835791073117046069). Our
    // log_view's log holds another prepare at that op, so we cannot vouch for this one, and the
    // slot is sent as if it held no header.
    // (Compared as bytes: a u128 getter makes three BigInts, and a join_view is resent every 500 ms.)
    if (header !== null && above !== null &&
      !above.u128EqualsBytes(PrepareField.parent, header.buffer, header.offset + FrameField.checksum)) header = null;
    above = header;
    if (header !== null) message.set(header.bytes(), headerSize * (1 + i));
    const faulty = replica.journal.isFaulty(op);
    const dirty = replica.journal.isDirty(op) && op !== replica.opCheckpoint;
    if (header !== null && (!dirty || replica.prepareCache.holds(op, header))) present.set(i);
    // Certain we never prepared it: no header and a healthy slot, or only held in memory.
    if ((!faulty || replica.bugs.nackFaultySlots) && (header === null || dirty)) nack.set(i);
  }
  // The head has a header we vouch for: nacked only if our copy of it is not durable.
  assert(!nack.has(0) || replica.journal.isDirty(head), "nacked our own durable head");
  const jv = new JoinViewMessage(message, 0);
  replica.frame(jv, Command.join_view, message.length);
  jv.log_view = joinViewLogView(replica, head);
  jv.op = head;
  jv.commit_min = replica.commitMin;
  jv.checkpoint_op = replica.opCheckpoint;
  jv.present_bitset = present.value();
  jv.nack_bitset = nack.value();
  assert(jv.log_view <= jv.view && jv.checkpoint_op <= jv.commit_min && jv.commit_min <= jv.op);
  setChecksums(message, 0, message.length);
  return message;
}

/** A u64 bitset kept as two u32 halves while it is built. */
class BitHalves {
  private low = 0;
  private high = 0;

  set(bit: number): void {
    assert(Number.isInteger(bit) && bit >= 0 && bit < 64, "a bit of a u64");
    if (bit < 32) this.low = (this.low | (1 << bit)) >>> 0;
    else this.high = (this.high | (1 << (bit - 32))) >>> 0;
  }

  has(bit: number): boolean {
    return ((bit < 32 ? this.low >>> bit : this.high >>> (bit - 32)) & 1) === 1;
  }

  value(): bigint {
    return (BigInt(this.high) << 32n) | BigInt(this.low);
  }
}

function ignoreJoinView(replica: Replica, jv: JoinViewMessage): string | null {
  if (replica.isStandby) return "standbys are never primary";
  if (jv.replica >= replica.replicaCount) return "from a standby";
  if (replica.primaryOf(jv.view) !== replica.replica) return "not the primary of its view";
  if (jv.view < replica.view) return "older view";
  if (jv.view > replica.view && replica.status === "recovering_head") return "status recovering_head";
  return null;
}

export function onJoinView(replica: Replica, message: Uint8Array): void {
  const jv = new JoinViewMessage(message, 0);
  const reason = ignoreJoinView(replica, jv);
  if (reason !== null) return replica.ignored("join_view", reason);
  assert(jv.view >= replica.view && jv.replica < replica.replicaCount && jv.log_view <= jv.view);
  if (jv.view > replica.view) enterViewChange(replica, jv.view);
  if (replica.status === "normal" && jv.view === replica.view) return answerLateJoinView(replica, jv);
  if (replica.status !== "view_change") return replica.ignored("join_view", `status ${replica.status}`);
  if (replica.viewLogChosen) return replica.ignored("join_view", "log already chosen");
  assert(jv.view === replica.view && replica.isPrimary && replica.status === "view_change");
  assert(replica.logView < replica.view, "the log of this view is not chosen yet");
  if (!replica.joinViews.has(jv.replica)) replica.joinViews.set(jv.replica, message.slice());
  assert(replica.joinViews.has(jv.replica) && replica.joinViews.size <= replica.replicaCount);
  if (!replica.joinViews.has(replica.replica)) return; // our own JV counts once it is durable
  if (replica.joinViews.size < replica.quorum.viewChange) return;
  assert(replica.joinViews.size <= replica.replicaCount);
  const jvs = [...replica.joinViews.values()].map(decodeJoinView);
  const choice = chooseLog({
    replicaCount: replica.replicaCount,
    pipelinePrepareQueueMax: replica.config.pipelinePrepareQueueMax,
    jvs,
    bugs: replica.bugs,
  });
  if (choice.kind !== "complete") return replica.trace(`log choice ${choice.kind} at op ${choice.op}`);
  // As TigerBeetle's on_join_view: the forfeit rule applies once the quorum's log is complete,
  // with the commit_max it implies.
  if (forfeit(replica, Math.max(replica.commitMax, choice.commitMax))) return;
  // Some replica held ops above the chosen head: the view change discards them (never committed).
  if (jvs.some((jv) => jv.op > choice.headOp)) replica.probe("view_change_truncated");
  assert(choice.commitMax <= choice.headOp && choice.headers.length === choice.headOp - choice.commitMax);
  installLog(replica, choice.headers, choice.headOp, choice.commitMax);
  assert(replica.viewLogChosen && replica.logView === replica.view && replica.op === choice.headOp);
  assert(replica.commitMax >= choice.commitMax);
  persistView(replica, () => startViewIfReady(replica));
}

/**
 * A join_view for the view we already started: its sender missed our `view` (lost, or sent before
 * it joined) and waits in view_change. Without an answer it can only vote to leave a view that
 * works — and where the view-change quorum needs it (two active replicas), the cluster would wait
 * forever (seed 5660443592136578265). The `view` is what it would have received.
 */
function answerLateJoinView(replica: Replica, jv: JoinViewMessage): void {
  assert(replica.status === "normal" && replica.isPrimary && jv.view === replica.view);
  if (jv.replica === replica.replica) return replica.ignored("join_view", "our own, after the view started");
  if (replica.viewDurable !== replica.view) return replica.ignored("join_view", "our view is not durable yet");
  replica.sendToReplica(jv.replica, buildView(replica, 0n));
}

/**
 * §6.3.4: a would-be primary behind a join_view's checkpoint forfeits (votes to leave the view, so
 * the cluster moves on to another primary), as TigerBeetle's on_join_view does:
 * - always when the checkpoint after ours is durable (`commitMax` is past its trigger + pipeline):
 *   peers may have wrapped past ops we would have to repair, and the chosen head may lie beyond
 *   our prepare window;
 * - otherwise only while the replicas ahead of us have not all had their chance to lead
 *   (view − log_view < replica count). After that we lead ourselves: nobody may yet overwrite
 *   the ops above our checkpoint, and the head is within our prepare window. Forfeiting for ever
 *   starved the cluster when the only replicas at the newer, not durable checkpoint could not
 *   execute from it (a grid block lost on both; VOPR seed 15831440626752243155).
 */
function forfeit(replica: Replica, commitMax: number): boolean {
  let checkpointMax = 0;
  for (const message of replica.joinViews.values()) {
    checkpointMax = Math.max(checkpointMax, new JoinViewMessage(message, 0).checkpoint_op);
  }
  if (checkpointMax <= replica.opCheckpoint) return false;
  const nextDurable = replica.math.checkpointDurable(replica.math.checkpointAfter(replica.opCheckpoint), commitMax);
  if (!nextDurable && replica.view - replica.logView >= replica.replicaCount) return false;
  replica.probe("primary_forfeited");
  replica.joinViews.clear();
  voteToExitView(replica);
  assert(replica.status === "view_change" && !replica.viewLogChosen);
  return true;
}

function decodeJoinView(message: Uint8Array): JoinView {
  const jv = new JoinViewMessage(message, 0);
  assert(jv.size === message.length && (jv.size - headerSize) % headerSize === 0, "a join_view of whole headers");
  const headers: (JoinViewHeader | null)[] = [];
  for (let offset = headerSize; offset < jv.size; offset += headerSize) {
    headers.push(decodeSuffixHeader(message, offset));
  }
  return {
    replica: jv.replica, log_view: jv.log_view, op: jv.op, commit_min: jv.commit_min,
    checkpoint_op: jv.checkpoint_op, headers, present_bitset: jv.present_bitset,
    nack_bitset: jv.nack_bitset,
  };
}

function decodeSuffixHeader(message: Uint8Array, offset: number): JoinViewHeader | null {
  assert(offset >= headerSize && offset + headerSize <= message.length);
  if (!verifyHeaderChecksum(message, offset)) return null; // a blank
  const header = new PrepareHeader(message, offset);
  if (header.command !== Command.prepare) return null;
  return { op: header.op, checksum: header.checksum, parent: header.parent, view: header.view, commit: header.commit };
}

/** Installs the chosen suffix: headers we lack become dirty (to repair), the rest is truncated. */
/**
 * Installs the chosen log: the surviving uncommitted headers, and the committed headers that the
 * canonical JVs carry (at least the head's), so that a primary which lagged still knows its own
 * head — its next JV must not show a canonical log shorter than what is committed.
 */
function installLog(replica: Replica, headers: readonly JoinViewHeader[], headOp: number, commitMax: number): void {
  assert(replica.status === "view_change" && replica.isPrimary && !replica.viewLogChosen);
  installCanonicalCommitted(replica, Math.min(headOp, commitMax));
  for (const chosen of headers) {
    // The survivors are the uncommitted ops of the chosen log.
    assert(chosen.op > commitMax && chosen.op <= headOp, "a chosen header outside the surviving suffix");
    const existing = replica.journal.header(chosen.op);
    if (existing !== null && existing.checksum === chosen.checksum) continue;
    if (!replica.installable(chosen.op)) continue;
    const bytes = findHeaderBytes(replica, chosen);
    assert(bytes !== null, "a chosen header comes from some join_view");
    replica.journal.setHeader(bytes);
    assert(replica.journal.header(chosen.op)?.checksum === chosen.checksum, "the chosen header is not held");
  }
  replica.journal.truncateAfter(headOp);
  replica.chooseLogOfView(headOp);
  replica.advanceCommitMax(commitMax);
}

/** Headers of committed ops (≤ commitMax) from the JVs with the highest log_view. */
function installCanonicalCommitted(replica: Replica, commitMax: number): void {
  let logViewMax = 0;
  for (const message of replica.joinViews.values()) logViewMax = Math.max(logViewMax, new JoinViewMessage(message, 0).log_view);
  for (const message of replica.joinViews.values()) {
    if (new JoinViewMessage(message, 0).log_view !== logViewMax) continue;
    for (let offset = headerSize; offset < message.length; offset += headerSize) {
      if (!verifyHeaderChecksum(message, offset)) continue;
      const header = new PrepareHeader(message, offset);
      if (header.command !== Command.prepare || header.op <= replica.commitMin || header.op > commitMax) continue;
      const existing = replica.journal.header(header.op);
      // Canonical: replaces whatever differs (a stale header may carry a higher, aborted view).
      if ((existing === null || existing.checksum !== header.checksum) && replica.installable(header.op)) {
        assert(header.cluster === replica.cluster, "installing a header of another cluster");
        replica.journal.setHeader(message.slice(offset, offset + headerSize));
      }
    }
  }
}

function findHeaderBytes(replica: Replica, chosen: JoinViewHeader): Uint8Array | null {
  for (const message of replica.joinViews.values()) {
    for (let offset = headerSize; offset < message.length; offset += headerSize) {
      if (!verifyHeaderChecksum(message, offset)) continue;
      const header = new PrepareHeader(message, offset);
      if (header.op === chosen.op && header.checksum === chosen.checksum) {
        assert(header.command === Command.prepare && header.cluster === replica.cluster, "not a prepare of ours");
        return message.slice(offset, offset + headerSize);
      }
    }
  }
  return null;
}

/**
 * The new primary starts the view once it holds every header and every prepare from commit_min to
 * the head (it must re-replicate the uncommitted ones and execute the committed ones).
 */
export function startViewIfReady(replica: Replica): void {
  if (replica.status !== "view_change" || !replica.viewLogChosen || replica.superblockUpdating) return;
  if (replica.viewDurable !== replica.view || replica.logViewDurable !== replica.view) return;
  assert(replica.isPrimary && replica.logView === replica.view, "only the new primary starts a view");
  assert(replica.op - replica.commitMin <= replica.journal.slotCount, "the head is more than a wrap ahead");
  for (let op = replica.commitMin + 1; op <= replica.op; op++) {
    const header = replica.journal.header(op);
    if (header === null) return;
    if (replica.bugs.primaryWithoutPrepares && op > replica.commitMax) continue;
    if (replica.journal.isDirty(op) && replica.prepareCache.get(op, header.checksum) === null) return;
  }
  const view = replica.view;
  replica.commitJournal(() => {
    // The journal reads of the commit loop take time: the view may have moved on meanwhile (to
    // one whose log we have not chosen), and then this view is not ours to start.
    if (replica.view !== view || !replica.viewLogChosen) return replica.trace(`view ${view} abandoned before it started`);
    if (replica.status !== "view_change" || replica.commitMin < replica.commitMax) return;
    assert(replica.viewLogChosen && replica.commitMin === replica.commitMax && replica.view === view);
    replica.toNormal(replica.view);
    assert(replica.isPrimary && replica.pipeline.length === 0 && replica.requestQueue.length === 0);
    loadPipeline(replica);
    replica.broadcast(buildView(replica, 0n));
  });
}

/** The surviving uncommitted ops become the new pipeline, re-prepared in the new view. */
function loadPipeline(replica: Replica): void {
  assert(replica.pipeline.length === 0 && replica.isPrimary && replica.status === "normal");
  assert(replica.op - replica.commitMax <= replica.config.pipelinePrepareQueueMax, "the surviving suffix overflows the pipeline");
  assert(replica.commitMin === replica.commitMax, "the new primary executed everything committed first");
  for (let op = replica.commitMax + 1; op <= replica.op; op++) {
    const header = replica.journal.header(op);
    assert(header !== null, "starting a view without a header of its log");
    assert(replica.pipeline.length === op - replica.commitMax - 1, "the pipeline is the suffix, in op order");
    const cached = replica.prepareCache.get(op, header.checksum);
    if (cached !== null) {
      replica.pipeline.push({
        message: cached, op, checksum: header.checksum, client: header.client, operation: header.operation, okFrom: 0,
      });
      continue;
    }
    // The prepare is durable in our journal: read it back into the pipeline.
    const entry = {
      message: new Uint8Array(0), op, checksum: header.checksum, client: header.client, operation: header.operation, okFrom: 0,
    };
    replica.pipeline.push(entry);
    readBackIntoPipeline(replica, entry);
  }
  for (const entry of replica.pipeline) {
    if (entry.message.length > 0) ack(replica, new PrepareHeader(entry.message, 0));
  }
  assert(replica.pipeline.length <= replica.config.pipelinePrepareQueueMax);
  if (replica.pipeline.length > 0) replica.timeouts.prepare.start();
  refillPipeline(replica);
}

// ---- view (start_view) ----

/** `view` body: the primary's CheckpointState (for state sync), then its log suffix, head first. */
function buildView(replica: Replica, nonce: bigint): Uint8Array {
  assert(replica.status === "normal" && replica.isPrimary, "only a normal primary sends its view");
  assert(replica.viewDurable === replica.view, "advertising a view that is not durable");
  const checkpoint = encodeCheckpointState(replica.superblock.working!.vsr_state.checkpoint);
  const headers = replica.viewHeadersSuffix();
  const headersOffset = headerSize + checkpointStateSize;
  const message = new Uint8Array(headersOffset + headerSize * headers.length);
  message.set(checkpoint, headerSize);
  headers.forEach((header, i) => message.set(header, headersOffset + headerSize * i));
  const view = new ViewHeader(message, 0);
  replica.frame(view, Command.view, message.length);
  view.nonce = nonce;
  view.op = replica.op;
  view.commit_max = replica.commitMax;
  view.checkpoint_op = replica.opCheckpoint;
  assert(view.commit_max <= view.op && view.checkpoint_op <= view.commit_max, "a view's ops out of order");
  setChecksums(message, 0, message.length);
  return message;
}

function ignoreView(replica: Replica, view: ViewHeader): string | null {
  if (view.replica !== replica.primaryOf(view.view)) return "not from the primary of its view";
  if (view.replica === replica.replica) return "from ourselves";
  if (view.view < replica.view) return "older view";
  if (view.view === replica.view && replica.status === "normal" && view.nonce !== replica.getViewNonce) {
    return "same view, not an answer to our get_view";
  }
  // Within one view the log only grows: a `view` of our log_view with a shorter head is an old
  // copy (a late answer to get_view, or a replayed packet). Installing it would truncate ops we
  // may have acknowledged in this very view, and lose them if they were committed (seed
  // 8426034893311763903).
  if (view.view === replica.logView && view.op < replica.op) return "stale: our log of this view is longer";
  const headersOffset = headerSize + checkpointStateSize;
  if (view.size < headersOffset + headerSize || (view.size - headersOffset) % headerSize !== 0) return "bad size";
  return null;
}

/** Why the body of a `view` is unusable (its checkpoint or a suffix header is invalid), or null. */
function ignoreViewBody(message: Uint8Array, size: number): string | null {
  const headersOffset = headerSize + checkpointStateSize;
  if (decodeCheckpointState(message.subarray(headerSize, headersOffset)) === null) return "bad checkpoint state";
  for (let offset = headersOffset; offset < size; offset += headerSize) {
    if (!verifyHeaderChecksum(message, offset) || new PrepareHeader(message, offset).command !== Command.prepare) {
      return "bad header in the suffix";
    }
  }
  return null;
}

/** A backup installs the new primary's log suffix and enters normal status (§6.4). */
export function onView(replica: Replica, message: Uint8Array): void {
  const view = new ViewHeader(message, 0);
  const reason = ignoreView(replica, view) ?? ignoreViewBody(message, view.size);
  if (reason !== null) return replica.ignored("view", reason);
  assert(view.view >= replica.view && view.replica !== replica.replica);
  assert(replica.primaryOf(view.view) !== replica.replica, "a view from the primary of a view that is ours");
  const headersOffset = headerSize + checkpointStateSize;
  assert(view.size === message.length && (view.size - headersOffset) % headerSize === 0, "a view of whole headers");
  const checkpoint = decodeCheckpointState(message.subarray(headerSize, headersOffset))!;
  const checkpointOp = new PrepareHeader(checkpoint.header, 0).op;
  if (replica.syncing !== null) {
    // A newer checkpoint than the one we are fetching replaces it; otherwise keep fetching.
    if (!syncTargetStale(replica, checkpointOp)) return replica.ignored("view", "syncing, and making progress or at least as new");
    cancelSync(replica);
  }
  assert(replica.syncing === null);
  if (syncNeeded(replica, checkpointOp, view.op, view.commit_max)) {
    return startSync(replica, checkpoint, message, view.replica);
  }
  if (view.op > replica.opPrepareMax) return replica.ignored("view", "head beyond our WAL until the checkpoint is durable");
  assert(view.op <= replica.opPrepareMax && checkpointOp <= replica.opPrepareMax);
  installView(replica, message, headersOffset);
  assert(replica.view === view.view && replica.logView === view.view && replica.status === "view_change");
}

function installView(replica: Replica, message: Uint8Array, headersOffset: number): void {
  const view = new ViewHeader(message, 0);
  assert(replica.syncing === null && view.op <= replica.opPrepareMax);
  // Only an answer to a get_view carries a nonce: we lagged behind the view, and asked for it.
  if (view.nonce !== 0n) replica.probe("view_adopted_by_laggard");
  for (let offset = headersOffset; offset < view.size; offset += headerSize) {
    const header = new PrepareHeader(message, offset);
    if (header.op <= replica.commitMin) continue;
    const existing = replica.journal.header(header.op);
    if ((existing === null || existing.checksum !== header.checksum) && replica.installable(header.op)) {
      assert(header.command === Command.prepare && header.cluster === replica.cluster, "not a prepare of ours");
      replica.journal.setHeader(message.slice(offset, offset + headerSize));
    }
  }
  // The message buffer belongs to the bus only until we return: keep what the callback needs.
  const newView = view.view;
  const head = Math.max(view.op, replica.commitMin);
  replica.journal.truncateAfter(head);
  replica.adoptView(newView, head); // in view_change until the view is durable
  assert(replica.op === head && replica.view === newView && replica.logView === newView);
  replica.advanceCommitMax(view.commit_max);
  assert(replica.commitMax >= view.commit_max);
  persistView(replica, () => {
    assert(replica.view === newView && replica.logView === newView, "persisted another view than adopted");
    // A second `view` of the same view may have been persisted meanwhile and finished first.
    if (replica.status === "view_change") replica.toNormal(newView);
    assert(replica.status === "normal");
    ackJournal(replica);
    replica.commitJournal();
  });
}

/** A laggard asks the primary of a newer view for its `view` message. */
export function requestView(replica: Replica, view: number): void {
  assert(view >= replica.view);
  if (replica.isStandby && replica.status !== "normal") return;
  if (replica.timeouts.getViewMessage.ticking && replica.status === "normal") return;
  replica.getViewNonce = BigInt(replica.prng.nextU32()) + 1n;
  sendGetView(replica, replica.primaryOf(view), view);
}

function ignoreGetView(replica: Replica, request: GetViewHeader): string | null {
  if (!replica.isPrimary) return "not primary";
  if (replica.status !== "normal") return `status ${replica.status}`;
  if (request.view > replica.view) return "newer view";
  if (replica.viewDurable !== replica.view) return "our view is not durable yet";
  if (request.replica === replica.replica) return "from ourselves";
  return null;
}

export function onGetView(replica: Replica, message: Uint8Array): void {
  const request = new GetViewHeader(message, 0);
  const reason = ignoreGetView(replica, request);
  if (reason !== null) return replica.ignored("get_view", reason);
  assert(replica.isPrimary && replica.status === "normal" && replica.viewDurable === replica.view);
  assert(request.view <= replica.view && request.replica !== replica.replica);
  replica.sendToReplica(request.replica, buildView(replica, request.nonce));
}

export function tickViewChange(replica: Replica): void {
  assert(replica.status === "view_change" || replica.status === "recovering_head");
  const timeouts = replica.timeouts;
  if (replica.status === "recovering_head") {
    if (timeouts.getViewMessage.fired()) {
      timeouts.getViewMessage.reset();
      // One nonce per round: any replica's answer to this round is accepted.
      replica.getViewNonce = BigInt(replica.prng.nextU32()) + 1n;
      for (let r = 0; r < replica.replicaCount; r++) if (r !== replica.replica) sendGetView(replica, r, replica.view);
    }
    return;
  }
  if (timeouts.viewChangeStatus.fired()) {
    timeouts.viewChangeStatus.reset();
    voteToExitView(replica);
  }
  assert(replica.status === "view_change" && (!replica.viewLogChosen || replica.isPrimary));
  if (timeouts.joinViewMessage.fired()) {
    timeouts.joinViewMessage.reset();
    if (replica.viewLogChosen) startViewIfReady(replica);
    else sendJoinView(replica);
  }
  if (timeouts.exitViewMessage.fired()) {
    timeouts.exitViewMessage.reset();
    if ((replica.exitViewVotes & (1 << replica.replica)) !== 0) sendExitView(replica);
  }
}

function sendGetView(replica: Replica, target: number, view: number): void {
  assert(target !== replica.replica && replica.getViewNonce !== 0n);
  assert(target < replica.replicaCount, "get_view goes to an active replica");
  const message = frameOnly(replica, Command.get_view, view);
  new GetViewHeader(message, 0).nonce = replica.getViewNonce;
  setChecksums(message, 0, headerSize);
  replica.sendToReplica(target, message);
}

/** A 256-byte message with only the frame filled (exit_view, get_view before its nonce). */
function frameOnly(replica: Replica, command: number, view: number): Uint8Array {
  const message = newMessage(headerSize);
  replica.frame(new Header(message, 0), command, headerSize, view);
  setChecksums(message, 0, headerSize);
  return message;
}
