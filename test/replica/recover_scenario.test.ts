// A replica whose data file is lost entirely (`scarab recover`, Cluster.reformat): formatted anew
// in a view past the cluster's, it joins by a view change it loses every log choice in, and
// catches up by WAL repair or, once the cluster's WAL has wrapped past its empty state, by state
// sync. It never acts on the promises of its lost incarnation.
import { describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { recoverView } from "../../src/replica/quorums.js";
import { scenario, type Scenario } from "./scenario_harness.js";

function clusterView(t: Scenario): number {
  return Math.max(...t.replicas.filter((r) => r.up).map((r) => r.view));
}

describe("recover a lost data file", () => {
  test.each([
    ["young cluster: WAL repair from op 1", 6],
    ["the cluster's WAL has wrapped: state sync", 60],
  ])("%s", (_, requests) => {
    const t = scenario({ replicas: 3 });
    t.requests(requests).runUntilQuiet();
    const r2 = t.replica("R2").stop();
    // The cluster commits a pipeline of ops without it, as scarab recover's no-ops do.
    t.requests(testConfig.pipelinePrepareQueueMax).runUntilQuiet();
    const view = recoverView(clusterView(t), 2, 3);
    expect(view).toBeGreaterThanOrEqual(clusterView(t) + 2);
    t.cluster.reformat(2, view);
    t.runUntilQuiet();
    expect(r2.status).toBe("normal");
    expect(r2.view).toBeGreaterThanOrEqual(view);
    const head = t.replica("R0").commitMin;
    expect(r2.commitMin).toBe(head);
    if (requests > 30) expect(r2.events()).toContain("sync_done");
    t.requests(3).runUntilQuiet().expectCommit(head + 3);
  });

  test("the recovered replica is never the primary of the view it starts in", () => {
    for (let clusterViewNow = 0; clusterViewNow < 12; clusterViewNow++) {
      for (let replica = 0; replica < 3; replica++) {
        const view = recoverView(clusterViewNow, replica, 3);
        expect(view - clusterViewNow).toBeGreaterThanOrEqual(2);
        expect(view - clusterViewNow).toBeLessThanOrEqual(3);
        expect(view % 3).not.toBe(replica);
      }
    }
  });
});
