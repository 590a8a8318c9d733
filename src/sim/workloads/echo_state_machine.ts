// The "testing" state machine of spec/vopr.md §4: one `echo` operation whose reply equals the
// request body. It has no semantics to get wrong, so a VOPR run with it isolates replication,
// storage, checkpoints and sync from the ledger. It keeps a running digest of everything it
// executed so that replicas can still be compared at checkpoints, and persists the digest after
// every op in one append-only space, so that checkpoints, bar flushes and sync move pages too.
import { checksum } from "../../core/checksum.js";
import { Operation } from "../../core/command.js";
import { assert } from "../../core/assert.js";
import { dirtyUnitSize, type PageSpace, type PersistentState } from "../../core/persistent_state.js";
import type { ReplicaStateMachine } from "../../replica/state_machine.js";

/** The echo operation's number: the first free state-machine operation. */
export const echoOperation = 130;

const digestSize = 16;

export class EchoStateMachine implements ReplicaStateMachine, PersistentState {
  /** A hash chain over every executed (operation, timestamp, body). */
  digest = 0n;
  executed = 0;
  /** The digest after each executed op, 16 bytes each: the persisted space. */
  private digests = new Uint8Array(4096);
  private dirtyUnits = new Set<number>();
  private readonly space: PageSpace = {
    bytes: () => this.digests,
    usedBytes: () => this.executed * digestSize,
    isDirty: (unit) => this.dirtyUnits.has(unit),
    clearDirty: () => this.dirtyUnits.clear(),
  };

  get persistent(): PersistentState {
    return this;
  }

  isOperation(operation: number): boolean {
    return operation === echoOperation;
  }

  validateRequest(operation: number, body: Uint8Array, batchSizeLimit: number): boolean {
    return operation === echoOperation && body.length <= batchSizeLimit;
  }

  replySizeMax(_operation: number, body: Uint8Array): number {
    return body.length;
  }

  eventCount(operation: number): number {
    return operation === Operation.pulse ? 0 : 1;
  }

  execute(operation: number, timestamp: bigint, body: Uint8Array, reply: Uint8Array): number {
    const record = new Uint8Array(16 + 8 + 1 + body.length);
    const view = new DataView(record.buffer);
    view.setBigUint64(0, this.digest & 0xffff_ffff_ffff_ffffn, true);
    view.setBigUint64(8, this.digest >> 64n, true);
    view.setBigUint64(16, timestamp, true);
    record[24] = operation;
    record.set(body, 25);
    this.digest = checksum(record);
    this.appendDigest();
    if (operation === Operation.pulse) return 0;
    reply.set(body, 0);
    return body.length;
  }

  pulseNeeded(): boolean {
    return false;
  }

  private appendDigest(): void {
    const offset = this.executed * digestSize;
    this.ensureBytes(offset + digestSize);
    const view = new DataView(this.digests.buffer);
    view.setBigUint64(offset, this.digest & 0xffff_ffff_ffff_ffffn, true);
    view.setBigUint64(offset + 8, this.digest >> 64n, true);
    this.dirtyUnits.add(Math.floor(offset / dirtyUnitSize));
    this.executed += 1;
  }

  private ensureBytes(length: number): void {
    if (length <= this.digests.length) return;
    const grown = new Uint8Array(Math.max(length, this.digests.length * 2));
    grown.set(this.digests);
    this.digests = grown;
  }

  spaces(): readonly PageSpace[] {
    return [this.space];
  }

  meta(): Uint8Array {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(this.executed), true);
    return bytes;
  }

  restoreBegin(meta: Uint8Array): void {
    assert(meta.length === 8, "echo meta: length");
    this.executed = Number(new DataView(meta.buffer, meta.byteOffset, 8).getBigUint64(0, true));
    this.digests = new Uint8Array(Math.max(4096, this.executed * digestSize));
    this.dirtyUnits.clear();
  }

  restoreFinish(): void {
    this.dirtyUnits.clear();
    if (this.executed === 0) {
      this.digest = 0n;
      return;
    }
    const view = new DataView(this.digests.buffer);
    const offset = (this.executed - 1) * digestSize;
    this.digest = (view.getBigUint64(offset + 8, true) << 64n) | view.getBigUint64(offset, true);
  }
}
