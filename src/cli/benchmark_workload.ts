// The objects `scarab benchmark` sends (cli/benchmark_load.ts), and `scarab start`'s ledger warm-up
// runs through a scratch ledger before the replica exists (cli/ledger_warm_up.ts): the warm-up
// builds them the same way, so the code it compiles sees the shapes and value ranges real load has.
import type { Account, Transfer } from "../core/layouts.js";
import type { Prng } from "../core/prng.js";

/** A new account of ledger 1, code 1, with no flags. */
export function account(accountId: bigint): Account {
  return {
    id: accountId, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0,
    timestamp: 0n,
  };
}

/** Uniform single-phase transfers between two distinct accounts, amounts 1..100. */
export function buildTransfers(count: number, accountIds: readonly bigint[], prng: Prng, newId: () => bigint): Transfer[] {
  const batch: Transfer[] = new Array(count);
  const accounts = accountIds.length;
  for (let i = 0; i < count; i++) {
    const debit = prng.int(accounts);
    // Uniform over the other accounts: draw from accounts - 1 and skip over the debit.
    let credit = prng.int(accounts - 1);
    if (credit >= debit) credit += 1;
    batch[i] = {
      id: newId(), debit_account_id: accountIds[debit]!, credit_account_id: accountIds[credit]!,
      amount: BigInt(1 + prng.int(100)), pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0,
      timeout: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n,
    };
  }
  return batch;
}

/** A uniformly random u128, never 0 or 2^128 - 1 (ids the ledger rejects). */
export function randomU128(prng: Prng): bigint {
  for (;;) {
    const value = (prng.next() << 64n) | prng.next();
    if (value !== 0n && value !== (1n << 128n) - 1n) return value;
  }
}
