#!/usr/bin/env node
// The durable embedded ledger at scale, as a user would try it: a process writes transfers through
// openLedger({ path }) at full speed and is killed with SIGKILL (kill -9) at a random moment,
// several times over, each run reopening the same file; at the end, every transfer that was ever
// acknowledged is looked up, and every account balance must equal the sum of the transfers found.
// Build first (npm run build): this imports dist/.
//
//   node scripts/embedded-kill-trial.mjs [--kills N] [--seconds S] [--file PATH] [--keep]
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const accountCount = 1000;
const batchSize = 8189;
const { openLedger, CreateAccountStatus, CreateTransferStatus } = await import(join(root, "dist", "src", "client", "index.js"));

/** Transfer k (ids 1..): deterministic accounts and amount, so the checker can recompute balances. */
function transfer(k) {
  return {
    id: BigInt(k + 1), debit_account_id: BigInt(1 + (k % accountCount)), credit_account_id: BigInt(1 + ((k * 7 + 1) % accountCount)),
    amount: BigInt(1 + (k % 13)), pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0,
    ledger: 1, code: 1, flags: 0, timestamp: 0n,
  };
}

/** Child: opens the ledger, continues after the last transfer that exists, and writes until killed. */
async function child(path) {
  const ledger = openLedger({ path });
  const accounts = Array.from({ length: accountCount }, (_, a) => ({
    id: BigInt(a + 1), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n,
  }));
  const results = await ledger.createAccounts(accounts);
  if (results.some((r) => r.status !== CreateAccountStatus.created && r.status !== CreateAccountStatus.exists)) {
    throw new Error("accounts not created");
  }
  let next = await firstMissing(ledger);
  process.stdout.write(`start ${next}\n`);
  for (;;) {
    const batch = Array.from({ length: batchSize }, (_, j) => transfer(next + j));
    const created = await ledger.createTransfers(batch);
    const bad = created.findIndex((r) => r.status !== CreateTransferStatus.created);
    if (bad >= 0) throw new Error(`transfer ${next + bad + 1}: status ${created[bad].status}`);
    next += batchSize;
    process.stdout.write(`acked ${next}\n`);
  }
}

/** The first k whose transfer does not exist: transfers exist as a prefix (one batch in flight at a time). */
async function firstMissing(ledger) {
  let low = 0;
  let high = 1;
  while ((await ledger.lookupTransfers([BigInt(high)])).length === 1) high *= 2;
  while (low + 1 < high) { // transfer `low` exists (or low = 0), transfer `high` does not
    const mid = Math.floor((low + high) / 2);
    if ((await ledger.lookupTransfers([BigInt(mid)])).length === 1) low = mid;
    else high = mid;
  }
  return low;
}

function runAndKill(path, seconds) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", path], { stdio: ["ignore", "pipe", "inherit"] });
    let acked = 0;
    let started = -1;
    let buffered = "";
    proc.stdout.on("data", (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop();
      for (const line of lines) {
        if (line.startsWith("acked ")) acked = Number(line.slice(6));
        if (line.startsWith("start ")) {
          started = Number(line.slice(6));
          setTimeout(() => proc.kill("SIGKILL"), seconds * 1000 * (0.5 + Math.random()));
        }
      }
    });
    proc.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve({ started, acked }) : reject(new Error(`writer exited with ${code}`))));
  });
}

async function verify(path, ackedMax) {
  const ledger = openLedger({ path });
  const count = await firstMissing(ledger);
  if (count < ackedMax) throw new Error(`LOST: transfers ${count + 1}..${ackedMax} were acknowledged and are missing`);
  const debits = new Array(accountCount).fill(0n);
  const credits = new Array(accountCount).fill(0n);
  for (let k = 0; k < count; k += batchSize) {
    const ids = Array.from({ length: Math.min(batchSize, count - k) }, (_, j) => BigInt(k + j + 1));
    const found = await ledger.lookupTransfers(ids);
    if (found.length !== ids.length) throw new Error(`LOST: ${ids.length - found.length} transfers from ${k + 1}`);
    for (const t of found) {
      const expected = transfer(Number(t.id) - 1);
      if (t.amount !== expected.amount || t.debit_account_id !== expected.debit_account_id) throw new Error(`transfer ${t.id} differs`);
      debits[Number(t.debit_account_id) - 1] += t.amount;
      credits[Number(t.credit_account_id) - 1] += t.amount;
    }
  }
  const accounts = await ledger.lookupAccounts(Array.from({ length: accountCount }, (_, a) => BigInt(a + 1)));
  accounts.forEach((account, a) => {
    if (account.debits_posted !== debits[a] || account.credits_posted !== credits[a]) throw new Error(`account ${a + 1}: balances differ`);
  });
  await ledger.close();
  return count;
}

async function main() {
  const { values } = parseArgs({ options: {
    kills: { type: "string", default: "5" }, seconds: { type: "string", default: "20" }, file: { type: "string" },
    keep: { type: "boolean" }, child: { type: "string" }, help: { type: "boolean" },
  } });
  if (values.child !== undefined) return child(values.child);
  if (values.help) return console.log("Usage: node scripts/embedded-kill-trial.mjs [--kills N] [--seconds S] [--file PATH] [--keep]");
  const directory = values.file ? null : mkdtempSync(join(tmpdir(), "scarab-embedded-trial-"));
  const path = values.file ?? join(directory, "ledger.scarab");
  let ackedMax = 0;
  try {
    for (let run = 1; run <= Number(values.kills); run++) {
      const started = Date.now();
      const { started: from, acked } = await runAndKill(path, Number(values.seconds));
      if (from < ackedMax) throw new Error(`LOST: run ${run} found ${from} transfers, ${ackedMax} were acknowledged`);
      ackedMax = Math.max(ackedMax, acked);
      const secs = (Date.now() - started) / 1000;
      console.log(`run ${run}: reopened with ${from} transfers, wrote to ${acked}, killed after ${secs.toFixed(1)} s ` +
        `(${Math.round((acked - from) / secs)} transfers/s including the open); file ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);
    }
    const verifyStarted = Date.now();
    const count = await verify(path, ackedMax);
    console.log(`verified: ${count} transfers present (${ackedMax} acknowledged), balances of ${accountCount} accounts match, ` +
      `in ${((Date.now() - verifyStarted) / 1000).toFixed(1)} s`);
  } finally {
    if (directory !== null && !values.keep) rmSync(directory, { recursive: true, force: true });
    else if (existsSync(path)) console.log(`kept ${path}`);
  }
}

main().catch((error) => {
  console.error(error.message ?? error);
  process.exit(1);
});
