// Simulated time (spec/vopr.md §10): monotonic = ticks · 10 ms, realtime = epoch + monotonic −
// offset(ticks), and the offset models used by the clock tests.
import { describe, expect, it } from "vitest";
import { tickNs } from "../../src/io/time.js";
import { idealClock, TimeSim } from "../../src/sim/world/time_sim.js";

function advance(time: TimeSim, ticks: number): void {
  for (let i = 0; i < ticks; i++) time.tick();
}

describe("TimeSim", () => {
  it("the ideal clock: monotonic = ticks · 10 ms and realtime = epoch + monotonic", () => {
    const time = new TimeSim({ offset: idealClock, epochNs: 1_700_000_000_000_000_000n });
    expect(time.ticks).toBe(0);
    expect(time.monotonic()).toBe(0n);
    advance(time, 123);
    expect(time.ticks).toBe(123);
    expect(time.monotonic()).toBe(123n * tickNs);
    expect(time.monotonic()).toBe(1_230_000_000n);
    expect(time.realtime()).toBe(1_700_000_000_000_000_000n + 1_230_000_000n);
  });

  it("ticksUntilMonotonic: the ticks until monotonic() first reads a time, at least the next one", () => {
    const time = new TimeSim({ offset: idealClock });
    advance(time, 5);
    expect(time.ticksUntilMonotonic(60n * tickNs)).toBe(55);
    expect(time.ticksUntilMonotonic(60n * tickNs - 1n)).toBe(55); // 59.99… ticks: read first at tick 60
    expect(time.ticksUntilMonotonic(60n * tickNs + 1n)).toBe(56);
    expect(time.ticksUntilMonotonic(5n * tickNs)).toBe(1); // already past: the next tick
    expect(time.ticksUntilMonotonic(-3n * tickNs)).toBe(1);
    // The double path agrees with exact BigInt ceil division, across and beyond 2^53 ns.
    for (const ns of [1n, tickNs - 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 7n, 2n ** 64n - 1n, 123_456_789_012_345n]) {
      expect(time.ticksUntilMonotonic(ns), String(ns)).toBe(Math.max(1, Number((ns + tickNs - 1n) / tickNs) - 5));
    }
    // The same deadline asked again after ticks have passed (the answer for it is kept, not the count).
    expect(time.ticksUntilMonotonic(60n * tickNs)).toBe(55);
    advance(time, 50);
    expect(time.ticksUntilMonotonic(60n * tickNs)).toBe(5);
    advance(time, 5);
    expect(time.ticksUntilMonotonic(60n * tickNs)).toBe(1);
    expect(time.monotonic()).toBe(60n * tickNs);
    expect(time.readsArePure).toBe(true);
    expect(new TimeSim({ offset: { model: "non_ideal", amplitudeNs: 1, periodTicks: 10, noiseNs: 1, seed: 1n } }).readsArePure)
      .toBe(false);
  });

  it("linear: realtime lags by A·ticks + B", () => {
    const time = new TimeSim({ offset: { model: "linear", driftNsPerTick: 1000n, offsetNs: -5_000_000n } });
    advance(time, 10);
    expect(time.offsetNs(10)).toBe(10_000n - 5_000_000n);
    expect(time.realtime()).toBe(10n * tickNs - (10_000n - 5_000_000n));
  });

  it("step: jumps by A after tick B", () => {
    const time = new TimeSim({ offset: { model: "step", stepNs: 7_000_000_000n, afterTicks: 5 } });
    expect(time.offsetNs(5)).toBe(0n);
    expect(time.offsetNs(6)).toBe(7_000_000_000n);
    advance(time, 6);
    expect(time.realtime()).toBe(6n * tickNs - 7_000_000_000n);
  });

  it("periodic: bounded by the amplitude, zero at whole periods, peak at a quarter", () => {
    const time = new TimeSim({ offset: { model: "periodic", amplitudeNs: 1_000_000, periodTicks: 100 } });
    expect(time.offsetNs(0)).toBe(0n);
    expect(time.offsetNs(25)).toBe(1_000_000n);
    for (let t = 0; t < 300; t++) {
      const offset = time.offsetNs(t);
      expect(offset <= 1_000_000n && offset >= -1_000_000n).toBe(true);
    }
  });

  it("non_ideal: deterministic per seed, bounded by amplitude plus noise", () => {
    const options = {
      model: "non_ideal" as const, amplitudeNs: 10_000_000_000, periodTicks: 1000, noiseNs: 1_000_000, seed: 7n,
    };
    const a = new TimeSim({ offset: options });
    const b = new TimeSim({ offset: options });
    const c = new TimeSim({ offset: { ...options, seed: 8n } });
    let differs = false;
    for (let t = 0; t < 2000; t++) {
      const offset = a.offsetNs(t);
      expect(b.offsetNs(t)).toBe(offset);
      if (c.offsetNs(t) !== offset) differs = true;
      expect(offset <= 10_001_000_000n && offset >= -10_001_000_000n).toBe(true);
    }
    expect(differs).toBe(true);
  });

  it("monotonic never goes backwards, whatever the offset model", () => {
    const time = new TimeSim({ offset: { model: "periodic", amplitudeNs: 1e9, periodTicks: 10 } });
    let last = -1n;
    for (let t = 0; t < 100; t++) {
      expect(time.monotonic() > last).toBe(true);
      last = time.monotonic();
      time.tick();
    }
  });
});
