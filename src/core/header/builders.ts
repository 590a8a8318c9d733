import { assert } from "../assert.js";
import { Command, EvictionReason, Operation, isValidEvictionReason } from "../command.js";
import { headerSize } from "../config.js";
import { setChecksums, setHeaderChecksum, setReplyChecksums } from "./checksums.js";
import {
  FrameField, PrepareField, ReplyField, RequestField, pongClientReplicaLimit, registerRequestBodySize,
} from "./fields.js";
import {
  EvictionHeader, type Header, PingClientHeader, PongClientHeader, ReplyHeader, RequestHeader,
} from "./header.js";
import { newMessage } from "../message_slab.js";

// ---------------------------------------------------------------------------------------------
// Builders for client-facing messages. Each writes a whole message into `out` (from offset 0,
// zeroing the header first) or into a fresh buffer, and returns the message view [0, size).
// ---------------------------------------------------------------------------------------------

const scratchRequest = new RequestHeader(new Uint8Array(headerSize));
const scratchReply = new ReplyHeader(new Uint8Array(headerSize));
const scratchPingClient = new PingClientHeader(new Uint8Array(headerSize));
const scratchPongClient = new PongClientHeader(new Uint8Array(headerSize));
const scratchEviction = new EvictionHeader(new Uint8Array(headerSize));

function messageBuffer(size: number, output: Uint8Array | undefined): Uint8Array {
  if (output === undefined) return newMessage(size);
  assert(output.length >= size, "output buffer too small");
  output.fill(0, 0, headerSize);
  return output;
}

/** Frame fields shared by every builder; the header bytes are already zero. */
function writeFrame(
  header: Header, command: Command, cluster: bigint, size: number, view: number, release: number, replica: number,
): void {
  header.command = command;
  header.cluster = cluster;
  header.size = size;
  header.view = view;
  header.release = release;
  header.replica = replica;
}

/**
 * The reply to `request` (wire.md §4.2, §6): cluster, request_checksum, client, request, operation
 * and **release** come from the request; `view` is the view in which `op` was prepared and
 * `replica` the primary that prepared it; commit = op. Checksums in the order body → context →
 * checksum.
 */
export function buildReply(
  request: Header, op: number, timestamp: bigint, view: number, replica: number,
  body: Uint8Array, output?: Uint8Array,
): Uint8Array {
  assert(request.command === Command.request, "buildReply needs a request");
  const size = headerSize + body.length;
  const buffer = messageBuffer(size, output);
  const reply = scratchReply.reset(buffer, 0);
  writeFrame(reply, Command.reply, 0n, size, view, request.release, replica);
  reply.copyBytes(FrameField.cluster, request, FrameField.cluster, 16);
  reply.copyBytes(ReplyField.request_checksum, request, FrameField.checksum, 16);
  reply.copyBytes(ReplyField.client, request, RequestField.client, 16);
  reply.request = request.getU32(RequestField.request);
  reply.operation = request.getU8(RequestField.operation);
  return finishReply(reply, buffer, op, timestamp, body);
}

/**
 * The reply to the request inside `prepare` (used when committing a prepare whose request
 * message is gone, e.g. on a backup or after recovery): view, replica, op and timestamp are the
 * prepare's, release is the client's (`request_release`).
 */
export function buildReplyFromPrepare(prepare: Header, body: Uint8Array, output?: Uint8Array): Uint8Array {
  assert(prepare.command === Command.prepare, "buildReplyFromPrepare needs a prepare");
  const size = headerSize + body.length;
  const buffer = messageBuffer(size, output);
  const reply = scratchReply.reset(buffer, 0);
  const release = prepare.getU32(PrepareField.request_release);
  writeFrame(reply, Command.reply, 0n, size, prepare.view, release, prepare.replica);
  reply.copyBytes(FrameField.cluster, prepare, FrameField.cluster, 16);
  reply.copyBytes(ReplyField.request_checksum, prepare, PrepareField.request_checksum, 16);
  reply.copyBytes(ReplyField.client, prepare, PrepareField.client, 16);
  reply.request = prepare.getU32(PrepareField.request);
  reply.operation = prepare.getU8(PrepareField.operation);
  const op = prepare.getU64Number(PrepareField.op);
  return finishReply(reply, buffer, op, prepare.getU64(PrepareField.timestamp), body);
}

function finishReply(
  reply: ReplyHeader, buffer: Uint8Array, op: number, timestamp: bigint, body: Uint8Array,
): Uint8Array {
  assert(op > 0 && timestamp > 0n, "a reply needs op and timestamp (wire.md §4.2)");
  reply.op = op;
  reply.commit = op;
  reply.timestamp = timestamp;
  buffer.set(body, headerSize);
  const size = reply.size;
  setReplyChecksums(buffer, 0, size);
  return messageView(buffer, size);
}

function messageView(buffer: Uint8Array, size: number): Uint8Array {
  return buffer.length === size ? buffer : buffer.subarray(0, size);
}

/** pong_client (wire.md §4.4): `view` = durable log view, `release` = the replica's own. */
export function buildPongClient(
  cluster: bigint, ping_timestamp_monotonic: bigint, view: number, replica: number, release: number,
  output?: Uint8Array,
): Uint8Array {
  assert(replica < pongClientReplicaLimit, "pong_client.replica must be < 6");
  const buffer = messageBuffer(headerSize, output);
  const pong = scratchPongClient.reset(buffer, 0);
  writeFrame(pong, Command.pong_client, cluster, headerSize, view, release, replica);
  pong.ping_timestamp_monotonic = ping_timestamp_monotonic;
  setChecksums(buffer, 0, headerSize);
  return messageView(buffer, headerSize);
}

/** eviction (wire.md §4.5): from the primary, with its durable log view and its own release. */
export function buildEviction(
  cluster: bigint, client: bigint, reason: EvictionReason, view: number, replica: number, release: number,
  output?: Uint8Array,
): Uint8Array {
  assert(isValidEvictionReason(reason) && client !== 0n, "eviction reason and client");
  const buffer = messageBuffer(headerSize, output);
  const eviction = scratchEviction.reset(buffer, 0);
  writeFrame(eviction, Command.eviction, cluster, headerSize, view, release, replica);
  eviction.client = client;
  eviction.reason = reason;
  setChecksums(buffer, 0, headerSize);
  return messageView(buffer, headerSize);
}

/** ping_client (wire.md §4.3): `session` is 0 before the register reply. */
export function buildPingClient(
  cluster: bigint, client: bigint, ping_timestamp_monotonic: bigint, session: number, release: number,
  output?: Uint8Array,
): Uint8Array {
  assert(client !== 0n, "ping_client.client must be nonzero");
  const buffer = messageBuffer(headerSize, output);
  const ping = scratchPingClient.reset(buffer, 0);
  writeFrame(ping, Command.ping_client, cluster, headerSize, 0, release, 0);
  ping.client = client;
  ping.ping_timestamp_monotonic = ping_timestamp_monotonic;
  ping.session = session;
  setChecksums(buffer, 0, headerSize);
  return messageView(buffer, headerSize);
}

export interface RequestParams {
  readonly cluster: bigint;
  readonly client: bigint;
  /** The `context` of the previous reply; 0 for register. */
  readonly parent: bigint;
  /** 0 for register, then the register's commit number. */
  readonly session: number;
  /** 0 for register, then 1, 2, 3, … */
  readonly request: number;
  readonly operation: number;
  /** The highest view the client has seen. */
  readonly view: number;
  readonly release: number;
  /** Informational, in µs. */
  readonly previous_request_latency?: number;
}

/** A request (wire.md §4.1) with `body`; `timestamp` and `replica` are 0. */
export function buildRequest(params: RequestParams, body: Uint8Array, output?: Uint8Array): Uint8Array {
  const size = headerSize + body.length;
  const buffer = messageBuffer(size, output);
  const request = scratchRequest.reset(buffer, 0);
  writeFrame(request, Command.request, params.cluster, size, params.view, params.release, 0);
  request.parent = params.parent;
  request.client = params.client;
  request.session = params.session;
  request.request = params.request;
  request.operation = params.operation;
  request.previous_request_latency = params.previous_request_latency ?? 0;
  buffer.set(body, headerSize);
  setChecksums(buffer, 0, size);
  return messageView(buffer, size);
}

const registerRequestBody = new Uint8Array(registerRequestBodySize);

/** The register request (wire.md §9.2): operation 2, size 512, body RegisterRequest{0}. */
export function buildRegisterRequest(
  cluster: bigint, client: bigint, release: number, output?: Uint8Array,
): Uint8Array {
  assert(client !== 0n, "register needs a nonzero client id");
  const params: RequestParams = {
    cluster, client, parent: 0n, session: 0, request: 0, operation: Operation.register, view: 0, release,
  };
  return buildRequest(params, registerRequestBody, output);
}

// A checksum operation (wire.md §6), kept here rather than in checksums.ts because it shares
// `scratchReply` with the reply builders, and checksums.ts sits below the header classes.
/**
 * A replica resending an old reply in a newer durable log view (wire.md §4.2): new `view`, new
 * header checksum, same `context`, so the client's hash chain stays valid.
 */
export function restampReplyView(buffer: Uint8Array, offset: number, view: number): void {
  const reply = scratchReply.reset(buffer, offset);
  assert(reply.command === Command.reply, "not a reply");
  reply.view = view;
  setHeaderChecksum(buffer, offset);
}
