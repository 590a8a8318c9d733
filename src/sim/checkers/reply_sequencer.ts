// Reply sequencing (spec/vopr.md §11.2). Every replica reports every (prepare, reply) it produces
// at commit; the sequencer emits each op exactly once, in op order, after asserting that its
// prepare is the canonical one. The workload and auditor then check replies against a sequential
// model in commit order: strict serializability.
//
// An op may arrive ahead of its predecessor (e.g. from a replica that state-synced past ops
// nobody reported yet); it waits in a bounded stall queue. The simulator sends a new request
// only while the queue has room (§5 tick_requests), so the bound is never the reason for a stall.
import { assert } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import { PrepareHeader } from "../../core/header.js";
import { CorrectnessError } from "./state_checker.js";

/** Receives each op once, in op order. The buffers are valid only during the call. */
export type SequencedFn = (prepare: Uint8Array, reply: Uint8Array | null) => void;

interface Stalled {
  readonly prepare: Uint8Array;
  readonly reply: Uint8Array | null;
}

export class ReplySequencer {
  /** The next op to emit; op 0 is the root and never committed. */
  private next = 1;
  private readonly stalled = new Map<number, Stalled>();
  private readonly header = new PrepareHeader(new Uint8Array(headerSize));
  emitted = 0;

  /**
   * @param capacity the stall queue's bound.
   * @param canonical the canonical prepare checksum at an op (the state checker's history).
   */
  constructor(
    readonly capacity: number,
    private readonly canonical: (op: number) => bigint,
    private readonly emit: SequencedFn,
  ) {
    assert(Number.isInteger(capacity) && capacity >= 1, "ReplySequencer: capacity must be positive");
  }

  /** Stall-queue slots left. */
  get free(): number {
    return this.capacity - this.stalled.size;
  }

  /** The next op that will be emitted. */
  get nextOp(): number {
    return this.next;
  }

  /** One replica's commit. Duplicates of emitted or stalled ops are checked and dropped. */
  push(prepare: Uint8Array, reply: Uint8Array | null): void {
    const header = this.header.reset(prepare, 0);
    const op = header.op;
    const checksum = header.checksum;
    assert(op >= 1, "ReplySequencer: the root op is never committed");
    if (op < this.next) return this.expectCanonical(op, checksum);
    const stalled = this.stalled.get(op);
    if (stalled !== undefined) {
      if (new PrepareHeader(stalled.prepare, 0).checksum !== checksum) {
        this.fail(`op ${op} reported with two different prepares`);
      }
      return;
    }
    if (op > this.next) {
      if (!(this.stalled.size < this.capacity)) {
        this.fail(`stall queue full (${this.capacity}) waiting for op ${this.next}`);
      }
      this.stalled.set(op, { prepare: prepare.slice(), reply: reply === null ? null : reply.slice() });
      return;
    }
    this.emitOne(op, checksum, prepare, reply);
    this.drain();
  }

  private drain(): void {
    for (;;) {
      const stalled = this.stalled.get(this.next);
      if (stalled === undefined) return;
      this.stalled.delete(this.next);
      this.emitOne(this.next, new PrepareHeader(stalled.prepare, 0).checksum, stalled.prepare, stalled.reply);
    }
  }

  private emitOne(op: number, checksum: bigint, prepare: Uint8Array, reply: Uint8Array | null): void {
    this.expectCanonical(op, checksum);
    this.next = op + 1;
    this.emitted += 1;
    this.emit(prepare, reply);
  }

  private expectCanonical(op: number, checksum: bigint): void {
    if (this.canonical(op) !== checksum) this.fail(`op ${op} is not the canonical commit`);
  }

  private fail(message: string): never {
    throw new CorrectnessError(`reply sequencer: ${message}`);
  }
}
