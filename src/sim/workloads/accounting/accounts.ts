// create_accounts events for the accounting generator (ledger.md §7): new accounts with drawn
// flags, retries of stored ones (exists, exists_with_*), imported batches, and invalid ones.
import { AccountFlags as AF, type Account } from "../../../core/layouts.js";
import { U128_MAX, type Draws } from "./draws.js";

/** One batch of `n` account events; an imported batch is imported nearly throughout. */
export function accountBatch(d: Draws, n: number): Account[] {
  const imported = d.chance(d.drawn.importedPercent);
  const importedTimestamp = d.importedTimestamps();
  const batch: Account[] = [];
  for (let i = 0; i < n; i++) {
    const retry = d.chance(d.drawn.retryPercent * 3) && d.known.accountIds.length > 0;
    const a = retry ? accountRetry(d) : newAccount(d);
    if (!retry && d.chance(d.drawn.linkedPercent)) a.flags |= AF.linked;
    if (imported && !d.chance(2)) {
      a.flags |= AF.imported;
      a.timestamp = importedTimestamp();
    }
    if (d.chance(d.drawn.invalidPercent)) spoilAccount(d, a);
    batch.push(a);
  }
  return batch;
}

function newAccount(d: Draws): Account {
  const drawn = d.drawn;
  let flags = 0;
  if (d.chance(drawn.accountLimitPercent)) flags |= d.prng.boolean() ? AF.debits_must_not_exceed_credits : AF.credits_must_not_exceed_debits;
  if (d.chance(drawn.historyPercent)) flags |= AF.history;
  if (d.chance(2)) flags |= AF.closed;
  return {
    id: d.newAccountId(), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    user_data_128: d.small128(), user_data_64: d.small64(), user_data_32: d.small32(), reserved: 0,
    ledger: d.prng.range(1, drawn.ledgers), code: d.prng.range(1, 3), flags, timestamp: 0n,
  };
}

/** A stored account resubmitted (→ exists), sometimes with one field changed (→ exists_with_*). */
function accountRetry(d: Draws): Account {
  const stored = d.model.peekAccount(d.prng.pick(d.known.accountIds))!;
  const a: Account = {
    ...stored, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    flags: stored.flags & ~AF.imported, timestamp: 0n,
  };
  switch (d.prng.int(8)) {
    case 0: a.flags ^= AF.history; break;
    case 1: a.user_data_128 += 1n; break;
    case 2: a.user_data_64 ^= 1n; break;
    case 3: a.user_data_32 ^= 1; break;
    case 4: a.ledger += 1; break;
    case 5: a.code = a.code === 1 ? 2 : 1; break;
    default: break; // identical
  }
  return a;
}

/** One of §7's failures (or §6.3.2.d's): reserved, padding, ids, exclusive flags, balances, 0s. */
function spoilAccount(d: Draws, a: Account): void {
  switch (d.prng.int(9)) {
    case 0: a.reserved = 1 + d.prng.int(1000); break;
    case 1: a.flags |= 1 << d.prng.range(6, 15); break;
    case 2: a.id = 0n; break;
    case 3: a.id = U128_MAX; break;
    case 4: a.flags |= AF.debits_must_not_exceed_credits | AF.credits_must_not_exceed_debits; break;
    case 5: a[d.prng.pick(["debits_pending", "debits_posted", "credits_pending", "credits_posted"] as const)] = 1n; break;
    case 6: a.ledger = 0; break;
    case 7: a.code = 0; break;
    default: if ((a.flags & AF.imported) === 0) a.timestamp = 1n + BigInt(d.prng.int(1000)); break;
  }
}
