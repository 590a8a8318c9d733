// Recovery from the data file (spec/vsr.md §10, §11): the superblock opens by quorum of its four
// copies, the WAL recovery table decides each slot, and a replica whose head is uncertain waits
// in recovering_head for a `view` before it takes part again.
import { describe, expect, test } from "vitest";
import { scenario } from "./scenario_harness.js";
import { headerSize } from "../../src/core/config.js";
import { Command } from "../../src/core/command.js";
import { GetPrepareHeader, setChecksums } from "../../src/core/header.js";

describe("recovery", () => {
  test("a torn prepare and header at the head: open in recovering_head, then repair and rejoin", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    const b1 = t.replica("B1").stop();
    b1.corruptWalPrepare(3).corruptWalHeader(3);
    b1.open();
    t.runUntil(() => b1.status !== "recovering");
    expect(b1.status).toBe("recovering_head");
    expect(b1.op).toBe(2);
    t.requests(2).runUntilQuiet().expectCommit(5).expectView(1);
    expect(b1.trace()).toContain("ignored commit: status recovering_head");
  });

  test("a replica in recovering_head cannot help elect a primary: the cluster waits for a third", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    const [a0, b1, b2] = [t.replica("A0"), t.replica("B1"), t.replica("B2")];
    a0.stop();
    b1.stop().corruptWalPrepare(3).corruptWalHeader(3);
    b1.open();
    t.requests(1).tick(2000);
    // b2 votes to leave the view of its dead primary, but one vote is short of a quorum.
    expect([b1.status, b2.status, b2.view, b2.commitMax]).toEqual(["recovering_head", "normal", 1, 3]);
    expect(b1.trace()).toContain("ignored exit_view: status recovering_head");
    a0.open();
    t.runUntilQuiet().expectCommit(4);
  });

  test("a corrupt prepare below an intact redundant header: the head is certain, the slot is repaired", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    const b1 = t.replica("B1").stop();
    b1.corruptWalPrepare(3);
    b1.open();
    t.runUntil(() => b1.status !== "recovering");
    expect(b1.status).toBe("normal");
    expect(b1.replica.journal.isFaulty(3)).toBe(true);
    t.runUntilQuiet().expectCommit(3);
    expect(b1.replica.journal.isFaulty(3)).toBe(false);
    expect(t.deliveries(b1.name, "*", "get_prepare")).toBeGreaterThan(0);
    // The operator's log line (replica_host.ts logs every notice).
    expect(b1.events()).toContainEqual(expect.stringMatching(/^repair_prepare: repaired prepare op 3 \(view 1\) from replica \d$/));
  });

  test("a primary back in its own view with its head in a faulty slot waits in recovering_head, then rejoins", () => {
    // It can neither vouch for op 3 nor nack it (it acknowledged it), so it could send no
    // join_view: with two replicas that was a view change forever (VOPR seed 835791073117046069).
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    const a0 = t.replica("A0").stop();
    a0.corruptWalPrepare(3);
    a0.open();
    t.runUntil(() => a0.status !== "recovering");
    expect(a0.status).toBe("recovering_head");
    expect(a0.replica.journal.isFaulty(3)).toBe(true);
    expect(t.probes.recovering_head_entered).toBe(1);
    t.requests(2).runUntilQuiet().expectCommit(5);
    expect(a0.status).toBe("normal");
    expect(a0.replica.journal.isFaulty(3)).toBe(false);
  });

  test("a get_prepare is answered by checksum from the disk, even where our log no longer holds the op", () => {
    // B1 prepared op 4, then truncated it from its log (as a view change does): the header is
    // gone, the prepare is still on its disk. A request naming op 4's checksum is answered from
    // that copy. (Once only a clean slot holding the same header was served: a new primary whose
    // only intact copy sat on a replica in recovering_head waited for ever, crash-heavy VOPR.)
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    const [b1, b2] = [t.replica("B1"), t.replica("B2")];
    t.drop("*", "A0", "prepare_ok");
    t.requests(1).tick(50);
    const journal = b1.replica.journal;
    const checksum = journal.header(4)!.checksum;
    expect([b1.op, b1.commitMin, journal.isDirty(4)]).toEqual([4, 3, false]);
    journal.truncateAfter(3);
    b1.replica.truncateHead(3);
    b1.replica.prepareCache.clear(); // served from the disk, not from memory
    expect(journal.header(4)).toBeNull();
    const request = new Uint8Array(headerSize);
    const header = new GetPrepareHeader(request, 0);
    b2.replica.frame(header, Command.get_prepare, headerSize);
    header.op = 4;
    header.prepare_checksum = checksum;
    setChecksums(request, 0, headerSize);
    const served = t.deliveries(b1.name, b2.name, "prepare");
    b1.replica.onMessage(request);
    t.tick(5);
    expect(t.deliveries(b1.name, b2.name, "prepare")).toBe(served + 1);
    expect(b1.trace().join("\n")).not.toContain("ignored get_prepare");
  });

  test("a corrupt redundant header of the newest prepare is rewritten from the prepare, without peers", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet().expectCommit(3);
    const b1 = t.replica("B1").stop();
    b1.corruptWalHeader(3);
    b1.open();
    t.runUntil(() => b1.status !== "recovering");
    expect(b1.status).toBe("normal");
    expect(b1.replica.journal.isFaulty(3)).toBe(false);
    t.runUntilQuiet().expectCommit(3);
    expect(t.deliveries(b1.name, "*", "get_prepare")).toBe(0);
  });

  test("a crash tears the prepares being written; the replica recovers and catches up", () => {
    const t = scenario({ replicas: 3, clients: 3 });
    t.runUntilQuiet();
    const b1 = t.replica("B1");
    t.requests(3).runUntil(() => b1.storage.pendingWrites > 0 && b1.op === 6);
    b1.crash();
    expect(b1.storage.faultyCount).toBeGreaterThan(0);
    b1.open();
    t.runUntilQuiet().expectCommit(6).expectView(1);
  });

  test("a solo replica crashes mid-write: the torn prepare is cut, and the clients' retries commit", () => {
    const t = scenario({ replicas: 1, clients: 2 });
    const r0 = t.replica("R0");
    t.requests(6).runUntil(() => r0.storage.pendingWrites > 0 && r0.op === 5);
    r0.crash().open();
    t.runUntilQuiet().expectCommit(8);
    expect(t.clients.map((c) => c.replies.length)).toEqual([3, 3]);
  });

  test("every replica crashes at once with writes pending; the restarted cluster loses nothing acked", () => {
    const t = scenario({ replicas: 3, clients: 3 });
    t.requests(3).runUntilQuiet();
    t.requests(3).runUntil(() => t.replicas.every((r) => r.storage.pendingWrites > 0));
    for (const r of t.replicas) r.crash();
    for (const r of t.replicas) r.open();
    t.runUntilQuiet().expectCommit(9);
    expect(t.clients.map((c) => c.replies.length)).toEqual([2, 2, 2]);
  });

  test("two corrupt superblock copies are tolerated, and open rewrites them", () => {
    const t = scenario({ replicas: 3 });
    t.requests(2).runUntilQuiet();
    const b1 = t.replica("B1").stop();
    b1.corruptSuperblockCopy(0).corruptSuperblockCopy(1);
    b1.open();
    t.runUntil(() => b1.status === "normal");
    expect(b1.events()).toContain("repair_superblock: rewrote superblock copies 0, 1 from the 2-of-4 quorum " +
      "(damaged, or left behind by a crash mid-update)");
    b1.stop().corruptSuperblockCopy(2).corruptSuperblockCopy(3); // only the rewritten 0 and 1 are left
    b1.open();
    t.requests(2).runUntilQuiet().expectCommit(5);
  });

  test("three corrupt superblock copies lose the quorum: open refuses", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet();
    const b1 = t.replica("B1").stop();
    b1.corruptSuperblockCopy(0).corruptSuperblockCopy(1).corruptSuperblockCopy(3);
    b1.open();
    expect(() => t.tick(10)).toThrow(/open failed: superblock/);
  });

  test("the whole cluster restarts: committed ops survive and the view moves on", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.requests(6).runUntilQuiet().expectCommit(8);
    const view = t.view;
    for (const r of t.replicas) r.stop();
    for (const r of t.replicas) r.open();
    t.runUntilQuiet().expectCommit(8);
    expect(t.trace("R0")).toContain("ignored message: still opening");
    expect(t.view).toBeGreaterThan(view);
    t.requests(2).runUntilQuiet().expectCommit(10);
  });

  test("the primary and both backups crash and restart in turn, under load", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.requests(4).runUntilQuiet();
    for (const name of ["A0", "B1", "B2"]) {
      const r = t.replica(name);
      t.requests(6).tick(20);
      r.crash();
      t.runUntilQuiet();
      r.open();
      t.runUntilQuiet();
    }
    t.expectCommit(2 + 4 + 18);
    expect(t.clients.map((c) => c.replies.length)).toEqual([11, 11]);
  });
});
