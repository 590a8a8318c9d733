import {
  Command, Operation, commandMax, isValidEvictionReason, vsrOperationsReserved,
} from "../command.js";
import { bytesEqual } from "../bytes.js";
import { headerSize } from "../config.js";
import {
  BlockField, EvictionField, type FieldLayout, FrameField, GetHeadersField, GetReplyField, JoinViewField,
  PingClientField, PingField, PrepareField, ReplyField, RequestField, checksumBodyEmptyBytes, layouts,
  pongClientReplicaLimit, registerRequestBodySize, registerResultBodySize, releasesMax, replicaIndexLimit,
  safeIntegerHighWordLimit, wireMessageSizeMax,
} from "./fields.js";
import type { Header } from "./header.js";

// ---------------------------------------------------------------------------------------------
// Header validity (wire.md §2, §4; replica commands: Scarab's own rules). Returns null when
// valid, else a short constant reason. Such messages are dropped silently (wire.md §1 step 5).
// Checksums are not checked here: the framer (or the journal) has verified them already.
// ---------------------------------------------------------------------------------------------

export function validateHeader(header: Header, messageSizeMax: number = wireMessageSizeMax): string | null {
  const frame = validateFrame(header, messageSizeMax);
  if (frame !== null) return frame;
  const command = header.command;
  if (command > commandMax) return "command unknown";
  const fields = layouts[command];
  if (fields === undefined) return command === Command.reserved ? "command reserved" : "command deprecated";
  const generic = validateLayoutFields(header, fields);
  if (generic !== null) return generic;
  return validateCommand(header, command);
}

function validateFrame(header: Header, messageSizeMax: number): string | null {
  if (!header.isZero(FrameField.checksum_padding, 16)) return "checksum_padding nonzero";
  if (!header.isZero(FrameField.checksum_body_padding, 16)) return "checksum_body_padding nonzero";
  if (!header.isZero(FrameField.nonce_reserved, 16)) return "nonce_reserved nonzero";
  const size = header.size;
  if (size < headerSize) return "size < header";
  if (size > messageSizeMax) return "size > message_size_max";
  if (header.epoch !== 0) return "epoch nonzero";
  if (header.protocol !== 0) return "protocol nonzero";
  if (!header.isZero(FrameField.reserved_frame, 12)) return "reserved_frame nonzero";
  return null;
}

/** Zero fields are zero; `u64n` fields are below 2^53 so that number accessors cannot throw. */
function validateLayoutFields(header: Header, fields: readonly FieldLayout[]): string | null {
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.kind === "zero") {
      if (!header.isZero(field.offset, field.size)) return field.invalid_reason;
    } else if (field.kind === "u64n") {
      if (header.getU32(field.offset + 4) >= safeIntegerHighWordLimit) return field.invalid_reason;
    }
  }
  return null;
}

function validateCommand(header: Header, command: number): string | null {
  switch (command) {
    case Command.request: return validateRequest(header);
    case Command.reply: return validateReply(header);
    case Command.ping_client: return validatePingClient(header);
    case Command.pong_client: return validatePongClient(header);
    case Command.eviction: return validateEviction(header);
    default: return validateReplicaCommand(header, command);
  }
}

function validateRequest(header: Header): string | null {
  if (header.release === 0) return "release zero";
  const operation = header.getU8(RequestField.operation);
  if (operation === Operation.reserved) return "operation reserved";
  if (operation === Operation.root) return "operation root";
  if (operation === Operation.register) return validateRegisterRequest(header);
  if (operation === Operation.pulse || operation === Operation.upgrade) {
    return header.isZero(RequestField.client, 16) ? null : "client nonzero";
  }
  // reconfigure (3) and noop (6) are permitted by TigerBeetle with their own rules; Scarab
  // implements neither, so like 7..127 they are invalid (wire.md §4.1 allows this).
  if (operation < vsrOperationsReserved) return "operation invalid";
  if (header.replica !== 0) return "replica nonzero";
  if (header.isZero(RequestField.client, 16)) return "client zero";
  if (header.isZero(RequestField.session, 8)) return "session zero";
  if (header.getU32(RequestField.request) === 0) return "request zero";
  return null;
}

function validateRegisterRequest(header: Header): string | null {
  if (header.replica !== 0) return "replica nonzero";
  if (header.isZero(RequestField.client, 16)) return "client zero";
  if (!header.isZero(RequestField.parent, 16)) return "parent nonzero";
  if (!header.isZero(RequestField.session, 8)) return "session nonzero";
  if (header.getU32(RequestField.request) !== 0) return "request nonzero";
  const size = header.size;
  if (size !== headerSize && size !== headerSize + registerRequestBodySize) return "register size";
  return null;
}

function validateReply(header: Header): string | null {
  if (header.release === 0) return "release zero";
  if (header.isZero(ReplyField.client, 16)) return "client zero";
  if (!bytesEqual(header.buffer, header.offset + ReplyField.op, header.buffer, header.offset + ReplyField.commit, 8)) {
    return "op != commit";
  }
  if (header.isZero(ReplyField.timestamp, 8)) return "timestamp zero";
  if (header.isZero(ReplyField.commit, 8)) return "commit zero";
  const request = header.getU32(ReplyField.request);
  if (header.getU8(ReplyField.operation) === Operation.register) {
    if (header.size !== headerSize + registerResultBodySize) return "register reply size";
    if (request !== 0) return "register reply request nonzero";
  } else if (request === 0) {
    return "request zero";
  }
  return null;
}

/** ping_client, pong_client and eviction have no body: size 256 and checksum_body = MAC(""). */
function validateEmptyBody(header: Header): string | null {
  if (header.size !== headerSize) return "size != header";
  if (!header.u128EqualsBytes(FrameField.checksum_body, checksumBodyEmptyBytes, 0)) return "checksum_body not empty";
  return null;
}

function validatePingClient(header: Header): string | null {
  const empty = validateEmptyBody(header);
  if (empty !== null) return empty;
  if (header.release === 0) return "release zero";
  if (header.replica !== 0) return "replica nonzero";
  if (header.view !== 0) return "view nonzero";
  if (header.isZero(PingClientField.client, 16)) return "client zero";
  return null;
}

function validatePongClient(header: Header): string | null {
  const empty = validateEmptyBody(header);
  if (empty !== null) return empty;
  if (header.release === 0) return "release zero";
  // Not a wire.md §4.4 validity rule, but the official client indexes an array of 6 with it
  // (wire.md §11): dropping is the safe reading for our own client too.
  if (header.replica >= pongClientReplicaLimit) return "replica out of range";
  return null;
}

function validateEviction(header: Header): string | null {
  const empty = validateEmptyBody(header);
  if (empty !== null) return empty;
  if (header.release === 0) return "release zero";
  if (header.isZero(EvictionField.client, 16)) return "client zero";
  if (!isValidEvictionReason(header.getU8(EvictionField.reason))) return "reason invalid";
  return null;
}

/** Replica-to-replica commands: structural sanity only; protocol rules live in src/replica. */
function validateReplicaCommand(header: Header, command: number): string | null {
  if (header.replica >= replicaIndexLimit) return "replica out of range";
  const size = header.size;
  switch (command) {
    case Command.ping: return validatePing(header);
    case Command.prepare: return validatePrepare(header);
    case Command.join_view:
      if (header.getU32(JoinViewField.log_view) > header.view) return "log_view > view";
      return (size - headerSize) % headerSize === 0 ? null : "body not whole headers";
    case Command.headers:
      return (size - headerSize) % headerSize === 0 ? null : "body not whole headers";
    case Command.get_headers:
      if (size !== headerSize) return "size != header";
      return header.getU64Number(GetHeadersField.op_min) <= header.getU64Number(GetHeadersField.op_max)
        ? null : "op_min > op_max";
    case Command.get_reply:
      if (size !== headerSize) return "size != header";
      return header.isZero(GetReplyField.client, 16) ? "client zero" : null;
    case Command.block:
      return header.isZero(BlockField.address, 8) ? "address zero" : null;
    case Command.view: case Command.get_blocks:
      return null; // bodies are decoded (and bounded) by their receivers
    default: // pong, prepare_ok, commit, exit_view, get_view, get_prepare
      return size === headerSize ? null : "size != header";
  }
}

function validatePing(header: Header): string | null {
  if (header.release === 0) return "release zero";
  const count = header.getU16(PingField.release_count);
  if (count === 0) return "release_count zero";
  if (count > releasesMax) return "release_count > releases_max";
  return header.size === headerSize + 4 * count ? null : "ping size";
}

function validatePrepare(header: Header): string | null {
  const operation = header.getU8(PrepareField.operation);
  const op = header.getU64Number(PrepareField.op);
  if (operation === Operation.root) return validateRootPrepare(header, op);
  if (op === 0) return "op zero";
  if (operation === Operation.reserved) return "operation reserved";
  if (header.getU64Number(PrepareField.commit) >= op) return "commit >= op";
  if (header.isZero(PrepareField.timestamp, 8)) return "timestamp zero";
  const clientZero = header.isZero(PrepareField.client, 16);
  const request = header.getU32(PrepareField.request);
  if (operation === Operation.register) {
    if (clientZero) return "client zero";
    if (request !== 0) return "request nonzero";
  } else if (operation === Operation.pulse || operation === Operation.upgrade || operation === Operation.noop) {
    if (!clientZero) return "client nonzero";
    if (request !== 0) return "request nonzero";
  } else if (operation < vsrOperationsReserved) {
    return "operation invalid";
  } else {
    if (clientZero) return "client zero";
    if (request === 0) return "request zero";
  }
  // The reply echoes the client's release, so a client op must carry one; others carry none.
  if ((header.getU32(PrepareField.request_release) === 0) !== clientZero) return "request_release invalid";
  return null;
}

/** Op 0 is the fixed root of the hash-chained log (vsr.md §3): everything but the frame is zero. */
function validateRootPrepare(header: Header, op: number): string | null {
  if (op !== 0) return "root op nonzero";
  if (header.size !== headerSize) return "size != header";
  const start = PrepareField.parent;
  const end = PrepareField.operation;
  return header.isZero(start, end - start) ? null : "root field nonzero";
}
