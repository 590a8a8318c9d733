// Clock faults in the swarm (src/sim/runner/swarm_clocks.ts, spec/vopr.md §10): what each seed
// draws, that the draws consume the PRNG the same way whatever comes up (so other parameters of a
// seed never depend on its clocks), and that a healed clock reads ideal time from then on.
import { describe, expect, it } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { Prng } from "../../src/core/prng.js";
import { drawSwarm } from "../../src/sim/runner/swarm.js";
import { describeClocks, drawClocks } from "../../src/sim/runner/swarm_clocks.js";
import { idealClock, TimeSim } from "../../src/sim/world/time_sim.js";

const second = 1_000_000_000n;
const toleranceNs = 10n * second;

describe("drawClocks", () => {
  it("keeps half the seeds ideal; skewed seeds mix in-tolerance, stepping, periodic and out-of-tolerance clocks", () => {
    let ideal = 0;
    const models = new Map<string, number>();
    for (let seed = 1; seed <= 400; seed++) {
      const clocks = drawClocks(new Prng(BigInt(seed)), 6);
      expect(clocks).toHaveLength(6);
      if (clocks.every((clock) => clock === idealClock)) ideal += 1;
      for (const clock of clocks) {
        if (clock === idealClock) continue;
        const key = clock.model === "linear" ? (clock.offsetNs > toleranceNs || -clock.offsetNs > toleranceNs ? "beyond" : "within")
          : clock.model;
        models.set(key, (models.get(key) ?? 0) + 1);
        if (key === "within") expect(clock.model === "linear" && clock.offsetNs <= 2n * second && clock.offsetNs >= -2n * second).toBe(true);
        if (key === "beyond") expect(clock.model === "linear" && (clock.offsetNs >= 15n * second || clock.offsetNs <= -15n * second)).toBe(true);
      }
    }
    expect(ideal).toBeGreaterThan(150);
    expect(ideal).toBeLessThan(250);
    for (const key of ["within", "step", "periodic", "beyond"]) expect(models.get(key) ?? 0, key).toBeGreaterThan(10);
    expect(models.get("within")!).toBeGreaterThan(models.get("beyond")! * 5);
  });

  it("always skewed (--skew-clocks): the seeds that skew anyway draw the same clocks, the others skew too", () => {
    let changed = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const drawn = drawClocks(new Prng(BigInt(seed)), 4);
      const skewed = drawClocks(new Prng(BigInt(seed)), 4, true);
      expect(skewed.every((clock) => clock === idealClock), `seed ${seed}`).toBe(false);
      if (drawn.every((clock) => clock === idealClock)) changed += 1;
      else expect(skewed, `seed ${seed}`).toEqual(drawn);
    }
    expect(changed).toBeGreaterThan(30); // about half the seeds were ideal
    // The swarm's other parameters are drawn before the clocks: forcing skew changes none of them.
    const { swarm: drawnSwarm } = drawSwarm(4n, testConfig, { mode: "default" });
    const { swarm: skewedSwarm } = drawSwarm(4n, testConfig, { mode: "default", skewClocks: true });
    expect({ ...skewedSwarm, clocks: [] }).toEqual({ ...drawnSwarm, clocks: [] });
    expect(skewedSwarm.clocks).not.toEqual(drawnSwarm.clocks);
  });

  it("consumes the same PRNG draws whatever it draws, so later parameters do not depend on clocks", () => {
    const after = (seed: bigint): bigint => {
      const prng = new Prng(seed);
      drawClocks(prng, 5);
      return prng.next();
    };
    const expectedDraws = (seed: bigint): bigint => {
      const prng = new Prng(seed);
      prng.chance(1, 2);
      for (let node = 0; node < 5; node++) {
        prng.int(100);
        prng.chance(1, 2);
        prng.next53();
        prng.next53();
        prng.range(0, 100_000);
      }
      return prng.next();
    };
    for (let seed = 1n; seed <= 50n; seed++) expect(after(seed)).toBe(expectedDraws(seed));
  });

  it("is part of the swarm and its banner; performance mode keeps ideal clocks", () => {
    const skewedSeed = [...Array(50).keys()].map((n) => BigInt(n + 1))
      .find((seed) => drawSwarm(seed, testConfig, { mode: "default" }).swarm.clocks.some((clock) => clock !== idealClock))!;
    const { swarm } = drawSwarm(skewedSeed, testConfig, { mode: "default" });
    expect(swarm.clocks).toHaveLength(swarm.replicaCount + swarm.standbyCount);
    expect(describeClocks(swarm.clocks)).toMatch(/^clocks=0:/);
    const performance = drawSwarm(skewedSeed, testConfig, { mode: "performance" }).swarm;
    expect(performance.clocks.every((clock) => clock === idealClock)).toBe(true);
    expect(describeClocks(performance.clocks)).toBe("clocks=ideal");
  });
});

describe("TimeSim.setOffset", () => {
  it("a healed clock reads ideal realtime from then on; monotonic time is untouched", () => {
    const skewed = new TimeSim({ offset: { model: "linear", offsetNs: -20n * second, driftNsPerTick: 1000n } });
    const ideal = new TimeSim({ offset: idealClock });
    for (let i = 0; i < 100; i++) {
      skewed.tick();
      ideal.tick();
    }
    expect(skewed.realtime() - ideal.realtime()).toBe(20n * second - 100_000n);
    skewed.setOffset(idealClock);
    expect(skewed.realtime()).toBe(ideal.realtime());
    expect(skewed.monotonic()).toBe(ideal.monotonic());
    expect(() => skewed.setOffset({ model: "non_ideal", amplitudeNs: 1, periodTicks: 10, noiseNs: 0, seed: 1n })).toThrow();
  });
});
