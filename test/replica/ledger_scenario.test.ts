// The ledger as the state machine (spec/ledger.md) under replication: accounts and transfers
// committed before a primary crash are still there, with the same balances, in the new view, and
// a transfer that was in flight at the crash is executed exactly once.
import { describe, expect, test } from "vitest";
import { decodeResults, encodeEvents, operationCodecs } from "../../src/core/ledger/object_codec.js";
import { CreateTransferStatus, type Account } from "../../src/core/layouts.js";
import { acct, xfer } from "../ledger/helpers.js";
import { scenario, type Scenario } from "./scenario_harness.js";

const { createAccounts, createTransfers, lookupAccounts } = operationCodecs;

function lookup(t: Scenario, ids: bigint[]): Account[] {
  const client = t.client("C0");
  client.send(lookupAccounts.operation, encodeEvents(lookupAccounts, [ids]));
  t.runUntilQuiet();
  const results = decodeResults(lookupAccounts, client.replies.at(-1)!);
  if (typeof results === "string") throw new Error(results);
  return results[0]!;
}

describe("ledger", () => {
  test("balances survive a primary crash, and an in-flight transfer executes exactly once", () => {
    const t = scenario({ replicas: 3, stateMachine: "ledger" });
    const c0 = t.client("C0");
    c0.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(1n), acct(2n)]]));
    c0.send(createTransfers.operation, encodeEvents(createTransfers, [[xfer(10n, 1n, 2n, 100n)]]));
    t.runUntilQuiet().expectCommit(4); // the register, the ledger's first pulse, two requests
    const a0 = t.replica("A0");
    t.drop("*", a0.name, "prepare_ok");
    c0.send(createTransfers.operation, encodeEvents(createTransfers, [[xfer(11n, 1n, 2n, 25n)]]));
    t.runUntil(() => t.replica("B1").op === 5 && t.replica("B2").op === 5);
    a0.crash();
    t.heal().runUntilQuiet().expectCommit(5).expectView(2);
    const [debit, credit] = lookup(t, [1n, 2n]);
    expect([debit!.debits_posted, credit!.credits_posted]).toEqual([125n, 125n]);
    a0.open();
    t.runUntilQuiet().expectCommit(6);
    const statuses = decodeResults(createTransfers, c0.replies[2]!);
    expect(statuses).toEqual([[{ timestamp: expect.any(BigInt), status: CreateTransferStatus.created }]]);
  });
});

describe("warm prefetch (Replica.warmPrefetch)", () => {
  test("the primary walks the next op's pages while its prepare replicates, and commits it without a second round", () => {
    const t = scenario({ replicas: 3, stateMachine: "ledger" });
    const c0 = t.client("C0");
    c0.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(1n), acct(2n)]]));
    t.runUntilQuiet();
    const primary = ["R0", "R1", "R2"].map((name) => t.replica(name).replica).find((replica) => replica.isPrimary)!;
    expect(primary).toBeDefined();
    // Each prefetch round of the primary, with what was committed when it ran.
    const rounds: { commitMax: number; commitMin: number }[] = [];
    const machine = primary.stateMachine;
    const prefetch = machine.prefetch.bind(machine);
    machine.prefetch = (operation, timestamp, body) => {
      rounds.push({ commitMax: primary.commitMax, commitMin: primary.commitMin });
      return prefetch(operation, timestamp, body);
    };
    const before = primary.commitMin;
    for (let k = 0; k < 5; k++) {
      c0.send(createTransfers.operation, encodeEvents(createTransfers, [[xfer(100n + BigInt(k), 1n, 2n, 10n)]]));
      t.runUntilQuiet();
    }
    expect(primary.commitMin).toBe(before + 5);
    // One round per op, run while the op was not yet committed (the prepare was replicating).
    expect(rounds.length).toBe(5);
    rounds.forEach((round, k) => expect(round).toEqual({ commitMax: before + k, commitMin: before + k }));
    const [debit, credit] = lookup(t, [1n, 2n]);
    expect([debit!.debits_posted, credit!.credits_posted]).toEqual([50n, 50n]);
  });
});
