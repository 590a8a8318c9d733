// View change (spec/vsr.md §6): backups depose a silent primary, the new primary chooses the log
// from a quorum of join_views (§6.3), keeps every op that may have committed and truncates only
// what a nack quorum proves was never committed. A faulty slot is never nacked (§6.2).
import { describe, expect, test } from "vitest";
import { idealClock } from "../../src/sim/world/time_sim.js";
import { scenario } from "./scenario_harness.js";
import { nackQuorumStory } from "./stories.js";

const second = 1_000_000_000n;

describe("view change", () => {
  test("a new primary whose clock runs behind its predecessor's stamps new prepares after the ops it inherits", () => {
    // R1 (the primary of view 1) 3 s ahead, R2 (view 2's) 3 s behind, R0 on time: no two agree, so
    // each synchronises with its nearest peer, and cluster time on R1 (+1.5 s) and R2 (-1.5 s)
    // differs by 3 s (vsr.md §14).
    const ahead = (offset: bigint) => ({ model: "linear" as const, driftNsPerTick: 0n, offsetNs: -offset });
    const t = scenario({ replicas: 3, clients: 4, clocks: [idealClock, ahead(3n * second), ahead(-3n * second)] });
    t.runUntilQuiet().expectCommit(4).expectView(1);
    const r1 = t.replica("R1");
    const r2 = t.replica("R2");
    t.drop("*", r1.name, "prepare_ok"); // R1 stamps ops 5 and 6 and crashes before they commit
    t.requests(2).runUntil(() => t.replica("R0").op === 6 && r2.op === 6);
    r1.crash();
    // R2 becomes primary of view 2 and prepares new requests while the inherited 5 and 6 are still
    // uncommitted (R0's prepare_oks are lost), so nothing it committed bounds its timestamps.
    t.heal().drop("R0", r2.name, "prepare_ok").runUntil(() => r2.status === "normal" && r2.isPrimary);
    t.client(2).request(); // clients 0 and 1 still wait for ops 5 and 6
    t.client(3).request();
    t.runUntil(() => r2.op === 8);
    expect(r2.commitMax).toBe(4);
    const stamps = Array.from({ length: 4 }, (_, i) => r2.replica.journal.header(5 + i)!.timestamp);
    // Ops 5 and 6 carry R1's clock, 7 and 8 R2's, 3 s behind: the log's timestamps must still increase.
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]!, `op ${5 + i}`).toBeGreaterThan(stamps[i - 1]!);
    t.heal().runUntilQuiet().expectCommit(8);
  });

  test("the primary crashes with prepares in flight: the backups' copies survive and new requests commit", () => {
    const t = scenario({ replicas: 3, clients: 4 });
    t.runUntilQuiet().expectCommit(4); // the four registers
    const a0 = t.replica("A0");
    t.drop("*", a0.name, "prepare_ok"); // nothing more commits in this view
    t.requests(4).runUntil(() => t.replica("B1").op === 8 && t.replica("B2").op === 8);
    expect(a0.commitMax).toBe(4);
    const inFlight = [5, 6, 7, 8].map((op) => a0.checksumOf(op));
    a0.crash();
    t.heal().runUntilQuiet();
    t.expectView(2).expectCommit(8);
    expect([5, 6, 7, 8].map((op) => t.replica("A0").checksumOf(op))).toEqual(inFlight);
    expect(t.clients.map((c) => c.replies.length)).toEqual([1, 1, 1, 1]);
    t.requests(4).runUntilQuiet().expectCommit(12);
    const primary = t.replica("A0").name;
    const viewsBefore = t.deliveries(primary, a0.name, "view");
    a0.open();
    t.runUntilQuiet().expectCommit(12).expectView(2);
    // Restarted in its own view 1, it moves to view 2 and sends its join_view; the primary, whose
    // view 2 has long started, answers with its `view` rather than leave it changing views alone.
    expect(t.deliveries(primary, a0.name, "view")).toBeGreaterThan(viewsBefore);
  });

  test("a prepare only the old primary wrote is truncated; the client's retry commits in its place", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet().expectCommit(1);
    const a0 = t.replica("A0");
    t.drop(a0.name, "*", "prepare");
    t.requests(1).runUntil(() => a0.op === 2).tick(5);
    const lost = a0.checksumOf(2);
    a0.stop();
    t.heal().runUntilQuiet();
    t.expectView(2).expectCommit(2);
    const kept = t.replica("A0").checksumOf(2);
    expect(kept).not.toBe(lost);
    a0.open();
    t.runUntilQuiet().expectCommit(2);
    expect(a0.checksumOf(2)).toBe(kept);
    expect(t.client("C0").replies).toHaveLength(1);
  });

  test("a nack quorum truncates an op only the old primary wrote, with the op a backup held above it", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    const [a0, b1] = nackQuorumStory(t);
    const original = [a0.checksumOf(3), a0.checksumOf(4)];
    expect(b1.checksumOf(4)).toBe(original[1]);
    a0.stop();
    t.heal().runUntilQuiet();
    // b1 nacks op 3 (it never held it), b2's log ends at 2: two nacks ≥ quorum_nack_prepare.
    t.expectCommit(4);
    expect(b1.checksumOf(3)).not.toBe(original[0]);
    expect(b1.checksumOf(4)).not.toBe(original[1]);
  });

  test("a join_view does not vouch for a header that does not chain to the one above it", () => {
    // Crash-heavy seed 835791073117046069: after crashes and restarts, a backup's log held an old
    // view's prepare (the newer one was never written to that slot) beneath a prepare of its
    // log_view. Its join_view sent both, and the new primary found two logs in one log_view
    // ("chooseLog: canonical fork").
    const t = scenario({ replicas: 5, clients: 2 });
    t.runUntilQuiet().expectCommit(2);
    const [a0, b1] = [t.replica("A0"), t.replica("B1")];
    const others = ["B2", "B3", "B4"].map((name) => t.replica(name).name);
    // The primary prepares op 3 for b1 alone and stops: the other three nack it and truncate it.
    t.drop(a0.name, others, "prepare").drop("*", a0.name, "prepare_ok");
    t.client("C0").request();
    t.runUntil(() => b1.op === 3).tick(5);
    const stale = b1.replica.journal.header(3)!.bytes().slice();
    a0.stop();
    t.heal().partition(b1.name, others);
    t.runUntil(() => t.replicas.filter((r) => r.up && r.status === "normal" && r.view > 1).length === 3);
    const primary = t.replicas.find((r) => r.up && r.isPrimary && r.status === "normal")!;
    expect(primary.op).toBe(2);
    // b1 joins the new view (head 2), then receives its op 4 but not its op 3.
    t.heal().drop(b1.name, "*", "get_headers", "get_prepare").drop(["C0", "C1"], "*", "request");
    t.runUntil(() => b1.status === "normal" && b1.view === primary.view && b1.op === 2);
    t.pass(["C0", "C1"], "*", "request").dropPrepare(primary.name, b1.name, 3).drop("*", primary.name, "prepare_ok");
    t.client("C1").request(); // op 4, after C0's retry (op 3)
    t.runUntil(() => b1.op === 4 && t.replicas.every((r) => !r.up || r.op === 4)).tick(5);
    // The old view's op 3 back in b1's log, as a restart can find it in the WAL.
    b1.replica.journal.setHeader(stale);
    expect(b1.replica.journal.header(4)!.parent).not.toBe(b1.replica.journal.header(3)!.checksum);
    primary.stop();
    t.heal().drop(b1.name, "*", "get_headers", "get_prepare").runUntilQuiet();
    const up = t.replicas.filter((r) => r.up && r.name !== b1.name).map((r) => r.name);
    t.expectCommit(4, up);
    t.heal().runUntilQuiet().expectCommit(4);
    expect(b1.checksumOf(3)).toBe(t.replica(up[0]!).checksumOf(3));
  });

  test("a faulty slot is never nacked: the view change waits for the op rather than truncate it", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.runUntilQuiet().expectCommit(2);
    const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
    t.drop(a0.name, b2.name, "prepare").drop(b1.name, a0.name, "prepare_ok");
    t.client("C0").request();
    t.runUntil(() => b1.op === 3).tick(2);
    t.client("C1").request();
    t.runUntil(() => b1.op === 4).tick(5);
    const original = [a0.checksumOf(3), a0.checksumOf(4)];
    a0.stop();
    b1.stop().corruptWalPrepare(3);
    t.heal();
    b1.open();
    t.tick(3000);
    // b2 alone nacks op 3; b1 holds op 4 above a corrupt slot 3 that may hold a committed op.
    expect(Math.max(b1.commitMin, b2.commitMin)).toBe(2);
    expect([b1.status, b2.status]).not.toContain("normal");
    expect(b1.trace()).toContain("log choice awaiting_repair at op 3");
    a0.open();
    t.runUntilQuiet().expectCommit(4);
    expect([t.replica("R0"), t.replica("R1"), t.replica("R2")].map((r) => [r.checksumOf(3), r.checksumOf(4)]))
      .toEqual([original, original, original]);
    expect(t.clients.map((c) => c.replies.length)).toEqual([1, 1]);
  });

  test("the new primary takes the log of the highest log_view, not the longest log", () => {
    const t = scenario({ replicas: 3, clients: 3 });
    t.runUntilQuiet().expectCommit(3);
    const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
    t.drop(a0.name, "*", "prepare");
    t.requests(3).runUntil(() => a0.op === 6); // ops 4..6 exist only on a0, in view 1
    t.partition(a0.name, [b1.name, b2.name]).drop("C2", "*", "request");
    t.runUntil(() => b1.status === "normal" && b1.view === 2 && b1.commitMax === 5); // 4, 5 again, in view 2
    const committed = [b2.checksumOf(4), b2.checksumOf(5)];
    b1.stop();
    t.heal().drop("C2", "*", "request");
    // b2 (log_view 2, head 5) and a0 (log_view 1, head 6) are the view-change quorum for view 3.
    t.runUntilQuiet().expectView(3).expectCommit(5);
    expect([a0.op, a0.checksumOf(4), a0.checksumOf(5)]).toEqual([5, ...committed]);
    t.pass("C2", "*", "request").runUntilQuiet().expectCommit(6);
    expect(t.clients.map((c) => c.replies.length)).toEqual([1, 1, 1]);
  });

  test("a primary whose prepares never arrive abdicates; its heartbeats stop and the backups depose it", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet().expectView(1);
    const a0 = t.replica("A0");
    t.drop(a0.name, "*", "prepare"); // small messages (commit heartbeats) still get through
    t.requests(1).tick(500);
    expect(t.view).toBe(1); // heartbeats keep the backups loyal for now
    t.runUntilQuiet();
    expect(a0.view).toBeGreaterThan(1);
    expect(t.replica("A0").name).not.toBe(a0.name);
    t.expectCommit(2);
  });

  test("an old primary cut off by a partition rejoins the new view; its old-view heartbeats are ignored", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet();
    const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
    t.partition(a0.name, [b1.name, b2.name]);
    t.runUntil(() => b1.view === 2 && b1.status === "normal" && b2.status === "normal");
    expect([a0.status, a0.view, a0.isPrimary]).toEqual(["normal", 1, true]); // it still believes
    t.heal().tick(100);
    expect(b1.trace().concat(b2.trace())).toContain("ignored commit: older view");
    expect(a0.trace()).toContain("ignored commit: newer view (asking for it)");
    t.requests(2).runUntilQuiet().expectCommit(5).expectView(2);
  });

  test("a would-be primary two checkpoints behind forfeits its view to one that can lead", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.runUntilQuiet();
    const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
    b1.stop();
    t.requests(44).runUntilQuiet().expectCommit(46); // checkpoints at 19 and 39 without b1
    a0.stop();
    b1.open(); // b1 is the primary of the next view, but could not repair a log wrapped past it
    t.requests(2).runUntilQuiet().expectCommit(48).expectView(3);
    expect(t.replica("A0").name).toBe(b2.name);
    expect(b1.events()).toContain("sync_done");
    a0.open();
    t.requests(2).runUntilQuiet().expectCommit(50).expectView(3);
  });

  test("five replicas: two backups down at once, one restarts after the cluster wrapped its WAL", () => {
    const t = scenario({ replicas: 5, clients: 2 });
    t.requests(4).runUntilQuiet();
    const [b1, b3] = [t.replica("B1"), t.replica("B3")];
    b1.crash();
    b3.crash();
    t.requests(8).runUntilQuiet();
    b1.open();
    t.requests(40).runUntilQuiet();
    b3.open();
    t.requests(6).runUntilQuiet().expectCommit(2 + 58);
    expect(b3.events()).toContain("sync_done");
    expect(b1.events()).not.toContain("sync_start");
    expect(new Set(t.replicas.map((r) => r.replica.checkpointId())).size).toBe(1);
  });

  test("a replayed `view` of the current view never truncates what a backup prepared since", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.runUntilQuiet().expectCommit(2);
    const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
    t.record(b1.name, b2.name); // b1 leads the next view: its `view` to b2 is kept
    a0.stop();
    t.heal().runUntil(() => t.deliveries(b1.name, b2.name, "view") > 0);
    t.record(b1.name, b2.name, false).runUntilQuiet().expectView(b1.view, [b1.name, b2.name]);
    // Without commit heartbeats, b2 learns commits only from later prepares: op 8 stays above its
    // commit_min, acknowledged by b2 and committed by the primary.
    t.drop(b1.name, b2.name, "commit").requests(6).runUntilQuiet().expectCommit(8, [b1.name]);
    expect([b2.logView, b2.op]).toEqual([b1.view, 8]);
    expect(b2.commitMin).toBeLessThan(8);
    t.replay(); // duplicates on the wire, the `view` among them: its head is below 8
    let opMin = b2.op;
    for (let tick = 0; tick < 20; tick++) opMin = Math.min(opMin, t.tick().replica(b2.name).op);
    expect(opMin).toBe(8);
    expect(b2.trace()).toContain("ignored view: stale: our log of this view is longer");
    t.heal().runUntilQuiet().expectCommit(8, [b1.name, b2.name]);
  });
});
