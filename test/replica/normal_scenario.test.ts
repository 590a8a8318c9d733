// Normal operation (spec/vsr.md §5): requests become prepares, a replication quorum commits them,
// every replica executes the same log, and checkpoints come every 20 ops (§9).
import { describe, expect, test } from "vitest";
import { scenario } from "./scenario_harness.js";

describe("normal operation", () => {
  test("a solo replica commits the register and every request", () => {
    const t = scenario({ replicas: 1 });
    t.requests(5).runUntilQuiet();
    t.expectCommit(6); // the register is op 1
    expect(t.client("C0").replies).toHaveLength(5);
  });

  test("a fresh cluster's first primary leaves view 0: a restarted primary may have lost acks", () => {
    const t = scenario({ replicas: 3 });
    t.runUntilQuiet();
    t.expectView(1).expectCommit(1); // only the register
    expect(t.replica("A0").name).toBe("R1");
    expect(t.replica("B2").name).toBe("R0");
  });

  test("three replicas commit the same log on all of them", () => {
    const t = scenario({ replicas: 3, clients: 2 });
    t.requests(10).runUntilQuiet();
    t.expectCommit(12).expectView(1);
    const checksums = t.replicas.map((r) => r.checksumOf(12));
    expect(new Set(checksums).size).toBe(1);
  });

  test("six replicas commit with a replication quorum of three", () => {
    const t = scenario({ replicas: 6 });
    t.drop(["B3", "B4", "B5"], "A0", "prepare_ok");
    t.requests(4).runUntilQuiet();
    t.expectCommit(5);
  });

  test("six replicas cannot commit with only two prepare_oks", () => {
    const t = scenario({ replicas: 6 });
    t.runUntilQuiet();
    t.drop(["B2", "B3", "B4", "B5"], "A0", "prepare_ok");
    t.requests(1).tick(300);
    expect(t.replica("A0").commitMax).toBe(1);
    expect(t.replica("A0").op).toBe(2);
  });

  test("a solo replica checkpoints every 20 ops and wraps its 32-slot WAL", () => {
    const t = scenario({ replicas: 1, clients: 2 });
    t.requests(70).runUntilQuiet();
    t.expectCommit(72);
    expect(t.replica("R0").opCheckpoint).toBe(59); // checkpoints at 19, 39, 59
  });

  test("a solo replica increments its view on every restart, and replays its WAL", () => {
    const t = scenario({ replicas: 1 });
    t.requests(3).runUntilQuiet();
    const view = t.replica("R0").view;
    t.replica("R0").stop().open();
    t.runUntilQuiet();
    expect(t.replica("R0").view).toBe(view + 1);
    t.expectCommit(4);
    t.requests(2).runUntilQuiet().expectCommit(6);
  });
});

describe("clock", () => {
  test("the primary stamps no prepare before pongs synchronise its clock", () => {
    const t = scenario({ replicas: 3 });
    t.drop("*", "*", "pong");
    t.requests(1).tick(1000);
    expect(t.replicas.map((r) => r.commitMax)).toEqual([0, 0, 0]); // not even the register
    expect(t.deliveries("A0", "*", "prepare")).toBe(0);
    expect(t.trace("a0")).toContain("ignored request: clock not synchronised");
    t.pass("*", "*", "pong").runUntilQuiet().expectCommit(2);
  });

  test("pings and pongs synchronise the clock within about two seconds", () => {
    const t = scenario({ replicas: 3 });
    t.runUntil(() => t.replica("A0").commitMax === 1);
    expect(t.deliveries("*", "*", "pong")).toBeGreaterThan(0);
    expect(t.now).toBeGreaterThanOrEqual(200); // the clock window is 2 s before it may synchronise
    expect(t.now).toBeLessThan(500);
  });
});

describe("standbys", () => {
  test("a standby follows the log but never acks, votes or joins a view", () => {
    const t = scenario({ replicas: 3, standbys: 1 });
    t.requests(3).runUntilQuiet().expectCommit(4);
    expect(t.replica("S0").op).toBe(4);
    for (const command of ["prepare_ok", "exit_view", "join_view"] as const) {
      expect(t.deliveries("S0", "*", command)).toBe(0);
    }
  });

  test("pings and pongs pass between active replicas only: a standby keeps no cluster clock", () => {
    const t = scenario({ replicas: 3, standbys: 1 });
    t.requests(1).runUntilQuiet().expectCommit(2);
    t.tick(300); // three ping rounds more
    for (const command of ["ping", "pong"] as const) {
      expect(t.deliveries("S0", "*", command)).toBe(0);
      expect(t.deliveries("*", "S0", command)).toBe(0);
      expect(t.deliveries("A0", "*", command)).toBeGreaterThan(0);
    }
  });

  test("a primary with only a standby left cannot commit", () => {
    const t = scenario({ replicas: 3, standbys: 1 });
    t.runUntilQuiet().expectCommit(1);
    const [b1, b2] = [t.replica("B1"), t.replica("B2")];
    b1.stop();
    b2.stop();
    t.requests(1).tick(500);
    expect(t.replica("S0").op).toBe(2); // the standby holds the prepare…
    expect(t.replica("A0").commitMax).toBe(1); // …but its copy does not count
    b1.open();
    t.runUntilQuiet();
    expect(t.client("C0").replies).toHaveLength(1);
    t.expectCommit(2);
  });
});
