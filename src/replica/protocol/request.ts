// Client-facing work of the primary (spec/wire.md §9–10, vsr.md §5.1, §13, ledger.md §9.3):
// request checks in the official order, the session lookup, evictions, turning a request into a
// prepare, pings from clients, and the pulse that expires pending transfers.
import { assert } from "../../core/assert.js";
import { headerSize, releaseClientMin } from "../../core/config.js";
import { EvictionReason, evictionReasonName, Operation } from "../../core/command.js";
import {
  buildEviction, buildPongClient, PingClientHeader, RequestHeader, registerRequestBodySize,
} from "../../core/header.js";
import type { MonotonicTicks, Replica } from "../replica.js";
import { buildPrepare, prepareAndReplicate, prepareRequest } from "./pipeline.js";
import { sendStoredReply } from "./reply_repair.js";

/** What the session lookup of wire.md §10 step 11 decides. */
type SessionVerdict = "new" | "duplicate" | "ignore" | EvictionReason;

/** Steps 1–2 of wire.md §10, and requests no client may send. */
function ignoreRequest(replica: Replica, request: RequestHeader): string | null {
  if (replica.isStandby) return "standbys do not serve clients";
  if (replica.status !== "normal") return `status ${replica.status}`;
  if (request.view > replica.view) return "newer view";
  if (request.client === 0n) return "client 0 is the primary's own (pulses, upgrades)";
  if (replica.isPrimary && !replica.stateLoaded) return "our checkpoint's state is not loaded (handing the view on)";
  return null;
}

export function onRequest(replica: Replica, message: Uint8Array): void {
  const request = new RequestHeader(message, 0);
  const reason = ignoreRequest(replica, request);
  if (reason !== null) return replica.ignored("request", reason);
  assert(!replica.isStandby && replica.status === "normal" && request.client !== 0n);
  assert(request.view <= replica.view && replica.logView === replica.view);
  assert(request.size === message.length && request.size >= headerSize, "a request fills its frame");
  if (!replica.isPrimary) return forwardToPrimary(replica, request, message); // step 3
  assert(replica.isPrimary && replica.replica === replica.primaryOf(replica.view));
  const eviction = requestEviction(replica, request);
  if (eviction !== null) return evict(replica, request.client, eviction);
  // Step 10: the view is still being persisted.
  if (replica.viewDurable !== replica.view) return replica.ignored("request", "our view is not durable yet");
  // Ops known committed but not prepared in this view's pipeline (a solo replica's WAL after a
  // restart) may still be executing: their requests are not in the sessions yet, so a client's
  // retry of one would look new and be prepared twice.
  const pipelinedFrom = replica.pipeline.length > 0 ? replica.pipeline[0]!.op : replica.op + 1;
  if (pipelinedFrom > replica.commitMin + 1) {
    return replica.ignored("request", "still executing ops committed before the pipeline");
  }
  const verdict = sessionVerdict(replica, request);
  if (verdict === "ignore") return replica.ignored("request", "not the client's next request");
  if (verdict === "duplicate") {
    const entry = replica.sessions.get(request.client);
    assert(entry !== undefined && entry.request === request.request, "a duplicate of the latest committed request");
    return sendStoredReply(replica, entry);
  }
  if (verdict !== "new") return evict(replica, request.client, verdict);
  assert(request.operation === Operation.register || replica.sessions.get(request.client) !== undefined,
    "a new request from a client with a session, or a register");
  if (inPipeline(replica, request.client)) return replica.ignored("request", "already in the pipeline"); // step 12
  if (request.timestamp !== 0n) return replica.ignored("request", "timestamp set by the client"); // step 13
  // No agreement on cluster time yet (vsr.md §5.1).
  if (replica.realtimeSynchronized() === null) return replica.ignored("request", "clock not synchronised");
  assert(replica.viewDurable === replica.view && request.timestamp === 0n);
  if (growsLedger(request.operation) && storageRefuses(replica)) return replica.ignored("request", "storage limit nearly reached");
  assert(replica.pipeline.length <= replica.op - replica.commitMin, "the pipeline holds only uncommitted ops");
  if (replica.pipeline.length < replica.config.pipelinePrepareQueueMax) {
    assert(replica.op < replica.opPrepareMax, "a pipeline with room is below the WAL's capacity");
    prepareRequest(replica, message);
  } else if (replica.requestQueue.length < replica.config.clientsMax) {
    replica.requestQueue.push(message.slice());
  } else {
    replica.ignored("request", "pipeline and queue full");
  }
}

/** Creations make the ledger grow; lookups and queries stay served near the storage limit. */
function growsLedger(operation: number): boolean {
  return operation === Operation.create_accounts || operation === Operation.create_transfers;
}

/**
 * Near the storage limit the primary prepares no creation (the grid's estimate, see
 * Grid.storageNearlyFull), so the limit itself is not reached with the cluster's work half done.
 * Clients retry, as they would against a busy primary; the operator gets one line when refusing
 * starts and one when it stops.
 */
function storageRefuses(replica: Replica): boolean {
  const refusing = replica.grid.storageNearlyFull();
  if (refusing !== replica.refusingForStorage) {
    replica.refusingForStorage = refusing;
    const { blocksFree, blocksLimit } = replica.grid.storageUsage();
    if (refusing) {
      replica.notice("storage_full", () => `refusing new requests: ${blocksFree} of ${blocksLimit} grid blocks ` +
        "free, too few for the next checkpoint; raise --limit-storage (or free disk space) and restart");
    } else {
      replica.notice("storage_ok", () => `accepting requests again: ${blocksFree} of ${blocksLimit} grid blocks free`);
    }
  }
  return refusing;
}

/** Steps 4–9 of wire.md §10: the checks that answer with an eviction. */
function requestEviction(replica: Replica, request: RequestHeader): EvictionReason | null {
  assert(replica.isPrimary && request.client !== 0n, "only the primary evicts a client");
  if (request.release < releaseClientMin) return EvictionReason.client_release_too_low;
  if (request.release > replica.release) return EvictionReason.client_release_too_high;
  if (request.size > replica.config.messageSizeMax) return EvictionReason.invalid_request_body_size;
  const operation = request.operation;
  if (operation === Operation.register) {
    return request.size === headerSize + registerRequestBodySize ? null
      : EvictionReason.invalid_request_body_size;
  }
  if (!replica.stateMachine.isOperation(operation)) return EvictionReason.invalid_request_operation;
  const body = request.body();
  assert(body.length === request.size - headerSize, "the body is the rest of the frame");
  if (!replica.stateMachine.validateRequest(operation, body, replica.config.messageBodySizeMax)) {
    return EvictionReason.invalid_request_body;
  }
  // ledger.md §12 bounds the worst-case reply by the production body size. A configuration with
  // smaller messages (the simulator's, `--development`) cannot send such a reply: refuse the
  // request rather than fail to answer it. With production sizes this never triggers.
  if (replica.stateMachine.replySizeMax(operation, body) > replica.config.messageBodySizeMax) {
    return EvictionReason.invalid_request_body;
  }
  return null;
}

/** Step 11: the session lookup. */
function sessionVerdict(replica: Replica, request: RequestHeader): SessionVerdict {
  const entry = replica.sessions.get(request.client);
  assert(replica.sessions.size <= replica.config.clientsMax, "more sessions than clients_max");
  if (entry === undefined) {
    if (request.operation === Operation.register) return "new";
    return inPipeline(replica, request.client) ? "ignore" : EvictionReason.no_session;
  }
  // A session is numbered by its register's op, and a reply is stored only once executed.
  assert(entry.client === request.client && entry.session > 0, "a session of another client");
  assert(entry.session <= entry.replyOp && entry.replyOp <= replica.commitMin, "a session from the future");
  if (request.operation !== Operation.register) {
    if (request.session < entry.session) return EvictionReason.session_too_low;
    if (request.session > entry.session) return "ignore";
  }
  if (request.release !== entry.release) return EvictionReason.session_release_mismatch;
  if (request.request < entry.request) return "ignore";
  if (request.request === entry.request) {
    // An exact duplicate of the latest committed request gets the stored reply again.
    return request.checksum === entry.requestChecksum ? "duplicate" : "ignore";
  }
  if (request.request === entry.request + 1 && request.parent === entry.context) return "new";
  return "ignore";
}

function inPipeline(replica: Replica, client: bigint): boolean {
  assert(replica.pipeline.length <= replica.config.pipelinePrepareQueueMax);
  assert(replica.requestQueue.length <= replica.config.clientsMax);
  // Entries still being read back after a view change count too (their header is known).
  for (const entry of replica.pipeline) {
    if (entry.client === client) return true;
  }
  for (const queued of replica.requestQueue) {
    if (new RequestHeader(queued, 0).client === client) return true;
  }
  return false;
}

/** Step 3: a backup forwards what the primary may not have seen, and answers exact duplicates. */
function forwardToPrimary(replica: Replica, request: RequestHeader, message: Uint8Array): void {
  assert(!replica.isPrimary && !replica.isStandby && replica.status === "normal");
  const entry = replica.sessions.get(request.client);
  if (entry !== undefined && request.request === entry.request && request.checksum === entry.requestChecksum) {
    return sendStoredReply(replica, entry);
  }
  if (entry === undefined ? request.operation === Operation.register : request.request > entry.request) {
    const primary = replica.primaryOf(replica.view);
    assert(primary !== replica.replica && primary < replica.replicaCount, "forwarding to ourselves");
    return replica.sendToReplica(primary, message);
  }
  replica.ignored("request", "not newer than the client's latest (backup)");
}

function evict(replica: Replica, client: bigint, reason: EvictionReason): void {
  // Only a primary in normal status evicts, and only in a view it has made durable.
  if (!replica.isPrimary || replica.status !== "normal" || replica.viewDurable !== replica.view) {
    return replica.ignored("request", "would evict, but we may not (not a durable normal primary)");
  }
  assert(client !== 0n && reason >= EvictionReason.no_session && reason <= EvictionReason.session_release_mismatch);
  assert(replica.replica < replica.replicaCount && replica.logView === replica.view);
  replica.trace(`evicted client ${client}: reason ${reason}`);
  replica.notice("eviction", () => `evicted client ${client}: ${evictionReasonName(reason)}`);
  replica.bus.sendToClient(client, buildEviction(replica.cluster, client, reason,
    replica.logViewDurable, replica.replica, replica.release));
}

/** The pulse (ledger.md §9.3): every 100 ms the primary checks whether expiries are due. */
export function tickPulse(replica: Replica): void {
  assert(replica.isPrimary && replica.status === "normal");
  if (!replica.timeouts.pulse.fired()) return;
  replica.timeouts.pulse.reset();
  if (pulseBlocked(replica)) return;
  const realtime = replica.realtimeSynchronized();
  if (realtime === null) return;
  const now = realtime > replica.prepareTimestamp ? realtime : replica.prepareTimestamp;
  assert(now >= realtime && now >= replica.prepareTimestamp, "pulse time never goes back");
  if (!replica.stateMachine.pulseNeeded(now)) return;
  assert(replica.pipeline.length < replica.config.pipelinePrepareQueueMax && replica.viewDurable === replica.view);
  assert(replica.op < replica.opPrepareMax, "a pipeline with room is below the WAL's capacity");
  const body = new Uint8Array(0);
  prepareAndReplicate(replica, buildPrepare(replica, {
    operation: Operation.pulse, client: 0n, request: 0, requestChecksum: 0n, requestRelease: 0,
    events: replica.stateMachine.eventCount(Operation.pulse, body), body,
  }));
}

/** A full pipeline, a view not yet durable, or a pulse already in the pipeline: no pulse now. */
function pulseBlocked(replica: Replica): boolean {
  if (replica.pipeline.length >= replica.config.pipelinePrepareQueueMax) return true;
  if (replica.viewDurable !== replica.view) return true;
  for (const entry of replica.pipeline) {
    if (entry.operation === Operation.pulse) return true;
  }
  return false;
}

/**
 * How many coming ticks a pulse firing would only restart its timeout (tickPulse prepares
 * nothing), as long as no message or IO completion reaches the replica: Infinity while something
 * blocks the pulse, the clock is unsynchronised (it changes only on a tick the cluster clock acts,
 * which Replica.quietTicksAhead bounds) or nothing is pending; else the ticks before the cluster
 * time can reach the ledger's next expiry. Two thirds of an idle primary's wake-ups were these.
 */
export function pulseQuietTicks(replica: Replica, time: MonotonicTicks): number {
  if (!replica.isPrimary || replica.status !== "normal" || pulseBlocked(replica)) return Infinity;
  // realtimeSynchronized reads the system time: no bound ahead.
  if (replica.isSolo || replica.clock === null || replica.clock.synchronizationDisabled) return 0;
  const next = replica.stateMachine.pulseNext();
  if (next === null) return Infinity;
  if (replica.prepareTimestamp >= next) return 0;
  const before = replica.clock.monotonicWhileSynchronizedBelow(next);
  return before === null ? Infinity : time.ticksUntilMonotonic(before) - 1;
}

/** ping_client: a pong (so the client learns the view), or an eviction (wire.md §9.5–9.6). */
export function onPingClient(replica: Replica, message: Uint8Array): void {
  const ping = new PingClientHeader(message, 0);
  if (replica.isStandby) return replica.ignored("ping_client", "standbys do not serve clients");
  if (replica.status !== "normal") return replica.ignored("ping_client", `status ${replica.status}`);
  assert(!replica.isStandby && replica.status === "normal");
  assert(ping.client !== 0n && message.length === headerSize, "a ping_client is a bare header from a client");
  if (ping.release < releaseClientMin) return evict(replica, ping.client, EvictionReason.client_release_too_low);
  if (ping.release > replica.release) return evict(replica, ping.client, EvictionReason.client_release_too_high);
  if (ping.session !== 0 && replica.sessions.get(ping.client) === undefined &&
    replica.commitMin >= ping.session) {
    return evict(replica, ping.client, EvictionReason.no_session);
  }
  // pong_client.replica ≥ 6 would crash the official client.
  if (replica.replica >= 6) return replica.ignored("ping_client", "replica index ≥ 6 cannot pong");
  replica.bus.sendToClient(ping.client, buildPongClient(replica.cluster, ping.ping_timestamp_monotonic,
    replica.logViewDurable, replica.replica, replica.release));
}
