// The "testing" state machine of spec/vopr.md §4: one `echo` operation whose reply equals the
// request body. It has no semantics to get wrong, so a VOPR run with it isolates replication,
// storage, checkpoints and sync from the ledger. It keeps a running digest of everything it
// executed so that replicas can still be compared at checkpoints.
import { checksum } from "../../core/checksum.js";
import { Operation } from "../../core/command.js";
import type { ReplicaStateMachine } from "../../replica/state_machine.js";

/** The echo operation's number: the first free state-machine operation. */
export const echoOperation = 130;

export class EchoStateMachine implements ReplicaStateMachine {
  /** A hash chain over every executed (operation, timestamp, body). */
  digest = 0n;
  executed = 0;

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
    this.executed += 1;
    if (operation === Operation.pulse) return 0;
    reply.set(body, 0);
    return body.length;
  }

  pulseNeeded(): boolean {
    return false;
  }

  snapshot(): Uint8Array {
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, this.digest & 0xffff_ffff_ffff_ffffn, true);
    view.setBigUint64(8, this.digest >> 64n, true);
    view.setBigUint64(16, BigInt(this.executed), true);
    return bytes;
  }

  restore(snapshot: Uint8Array): void {
    const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.length);
    this.digest = (view.getBigUint64(8, true) << 64n) | view.getBigUint64(0, true);
    this.executed = Number(view.getBigUint64(16, true));
  }
}
