// The primary's pipeline (spec/vsr.md §5.1–§5.4): a checked request becomes the next prepare
// (op + 1, chained to the head, stamped with cluster time), is written locally and sent to every
// replica; replicas acknowledge once it is durable; the primary commits, in op order, each op that
// a replication quorum holds. Backups use writeAndAck/ack for the prepares they receive.
import { assert, assertFailed } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import { Command, Operation } from "../../core/command.js";
import {
  PrepareField, PrepareHeader, PrepareOkHeader, RequestHeader, setChecksums,
} from "../../core/header.js";
import { prepareTimestamp } from "../../core/ledger/timestamps.js";
import { pipelineCommit } from "../quorums.js";
import type { PipelineEntry, Replica } from "../replica.js";
import { newMessage } from "../../core/message_slab.js";

/** Primary: append a new prepare to the pipeline, write it locally and send it to everyone. */
export function prepareAndReplicate(replica: Replica, prepare: Uint8Array): void {
  const header = new PrepareHeader(prepare, 0);
  assert(replica.isPrimary && replica.status === "normal", "only a normal primary prepares");
  assert(replica.viewDurable === replica.view, "preparing in a view that is not durable");
  assert(header.op === replica.op + 1 && header.op <= replica.opPrepareMax, "prepare beyond the head");
  assert(header.view === replica.view, "a prepare of another view");
  assert(replica.pipeline.length < replica.config.pipelinePrepareQueueMax, "pipeline full");
  replica.advanceHead(header.op);
  if (header.op % replica.journal.slotCount === 0) replica.probe("wal_wrapped"); // over op − slot_count
  replica.pipeline.push({
    message: prepare, op: header.op, checksum: header.checksum, client: header.client,
    operation: header.operation, okFrom: 0,
  });
  replica.prepareCache.put(prepare);
  writeAndAck(replica, prepare);
  replica.broadcast(prepare);
  replica.warmPrefetch(prepare); // while the WAL write and the replication are in flight
  if (!replica.timeouts.prepare.ticking) replica.timeouts.prepare.start();
  assert(replica.op === header.op && replica.pipeline.at(-1)!.op === header.op);
}

/**
 * Writes a prepare to the local WAL; once it is durable, acknowledges it to the primary of its
 * view (or counts it, on the primary). A standby never acknowledges. `then` runs after that,
 * whether or not the write landed.
 */
export function writeAndAck(replica: Replica, prepare: Uint8Array, then?: () => void): void {
  const header = new PrepareHeader(prepare, 0);
  const op = header.op;
  const checksum = header.checksum;
  assert(op > 0 && op <= replica.opPrepareMax, "writing a prepare beyond the WAL's capacity");
  if (replica.bugs.ackBeforeDurable && !replica.isPrimary) ack(replica, header);
  replica.journal.writePrepare(prepare, (written) => {
    if (written && replica.checksumOf(op) === checksum) ack(replica, new PrepareHeader(prepare, 0));
    then?.();
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
  // Nor does one whose log above a synced checkpoint is gone until a `view` reinstalls it: its
  // join_view vouches only for the checkpoint, so an op it acknowledged could be committed with
  // its vote and then left out of the next view's log (VOPR seed 6539340119490041589).
  if (replica.logDiscardedBySync) return;
  // Never acknowledge in a view that is not durable (vsr.md §6.2, §17.6).
  if (replica.viewDurable !== view) return;
  // Nor beyond what our durable checkpoint lets us vouch for: ackJournal() catches up once the
  // next checkpoint is durable (a sync's durability rule counts on it, checkpoint_math.ts).
  if (prepare.op > replica.math.opPrepareOkMax(replica.opCheckpoint)) return;
  assert(!replica.isStandby && replica.status === "normal" && replica.viewDurable === view);
  assert(prepare.op <= replica.op, "acknowledging beyond the head");
  if (replica.isPrimary) return countPrepareOk(replica, prepare.op, prepare.checksum, replica.replica);
  replica.sendToReplica(replica.primaryOf(view), buildPrepareOk(replica, prepare));
}

/** Acknowledges every durable prepare above commit_max (after a view install or a checkpoint). */
export function ackJournal(replica: Replica): void {
  for (let op = replica.commitMax + 1; op <= replica.op; op++) {
    const header = replica.journal.header(op);
    if (header !== null && !replica.journal.isDirty(op)) ack(replica, new PrepareHeader(header.bytes(), 0));
  }
}

function buildPrepareOk(replica: Replica, prepare: PrepareHeader): Uint8Array {
  assert(!replica.isPrimary && prepare.command === Command.prepare);
  const message = newMessage(headerSize);
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

/** Primary: `from` holds the prepare (op, checksum) durably; commit what a quorum now holds. */
export function countPrepareOk(replica: Replica, op: number, checksum: bigint, from: number): void {
  assert(replica.isPrimary && replica.status === "normal", "counting prepare_oks outside a normal primary");
  assert(from >= 0 && from < replica.replicaCount, "a prepare_ok from a non-voter");
  const entry = replica.pipeline.find((candidate) => candidate.op === op);
  if (entry === undefined || entry.checksum !== checksum) return;
  entry.okFrom |= 1 << from;
  replica.timeouts.primaryAbdicate.reset();
  replica.abdicating = false;
  const quorum = replica.bugs.commitWithoutQuorum ? 1 : replica.quorum.replication;
  const commit = pipelineCommit(replica.pipeline, replica.commitMax, quorum);
  if (commit > replica.commitMax) {
    assert(commit <= replica.op, "committing beyond the head");
    replica.advanceCommitMax(commit);
    replica.commitJournal();
    refillPipeline(replica);
  }
}

/**
 * Primary, after a view change: reads a surviving prepare back from the journal into its (empty)
 * pipeline entry, and counts our own prepare_ok for it. A read that fails leaves it empty: the
 * prepare timeout fills it from the prepare cache or reads again (normal.ts resendPrepares).
 */
export function readBackIntoPipeline(replica: Replica, entry: PipelineEntry): void {
  assert(entry.message.length === 0 && entry.readingBack !== true);
  const { op, checksum } = entry;
  entry.readingBack = true;
  replica.journal.readPrepare(op, checksum, (prepare) => {
    entry.readingBack = false;
    if (prepare === null || !replica.pipeline.includes(entry)) return;
    // The prepare timeout may have filled it from the prepare cache while the read was in flight
    // (crash-heavy seed 29 of the probe test): it holds the same prepare, and was acked then.
    if (entry.message.length !== 0) return;
    fillPipelineEntry(replica, entry, prepare);
  });
}

/** Gives an empty pipeline entry its prepare (read back, or found in the cache); our own ack follows. */
export function fillPipelineEntry(replica: Replica, entry: PipelineEntry, prepare: Uint8Array): void {
  assert(entry.message.length === 0 && new PrepareHeader(prepare, 0).checksum === entry.checksum,
    "a pipeline entry filled with another prepare");
  entry.message = prepare;
  replica.prepareCache.put(prepare);
  ack(replica, new PrepareHeader(prepare, 0));
}

/** Primary: move queued requests into the pipeline as it drains. */
export function refillPipeline(replica: Replica): void {
  while (replica.requestQueue.length > 0 &&
    replica.pipeline.length < replica.config.pipelinePrepareQueueMax &&
    replica.op < replica.opPrepareMax && replica.realtimeSynchronized() !== null) {
    assert(replica.isPrimary && replica.status === "normal", "only a normal primary has queued requests");
    prepareRequest(replica, replica.requestQueue.shift()!);
  }
}

/** Turns a checked request into the next prepare (vsr.md §5.1). */
export function prepareRequest(replica: Replica, message: Uint8Array): void {
  const request = new RequestHeader(message, 0);
  assert(request.command === Command.request && request.client !== 0n, "preparing what is not a client request");
  // A view of the request's body: buildPrepare copies it once, into the prepare.
  let body = message.subarray(headerSize, request.size);
  if (request.operation === Operation.register) {
    // The primary answers with its own batch_size_limit, written into the prepared body.
    body = body.slice();
    new DataView(body.buffer, body.byteOffset, body.length).setUint32(0, replica.config.messageBodySizeMax, true);
  }
  const events = request.operation === Operation.register ? 0
    : replica.stateMachine.eventCount(request.operation, body);
  const prepare = buildPrepare(replica, {
    operation: request.operation, client: request.client, request: request.request,
    requestChecksum: request.checksum, requestRelease: request.release, events, body,
  });
  prepareAndReplicate(replica, prepare);
}

export interface PrepareParams {
  readonly operation: number;
  readonly client: bigint;
  readonly request: number;
  readonly requestChecksum: bigint;
  readonly requestRelease: number;
  readonly events: number;
  readonly body: Uint8Array;
}

/** The next prepare: op + 1, chained to the head, stamped with cluster time (ledger.md §5). */
export function buildPrepare(replica: Replica, params: PrepareParams): Uint8Array {
  const op = replica.op + 1;
  const parent = replica.checksumOf(replica.op);
  if (parent === null) assertFailed(`no header at head op ${replica.op}`);
  assert(params.events >= 0 && params.body.length <= replica.config.messageBodySizeMax);
  // Timestamps increase along the log, whoever prepared it: a new primary inherits uncommitted ops
  // stamped by its predecessor's clock, which may run ahead of ours (vsr.md §14), so the head's
  // timestamp bounds ours from below, not only what we prepared or committed ourselves.
  const head = replica.journal.header(replica.op);
  const headTimestamp = head === null || replica.bugs.timestampIgnoresInheritedOps ? 0n : head.timestamp;
  const previous = headTimestamp > replica.prepareTimestamp ? headTimestamp : replica.prepareTimestamp;
  const timestamp = prepareTimestamp(previous, replica.commitTimestamp, replica.realtimeForPrepare(), params.events);
  assert(timestamp > previous, "prepare timestamps increase");
  const message = new Uint8Array(headerSize + params.body.length);
  message.set(params.body, headerSize);
  const prepare = new PrepareHeader(message, 0);
  replica.frame(prepare, Command.prepare, message.length);
  prepare.parent = parent;
  prepare.request_checksum = params.requestChecksum;
  prepare.checkpoint_id = replica.checkpointId();
  prepare.client = params.client;
  prepare.op = op;
  prepare.commit = replica.commitMax;
  prepare.timestamp = timestamp;
  prepare.request = params.request;
  prepare.setU32(PrepareField.request_release, params.requestRelease);
  prepare.operation = params.operation;
  setChecksums(message, 0, message.length);
  replica.prepareTimestamp = timestamp;
  return message;
}
