// The client session table (spec/vsr.md §13, wire.md §9–10): one entry per registered client with
// its session number (the register's commit op), the latest committed request number and the
// header of its reply; the reply itself is in the entry's slot of the client_replies zone
// (client_replies.ts). Every replica applies the same commits in the same order, so the table —
// including which entry is evicted when it is full, and which slot each entry has — is identical
// everywhere.
import { assert } from "../core/assert.js";
import { headerSize } from "../core/config.js";
import { ReplyHeader } from "../core/header.js";
import { readU128, writeU128 } from "../core/u128.js";

export interface ClientSession {
  readonly client: bigint;
  /** The op of the register commit: strictly increasing across sessions. */
  readonly session: number;
  /** The release the client registered with; requests from another release are evicted. */
  readonly release: number;
  /** The latest committed request number (0 after register). */
  request: number;
  /** The slot of the client_replies zone that holds the latest reply. */
  readonly slot: number;
  /** The latest reply's header (256 bytes): its checksum and size vouch for the slot's bytes. */
  replyHeader: Uint8Array;
  /** The latest reply's checksum and size (from replyHeader). */
  replyChecksum: bigint;
  replySize: number;
  /** The reply's op: the session with the oldest one is evicted first. */
  replyOp: number;
  /** The request checksum the latest reply answers. */
  requestChecksum: bigint;
  /** The reply's context: the next request's parent must equal it. */
  context: bigint;
}

export class ClientSessions {
  private readonly sessions = new Map<bigint, ClientSession>();
  private readonly replyHeader = new ReplyHeader(new Uint8Array(headerSize));

  constructor(readonly clientsMax: number) {
    assert(clientsMax > 0);
  }

  get size(): number {
    return this.sessions.size;
  }

  get(client: bigint): ClientSession | undefined {
    return this.sessions.get(client);
  }

  /** In commit order of registration (deterministic on every replica). */
  entries(): IterableIterator<ClientSession> {
    return this.sessions.values();
  }

  /**
   * Commits a register: a new session numbered by the register's op. When the table is full, the
   * session whose latest reply is oldest is evicted first; its client id is returned.
   */
  register(client: bigint, release: number, reply: Uint8Array): bigint | null {
    assert(client !== 0n && !this.sessions.has(client), "register of a known client");
    let evicted: bigint | null = null;
    // Entries only ever replace evicted ones, so a table not full holds slots 0 … size − 1.
    let slot = this.sessions.size;
    if (this.sessions.size < this.clientsMax) {
      for (const entry of this.sessions.values()) assert(entry.slot !== slot, "client sessions: a reply slot used twice");
    } else {
      let oldest: ClientSession | null = null;
      for (const entry of this.sessions.values()) {
        if (oldest === null || entry.replyOp < oldest.replyOp) oldest = entry;
      }
      evicted = oldest!.client;
      slot = oldest!.slot;
      this.sessions.delete(evicted);
    }
    const header = this.replyHeader.reset(reply, 0);
    this.sessions.set(client, {
      client, session: header.op, release, request: 0, slot, replyHeader: reply.slice(0, headerSize),
      replyChecksum: header.checksum, replySize: header.size, replyOp: header.op,
      requestChecksum: header.request_checksum, context: header.context,
    });
    return evicted;
  }

  /** Commits request `request` of a known client with its reply. */
  commit(client: bigint, reply: Uint8Array): void {
    const entry = this.sessions.get(client);
    assert(entry !== undefined, "commit for a client without a session");
    const header = this.replyHeader.reset(reply, 0);
    assert(header.request === entry.request + 1, "requests commit in order, one at a time");
    assert(header.op > entry.replyOp);
    entry.request = header.request;
    entry.replyHeader = reply.slice(0, headerSize);
    entry.replyChecksum = header.checksum;
    entry.replySize = header.size;
    entry.replyOp = header.op;
    entry.requestChecksum = header.request_checksum;
    entry.context = header.context;
  }

  clear(): void {
    this.sessions.clear();
  }

  /** Re-inserts an entry from a checkpoint, preserving table order. */
  restore(entry: ClientSession): void {
    assert(!this.sessions.has(entry.client) && this.sessions.size < this.clientsMax);
    assert(entry.slot < this.clientsMax);
    this.sessions.set(entry.client, { ...entry });
  }
}

/** Byte size of one entry of the encoding: a 72-byte record and the reply's header. */
const encodedEntrySize = 72 + headerSize;

/**
 * Canonical encoding of the session table for checkpoints: entries in table order, each a fixed
 * 72-byte record followed by the reply's header (its body is in the client_replies zone). Equal
 * tables give equal bytes on every replica.
 */
export function encodeSessions(sessions: ClientSessions): Uint8Array {
  const entries = [...sessions.entries()];
  const size = 4 + entries.length * encodedEntrySize;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, entries.length, true);
  let offset = 4;
  for (const entry of entries) {
    writeU128(view, offset, entry.client);
    view.setBigUint64(offset + 16, BigInt(entry.session), true);
    view.setUint32(offset + 24, entry.release, true);
    view.setUint32(offset + 28, entry.request, true);
    view.setBigUint64(offset + 32, BigInt(entry.replyOp), true);
    writeU128(view, offset + 40, entry.requestChecksum);
    view.setUint32(offset + 56, entry.replySize, true);
    view.setUint32(offset + 60, entry.slot, true);
    offset += 72;
    bytes.set(entry.replyHeader, offset);
    offset += headerSize;
  }
  assert(offset === size);
  return bytes;
}

/** Restores a table encoded by encodeSessions (trusted: it comes from a verified checkpoint). */
export function decodeSessions(sessions: ClientSessions, bytes: Uint8Array): void {
  sessions.clear();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const count = view.getUint32(0, true);
  let offset = 4;
  const header = new ReplyHeader(new Uint8Array(headerSize));
  for (let i = 0; i < count; i++) {
    const replyHeader = bytes.slice(offset + 72, offset + encodedEntrySize);
    header.reset(replyHeader, 0);
    assert(header.size === view.getUint32(offset + 56, true), "session table: reply size");
    sessions.restore({
      client: readU128(view, offset),
      session: Number(view.getBigUint64(offset + 16, true)),
      release: view.getUint32(offset + 24, true),
      request: view.getUint32(offset + 28, true),
      replyOp: Number(view.getBigUint64(offset + 32, true)),
      requestChecksum: readU128(view, offset + 40),
      slot: view.getUint32(offset + 60, true),
      replyHeader,
      replyChecksum: header.checksum,
      replySize: header.size,
      context: header.context,
    });
    offset += encodedEntrySize;
  }
  assert(offset === bytes.length, "session table encoding length");
}
