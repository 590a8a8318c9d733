// The JS side of the addon's io_uring ring (native/io_uring.c): ids, a completion table and a
// bounded number of operations in flight.
//
// Per-I/O overhead is kept off the JS heap: an operation is named by a small integer id taken
// from a free list; what it needs at completion (its purpose, buffer, position and one opaque
// context) sits in preallocated tables indexed by that id; the addon writes completed (id, result)
// pairs into one preallocated Int32Array and calls `deliver(count)` once per batch. Completions
// are handed on in the order the kernel posted them.
import { assert } from "../../core/assert.js";
import type { NativeAddon, UringHandle } from "../../core/native_addon.js";

/** The addon functions a ring needs; all present in a current build. */
type UringAddon = Required<Pick<NativeAddon, "uringCreate" | "uringRead" | "uringWrite" | "uringFsync" |
  "uringSubmit" | "uringWait" | "uringClose" | "uringWaitMethod">>;

export function uringAddon(addon: NativeAddon | null): UringAddon | null {
  if (addon === null) return null;
  const { uringCreate, uringRead, uringWrite, uringFsync, uringSubmit, uringWait, uringClose, uringWaitMethod } = addon;
  if (!uringCreate || !uringRead || !uringWrite || !uringFsync || !uringSubmit || !uringWait || !uringClose ||
    !uringWaitMethod) return null;
  return { uringCreate, uringRead, uringWrite, uringFsync, uringSubmit, uringWait, uringClose, uringWaitMethod };
}

/** Tells the ring's owner an operation completed: `result` is bytes transferred, or -errno. */
export type RingCompletion = (purpose: number, result: number, buffer: Uint8Array | null, position: number,
  context: unknown) => void;

export interface RingOptions {
  /** Operations in flight at most; more wait in a queue. */
  readonly slots?: number;
  /** Completions only through wait(), never from Node's event loop. */
  readonly withoutLoop?: boolean;
  /** Tests: wait with IORING_OP_TIMEOUT, the pre-5.11 path, even where the timeout argument works. */
  readonly timeoutOp?: boolean;
}

const enum Kind { read = 0, write = 1, fsync = 2 }
const slotsDefault = 256;
const batchMax = 256;

interface Queued {
  readonly kind: Kind;
  readonly fd: number;
  readonly buffer: Uint8Array | null;
  readonly position: number;
  readonly purpose: number;
  readonly context: unknown;
}

export class UringRing {
  /** Operations submitted and not yet handed to the owner (queued ones included). */
  inFlight = 0;
  private readonly handle: UringHandle;
  private readonly completions: Int32Array;
  private readonly freeIds: Int32Array;
  private freeCount: number;
  private readonly purposes: Uint8Array;
  private readonly positions: Float64Array;
  private readonly buffers: (Uint8Array | null)[];
  private readonly contexts: unknown[];
  /** Operations waiting for a free id: only when more than `slots` are in flight. */
  private readonly queued: Queued[] = [];
  private closed = false;

  /** Throws (with the failing syscall's errno code) when the kernel refuses io_uring. */
  constructor(private readonly addon: UringAddon, private readonly onCompletion: RingCompletion, options: RingOptions = {}) {
    const slots = options.slots ?? slotsDefault;
    this.completions = new Int32Array(2 * Math.min(slots, batchMax));
    this.freeIds = Int32Array.from({ length: slots }, (_, index) => slots - 1 - index);
    this.freeCount = slots;
    this.purposes = new Uint8Array(slots);
    this.positions = new Float64Array(slots);
    this.buffers = new Array<Uint8Array | null>(slots).fill(null);
    this.contexts = new Array<unknown>(slots).fill(null);
    const flags = (options.withoutLoop ? 1 : 0) | (options.timeoutOp ? 2 : 0);
    this.handle = addon.uringCreate(slots, this.completions, (count) => this.deliver(count), flags);
  }

  read(fd: number, buffer: Uint8Array, position: number, purpose: number, context: unknown): void {
    this.start(Kind.read, fd, buffer, position, purpose, context);
  }

  write(fd: number, buffer: Uint8Array, position: number, purpose: number, context: unknown): void {
    this.start(Kind.write, fd, buffer, position, purpose, context);
  }

  /** fdatasync of `fd`: covers every write that completed before it. */
  fsync(fd: number, purpose: number, context: unknown): void {
    this.start(Kind.fsync, fd, null, 0, purpose, context);
  }

  /** Pushes queued submissions to the kernel now (the event loop does it before it sleeps). */
  submit(): void {
    this.addon.uringSubmit(this.handle);
  }

  /**
   * Sleeps in the ring until a completion arrives or `timeoutNs` passes, then hands every
   * completion on. Returns how many. For a host loop that sleeps between ticks inside io_uring.
   */
  wait(timeoutNs: number): number {
    assert(!this.closed);
    return this.addon.uringWait(this.handle, Math.max(0, Math.round(timeoutNs)));
  }

  get waitMethod(): "ext_arg" | "timeout_op" {
    return this.addon.uringWaitMethod(this.handle);
  }

  /** Closes the ring; nothing may be in flight (the kernel would write into freed buffers). */
  close(): void {
    assert(this.inFlight === 0, "closing a ring with operations in flight");
    if (this.closed) return;
    this.closed = true;
    this.addon.uringClose(this.handle);
  }

  private start(kind: Kind, fd: number, buffer: Uint8Array | null, position: number, purpose: number, context: unknown): void {
    assert(!this.closed);
    this.inFlight += 1;
    if (this.freeCount === 0) {
      this.queued.push({ kind, fd, buffer, position, purpose, context });
      return;
    }
    this.submitWithId(kind, fd, buffer, position, purpose, context);
  }

  private submitWithId(kind: Kind, fd: number, buffer: Uint8Array | null, position: number, purpose: number,
    context: unknown): void {
    const id = this.freeIds[--this.freeCount]!;
    this.purposes[id] = purpose;
    this.positions[id] = position;
    this.buffers[id] = buffer; // also keeps a zero-copy buffer alive until the kernel is done
    this.contexts[id] = context;
    if (kind === Kind.read) this.addon.uringRead(this.handle, fd, buffer!, position, id);
    else if (kind === Kind.write) this.addon.uringWrite(this.handle, fd, buffer!, position, id);
    else this.addon.uringFsync(this.handle, fd, id);
  }

  /** Called by the addon with `count` (id, result) pairs in `completions`, in completion order. */
  private deliver(count: number): void {
    for (let index = 0; index < count; index++) {
      const id = this.completions[2 * index]!;
      const result = this.completions[2 * index + 1]!;
      const purpose = this.purposes[id]!;
      const position = this.positions[id]!;
      const buffer = this.buffers[id]!;
      const context = this.contexts[id];
      this.buffers[id] = null;
      this.contexts[id] = null;
      this.freeIds[this.freeCount++] = id; // reused first (LIFO): its bounce buffer is warm
      this.inFlight -= 1;
      const next = this.queued.shift(); // already counted in inFlight
      if (next !== undefined) this.submitWithId(next.kind, next.fd, next.buffer, next.position, next.purpose, next.context);
      this.onCompletion(purpose, result, buffer, position, context);
    }
  }
}
