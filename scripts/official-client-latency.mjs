#!/usr/bin/env node
// Small-request latency with the official tigerbeetle-node client (a devDependency): creates two
// accounts (ids 1 and 2, if absent), then times COUNT lookupAccounts calls of both ids, one at a
// time, and prints p50/p99/p100. For #8's "a small request completes in ≤ 10 ms p50".
//   ADDR=4000,4001,4002 COUNT=200 node scripts/official-client-latency.mjs
// The cluster id is 0 (format with --cluster=0).
import { createClient } from "tigerbeetle-node";

const addresses = (process.env.ADDR ?? "3000,3001,3002").split(",");
const count = Number(process.env.COUNT ?? 200);
const client = createClient({ cluster_id: 0n, replica_addresses: addresses });
const account = (id) => ({ id, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
  user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n });
await client.createAccounts([account(1n), account(2n)]); // "exists" results are fine
const latencies = [];
for (let i = 0; i < count; i++) {
  const started = performance.now();
  const found = await client.lookupAccounts([1n, 2n]);
  latencies.push(performance.now() - started);
  if (found.length !== 2) throw new Error(`lookup returned ${found.length} accounts`);
}
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2);
console.log(`${addresses.length} replica(s): ${count} lookupAccounts of 2 ids: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, ` +
  `p100 ${latencies[latencies.length - 1].toFixed(2)} ms`);
client.destroy();
