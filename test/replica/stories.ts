// Setups that several scenario stories share.
import { testConfig } from "../../src/core/config.js";
import { encodeEvents, operationCodecs } from "../../src/core/ledger/object_codec.js";
import { Zone } from "../../src/io/storage.js";
import { acct } from "../ledger/helpers.js";
import { expect } from "vitest";
import { scenario, type Scenario, type ScenarioReplica } from "./scenario_harness.js";

const { createAccounts } = operationCodecs;

/** `count` requests of 20 new accounts each from client C0, ids from `first`; runs until quiet. */
export function createMany(t: Scenario, first: number, count: number): void {
  const client = t.client("C0");
  for (let request = 0; request < count; request++) {
    const ids = Array.from({ length: 20 }, (_, i) => BigInt(first + request * 20 + i));
    client.send(createAccounts.operation, encodeEvents(createAccounts, [ids.map((id) => acct(id))]));
  }
  t.runUntilQuiet();
}

/** One create_accounts request from each client at once: they share one pipeline of prepares. */
export function oneEachAtOnce(t: Scenario, firstId: number): void {
  t.clients.forEach((client, c) => client.send(createAccounts.operation, encodeEvents(createAccounts, [[acct(BigInt(firstId + c))]])));
}

/**
 * Three replicas of the ledger with four clients, at commit 17: the next four ops, sent at once
 * (oneEachAtOnce), take the replicas that execute them past checkpoint 19.
 */
export function threeReplicasAtCommit17(): { t: Scenario; r0: ScenarioReplica; r1: ScenarioReplica; r2: ScenarioReplica } {
  const t = scenario({ replicas: 3, clients: 4, stateMachine: "ledger" });
  oneEachAtOnce(t, 900);
  t.runUntilQuiet();
  const [r0, r1, r2] = [t.replica("R0"), t.replica("R1"), t.replica("R2")];
  createMany(t, 1, 17 - r0.commitMax);
  expect(r0.commitMax).toBe(17);
  return { t, r0, r1, r2 };
}

/** Stops `r` and corrupts every grid block its checkpoint holds. */
export function stopAndCorruptGrid(r: ScenarioReplica): void {
  const grid = r.replica.grid;
  const acquired: number[] = [];
  for (let address = 1; address <= grid.blocksLimit; address++) if (grid.freeSet.isAcquired(address)) acquired.push(address);
  r.stop();
  for (const address of acquired) r.storage.corruptBytes(Zone.grid, (address - 1) * testConfig.blockSize, 16);
}

/**
 * Three replicas at commit 2, then: B2 misses every prepare, B1 misses op 3 but holds op 4, and
 * A0 hears no prepare_ok from B1. Returns with A0 at op 4 (ops 3 and 4 uncommitted) and B1 at
 * op 4 above a gap: stopping A0 now makes a nack quorum (B1 never held 3, B2 ends at 2).
 */
export function nackQuorumStory(t: Scenario): [ScenarioReplica, ScenarioReplica, ScenarioReplica] {
  t.runUntilQuiet().expectCommit(2);
  const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
  t.drop(a0.name, b2.name, "prepare").dropPrepare(a0.name, b1.name, 3).drop(b1.name, a0.name, "prepare_ok");
  t.client("C0").request();
  t.runUntil(() => a0.op === 3).tick(2);
  t.client("C1").request();
  t.runUntil(() => b1.op === 4).tick(5);
  return [a0, b1, b2];
}
