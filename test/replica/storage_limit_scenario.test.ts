// The storage limit (issue "Storage engine": a clear refusal, no corruption, nothing lost): near
// it the primary stops preparing creations, lookups stay served, and every acknowledged transfer
// is still there — on every replica, and after a restart.
import { describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { decodeResults, encodeEvents, operationCodecs } from "../../src/core/ledger/object_codec.js";
import { CreateTransferStatus, type Account } from "../../src/core/layouts.js";
import { acct, xfer } from "../ledger/helpers.js";
import { scenario, type Scenario } from "./scenario_harness.js";

const { createAccounts, createTransfers, lookupAccounts } = operationCodecs;
const gridBlocks = 300;
const batch = 25; // transfers per request: a test-configuration message holds about 30

function lookup(t: Scenario, ids: bigint[]): Account[] {
  const client = t.client("C1");
  const replies = client.replies.length;
  client.send(lookupAccounts.operation, encodeEvents(lookupAccounts, [ids]));
  t.runUntil(() => client.replies.length > replies);
  const results = decodeResults(lookupAccounts, client.replies.at(-1)!);
  if (typeof results === "string") throw new Error(results);
  return results[0]!;
}

describe("storage limit", () => {
  test("near the limit the primary refuses creations but serves lookups; nothing acknowledged is lost", () => {
    const t = scenario({
      replicas: 3, clients: 2, stateMachine: "ledger",
      storageSizeBytes: testConfig.zones.gridOffset + gridBlocks * testConfig.blockSize,
    });
    const c0 = t.client("C0");
    c0.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(1n), acct(2n)]]));
    t.runUntilQuiet();
    let acknowledged = 0n;
    let refused = false;
    for (let id = 1000n; !refused; id += BigInt(batch)) {
      const replies = c0.replies.length;
      const transfers = Array.from({ length: batch }, (_, i) => xfer(id + BigInt(i), 1n, 2n, 1n));
      c0.send(createTransfers.operation, encodeEvents(createTransfers, [transfers]));
      for (let tick = 0; tick < 3000 && c0.replies.length === replies; tick++) t.tick();
      if (c0.replies.length === replies) {
        refused = true;
        break;
      }
      const statuses = decodeResults(createTransfers, c0.replies.at(-1)!);
      if (typeof statuses === "string") throw new Error(statuses);
      expect(statuses[0]!.every((result) => result.status === CreateTransferStatus.created)).toBe(true);
      acknowledged += BigInt(batch);
      expect(acknowledged, "the limit was never approached").toBeLessThan(50_000n);
    }
    const primary = t.replica("A0");
    expect(primary.trace()).toContain("ignored request: storage limit nearly reached");
    expect(primary.events().filter((event) => event.startsWith("storage_full: refusing new requests"))).toHaveLength(1);
    expect(acknowledged).toBeGreaterThan(0n);
    // Lookups are still served, and show every acknowledged transfer.
    const [debit, credit] = lookup(t, [1n, 2n]);
    expect([debit!.debits_posted, credit!.credits_posted]).toEqual([acknowledged, acknowledged]);
    // Every replica holds it, and a restart (the WAL replayed, the checkpoint read back) too.
    t.runUntil(() => t.replicas.every((replica) => replica.commitMin === primary.commitMin));
    const backup = t.replica("B1");
    backup.stop().open();
    t.runUntil(() => backup.status === "normal" && backup.commitMin === primary.commitMin);
    expect(lookup(t, [1n])[0]!.debits_posted).toBe(acknowledged);
  });
});
