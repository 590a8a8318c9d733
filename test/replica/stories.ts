// Setups that several scenario stories share.
import { encodeEvents, operationCodecs } from "../../src/core/ledger/object_codec.js";
import { acct } from "../ledger/helpers.js";
import type { Scenario, ScenarioReplica } from "./scenario_harness.js";

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
