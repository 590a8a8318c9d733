// What the accounting generator learns from committed replies, so that later requests aim at
// interesting states: created account and transfer ids, pending transfers, object timestamps, and
// recently submitted transfers for retries. It also counts results by status, as coverage for
// tests and logs. Learning draws nothing from the PRNG; the check itself is the auditor's.
import { assert } from "../../../core/assert.js";
import { Operation, operationName } from "../../../core/command.js";
import {
  TransferFlags as TF,
  accountSize,
  decodeAccount,
  decodeCreateResult,
  decodeTransfer,
  isTransientTransferStatus,
  transferSize,
  type Account,
  type Transfer,
} from "../../../core/layouts.js";
import { decodeMultiBatch } from "../../../core/multi_batch.js";

/** Lookup and query results are Accounts, Transfers or AccountBalances: 128 bytes each. */
export const objectSize = 128;
const ringSize = 128;
/** A create result's status for `created`. */
const statusCreated = 0xffff_ffff;

/** A fixed-size ring of recent items, for retries. */
export class Ring<T> {
  readonly items: T[] = [];
  private next = 0;

  push(item: T): void {
    if (this.items.length < ringSize) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % ringSize;
  }
}

export class Knowledge {
  /**
   * Coverage, for tests and logs: create results by operation and status ("create_transfers:35",
   * "create_accounts:created"), and objects returned by lookups and queries ("query_accounts:results").
   */
  readonly statuses = new Map<string, number>();
  readonly accountIds: bigint[] = [];
  readonly transferIdsCreated: bigint[] = [];
  /** Pending transfers that may still be worth aiming at (the generator prunes resolved ones). */
  pendingIds: bigint[] = [];
  readonly timestamps = new Ring<bigint>();
  /** Submitted transfers that were created (retries give `exists`) or failed transiently (68). */
  readonly createdRing = new Ring<Transfer>();
  readonly failedRing = new Ring<Transfer>();

  /** Learns from a committed request and the reply it must have had (the model's). */
  learn(operation: number, requestBody: Uint8Array, reply: Uint8Array): void {
    if (operation !== Operation.create_accounts && operation !== Operation.create_transfers) {
      const found = decodeMultiBatch(reply, objectSize);
      assert(typeof found !== "string");
      this.count(`${operationName(operation)}:results`, found.elementTotal);
      return;
    }
    const accounts = operation === Operation.create_accounts;
    const request = decodeMultiBatch(requestBody, accounts ? accountSize : transferSize);
    const results = decodeMultiBatch(reply, 16);
    assert(typeof request !== "string" && typeof results !== "string");
    const requestView = new DataView(requestBody.buffer, requestBody.byteOffset, requestBody.byteLength);
    const replyView = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    for (let k = 0; k < request.batchCount; k++) {
      for (let i = 0; i < request.elementCount(k); i++) {
        const result = decodeCreateResult(replyView, results.batchOffset(k) + 16 * i);
        this.count(`${operationName(operation)}:${result.status === statusCreated ? "created" : result.status}`, 1);
        const offset = request.batchOffset(k) + i * (accounts ? accountSize : transferSize);
        if (accounts) this.learnAccount(decodeAccount(requestView, offset), result.status, result.timestamp);
        else this.learnTransfer(decodeTransfer(requestView, offset), result.status, result.timestamp);
      }
    }
  }

  private count(key: string, n: number): void {
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + n);
  }

  private learnAccount(a: Account, status: number, timestamp: bigint): void {
    if (status !== statusCreated) return;
    this.accountIds.push(a.id);
    this.timestamps.push(timestamp);
  }

  private learnTransfer(t: Transfer, status: number, timestamp: bigint): void {
    if (status === statusCreated) {
      this.transferIdsCreated.push(t.id);
      this.timestamps.push(timestamp);
      this.createdRing.push(t);
      if ((t.flags & TF.pending) !== 0) this.pendingIds.push(t.id);
    } else if (isTransientTransferStatus(status)) {
      this.failedRing.push(t);
    }
  }
}
