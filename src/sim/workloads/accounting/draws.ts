// The small draws every part of the accounting generator shares: percentages, ids of the account
// and transfer spaces, user_data values and imported timestamps. It also holds what the generator
// reads: the drawn options, what it learned from commits, and a read-only view of the auditor's
// model (the generator never executes anything on it).
import type { Prng } from "../../../core/prng.js";
import type { Knowledge } from "./knowledge.js";
import { AMOUNT_MAX, TIMESTAMP_MAX, type ModelLedger } from "./ledger_model.js";
import type { AccountingOptions } from "./options.js";

export const U128_MAX = AMOUNT_MAX;

/** What the generator may read of the model. */
export type ModelView = Pick<ModelLedger, "peekAccount" | "peekTransfer" | "pendingState" | "maxObjectTimestamp">;

export class Draws {
  /** Transfer indexes handed out (ids via the permutation); index 0 is never used. */
  transferIndex = 0;
  /** Account ids ever put in a request by newAccountId (possibly not created: failed or lost). */
  private readonly accountIdsSubmitted = new Set<bigint>();

  constructor(
    readonly prng: Prng,
    readonly drawn: AccountingOptions,
    readonly model: ModelView,
    readonly known: Knowledge,
  ) {}

  chance(percent: number): boolean {
    return this.prng.chance(Math.min(100, Math.max(0, percent)), 100);
  }

  /** Small user_data values so that query conditions match often. */
  small128(): bigint {
    return this.chance(40) ? 0n : BigInt(this.prng.range(1, 4));
  }

  small64(): bigint {
    return this.chance(40) ? 0n : BigInt(this.prng.range(1, 4));
  }

  small32(): number {
    return this.chance(40) ? 0 : this.prng.range(1, 4);
  }

  accountId(k: number): bigint {
    return this.drawn.accountIdBase + BigInt(k);
  }

  /** An id of the account space [1, accounts_max]. */
  anyAccountId(): bigint {
    return this.accountId(this.prng.range(1, this.drawn.accountsMax));
  }

  /** Usually an id never submitted before (while there are any), so that the ledger fills up. */
  newAccountId(): bigint {
    const max = this.drawn.accountsMax;
    if (this.accountIdsSubmitted.size >= max || this.chance(30)) return this.anyAccountId();
    let k = this.prng.range(1, max);
    while (this.accountIdsSubmitted.has(this.accountId(k))) k = k === max ? 1 : k + 1;
    this.accountIdsSubmitted.add(this.accountId(k));
    return this.accountId(k);
  }

  /** The reversible IdPermutation of §12.1: index (≥ 1) → a non-zero u128 id. */
  transferId(index: number): bigint {
    const n = BigInt(index);
    switch (this.drawn.transferIds) {
      case "sequential": return n;
      case "reversed": return (1n << 64n) - n;
      case "zigzag": return index % 2 === 1 ? n : (1n << 64n) - n;
      case "random": return (n * 0x9e3779b97f4a7c15f39cc0605cedc835n) & U128_MAX;
    }
  }

  freshTransferId(): bigint {
    this.transferIndex += 1;
    return this.transferId(this.transferIndex);
  }

  /**
   * The timestamps of one batch's imported events: increasing from just past the newest known
   * object (a later commit may make them regress), 2% out of range or at a boundary instead (§6
   * rule 3.2.d). Draws the starting point now, imported batch or not.
   */
  importedTimestamps(): () => bigint {
    let timestamp = this.model.maxObjectTimestamp + BigInt(this.prng.range(0, 1000));
    return () => {
      timestamp += BigInt(this.prng.range(1, 3));
      return this.chance(2) ? this.rawTimestamp() : timestamp;
    };
  }

  private rawTimestamp(): bigint {
    return this.prng.pick([0n, TIMESTAMP_MAX, 1n << 63n, (1n << 64n) - 1n]);
  }
}
