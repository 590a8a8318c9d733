// The state checker (spec/vopr.md §11.1) against hand-built histories: it accepts a correct
// cluster, and catches a wrong parent, a skipped op, a commit that is not the client's in-flight
// request, a re-execution, divergent prepares and replies, jumps of commit_min and view regressions.
import { describe, expect, test } from "vitest";
import { Operation } from "../../src/core/command.js";
import { StateChecker, type ClientRequest } from "../../src/sim/checkers/state_checker.js";
import { chain, checksumOf, expectViolation, inFlightOf, prepare, replyTo, rootChecksum } from "./vopr_helpers.js";

function setup(replicas = 3) {
  const inFlight = new Map<bigint, ClientRequest>();
  const checker = new StateChecker({
    replicaNodeCount: replicas, rootChecksum, inFlight: (client) => inFlight.get(client) ?? null, syncBacktrackMax: 1,
    clientsMax: 2, recoverNoops: 2,
  });
  const states = Array.from({ length: replicas }, () => ({ status: "normal", view: 0, commitMin: 0 }));
  /** Replica `r` commits `bytes`, as the replica's onCommit does (commit_min first). */
  const commit = (r: number, bytes: Uint8Array, reply = replyTo(bytes)) => {
    const op = Number(new DataView(bytes.buffer).getBigUint64(192, true));
    states[r]!.commitMin = op;
    checker.onCommit(r, states[r]!, bytes, reply);
    checker.checkState(r, states[r]!);
  };
  /** The client sends the request that `bytes` prepares (the checker matches against it). */
  const send = (bytes: Uint8Array) => {
    const request = inFlightOf(bytes);
    inFlight.set(request.client, request);
  };
  /** Every op of `ops` committed by `replicas`, each client request sent first (a pulse has client 0). */
  const commitAll = (ops: readonly Uint8Array[], replicas: readonly number[]) => {
    for (const bytes of ops) {
      if (new DataView(bytes.buffer).getBigUint64(176, true) !== 0n) send(bytes);
      for (const r of replicas) commit(r, bytes);
    }
  };
  return { checker, states, commit, send, commitAll, inFlight };
}

describe("state checker", () => {
  test("accepts a correct cluster: every replica commits the canonical chain", () => {
    const { checker, commitAll } = setup();
    const ops = chain();
    commitAll(ops, [0, 1, 2]);
    expect(checker.commitLatest).toBe(4);
    expect(checker.checksumAt(4)).toBe(checksumOf(ops[3]!));
    expect(checker.requestsCommitted).toBe(3);
    expect(() => checker.assertHistory()).not.toThrow();
  });

  test("catches a new op whose parent is not the previous checksum", () => {
    const { commit, send } = setup();
    const ops = chain();
    send(ops[0]!);
    commit(0, ops[0]!);
    const forged = prepare({ op: 2, parent: 0xbadn });
    expectViolation(() => commit(0, forged), /parent/);
  });

  test("catches a skipped op", () => {
    const { commit, send } = setup();
    const ops = chain();
    send(ops[0]!);
    commit(0, ops[0]!);
    // Replica 1 claims op 2 without op 1: its commit_min jumps.
    expectViolation(() => commit(1, ops[1]!), /jumped from 0 to 2/);
    // A restarted replica (allowed one jump) commits op 3 while the cluster's latest is op 1.
    const { checker: checkerB, commit: commitB, send: sendB } = setup();
    sendB(ops[0]!);
    commitB(0, ops[0]!);
    checkerB.onRestart(1);
    sendB(ops[2]!);
    expectViolation(() => commitB(1, ops[2]!), /skipped op/);
  });

  test("catches a commit that does not match the client's in-flight request", () => {
    // A failed check ends a run, so each attempt uses a fresh replica.
    const { commit, send, inFlight } = setup(5);
    const ops = chain();
    // Nothing in flight for client 7.
    expectViolation(() => commit(0, ops[0]!), /not in flight/);
    // In flight: request 1, but with another checksum (a request the client never sent).
    inFlight.set(7n, { ...inFlightOf(ops[0]!), checksum: 0xdeadn });
    expectViolation(() => commit(1, ops[0]!), /request checksum/);
    inFlight.set(7n, { ...inFlightOf(ops[0]!), operation: Operation.register });
    expectViolation(() => commit(2, ops[0]!), /operation/);
    inFlight.set(7n, { ...inFlightOf(ops[0]!), size: 999 });
    expectViolation(() => commit(3, ops[0]!), /size/);
    send(ops[0]!);
    expect(() => commit(4, ops[0]!)).not.toThrow();
  });

  test("the client check switches off after the first eviction, the re-execution check does not", () => {
    const { checker, commit, send } = setup();
    const ops = chain();
    checker.onEviction();
    commit(0, ops[0]!); // not in flight, but evictions make the client set non-exhaustive
    commit(0, ops[1]!);
    send(ops[2]!);
    commit(0, ops[2]!);
    // Client 7's request 2 again, as a new op: executed twice.
    const again = prepare({ op: 4, parent: checksumOf(ops[2]!), client: 7n, request: 2, requestChecksum: 0xa2n });
    expectViolation(() => commit(0, again), /again/);
  });

  test("the client check switches off at the first session eviction (clients_max + 1 registers)", () => {
    const { checker, commit, send } = setup();
    let parent = rootChecksum;
    const register = (op: number, client: bigint) => {
      const bytes = prepare({ op, parent, client, request: 0, requestChecksum: client, operation: Operation.register });
      parent = checksumOf(bytes);
      send(bytes);
      commit(0, bytes);
      return bytes;
    };
    register(1, 7n);
    register(2, 8n);
    expect(checker.clientsExhaustive).toBe(true);
    const first = register(3, 9n); // a third client: the table (clients_max = 2) evicts a session
    expect(checker.clientsExhaustive).toBe(false);
    // A late duplicate of client 7's register is new to the primary, and now accepted.
    const again = prepare({ op: 4, parent: checksumOf(first), client: 7n, request: 0, requestChecksum: 7n,
      operation: Operation.register });
    expect(() => commit(0, again)).not.toThrow();
  });

  test("catches a non-client op that is not a pulse or upgrade", () => {
    const { commit } = setup();
    const noop = prepare({ op: 1, parent: rootChecksum, operation: Operation.noop });
    expectViolation(() => commit(0, noop), /only pulse or upgrade/);
  });

  test("catches divergent prepares and replies for a known op", () => {
    const { commit, send } = setup();
    const ops = chain();
    send(ops[0]!);
    commit(0, ops[0]!);
    const other = prepare({ op: 1, parent: rootChecksum, client: 7n, request: 1, requestChecksum: 0xa1n,
      body: new Uint8Array([9]) });
    expectViolation(() => commit(1, other), /canonical/);
    expectViolation(() => commit(2, ops[0]!, replyTo(ops[0]!, new Uint8Array([7, 7, 7]))), /reply body/);
  });

  test("catches timestamps that do not increase", () => {
    const { commit } = setup();
    const first = prepare({ op: 1, parent: rootChecksum, timestamp: 50n });
    commit(0, first);
    const second = prepare({ op: 2, parent: checksumOf(first), timestamp: 50n });
    expectViolation(() => commit(0, second), /timestamp/);
  });

  test("catches a view regression, within a lifetime and below an acked view across restarts", () => {
    const { checker, states } = setup();
    states[0]!.view = 3;
    checker.checkState(0, states[0]!);
    states[0]!.view = 2;
    expectViolation(() => checker.checkState(0, states[0]!), /view regressed from 3 to 2/);
    // After a restart the view may restart from the superblock, but not below an acked view.
    checker.onPrepareOk(1, 5);
    checker.onRestart(1);
    states[1]!.status = "recovering";
    states[1]!.view = 0;
    expect(() => checker.checkState(1, states[1]!)).not.toThrow(); // not open yet: not compared
    states[1]!.status = "normal";
    states[1]!.view = 4;
    expectViolation(() => checker.checkState(1, states[1]!), /acked in a prepare_ok/);
    states[1]!.view = 5;
    expect(() => checker.checkState(1, states[1]!)).not.toThrow();
  });

  test("commit_min may move back once after a restart (the replay), then one op at a time", () => {
    const { checker, commit, commitAll, states } = setup();
    const ops = chain();
    commitAll(ops, [0]);
    // Without a restart, a backwards move is a violation.
    states[0]!.commitMin = 2;
    expectViolation(() => checker.checkState(0, states[0]!), /without a commit/);
    // After one, the replica reopens at its checkpoint (op 2) and replays 3 and 4.
    checker.onRestart(0);
    checker.checkState(0, states[0]!);
    commit(0, ops[2]!);
    commit(0, ops[3]!);
    expect(checker.commitLatest).toBe(4);
    // A forward jump with no commit is caught too.
    states[0]!.commitMin = 6;
    expectViolation(() => checker.checkState(0, states[0]!), /without a commit|beyond/);
  });

  test("state sync may fast-forward commit_min to a committed checkpoint, backtracking a little", () => {
    const { checker, commit, commitAll, states } = setup();
    const ops = chain();
    commitAll(ops, [0]);
    states[1]!.commitMin = 3; // replica 1 synced to a checkpoint at op 3
    checker.onSyncDone(1, states[1]!);
    checker.checkState(1, states[1]!);
    commit(1, ops[3]!);
    states[2]!.commitMin = 5;
    expectViolation(() => checker.onSyncDone(2, states[2]!), /beyond the cluster's commit 4/);
    // Replica 0 executed op 4; a sync back to op 2 loses more than syncBacktrackMax (1) ops.
    states[0]!.commitMin = 2;
    expectViolation(() => checker.onSyncDone(0, states[0]!), /back from 4 to 2/);
  });

  test("replicas agree on the checkpoint id at each checkpoint op", () => {
    const { checker } = setup();
    checker.checkCheckpoint(0, 0, 0x11n);
    checker.checkCheckpoint(1, 0, 0x11n);
    checker.checkCheckpoint(0, 19, 0x22n);
    expectViolation(() => checker.checkCheckpoint(2, 19, 0x23n), /checkpoint 19/);
  });

  test("history views must not decrease (convergence, §6.2 item 3)", () => {
    const { checker, commit } = setup();
    const first = prepare({ op: 1, parent: rootChecksum, view: 2 });
    commit(0, first);
    commit(0, prepare({ op: 2, parent: checksumOf(first), view: 1 }));
    expectViolation(() => checker.assertHistory(), /view 1 after view 2/);
  });
});
