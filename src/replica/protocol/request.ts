// Client-facing work of the primary (spec/wire.md §9–10, vsr.md §5.1, §13, ledger.md §9.3):
// request checks in the official order, the session lookup, evictions, turning a request into a
// prepare, pings from clients, and the pulse that expires pending transfers.
import { headerSize, releaseClientMin } from "../../core/config.js";
import { EvictionReason, Operation, Command } from "../../core/command.js";
import {
  buildEviction, buildPongClient, PingClientHeader, PrepareField, PrepareHeader, RequestHeader, registerRequestBodySize, setChecksums,
} from "../../core/header.js";
import { prepareTimestamp } from "../../core/ledger/timestamps.js";
import type { Replica } from "../replica.js";
import { prepareAndReplicate } from "./normal.js";

/** What the session lookup of wire.md §10 step 11 decides. */
type SessionVerdict = "new" | "duplicate" | "ignore" | EvictionReason;

export function onRequest(replica: Replica, message: Uint8Array): void {
  const request = new RequestHeader(message, 0);
  if (replica.isStandby || replica.status !== "normal") return; // step 1
  if (request.view > replica.view) return; // step 2
  if (request.client === 0n) return; // pulses and upgrades come only from the primary itself
  if (!replica.isPrimary) return forwardToPrimary(replica, request, message); // step 3
  const eviction = requestEviction(replica, request);
  if (eviction !== null) return evict(replica, request.client, eviction);
  if (replica.viewDurable !== replica.view) return; // step 10: the view is still being persisted
  const verdict = sessionVerdict(replica, request);
  if (verdict === "ignore") return;
  if (verdict === "duplicate") {
    replica.bus.sendToClient(request.client, replica.sessions.get(request.client)!.reply);
    return;
  }
  if (verdict !== "new") return evict(replica, request.client, verdict);
  if (inPipeline(replica, request.client)) return; // step 12
  if (request.timestamp !== 0n) return; // step 13
  if (replica.realtimeSynchronized() === null) return; // no agreement on cluster time yet (vsr.md §5.1)
  if (replica.pipeline.length < replica.config.pipelinePrepareQueueMax) {
    prepareRequest(replica, message);
  } else if (replica.requestQueue.length < replica.config.clientsMax) {
    replica.requestQueue.push(message.slice());
  }
}

/** Steps 4–9 of wire.md §10: the checks that answer with an eviction. */
function requestEviction(replica: Replica, request: RequestHeader): EvictionReason | null {
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
  if (entry === undefined) {
    if (request.operation === Operation.register) return "new";
    return inPipeline(replica, request.client) ? "ignore" : EvictionReason.no_session;
  }
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
  const entry = replica.sessions.get(request.client);
  if (entry !== undefined && request.request === entry.request && request.checksum === entry.requestChecksum) {
    replica.bus.sendToClient(request.client, entry.reply);
    return;
  }
  if (entry === undefined ? request.operation === Operation.register : request.request > entry.request) {
    replica.sendToReplica(replica.primaryOf(replica.view), message);
  }
}

function evict(replica: Replica, client: bigint, reason: EvictionReason): void {
  // Only a primary in normal status evicts, and only in a view it has made durable.
  if (!replica.isPrimary || replica.status !== "normal" || replica.viewDurable !== replica.view) return;
  replica.bus.sendToClient(client, buildEviction(replica.cluster, client, reason,
    replica.logViewDurable, replica.replica, replica.release));
}

/** Turns a checked request into the next prepare (vsr.md §5.1). */
export function prepareRequest(replica: Replica, message: Uint8Array): void {
  const request = new RequestHeader(message, 0);
  const body = Uint8Array.prototype.slice.call(message, headerSize, request.size);
  if (request.operation === Operation.register) {
    // The primary answers with its own batch_size_limit, written into the prepared body.
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

interface PrepareParams {
  readonly operation: number;
  readonly client: bigint;
  readonly request: number;
  readonly requestChecksum: bigint;
  readonly requestRelease: number;
  readonly events: number;
  readonly body: Uint8Array;
}

/** The next prepare: op + 1, chained to the head, stamped with cluster time (ledger.md §5). */
function buildPrepare(replica: Replica, params: PrepareParams): Uint8Array {
  const op = replica.op + 1;
  const parent = replica.checksumOf(replica.op);
  if (parent === null) throw new Error(`replica ${replica.replica}: no header at head op ${replica.op}`);
  const timestamp = prepareTimestamp(replica.prepareTimestamp, replica.commitTimestamp,
    replica.realtimeForPrepare(), params.events);
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

/** The pulse (ledger.md §9.3): every 100 ms the primary checks whether expiries are due. */
export function tickPulse(replica: Replica): void {
  if (!replica.timeouts.pulse.fired()) return;
  replica.timeouts.pulse.reset();
  if (replica.pipeline.length >= replica.config.pipelinePrepareQueueMax) return;
  if (replica.viewDurable !== replica.view) return;
  for (const entry of replica.pipeline) {
    if (entry.operation === Operation.pulse) return;
  }
  const realtime = replica.realtimeSynchronized();
  if (realtime === null) return;
  const now = realtime > replica.prepareTimestamp ? realtime : replica.prepareTimestamp;
  if (!replica.stateMachine.pulseNeeded(now)) return;
  const body = new Uint8Array(0);
  prepareAndReplicate(replica, buildPrepare(replica, {
    operation: Operation.pulse, client: 0n, request: 0, requestChecksum: 0n, requestRelease: 0,
    events: replica.stateMachine.eventCount(Operation.pulse, body), body,
  }));
}

/** ping_client: a pong (so the client learns the view), or an eviction (wire.md §9.5–9.6). */
export function onPingClient(replica: Replica, message: Uint8Array): void {
  const ping = new PingClientHeader(message, 0);
  if (replica.isStandby || replica.status !== "normal") return;
  if (ping.release < releaseClientMin) return evict(replica, ping.client, EvictionReason.client_release_too_low);
  if (ping.release > replica.release) return evict(replica, ping.client, EvictionReason.client_release_too_high);
  if (ping.session !== 0 && replica.sessions.get(ping.client) === undefined &&
    replica.commitMin >= ping.session) {
    return evict(replica, ping.client, EvictionReason.no_session);
  }
  if (replica.replica >= 6) return; // pong_client.replica ≥ 6 would crash the official client
  replica.bus.sendToClient(ping.client, buildPongClient(replica.cluster, ping.ping_timestamp_monotonic,
    replica.logViewDurable, replica.replica, replica.release));
}
