// The client_replies zone (spec/vsr.md §12–13): one message_size_max slot per client session, which
// holds that session's latest reply. The session table (client_sessions.ts, checkpointed in the grid)
// keeps only the reply's header; the body lives here, written when the op commits and read back
// only for an exact duplicate request (the client lost our reply). Every read is verified against
// the header's checksum held in the table, so a corrupt, misdirected, torn or stale slot is never
// sent: it is repaired from a peer (`request_reply` / `reply`, protocol/reply_repair.ts).
//
// Writes to one slot are serialised (a slot holds one reply; two writes in flight could land in
// either order): a commit while the slot's write is in flight replaces the queued write. Reads of a
// slot being written are served from memory.
import { assert } from "../core/assert.js";
import { headerSize, sectorSize, type Config } from "../core/config.js";
import { Header, verifyBodyChecksum, verifyHeaderChecksum } from "../core/header.js";
import { Zone, type Storage } from "../io/storage.js";

interface SlotWrite {
  /** The reply being written. */
  current: Uint8Array;
  /** The reply to write once it lands (a later commit), or null. */
  next: Uint8Array | null;
}

export class ClientReplies {
  private readonly writing = new Map<number, SlotWrite>();
  /** Slots found not to hold the reply the session table vouches for, by slot: that reply's checksum. */
  private readonly faulty = new Map<number, bigint>();
  /** Writes to the zone since start (the simulator's and metrics' count). */
  writes = 0;

  constructor(private readonly storage: Storage, private readonly config: Config) {}

  /** Stores `reply` (a whole reply message) in `slot`, replacing what it held. */
  write(slot: number, reply: Uint8Array): void {
    assert(slot >= 0 && slot < this.config.clientsMax, "a reply slot beyond clients_max");
    assert(reply.length >= headerSize && reply.length <= this.config.messageSizeMax);
    this.faulty.delete(slot);
    const pending = this.writing.get(slot);
    if (pending !== undefined) {
      pending.next = reply;
      return;
    }
    this.writing.set(slot, { current: reply, next: null });
    this.submit(slot, reply);
  }

  private submit(slot: number, reply: Uint8Array): void {
    const buffer = new Uint8Array(Math.ceil(reply.length / sectorSize) * sectorSize);
    buffer.set(reply);
    this.writes += 1;
    this.storage.write(Zone.client_replies, slot * this.config.messageSizeMax, buffer, () => {
      const pending = this.writing.get(slot)!;
      assert(pending !== undefined && pending.current === reply, "reply slot writes out of order");
      if (pending.next === null) return void this.writing.delete(slot);
      pending.current = pending.next;
      pending.next = null;
      this.submit(slot, pending.current);
    });
  }

  /** Records that `slot` does not hold the reply with `checksum` (until a write replaces it). */
  markFaulty(slot: number, checksum: bigint): void {
    this.faulty.set(slot, checksum);
  }

  /** Whether `slot` was found not to hold the reply with `checksum`, and nothing was written since. */
  isFaulty(slot: number, checksum: bigint): boolean {
    return this.faulty.get(slot) === checksum;
  }

  /**
   * Reads the reply in `slot` that has checksum `checksum` and `size` bytes: calls back with it, or
   * with null when the slot holds anything else (corrupt, misdirected, torn, or another reply).
   */
  read(slot: number, checksum: bigint, size: number, callback: (reply: Uint8Array | null) => void): void {
    assert(slot >= 0 && slot < this.config.clientsMax && size >= headerSize && size <= this.config.messageSizeMax);
    const pending = this.writing.get(slot);
    const latest = pending === undefined ? undefined : pending.next ?? pending.current;
    if (latest !== undefined) {
      const copy = latest.slice();
      return this.storage.nextTick(() => callback(isReply(copy, checksum, size) ? copy : null));
    }
    const buffer = new Uint8Array(Math.ceil(size / sectorSize) * sectorSize);
    this.storage.read(Zone.client_replies, slot * this.config.messageSizeMax, buffer, () => {
      const reply = buffer.subarray(0, size);
      callback(isReply(reply, checksum, size) ? reply : null);
    });
  }
}

/** Whether `bytes` is the intact message with `checksum` and `size` (both checksums verified). */
function isReply(bytes: Uint8Array, checksum: bigint, size: number): boolean {
  if (bytes.length !== size || !verifyHeaderChecksum(bytes, 0)) return false;
  const header = new Header(bytes, 0);
  return header.checksum === checksum && header.size === size && verifyBodyChecksum(bytes, 0);
}
