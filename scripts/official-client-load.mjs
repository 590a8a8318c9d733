#!/usr/bin/env node
// Loads a running cluster with the official tigerbeetle-node client (a devDependency): 10,000
// accounts, then BATCHES batches of 8189 transfers between random distinct accounts, ids from id(),
// CLIENTS clients (default 1), each with one request in flight and its next batch built meanwhile.
// Every result must be "created".
//   ADDR=3000,3001,3002 BATCHES=500 CLIENTS=2 node scripts/official-client-load.mjs
// The cluster id is 0 (format with --cluster=0). Prints tx/s and batch latency p50/p99/p100.
import { createClient, id } from "tigerbeetle-node";
const addresses = (process.env.ADDR ?? "3000,3001,3002").split(",");
const client = createClient({ cluster_id: 0n, replica_addresses: addresses });
const accountCount = 10000, batch = 8189, batches = Number(process.env.BATCHES ?? 40);
const accounts = [];
for (let i = 0; i < accountCount; i++) accounts.push({ id: BigInt(i + 1), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n });
for (let i = 0; i < accounts.length; i += batch) { const r = await client.createAccounts(accounts.slice(i, i + batch)); if (r.some(x => x.status !== 4294967295)) throw new Error("account errors"); }
const make = () => { const t = []; for (let i = 0; i < batch; i++) { const d = Math.floor(Math.random() * accountCount), c = (d + 1 + Math.floor(Math.random() * (accountCount - 1))) % accountCount; t.push({ id: id(), debit_account_id: BigInt(d + 1), credit_account_id: BigInt(c + 1), amount: 1n, pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n }); } return t; };
const clientCount = Number(process.env.CLIENTS ?? 1);
const clients = [client, ...Array.from({ length: clientCount - 1 }, () => createClient({ cluster_id: 0n, replica_addresses: addresses }))];
const lat = []; const t0 = performance.now(); let lastReport = t0, done = 0, started = 0;
async function run(c) {
  let next = make();
  while (started < batches) {
    started += 1;
    const t = performance.now();
    const pending = c.createTransfers(next);
    next = started < batches ? make() : null;
    const results = await pending;
    lat.push(performance.now() - t);
    if (results.some(x => x.status !== 4294967295)) throw new Error("transfer errors");
    done += batch;
    if (performance.now() - lastReport > 10000) { lastReport = performance.now(); console.error(`${done} transfers, ${Math.round(done / ((lastReport - t0) / 1000))} tx/s so far`); }
  }
}
await Promise.all(clients.map(run));
const s = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(1);
console.log(`${addresses.length} replica(s), ${clientCount} client(s): ${done} transfers in ${s.toFixed(1)} s: ${Math.round(done / s)} tx/s; batch p50 ${q(0.5)} ms p99 ${q(0.99)} ms p100 ${lat[lat.length - 1].toFixed(1)} ms`);
for (const c of clients) c.destroy();
