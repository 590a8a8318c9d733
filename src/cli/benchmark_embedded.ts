// `scarab benchmark --embedded`: the double-entry workload of ../shared/bench/pg-ledger (same
// accounts, same pseudo-random transfer stream, same JSON line), run against the embedded ledger
// through the public API, so every figure includes object encoding, validation and result
// decoding. It is in memory and in process: compare it with PostgreSQL's durable figure only as an
// upper bound; the default mode measures a real replicated cluster.
import { openLedger } from "../client/embedded.js";
import type { Account, Transfer } from "../core/layouts.js";

export interface EmbeddedOptions {
  readonly accountCount: number;
  readonly transferCount: number;
  readonly batchSize: number;
}

function account(id: number): Account {
  return {
    id: BigInt(id), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0,
    timestamp: 0n,
  };
}

/** The pg-ledger workload: an LCG seeded with 42, amounts 1..100, never debit == credit. */
function makeBatches(accountCount: number, transferCount: number, batchSize: number): Transfer[][] {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const batches: Transfer[][] = [];
  for (let start = 0; start < transferCount; start += batchSize) {
    const batch: Transfer[] = [];
    for (let i = 0; i < Math.min(batchSize, transferCount - start); i++) {
      const debit = 1 + Math.floor(random() * accountCount);
      let credit = 1 + Math.floor(random() * accountCount);
      if (credit === debit) credit = (credit % accountCount) + 1;
      batch.push({
        id: BigInt(start + i + 1), debit_account_id: BigInt(debit), credit_account_id: BigInt(credit),
        amount: BigInt(1 + Math.floor(random() * 100)), pending_id: 0n, user_data_128: 0n,
        user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n,
      });
    }
    batches.push(batch);
  }
  return batches;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Prints one JSON line; exit code 0, or 2 if any transfer was not created. */
export async function runEmbedded(options: EmbeddedOptions): Promise<number> {
  const { accountCount, transferCount, batchSize } = options;
  const ledger = openLedger({ accountsCapacity: accountCount });
  for (let start = 1; start <= accountCount; start += 8189) {
    const ids = Array.from({ length: Math.min(8189, accountCount - start + 1) }, (_, i) => start + i);
    await ledger.createAccounts(ids.map(account));
  }
  console.error(`benchmark: ${accountCount} accounts created; generating ${transferCount} transfers`);
  const batches = makeBatches(accountCount, transferCount, batchSize);

  const latenciesMs: number[] = [];
  let failed = 0;
  let reported = process.hrtime.bigint();
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < batches.length; i++) {
    const t0 = process.hrtime.bigint();
    const results = await ledger.createTransfers(batches[i]!);
    const t1 = process.hrtime.bigint();
    latenciesMs.push(Number(t1 - t0) / 1e6);
    failed += results.filter((result) => result.status !== 0xffff_ffff).length;
    if (t1 - reported > 1_000_000_000n) {
      reported = t1;
      console.error(`benchmark: ${i + 1}/${batches.length} batches`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  ledger.destroy();
  latenciesMs.sort((a, b) => a - b);
  console.log(JSON.stringify({
    system: "scarab-embedded", accounts: accountCount, transfers: transferCount, batch: batchSize,
    clients: 1, failed, seconds: +seconds.toFixed(3),
    transfers_per_second: Math.round(transferCount / seconds),
    batch_p50_ms: +percentile(latenciesMs, 50).toFixed(2),
    batch_p99_ms: +percentile(latenciesMs, 99).toFixed(2),
  }));
  return failed === 0 ? 0 : 2;
}
