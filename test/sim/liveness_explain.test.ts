// spec/vopr.md §6.2: which non-convergences are legitimate. Here core_missing_prepare's second
// half: an uncommitted op whose prepare a nack quorum lacks, so that no view change can either keep
// it or truncate it (TigerBeetle's core_missing_prepare). The cluster is a structural fake: only the
// fields explainNoConvergence reads.
import { describe, expect, test } from "vitest";
import { headerSize, testConfig } from "../../src/core/config.js";
import { PrepareHeader } from "../../src/core/header.js";
import { explainNoConvergence } from "../../src/sim/checkers/liveness.js";
import type { Cluster } from "../../src/sim/world/cluster.js";

interface FakeReplica {
  status: "normal" | "view_change" | "recovering_head";
  view: number;
  logView: number;
  op: number;
  commitMin: number;
  commitMax: number;
  /** Ops whose header the journal holds (checksum = 1000 + op), and those whose prepare is intact. */
  headers: number[];
  intact: number[];
  /** A view change not yet durable: the superblock's log_view is behind its view, with these view headers. */
  viewHeaders?: { op: number; checksum: bigint }[];
}

function prepareHeaderBytes(op: number, checksum: bigint): Uint8Array {
  const header = new PrepareHeader(new Uint8Array(headerSize), 0);
  header.op = op;
  header.checksum = checksum;
  return header.buffer;
}

function fakeCluster(replicas: FakeReplica[]): Cluster {
  const built = replicas.map((r) => ({
    status: r.status, view: r.view, logView: r.logView, op: r.op, commitMin: r.commitMin, commitMax: r.commitMax,
    opCheckpoint: 19,
    superblock: {
      working: {
        vsr_state: { log_view: r.logView, view: r.viewHeaders === undefined ? r.logView : r.view },
        view_headers: (r.viewHeaders ?? []).map(({ op, checksum }) => prepareHeaderBytes(op, checksum)),
      },
    },
    journal: {
      header: (op: number) => (r.headers.includes(op) ? { op, checksum: BigInt(1000 + op) } : null),
      hasPrepare: (op: number, checksum: bigint) => r.intact.includes(op) && checksum === BigInt(1000 + op),
      isDirty: (op: number) => !r.intact.includes(op),
    },
  }));
  return {
    replicaCount: replicas.length, quorumViewChange: 2, config: testConfig, replicas: built,
    paused: replicas.map(() => false), isUp: () => true, catchingUp: () => false,
  } as unknown as Cluster;
}

const viewChanging = (op: number, headers: number[], intact: number[]): FakeReplica => ({
  status: "view_change", view: 195, logView: 40, op, commitMin: 19, commitMax: 19, headers, intact,
});
const ops = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("explainNoConvergence: an uncommitted prepare a nack quorum lacks", () => {
  test("op 34 faulty on one view-changing replica, never held by the other, intact only on a recovering_head one", () => {
    const cluster = fakeCluster([
      viewChanging(35, ops(20, 35), ops(20, 33)), // op 34's slot faulty, 35 intact
      { ...viewChanging(35, ops(20, 35), ops(20, 35)), status: "recovering_head", view: 43 },
      viewChanging(33, ops(20, 33), ops(20, 33)),
    ]);
    expect(explainNoConvergence(cluster, [0, 1, 2])).toBe("core_missing_prepare (op 34, uncommitted, missing on 2 replicas)");
  });

  test("unexplained when a view-changing replica holds every uncommitted prepare (the view change can proceed)", () => {
    const cluster = fakeCluster([
      viewChanging(35, ops(20, 35), ops(20, 35)),
      { ...viewChanging(35, ops(20, 35), ops(20, 35)), status: "recovering_head", view: 43 },
      viewChanging(33, ops(20, 33), ops(20, 33)),
    ]);
    expect(explainNoConvergence(cluster, [0, 1, 2])).toBeNull();
  });

  test("a replica outside the core counts as lacking the prepare", () => {
    const cluster = fakeCluster([
      viewChanging(35, ops(20, 35), ops(20, 35)),
      viewChanging(35, ops(20, 35), ops(20, 35)),
      viewChanging(33, ops(20, 33), ops(20, 33)),
    ]);
    expect(explainNoConvergence(cluster, [0, 1, 2])).toBeNull();
    // Without replica 1 in the core, op 34 is intact only on replica 0: one copy, two lacking it.
    expect(explainNoConvergence(cluster, [0, 2])).toBe("core_missing_prepare (op 34, uncommitted, missing on 2 replicas)");
  });

  test("a view change not yet durable names its uncommitted ops by its view headers, not its journal", () => {
    // Replica 0's journal holds ops 20..35 intact, but its view headers say op 34 is another
    // prepare (checksum 7): no replica holds that one, so it lacks on all three.
    const cluster = fakeCluster([
      { ...viewChanging(35, ops(20, 35), ops(20, 35)), viewHeaders: [{ op: 35, checksum: 1035n }, { op: 34, checksum: 7n }] },
      { ...viewChanging(35, ops(20, 35), ops(20, 35)), status: "recovering_head", view: 43 },
      viewChanging(33, ops(20, 33), ops(20, 33)),
    ]);
    expect(explainNoConvergence(cluster, [0, 1, 2])).toBe("core_missing_prepare (op 34, uncommitted, missing on 3 replicas)");
  });
});
