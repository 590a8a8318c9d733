// Child process of test/client/durable_ledger.test.ts: opens a durable embedded ledger on a file
// and creates transfers until it is killed, printing "acked N" after each batch whose every
// transfer the ledger acknowledged as created. Transfer k has id base + k and amount 1 + k % 7,
// between accounts 1 + k % 10 and 1 + (k + 1) % 10, so the parent can check what survived.
//
//   node --import test/system/ts_loader.mjs test/client/durable_writer.ts FILE BASE BATCH
import { openLedger, CreateAccountStatus, CreateTransferStatus, type Transfer } from "../../src/client/index.js";

const [path, baseText, batchText] = process.argv.slice(2);
const base = BigInt(baseText!);
const batchSize = Number(batchText);
export const accountCount = 10;

function transfer(k: number): Transfer {
  return {
    id: base + BigInt(k), debit_account_id: BigInt(1 + (k % accountCount)), credit_account_id: BigInt(1 + ((k + 1) % accountCount)),
    amount: BigInt(1 + (k % 7)), pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0,
    ledger: 1, code: 1, flags: 0, timestamp: 0n,
  };
}

async function main(): Promise<void> {
  const ledger = openLedger({ path: path! });
  const accounts = Array.from({ length: accountCount }, (_, a) => ({
    id: BigInt(a + 1), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n,
  }));
  const results = await ledger.createAccounts(accounts);
  // A reopened file already has them: `exists` is as good as created.
  if (results.some((r) => r.status !== CreateAccountStatus.created && r.status !== CreateAccountStatus.exists)) {
    throw new Error(`accounts not created: ${JSON.stringify(results.map((r) => r.status))}`);
  }
  process.stdout.write("ready\n");
  for (let k = 0; ; k += batchSize) {
    const batch = Array.from({ length: batchSize }, (_, j) => transfer(k + j));
    const created = await ledger.createTransfers(batch);
    const bad = created.findIndex((r) => r.status !== CreateTransferStatus.created);
    if (bad >= 0) throw new Error(`transfer ${k + bad} not created: ${created[bad]!.status}`);
    process.stdout.write(`acked ${k + batchSize}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
