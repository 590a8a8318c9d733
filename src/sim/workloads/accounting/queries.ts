// Lookup ids and query filters for the accounting generator (ledger.md §10, §11): ids that exist,
// that never will, and invalid ones; filters aimed at known accounts and timestamps, sometimes
// invalid (they are answered with empty results, not evictions).
import type { AccountFilter, QueryFilter } from "../../../core/layouts.js";
import { U128_MAX, type Draws } from "./draws.js";

export function lookupAccountId(d: Draws): bigint {
  const r = d.prng.int(100);
  if (r < 3) return d.prng.boolean() ? 0n : U128_MAX;
  if (r < 10) return d.accountId(d.drawn.accountsMax + 1 + d.prng.int(4));
  return d.anyAccountId();
}

export function lookupTransferId(d: Draws): bigint {
  const known = d.known;
  const r = d.prng.int(100);
  if (r < 3) return d.prng.boolean() ? 0n : U128_MAX;
  if (r < 70 && known.transferIdsCreated.length > 0) return d.prng.pick(known.transferIdsCreated);
  if (r < 85 && known.failedRing.items.length > 0) return d.prng.pick(known.failedRing.items).id; // orphans
  return d.transferId(d.prng.range(1, d.transferIndex + 4));
}

export function accountFilter(d: Draws, limit: number): AccountFilter {
  const accountIds = d.known.accountIds;
  const f: AccountFilter = {
    account_id: accountIds.length > 0 && d.chance(80) ? d.prng.pick(accountIds) : lookupAccountId(d),
    user_data_128: d.chance(85) ? 0n : d.small128(), user_data_64: d.chance(85) ? 0n : d.small64(),
    user_data_32: d.chance(85) ? 0 : d.small32(), code: d.chance(80) ? 0 : d.prng.range(1, 3),
    timestamp_min: 0n, timestamp_max: 0n, limit, flags: d.prng.range(1, 3) | (d.prng.boolean() ? 4 : 0),
  };
  [f.timestamp_min, f.timestamp_max] = timestampRange(d);
  if (d.chance(d.drawn.invalidPercent * 2)) {
    switch (d.prng.int(4)) {
      case 0: f.flags &= 4; break; // neither debits nor credits
      case 1: f.limit = 0; break;
      case 2: f.flags |= 1 << d.prng.range(3, 31); f.flags >>>= 0; break;
      default: f.timestamp_min = 1n << 63n; break;
    }
  }
  return f;
}

export function queryFilter(d: Draws, limit: number): QueryFilter {
  const f: QueryFilter = {
    user_data_128: d.chance(75) ? 0n : d.small128(), user_data_64: d.chance(75) ? 0n : d.small64(),
    user_data_32: d.chance(75) ? 0 : d.small32(), ledger: d.chance(70) ? 0 : d.prng.range(1, d.drawn.ledgers),
    code: d.chance(75) ? 0 : d.prng.range(1, 3), timestamp_min: 0n, timestamp_max: 0n, limit,
    flags: d.prng.boolean() ? 1 : 0,
  };
  [f.timestamp_min, f.timestamp_max] = timestampRange(d);
  if (d.chance(d.drawn.invalidPercent * 2)) {
    switch (d.prng.int(3)) {
      case 0: f.limit = 0; break;
      case 1: f.flags = (f.flags | (1 << d.prng.range(1, 31))) >>> 0; break;
      default: f.timestamp_max = 1n; f.timestamp_min = 2n; break;
    }
  }
  return f;
}

/** Mostly open; else bounds at (or next to) timestamps of objects that exist. */
function timestampRange(d: Draws): [bigint, bigint] {
  const known = d.known.timestamps.items;
  const near = (): bigint => {
    if (known.length === 0) return 0n;
    const t = d.prng.pick(known) + BigInt(d.prng.range(-1, 1));
    return t < 0n ? 0n : t;
  };
  const lo = d.chance(70) ? 0n : near();
  let hi = d.chance(70) ? 0n : near();
  if (hi !== 0n && hi < lo && d.chance(90)) hi = lo + BigInt(d.prng.int(3));
  return [lo, hi];
}
