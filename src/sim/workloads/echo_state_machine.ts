// The "testing" state machine of spec/vopr.md §4: one `echo` operation whose reply equals the
// request body. It has no semantics to get wrong, so a VOPR run with it isolates replication,
// storage, checkpoints and sync from the ledger. It keeps a running digest of everything it
// executed so that replicas can still be compared at checkpoints, and persists the digest after
// every op in one append-only space, so that checkpoints, bar flushes and sync move pages too.
import { checksum } from "../../core/checksum.js";
import { Operation } from "../../core/command.js";
import { assert } from "../../core/assert.js";
import type { PagePool } from "../../core/page_pool.js";
import { PagedRecords } from "../../core/paged_records.js";
import type { PageNeeds, PageSpace, PersistentState } from "../../core/persistent_state.js";
import type { ReplicaStateMachine } from "../../replica/state_machine.js";

/** The echo operation's number: the first free state-machine operation. */
export const echoOperation = 130;

const digestWords = 4;
/** Pages before the grid configures its own size. */
const pageBytesDefault = 4096;

export class EchoStateMachine implements ReplicaStateMachine, PersistentState {
  /** A hash chain over every executed (operation, timestamp, body). */
  digest = 0n;
  executed = 0;
  /** The digest after each executed op, 16 bytes each: the persisted space. */
  private digests = new PagedRecords(digestWords, pageBytesDefault);
  private readonly needs: number[] = [];

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

  /** Appending a digest needs the partial last page of the digests. */
  prefetch(): PageNeeds {
    this.needs.length = 0;
    if (this.executed % this.digests.perPage !== 0) this.needs.push(0, this.digests.pageOf(this.executed - 1));
    return this.needs;
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

  pulseNext(): null {
    return null;
  }

  private appendDigest(): void {
    const record = this.digests.append();
    const words = this.digests.u32(record);
    const w = this.digests.at(record);
    for (let i = 0; i < digestWords; i++) words[w + i] = Number((this.digest >> BigInt(32 * i)) & 0xffff_ffffn);
    this.executed += 1;
  }

  configurePages(pool: PagePool): void {
    assert(this.executed === 0, "echo: pages configured on an empty state");
    this.digests = new PagedRecords(digestWords, pool.pageBytes, pool);
  }

  spaces(): readonly PageSpace[] {
    return [this.digests];
  }

  /** The op count and the current digest (the digests' pages are read on demand). */
  meta(): Uint8Array {
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(this.executed), true);
    view.setBigUint64(8, this.digest & 0xffff_ffff_ffff_ffffn, true);
    view.setBigUint64(16, this.digest >> 64n, true);
    return bytes;
  }

  restoreBegin(meta: Uint8Array): void {
    assert(meta.length === 24, "echo meta: length");
    const view = new DataView(meta.buffer, meta.byteOffset, 24);
    this.executed = Number(view.getBigUint64(0, true));
    this.digest = (view.getBigUint64(16, true) << 64n) | view.getBigUint64(8, true);
    this.digests.releasePages();
    this.digests = new PagedRecords(digestWords, this.digests.pageBytes, this.digests.pool);
    this.digests.count = this.executed;
  }

  restoreFinish(): void {
    this.digests.clearDirty();
  }
}
