// create_transfers events for the accounting generator (ledger.md §8): single-phase and pending
// transfers, posts and voids of pending ones, retries of submitted ones, imported batches, and
// invalid ones. Outcomes are not predicted: the auditor compares the replies with the model's.
import { TransferFlags as TF, type Transfer } from "../../../core/layouts.js";
import { U128_MAX, type Draws } from "./draws.js";
import { AMOUNT_MAX } from "./ledger_model.js";

/** §12.1: at most this many pending transfers are aimed at. */
const pendingMax = 256;

/** One batch of `n` transfer events; an imported batch is imported nearly throughout. */
export function transferBatch(d: Draws, n: number): Transfer[] {
  const imported = d.chance(d.drawn.importedPercent);
  const importedTimestamp = d.importedTimestamps();
  const batch: Transfer[] = [];
  for (let i = 0; i < n; i++) {
    const t = transfer(d);
    if (d.chance(d.drawn.linkedPercent)) t.flags |= TF.linked;
    if (imported && !d.chance(2)) {
      t.flags |= TF.imported;
      t.timeout = d.chance(90) ? 0 : t.timeout; // imported transfers cannot expire (63)
      t.timestamp = importedTimestamp();
    }
    if (d.chance(d.drawn.invalidPercent)) spoilTransfer(d, t);
    batch.push(t);
  }
  return batch;
}

function transfer(d: Draws): Transfer {
  if (d.chance(d.drawn.retryPercent)) {
    const retry = transferRetry(d);
    if (retry !== null) return retry;
  }
  if (d.chance(d.drawn.postVoidPercent)) {
    const resolve = postOrVoid(d);
    if (resolve !== null) return resolve;
  }
  return singlePhaseOrPending(d);
}

/** §8.4: a single-phase or pending transfer between two accounts (usually existing ones). */
function singlePhaseOrPending(d: Draws): Transfer {
  const drawn = d.drawn;
  const [debit, credit] = accountPair(d);
  const dr = d.model.peekAccount(debit);
  let flags = 0;
  let timeout = 0;
  const pending = d.known.pendingIds.length < pendingMax && d.chance(drawn.pendingPercent);
  if (pending) {
    flags |= TF.pending;
    // Mean ~1 s (§12.1) so that pulses fire during a run.
    if (d.chance(drawn.timeoutPercent)) timeout = Math.max(1, Math.round(d.prng.exponential(1000) / 1000));
    if (d.chance(drawn.closingPercent)) flags |= d.prng.boolean() ? TF.closing_debit : TF.closing_credit;
  }
  if (d.chance(drawn.balancingPercent)) flags |= d.prng.boolean() ? TF.balancing_debit : TF.balancing_credit;
  return {
    id: d.chance(5) && d.transferIndex > 0 ? d.transferId(d.prng.range(1, d.transferIndex)) : d.freshTransferId(),
    debit_account_id: debit, credit_account_id: credit, amount: drawAmount(d, (flags & (TF.balancing_debit | TF.balancing_credit)) !== 0),
    pending_id: 0n, user_data_128: d.small128(), user_data_64: d.small64(), user_data_32: d.small32(),
    timeout, ledger: dr?.ledger ?? d.prng.range(1, drawn.ledgers), code: d.prng.range(1, 3), flags, timestamp: 0n,
  };
}

/** Two different account ids: usually created accounts of one ledger, else anything in the space. */
function accountPair(d: Draws): [bigint, bigint] {
  const accountIds = d.known.accountIds;
  const debit = accountIds.length > 0 && d.chance(d.drawn.validAccountsPercent)
    ? d.prng.pick(accountIds) : d.anyAccountId();
  const ledger = d.model.peekAccount(debit)?.ledger;
  for (let attempt = 0; attempt < 8; attempt++) {
    const credit = accountIds.length > 1 && d.chance(d.drawn.validAccountsPercent)
      ? d.prng.pick(accountIds) : d.anyAccountId();
    if (credit === debit) continue;
    if (attempt < 4 && ledger !== undefined && d.model.peekAccount(credit)?.ledger !== ledger) continue;
    return [debit, credit];
  }
  return [debit, debit === d.accountId(1) ? d.accountId(2) : d.accountId(1)];
}

function drawAmount(d: Draws, balancing: boolean): bigint {
  const r = d.prng.int(100);
  if (balancing && r < 30) return AMOUNT_MAX;
  if (r < 5) return 0n;
  if (r < 80) return BigInt(d.prng.range(1, 100));
  if (r < 95) return BigInt(d.prng.range(1, 10_000));
  if (r < 98) return AMOUNT_MAX - BigInt(d.prng.int(10)); // overflows (47–52)
  return 1n << 127n;
}

/** §8.3: post or void a pending transfer: full, partial, AMOUNT_MAX, 0, or too much. */
function postOrVoid(d: Draws): Transfer | null {
  const p = pendingTarget(d);
  if (p === null) return null;
  const isVoid = d.prng.boolean();
  const r = d.prng.int(100);
  const partial = BigInt(d.prng.int(Number(p.amount < 1000n ? p.amount : 1000n) + 1));
  let amount: bigint;
  if (isVoid) amount = r < 50 ? 0n : r < 92 ? p.amount : r < 96 ? increment(p.amount) : partial;
  else amount = r < 40 ? p.amount : r < 65 ? partial : r < 85 ? AMOUNT_MAX : r < 95 ? 0n : increment(p.amount);
  const inherit = d.prng.boolean();
  return {
    id: d.freshTransferId(),
    debit_account_id: inherit ? 0n : d.chance(95) ? p.debit_account_id : d.anyAccountId(),
    credit_account_id: inherit ? 0n : p.credit_account_id,
    amount, pending_id: p.id,
    user_data_128: d.chance(50) ? 0n : d.small128(), user_data_64: d.chance(50) ? 0n : d.small64(),
    user_data_32: d.chance(50) ? 0 : d.small32(), timeout: 0,
    ledger: inherit ? 0 : p.ledger, code: inherit || d.chance(50) ? 0 : p.code,
    flags: isVoid ? TF.void_pending_transfer : TF.post_pending_transfer, timestamp: 0n,
  };
}

/** Usually a transfer still pending; sometimes a resolved/expired one, a non-pending one, or none. */
function pendingTarget(d: Draws): Transfer | null {
  const known = d.known;
  known.pendingIds = known.pendingIds.filter((id) => d.model.pendingState(id) === "pending");
  const r = d.prng.int(100);
  let id: bigint | undefined;
  if (r < 80 && known.pendingIds.length > 0) id = d.prng.pick(known.pendingIds);
  else if (r < 95 && known.transferIdsCreated.length > 0) id = d.prng.pick(known.transferIdsCreated);
  if (id !== undefined) return d.model.peekTransfer(id) ?? null;
  if (d.transferIndex === 0) return null;
  // Not (yet) created: pending_transfer_not_found (25), a transient status.
  const missing = d.transferId(d.prng.range(1, d.transferIndex));
  return {
    id: missing, debit_account_id: 0n, credit_account_id: 0n, amount: 10n, pending_id: 0n, user_data_128: 0n,
    user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 0, code: 0, flags: TF.pending, timestamp: 0n,
  };
}

/** A submitted transfer again: created ones give exists (or exists_with_* when changed), failed ones 68. */
function transferRetry(d: Draws): Transfer | null {
  const ring = d.prng.boolean() ? d.known.createdRing : d.known.failedRing;
  if (ring.items.length === 0) return null;
  const base = d.prng.pick(ring.items);
  const t: Transfer = { ...base, flags: base.flags & ~TF.linked };
  switch (d.prng.int(12)) {
    case 0: t.amount = increment(t.amount); break;
    case 1: t.user_data_64 ^= 1n; break;
    case 2: t.code = t.code === 1 ? 2 : 1; break;
    case 3: t.flags ^= TF.pending; break;
    case 4: t.user_data_128 ^= 1n; break;
    case 5: t.user_data_32 ^= 1; break;
    default: break; // identical
  }
  return t;
}

/** One of §8's early failures: padding, ids, same accounts, misplaced fields, zeros, ledgers. */
function spoilTransfer(d: Draws, t: Transfer): void {
  switch (d.prng.int(13)) {
    case 0: t.flags |= 1 << d.prng.range(9, 15); break;
    case 1: t.id = 0n; break;
    case 2: t.id = U128_MAX; break;
    case 3: t.debit_account_id = d.prng.boolean() ? 0n : U128_MAX; break;
    case 4: t.credit_account_id = d.prng.boolean() ? 0n : U128_MAX; break;
    case 5: t.credit_account_id = t.debit_account_id; break;
    case 6: t.pending_id = t.pending_id === 0n ? 1n : d.prng.pick([0n, U128_MAX, t.id]); break;
    case 7: t.timeout = t.timeout === 0 ? 1 : t.timeout; t.flags &= ~TF.pending; break;
    case 8: t.ledger = 0; break;
    case 9: t.code = 0; break;
    case 10: t.ledger += 1; break; // transfer_must_have_the_same_ledger_as_accounts
    case 11: t.flags |= TF.closing_debit; t.flags &= ~TF.pending; break;
    default: if ((t.flags & TF.imported) === 0) t.timestamp = 1n; else t.flags |= TF.post_pending_transfer | TF.void_pending_transfer; break;
  }
}

/** x + 1 within u128 (AMOUNT_MAX wraps to 0, still a valid field). */
function increment(x: bigint): bigint {
  return x === AMOUNT_MAX ? 0n : x + 1n;
}
