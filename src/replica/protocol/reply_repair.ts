// Client replies read back from the client_replies zone (replica/client_replies.ts), and their
// repair from peers (spec/vsr.md §13, message get_reply, which the spec calls request_reply).
//
// A reply is read from disk only for an exact duplicate of a client's latest committed request (the
// client never got our reply). A slot that does not hold the reply the session table vouches for —
// corrupt, misdirected, torn at a crash, or overwritten later than the checkpoint the table came
// from — is asked for from a random peer, by client and checksum. Every replica that executed the
// client's latest request holds the same reply in the same slot. The repaired reply is written
// home and sent to the client; the client's own retries drive further attempts if one is lost.
import { headerSize } from "../../core/config.js";
import { Command } from "../../core/command.js";
import { GetReplyHeader, ReplyHeader, setChecksums } from "../../core/header.js";
import type { ClientSession } from "../client_sessions.js";
import type { Replica } from "../replica.js";
import { anyOtherNode } from "./sync.js";
import { newMessage } from "../../core/message_slab.js";

/** Sends `entry`'s latest reply to its client, from the zone; a faulty slot is repaired first. */
export function sendStoredReply(replica: Replica, entry: ClientSession): void {
  const { client, slot, replyChecksum, replySize } = entry;
  replica.clientReplies.read(slot, replyChecksum, replySize, (reply) => {
    // The client may have moved on (or been evicted) while we read: only its latest reply is sent.
    if (replica.sessions.get(client)?.replyChecksum !== replyChecksum) return;
    if (reply !== null) {
      replica.probe("duplicate_request_replied");
      return replica.bus.sendToClient(client, reply);
    }
    replica.clientReplies.markFaulty(slot, replyChecksum);
    if (replica.replicaCount + replica.standbyCount === 1) {
      return replica.notice("reply_faulty", () => `the stored reply to client ${client} (slot ${slot}) is corrupt: ` +
        "no peer to repair it from; the client's request stays unanswered");
    }
    requestReply(replica, entry);
  });
}

function requestReply(replica: Replica, entry: ClientSession): void {
  const message = newMessage(headerSize);
  const header = new GetReplyHeader(message, 0);
  replica.frame(header, Command.get_reply, headerSize);
  header.reply_checksum = entry.replyChecksum;
  header.client = entry.client;
  header.reply_op = entry.replyOp;
  setChecksums(message, 0, headerSize);
  replica.sendToReplica(anyOtherNode(replica), message);
}

/** A peer asks for a reply: served if it is the latest reply of that client here, and intact. */
export function onGetReply(replica: Replica, message: Uint8Array): void {
  const request = new GetReplyHeader(message, 0);
  const from = request.replica;
  if (from === replica.replica) return replica.ignored("get_reply", "from ourselves");
  if (from >= replica.replicaCount + replica.standbyCount) return replica.ignored("get_reply", "from no replica of ours");
  const entry = replica.sessions.get(request.client);
  if (entry === undefined || entry.replyChecksum !== request.reply_checksum) {
    return replica.ignored("get_reply", "not the client's latest reply here");
  }
  replica.clientReplies.read(entry.slot, entry.replyChecksum, entry.replySize, (reply) => {
    if (reply === null) return replica.ignored("get_reply", "our copy is faulty too");
    replica.sendToReplica(from, reply);
  });
}

/** A reply a peer served (replicas receive replies only as repairs): written home if we want it. */
export function onReplyRepair(replica: Replica, message: Uint8Array): void {
  const header = new ReplyHeader(message, 0);
  const entry = replica.sessions.get(header.client);
  if (entry === undefined || entry.replyChecksum !== header.checksum || !replica.clientReplies.isFaulty(entry.slot, header.checksum)) {
    return replica.ignored("reply", "not a reply we are repairing");
  }
  const reply = message.slice();
  replica.clientReplies.write(entry.slot, reply);
  replica.probe("reply_repaired");
  replica.notice("repair_reply", () => `repaired the stored reply to client ${header.client} (op ${header.op}, ` +
    `slot ${entry.slot}): our copy was corrupt, misdirected or stale`);
  if (replica.status === "normal") replica.bus.sendToClient(header.client, reply);
}
