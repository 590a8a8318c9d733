#!/usr/bin/env node
// Restart check with the official client (tigerbeetle-node), for a replica that holds a large
// ledger (issue #9: "kill -9, restart, serving again within 30 s, random lookups of old transfers
// and accounts return the right objects").
//
//   node scripts/restart-check.mjs record ADDRESS FILE   every account, and a sample of old and
//                                                        recent transfers, saved to FILE
//   (kill -9 the replica, start it again, then at once:)
//   node scripts/restart-check.mjs verify ADDRESS FILE   waits until the cluster answers, prints
//                                                        how long that took, then looks every
//                                                        recorded object up and compares it
//
// Environment: CLUSTER (default 0), SAMPLE (accounts whose transfers are sampled, default 200).
// Exit code 0 when everything matched, 1 otherwise.
import { readFileSync, writeFileSync } from "node:fs";
import { AccountFilterFlags, createClient } from "tigerbeetle-node";

const [mode, address, file] = process.argv.slice(2);
if (!["record", "verify"].includes(mode) || address === undefined || file === undefined) {
  console.error("usage: restart-check.mjs record|verify ADDRESS FILE");
  process.exit(2);
}
const cluster = BigInt(process.env.CLUSTER ?? "0");
const sample = Number(process.env.SAMPLE ?? "200");
const started = performance.now();
const client = createClient({ cluster_id: cluster, replica_addresses: [address] });

const json = (value) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));

async function allAccounts() {
  const accounts = [];
  for (let min = 1n; ;) {
    const page = await client.queryAccounts({
      user_data_128: 0n, user_data_64: 0n, user_data_32: 0, ledger: 0, code: 0,
      timestamp_min: min, timestamp_max: 0n, limit: 8189, flags: 0,
    });
    accounts.push(...page);
    if (page.length < 8189) return accounts;
    min = page[page.length - 1].timestamp + 1n;
  }
}

/** A deterministic sample: every k-th account, its 10 oldest and 10 newest transfers. */
async function sampleTransfers(accounts) {
  const transfers = [];
  const step = Math.max(1, Math.floor(accounts.length / sample));
  for (let i = 0; i < accounts.length; i += step) {
    for (const reversed of [false, true]) {
      transfers.push(...await client.getAccountTransfers({
        account_id: accounts[i].id, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, code: 0,
        timestamp_min: 0n, timestamp_max: 0n, limit: 10,
        flags: AccountFilterFlags.debits | AccountFilterFlags.credits | (reversed ? AccountFilterFlags.reversed : 0),
      }));
    }
  }
  return transfers;
}

try {
  if (mode === "record") {
    const accounts = await allAccounts();
    let debits = 0n;
    let credits = 0n;
    for (const a of accounts) {
      debits += a.debits_posted;
      credits += a.credits_posted;
    }
    if (debits !== credits) throw new Error(`debits posted ${debits} != credits posted ${credits}`);
    const transfers = await sampleTransfers(accounts);
    writeFileSync(file, json({ accounts, transfers }));
    console.log(`recorded ${accounts.length} accounts (debits = credits = ${debits}) and ${transfers.length} transfers in ${file}`);
  } else {
    const saved = JSON.parse(readFileSync(file, "utf8"));
    await client.lookupAccounts([saved.accounts[0].id ? BigInt(saved.accounts[0].id) : 1n]);
    console.log(`serving ${((performance.now() - started) / 1000).toFixed(1)} s after this check started`);
    let mismatches = 0;
    for (const [kind, lookup] of [["accounts", (ids) => client.lookupAccounts(ids)], ["transfers", (ids) => client.lookupTransfers(ids)]]) {
      const expected = saved[kind];
      const lookupStarted = performance.now();
      for (let i = 0; i < expected.length; i += 8189) {
        const batch = expected.slice(i, i + 8189);
        const found = await lookup(batch.map((object) => BigInt(object.id)));
        const byId = new Map(found.map((object) => [object.id.toString(), json(object)]));
        for (const object of batch) if (byId.get(object.id) !== json(object)) mismatches += 1;
      }
      console.log(`${kind}: ${expected.length} looked up in ${((performance.now() - lookupStarted) / 1000).toFixed(2)} s`);
    }
    console.log(mismatches === 0 ? "every object matched" : `${mismatches} objects differ or are missing`);
    process.exitCode = mismatches === 0 ? 0 : 1;
  }
} finally {
  client.destroy();
}
