// Clients and sessions (spec/vsr.md §13, wire.md §9–10): a register opens a session, a full
// session table evicts the oldest, bad requests are evicted, an exact duplicate of the latest
// request gets the stored reply without executing again, and a request that reaches only a backup
// is forwarded to the primary.
import { describe, expect, test } from "vitest";
import { EvictionReason } from "../../src/core/command.js";
import { scenario } from "./scenario_harness.js";

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
    t.drop("C0", "A0", "request");
    t.requests(3).runUntilQuiet().expectCommit(4);
    expect(t.deliveries("C0", "A0", "request")).toBe(0);
    expect(t.deliveries(["B1", "B2"], "A0", "request")).toBeGreaterThanOrEqual(3);
  });
});
