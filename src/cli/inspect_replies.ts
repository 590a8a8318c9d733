// The client_replies part of `scarab inspect integrity` (spec/vsr.md §12–13): each session of the
// checkpoint's table names its reply by checksum; its slot must hold that reply, or a later reply of
// the same client (ops after the checkpoint, which the WAL replays). Anything else is damage that a
// replica repairs from a peer when the client asks for the reply again (replica/client_replies.ts).
import { Command } from "../core/command.js";
import { headerSize, sectorSize, type Config } from "../core/config.js";
import { ReplyHeader, verifyBodyChecksum, verifyHeaderChecksum } from "../core/header.js";
import { ClientSessions, decodeSessions } from "../replica/client_sessions.js";
import type { DataFile } from "./inspect_read.js";
import type { Damage } from "./inspect_integrity.js";

export interface RepliesReport {
  /** Sessions in the checkpoint's table. */
  readonly sessions: number;
  /** Slots that hold the reply the table names, or a later one of the same client. */
  readonly intact: number;
  readonly damage: Damage[];
}

export function inspectReplies(file: DataFile, config: Config, sessionsBytes: Uint8Array): RepliesReport {
  const sessions = new ClientSessions(config.clientsMax);
  decodeSessions(sessions, sessionsBytes);
  const damage: Damage[] = [];
  for (const entry of sessions.entries()) {
    const offset = config.zones.clientReplies.offset + entry.slot * config.messageSizeMax;
    const problem = replyProblem(file, config, offset, entry.client, entry.replyChecksum, entry.replyOp);
    if (problem !== null) {
      damage.push({ zone: "client_replies", offset, where: `slot ${entry.slot} (client ${entry.client}, reply op ${entry.replyOp})`,
        what: `${problem}: repaired from a peer when the client asks again` });
    }
  }
  return { sessions: sessions.size, intact: sessions.size - damage.length, damage };
}

/** Why the slot at `offset` holds neither the reply with `checksum` nor a later reply of `client`; null if it does. */
function replyProblem(file: DataFile, config: Config, offset: number, client: bigint, checksum: bigint, op: number): string | null {
  if (offset >= file.size) return "beyond the end of the file (truncated)";
  const first = file.read(offset, sectorSize);
  if (first.every((byte) => byte === 0)) return "zeroed (never written, or lost)";
  if (!verifyHeaderChecksum(first, 0)) return "bad header checksum";
  const header = new ReplyHeader(first, 0);
  if (header.command !== Command.reply || header.client !== client) return "holds another message: misdirected";
  if (header.checksum !== checksum && header.op <= op) return `holds an older reply (op ${header.op}): stale or misdirected`;
  if (header.size < headerSize || header.size > config.messageSizeMax) return `size ${header.size} out of range`;
  const message = file.read(offset, Math.ceil(header.size / sectorSize) * sectorSize).subarray(0, header.size);
  return verifyBodyChecksum(message, 0) ? null : "bad body checksum";
}
