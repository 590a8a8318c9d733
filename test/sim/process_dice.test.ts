// Process dice (src/sim/runner/process_dice.ts): drawing the tick of each die's next success must
// crash, restart, pause and unpause nodes as often as rolling every die on every tick (spec/vopr.md
// §5 steps 4-5), including the ×10 crash chance while writes are in flight (the thinning die).
import { describe, expect, test } from "vitest";
import { Prng } from "../../src/core/prng.js";
import { chance, ratio, ratioZero, type Ratio } from "../../src/sim/ratio.js";
import { ProcessDice } from "../../src/sim/runner/process_dice.js";
import type { ProcessFaults } from "../../src/sim/runner/swarm.js";
import type { Cluster } from "../../src/sim/world/cluster.js";

interface Counts { crashes: number; crashesWriting: number; restarts: number; pauses: number; unpauses: number }

/** The parts of a Cluster the dice touch; node `index` has writes in flight when `writing` says so. */
function fakeCluster(nodes: number, writing: (index: number, tick: number) => boolean) {
  const up = new Array<boolean>(nodes).fill(true);
  const paused = new Array<boolean>(nodes).fill(false);
  const counts: Counts = { crashes: 0, crashesWriting: 0, restarts: 0, pauses: 0, unpauses: 0 };
  const state = { tick: 0 };
  const cluster = {
    nodeCount: nodes, replicaCount: nodes, paused, replicas: [],
    storages: Array.from({ length: nodes }, (_, index) => ({ get pendingWrites() { return writing(index, state.tick) ? 1 : 0; } })),
    isUp: (index: number) => up[index]!,
    crash: (index: number) => {
      up[index] = false;
      counts.crashes += 1;
      if (writing(index, state.tick)) counts.crashesWriting += 1;
    },
    restart: (index: number) => { up[index] = true; counts.restarts += 1; },
    pause: (index: number) => { paused[index] = true; counts.pauses += 1; },
    unpause: (index: number) => { paused[index] = false; counts.unpauses += 1; },
    faultAllowed: () => false,
    checker: { reformatSafe: () => false, viewSpoken: () => 0 },
  };
  return { cluster: cluster as unknown as Cluster, counts, state, up, paused };
}

const process: ProcessFaults = {
  crashProbability: ratio(1, 1000), crashProbabilityWritesPending: ratio(10, 1000), crashStabilityTicks: 20,
  restartProbability: ratio(1, 100), restartStabilityTicks: 30,
  pauseProbability: ratio(1, 400), unpauseProbability: ratio(1, 40), pauseStabilityTicks: 10, unpauseStabilityTicks: 15,
  reformatProbability: ratioZero,
};

/** The spec's dice, rolled for every node on every tick (the simulator before ProcessDice). */
function rollEveryTick(ticks: number, writing: (index: number, tick: number) => boolean): Counts {
  const { cluster, counts, state, up, paused } = fakeCluster(2, writing);
  const prng = new Prng(99n);
  const processTick = [0, 0];
  const pauseTick = [0, 0];
  const roll = (r: Ratio): boolean => chance(prng, r);
  for (let tick = 0; tick < ticks; tick++) {
    state.tick = tick;
    for (let index = 0; index < 2; index++) {
      const since = tick - processTick[index]!;
      if (up[index]) {
        if (paused[index] || since < process.restartStabilityTicks) continue;
        const writes = writing(index, tick);
        if (!roll(writes ? process.crashProbabilityWritesPending : process.crashProbability)) continue;
        cluster.crash(index);
        processTick[index] = tick;
      } else if (since >= process.crashStabilityTicks && roll(process.restartProbability)) {
        cluster.restart(index, false);
        processTick[index] = tick;
      }
    }
    for (let index = 0; index < 2; index++) {
      if (!up[index]) continue;
      const since = tick - pauseTick[index]!;
      if (paused[index]) {
        if (since < process.pauseStabilityTicks || !roll(process.unpauseProbability)) continue;
        cluster.unpause(index);
      } else {
        if (since < process.unpauseStabilityTicks || !roll(process.pauseProbability)) continue;
        cluster.pause(index);
      }
      pauseTick[index] = tick;
    }
  }
  return counts;
}

function drawSuccesses(ticks: number, writing: (index: number, tick: number) => boolean): Counts {
  const { cluster, counts, state } = fakeCluster(2, writing);
  const dice = new ProcessDice(2, new Prng(7n), process, { reformatsLeft: () => 0, onReformat: () => {} });
  for (let tick = 0; tick < ticks; tick++) {
    state.tick = tick;
    dice.tickCrash(cluster, tick);
    dice.tickPause(cluster, tick);
  }
  return counts;
}

describe("process dice", () => {
  test("as many crashes, restarts, pauses and unpauses as rolling every tick; crashes ×10 while writing", () => {
    // Node 0 writes on every third tick, node 1 never.
    const writing = (index: number, tick: number): boolean => index === 0 && tick % 3 === 0;
    const ticks = 1_500_000;
    const expected = rollEveryTick(ticks, writing);
    const drawn = drawSuccesses(ticks, writing);
    expect(expected.crashes).toBeGreaterThan(3000); // enough events for a 6% bound
    for (const key of ["crashes", "restarts", "pauses", "unpauses"] as const) {
      expect(Math.abs(drawn[key] - expected[key]) / expected[key], key).toBeLessThan(0.06);
    }
    // A crash is ten times likelier on a writing tick: about 10/12 of node 0's crashes hit one.
    const share = (counts: Counts): number => counts.crashesWriting / counts.crashes;
    expect(Math.abs(share(drawn) - share(expected))).toBeLessThan(0.05);
  });

  test("a die that is off never succeeds", () => {
    const { cluster, counts } = fakeCluster(2, () => false);
    const off = { ...process, crashProbability: ratioZero, crashProbabilityWritesPending: ratioZero, pauseProbability: ratioZero };
    const dice = new ProcessDice(2, new Prng(7n), off, { reformatsLeft: () => 0, onReformat: () => {} });
    for (let tick = 0; tick < 100_000; tick++) {
      dice.tickCrash(cluster, tick);
      dice.tickPause(cluster, tick);
    }
    expect(counts).toEqual({ crashes: 0, crashesWriting: 0, restarts: 0, pauses: 0, unpauses: 0 });
  });
});
