// The replica's state transitions (src/replica/replica_state.ts): each asserts the status it comes
// from, and view, log_view and commits never go back. These drive the transitions directly on an
// unopened replica, so each rule is checked apart from the protocol that normally calls it.
import { describe, expect, test } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { releaseCurrent, testConfig } from "../../src/core/config.js";
import { Prng } from "../../src/core/prng.js";
import type { MessageBus } from "../../src/io/message_bus.js";
import { noBugs, plantBugs } from "../../src/replica/bugs.js";
import { Replica } from "../../src/replica/replica.js";
import { EchoStateMachine } from "../../src/sim/workloads/echo_state_machine.js";
import { TimeSim } from "../../src/sim/world/time_sim.js";
import { MemoryStorage } from "./memory_storage.js";

const silentBus: MessageBus = { sendToReplica: () => {}, sendToClient: () => {} };

function replica(index = 1, replicaCount = 3, trace?: (replica: number, line: string) => void): Replica {
  return new Replica({
    cluster: 1n, replica: index, replicaCount, standbyCount: 1, config: testConfig, release: releaseCurrent,
    time: new TimeSim(), storage: new MemoryStorage(testConfig), bus: silentBus, prng: new Prng(1),
    stateMachine: new EchoStateMachine(), trace,
  });
}

describe("replica state transitions", () => {
  test("a new replica is recovering at view 0 with nothing committed", () => {
    const r = replica();
    expect([r.status, r.view, r.logView, r.op, r.commitMin, r.commitMax]).toEqual(["recovering", 0, 0, 0, 0, 0]);
    r.invariants();
  });

  test("normal is entered only from recovering or view_change, and only with the view's log", () => {
    const r = replica();
    r.toNormal(0);
    expect(r.status).toBe("normal");
    expect(() => r.toNormal(0)).toThrow(/toNormal from normal/);
    r.toViewChange(1);
    // The log of view 1 is not installed (log_view is 0): normal status would be a lie.
    expect(() => r.toNormal(1)).toThrow(/log of the view is not installed/);
  });

  test("view change moves forward only, and a view change is not re-entered for the same view", () => {
    const r = replica();
    r.toViewChange(3);
    expect([r.status, r.view]).toEqual(["view_change", 3]);
    expect(() => r.toViewChange(3)).toThrow(AssertionError);
    expect(() => r.toViewChange(2)).toThrow(/view goes back/);
    r.toViewChange(4);
    expect(r.view).toBe(4);
  });

  test("adopting a view sets view and log_view together, clears a primary's state, and never goes back", () => {
    const r = replica(1);
    r.toViewChange(3); // replica 1 would not be primary of 3 (3 mod 3 = 0)
    r.adoptView(3, 0);
    expect([r.status, r.view, r.logView]).toEqual(["view_change", 3, 3]);
    r.toNormal(3);
    expect(r.status).toBe("normal");
    expect(() => r.adoptView(2, 0)).toThrow(/view goes back/);
    expect(() => r.adoptView(4, 0)).toThrow(/a primary adopts no view of its own/); // 4 mod 3 = 1
    r.invariants();
  });

  test("recovering_head is entered only while opening", () => {
    const r = replica();
    r.toNormal(0);
    expect(() => (r as unknown as { toRecoveringHead(): void }).toRecoveringHead()).toThrow(/toRecoveringHead from normal/);
  });

  test("the head advances only in normal status and within the WAL's capacity", () => {
    const r = replica();
    r.toViewChange(1);
    expect(() => r.advanceHead(1)).toThrow(/only in normal status/);
    const s = replica();
    s.toNormal(0);
    s.advanceHead(3);
    expect(s.op).toBe(3);
    expect(() => s.advanceHead(2)).toThrow(/head goes back/);
    expect(() => s.advanceHead(s.opPrepareMax + 1)).toThrow(/capacity/);
  });

  test("commit_max only grows", () => {
    const r = replica();
    r.advanceCommitMax(5);
    r.advanceCommitMax(3);
    expect(r.commitMax).toBe(5);
  });

  test("a checkpoint must advance and cover only executed ops", () => {
    const r = replica();
    expect(() => r.checkpointDurable(20, 1n)).toThrow(/not executed/);
    expect(() => r.checkpointDurable(0, 1n)).toThrow(/checkpoints advance/);
  });

  test("a standby never starts a view change on its own", () => {
    const standby = replica(3);
    expect(standby.isStandby).toBe(true);
    expect(() => standby.toViewChange(1)).toThrow(/standby/);
  });

  test("invariants catch a pipeline outside a normal primary", () => {
    const r = replica(1);
    r.pipeline.push({ message: new Uint8Array(0), op: 1, checksum: 1n, client: 1n, operation: 130, okFrom: 0 });
    expect(() => r.invariants()).toThrow(/pipeline outside a normal primary/);
  });

  test("drops are traced with their reason, and only when a sink listens", () => {
    const lines: string[] = [];
    const traced = replica(1, 3, (index, line) => lines.push(`${index} ${line}`));
    traced.ignored("prepare", "older view");
    expect(lines).toEqual(["1 ignored prepare: older view"]);
    expect(traced.tracing).toBe(true);
    expect(replica().tracing).toBe(false);
  });

  test("planted bugs are frozen options, off by default", () => {
    expect(replica().bugs).toBe(noBugs);
    const bugs = plantBugs("commitWithoutQuorum");
    expect(Object.isFrozen(bugs) && bugs.commitWithoutQuorum && !bugs.ackBeforeDurable).toBe(true);
  });
});
