// Clients and sessions (spec/vsr.md §13, wire.md §9–10): a register opens a session, a full
// session table evicts the oldest, bad requests are evicted, an exact duplicate of the latest
// request gets the stored reply without executing again, and a request that reaches only a backup
// is forwarded to the primary.
import { describe, expect, test } from "vitest";
import { EvictionReason } from "../../src/core/command.js";
import { testConfig } from "../../src/core/config.js";
import { Zone } from "../../src/io/storage.js";
import { scenario, type Scenario, type ScenarioReplica } from "./scenario_harness.js";

/** Flips bytes of the only session's reply slot in `r`'s client_replies zone; returns the session's reply checksum. */
function corruptStoredReply(r: ScenarioReplica): bigint {
  const [entry, ...others] = [...r.replica.sessions.entries()];
  expect(others).toHaveLength(0);
  r.storage.corruptBytes(Zone.client_replies, entry!.slot * testConfig.messageSizeMax + 100, 8);
  return entry!.replyChecksum;
}

/** The only session's stored reply reads back from `r`'s zone, whole and verified. */
function expectStoredReplyIntact(t: Scenario, r: ScenarioReplica): void {
  const entry = [...r.replica.sessions.entries()][0]!;
  let read: Uint8Array | null | undefined;
  r.replica.clientReplies.read(entry.slot, entry.replyChecksum, entry.replySize, (reply) => { read = reply; });
  t.tick(20);
  expect(read?.length).toBe(entry.replySize);
}

describe("clients", () => {
  test("an eighth client's register evicts the oldest session of seven", () => {
    const t = scenario({ replicas: 3, clients: 8 });
    t.runUntilQuiet().expectCommit(8); // eight registers; the table holds seven sessions
    t.requests(8).runUntilQuiet();
    const evicted = t.clients.filter((c) => c.evicted !== null);
    expect(evicted.map((c) => c.evicted)).toEqual([EvictionReason.no_session]);
    expect(evicted[0]!.replies).toHaveLength(0);
    expect(t.clients.filter((c) => c.replies.length === 1)).toHaveLength(7);
    t.expectCommit(15);
  });

  test("a request for an operation the state machine does not know evicts the client", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.runUntilQuiet();
    t.client("C0").send(131, new Uint8Array(8));
    t.client("C1").request(2);
    t.runUntilQuiet().expectCommit(4);
    expect(t.client("C0").evicted).toBe(EvictionReason.invalid_request_operation);
    expect(t.client("C1").replies).toHaveLength(2);
  });

  test("a duplicate of the latest request gets the stored reply and is not executed again", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet();
    t.record("C0", "A0");
    t.client("C0").request();
    t.runUntilQuiet().expectCommit(2);
    const replies = t.deliveries("A0", "C0", "reply");
    t.replay().runUntilQuiet().expectCommit(2);
    expect(t.deliveries("A0", "C0", "reply")).toBe(replies + 1);
    expect(t.client("C0").replies).toHaveLength(1);
  });

  test("a replayed request older than the client's latest is dropped, without a reply", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet();
    t.record("C0", "A0");
    t.client("C0").request();
    t.runUntilQuiet().record("C0", "A0", false);
    t.client("C0").request();
    t.runUntilQuiet().expectCommit(3);
    const replies = t.deliveries("A0", "C0", "reply");
    t.replay().runUntilQuiet().expectCommit(3);
    expect(t.deliveries("A0", "C0", "reply")).toBe(replies);
    expect(t.trace("A0")).toContain("ignored request: not the client's next request");
  });

  test("a request that reaches only a backup is forwarded to the primary", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet();
    const registration = t.deliveries("C0", "A0", "request");
    t.drop("C0", "A0", "request");
    // The first send goes to the primary only (dropped); the retries hedge to a backup, which forwards.
    t.requests(3).runUntilQuiet().expectCommit(4);
    expect(t.deliveries("C0", "A0", "request")).toBe(registration);
    expect(t.deliveries(["B1", "B2"], "A0", "request")).toBeGreaterThanOrEqual(3);
  });

  describe("stored replies (the client_replies zone)", () => {
    test("a duplicate whose stored reply is corrupt is answered after repairing it from a peer", () => {
      const t = scenario({ replicas: 3 });
      t.runUntilQuiet();
      t.drop("*", "C0", "reply"); // the client never gets its reply: it sends the request again
      t.client("C0").request();
      t.runUntil(() => t.replicas.every((r) => r.replica.commitMin === 2));
      // Only the primary gets the client's retries, and its stored reply is corrupt.
      t.tick(50); // the replies reach the disk
      const primary = t.replica("A0");
      corruptStoredReply(primary);
      t.heal().drop("C0", ["B1", "B2"], "request");
      t.runUntil(() => t.client("C0").replies.length === 1);
      expect(primary.events().filter((event) => event.startsWith("repair_reply"))).toEqual([
        expect.stringMatching(/^repair_reply: repaired the stored reply to client \d+ \(op 2, slot 0\): our copy was corrupt/),
      ]);
      t.expectCommit(2); // answered, not executed again
      // The repaired slot is intact again: the next duplicate is served from it.
      expectStoredReplyIntact(t, primary);
    });

    test("the stored reply survives a restart: read back from the zone, not from memory", () => {
      const t = scenario({ replicas: 1 });
      t.runUntilQuiet();
      t.client("C0").request();
      t.runUntilQuiet().expectCommit(2);
      const r0 = t.replica("R0");
      r0.stop();
      r0.open();
      t.runUntil(() => r0.up && r0.replica.commitMin === 2);
      expectStoredReplyIntact(t, r0);
    });

    test("alone, a replica with a corrupt stored reply says so and does not send it", () => {
      const t = scenario({ replicas: 1 });
      t.runUntilQuiet();
      t.drop("R0", "C0", "reply");
      t.client("C0").request();
      t.runUntil(() => t.replica("R0").replica.commitMin === 2);
      t.tick(50); // the reply reaches the disk
      corruptStoredReply(t.replica("R0"));
      t.heal();
      t.tick(3_000);
      expect(t.client("C0").replies).toHaveLength(0);
      expect(t.replica("R0").events().some((event) => /^reply_faulty: the stored reply to client \d+ \(slot 0\) is corrupt: no peer/.test(event))).toBe(true);
    });
  });
});
