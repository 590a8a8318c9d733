// The cluster clock's liveness bound (spec/vsr.md §14, vopr.md §10): with too many clocks beyond
// the 10 s tolerance, no quorum agrees on the time, so the primary stamps no request; it must say
// so, and stamp again once the clocks return.
import { describe, expect, test } from "vitest";
import { idealClock, type ClockOffset } from "../../src/sim/world/time_sim.js";
import { scenario } from "./scenario_harness.js";

const second = 1_000_000_000n;
const ahead = (offsetNs: bigint): ClockOffset => ({ model: "linear", driftNsPerTick: 0n, offsetNs });

describe("cluster clock", () => {
  test("clocks beyond tolerance stop stamping, with a notice; the cluster resumes when they return", () => {
    // R1 (view 1's primary) is right; R0 and R2 are 25 s off on either side: no two agree.
    const t = scenario({ replicas: 3, clocks: [ahead(25n * second), idealClock, ahead(-25n * second)] });
    t.requests(1).tick(7000); // 70 s: more than an epoch (60 s) without agreement
    const r1 = t.replica("R1");
    expect(r1.isPrimary).toBe(true);
    expect(t.client("C0").replies).toHaveLength(0); // nothing stamped, so nothing committed
    const unsynchronized = r1.events().find((event) => event.startsWith("clock_unsynchronized"));
    expect(unsynchronized).toBe("clock_unsynchronized: cluster time unknown for 60 s: no quorum of clocks agrees " +
      "within 10 s; a primary stamps no request until it is known again");
    expect(r1.events().some((event) => event.startsWith("clock_synchronized"))).toBe(false);
    for (const index of [0, 2]) t.cluster.times[index]!.setOffset(idealClock);
    t.runUntil(() => t.client("C0").replies.length === 1, 3000);
    expect(r1.events()).toContain("clock_synchronized: cluster time agreed again: requests are stamped");
  });
});
