// Runs in a child process (the official client aborts the whole process on a protocol violation,
// which must fail the test, not kill the test runner). Talks to a Scarab replica on PORT.
import { createClient, CreateTransferStatus, TransferFlags, id } from "tigerbeetle-node";

const port = process.env.PORT;
const client = createClient({ cluster_id: 0n, replica_addresses: [port] });
const zero = { debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
  user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, timestamp: 0n, flags: 0 };
const transfer = (fields) => ({ id: id(), debit_account_id: 1n, credit_account_id: 2n, amount: 0n,
  pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 1, code: 1,
  flags: 0, timestamp: 0n, ...fields });

const out = {};
out.accounts = await client.createAccounts([{ ...zero, id: 1n, ledger: 1, code: 1 }, { ...zero, id: 2n, ledger: 1, code: 1 }]);
out.transfers = await client.createTransfers([transfer({ amount: 10n }), transfer({ amount: 5n, flags: TransferFlags.pending, timeout: 1 })]);
out.invalid = await client.createTransfers([transfer({ amount: 1n, debit_account_id: 1n, credit_account_id: 1n })]);
out.lookup = await client.lookupAccounts([1n, 2n, 3n]);
out.history = await client.getAccountTransfers({ account_id: 1n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0,
  code: 0, timestamp_min: 0n, timestamp_max: 0n, limit: 10, flags: 3 });
// The pending transfer (timeout 1 s) must expire on its own: the replica's pulse releases it.
await new Promise((resolve) => setTimeout(resolve, 1700));
out.expired = await client.lookupAccounts([1n]);
client.destroy();
out.created = CreateTransferStatus.created;
console.log(JSON.stringify(out, (_, value) => (typeof value === "bigint" ? value.toString() : value)));
