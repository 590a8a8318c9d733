import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { Clock, type ClockTickResult } from "../../src/replica/clock/clock.js";

const ms = 1_000_000n;
const second = 1_000n * ms;
const tickNs = 10n * ms;
/** A realistic wall clock (2025), beyond 2^53 ns: absolute times must stay exact. */
const realtimeBase = 1_750_000_000n * second;

interface Pong {
  readonly at: bigint;
  readonly to: number;
  readonly from: number;
  readonly m0: bigint;
  readonly t1: bigint;
}

/**
 * A cluster in true time T (ns since the start). Replica i reads monotonic = monotonicBase_i + T
 * and realtime = realtimeBase + T + offset_i. Every second each replica pings the others; pings
 * and pongs each take `delayNs`. `cut(from, to, T)` drops a pong.
 */
class Cluster {
  readonly clocks: Clock[];
  readonly log: ClockTickResult[][];
  private pongs: Pong[] = [];
  nowNs = 0n;

  constructor(readonly offsetsNs: readonly bigint[], readonly delayNs = 1n * ms,
    readonly cut: (from: number, to: number, t: bigint) => boolean = () => false) {
    this.clocks = offsetsNs.map((_, replica) => new Clock({
      replica, replicaCount: offsetsNs.length,
      monotonic: this.monotonic(replica, 0n), realtime: this.realtime(replica, 0n),
    }));
    this.log = offsetsNs.map(() => []);
  }

  monotonic(replica: number, t: bigint): bigint {
    return BigInt(replica + 1) * 1_000n * second + t;
  }

  realtime(replica: number, t: bigint): bigint {
    return realtimeBase + t + this.offsetsNs[replica]!;
  }

  /** The synchronised time of `replica` minus the true time, in ns (null if unsynchronised). */
  errorNs(replica: number): number | null {
    const t = this.nowNs;
    const value = this.clocks[replica]!.realtimeSynchronized(this.monotonic(replica, t),
      this.realtime(replica, t));
    return value === null ? null : Number(value - (realtimeBase + t));
  }

  runUntil(endNs: bigint): void {
    while (this.nowNs + tickNs <= endNs) this.step();
  }

  private step(): void {
    const t = this.nowNs + tickNs;
    // Pongs that arrived since the last tick, at their exact arrival time.
    for (const pong of this.pongs.filter((p) => p.at <= t)) {
      this.clocks[pong.to]!.learn(pong.from, pong.m0, pong.t1, this.monotonic(pong.to, pong.at));
    }
    this.pongs = this.pongs.filter((p) => p.at > t);
    if (t % second === 0n) this.ping(t);
    this.clocks.forEach((clock, replica) => {
      this.log[replica]!.push(clock.tick(this.monotonic(replica, t), this.realtime(replica, t)));
    });
    this.nowNs = t;
  }

  private ping(t: bigint): void {
    this.clocks.forEach((_, from) => {
      this.clocks.forEach((__, to) => {
        if (from === to || this.cut(to, from, t)) return;
        // `from` pings `to`, which answers with its realtime when the ping arrives.
        this.pongs.push({ at: t + 2n * this.delayNs, to: from, from: to,
          m0: this.monotonic(from, t), t1: this.realtime(to, t + this.delayNs) });
      });
    });
  }
}

describe("clock: three replicas with fixed offsets converge", () => {
  const cluster = new Cluster([0n, 5n * ms, -3n * ms]);

  it("is unsynchronised until the first window is 2 s old", () => {
    cluster.runUntil(1_990n * ms);
    expect([0, 1, 2].map((r) => cluster.errorNs(r))).toEqual([null, null, null]);
    cluster.runUntil(2n * second);
    expect([0, 1, 2].map((r) => cluster.errorNs(r))).not.toContain(null);
  });

  it("halves the tolerance while a quorum (2) still agrees", () => {
    // Replica 0 sees offsets 0 (itself), +5 ms and −3 ms with 1 ms one-way delays. Halving from
    // 10 s, the last tolerance at which two sources agree is 10 s / 2^13 = 1_220_703 ns, where
    // itself and replica 2 agree on [−t, −2 ms + t].
    expect(cluster.clocks[0]!.epochInterval()).toEqual({
      lower: -1_220_703, upper: -779_297, sources_true: 2, sources_false: 1,
    });
  });

  it("keeps every clock within the correct clocks' range, closer together than before", () => {
    cluster.runUntil(10n * second);
    const errors = [0, 1, 2].map((r) => cluster.errorNs(r)!);
    for (const error of errors) {
      expect(error).toBeGreaterThanOrEqual(-3_000_000);
      expect(error).toBeLessThanOrEqual(5_000_000);
    }
    expect(Math.max(...errors) - Math.min(...errors)).toBeLessThan(8_000_000);
    // Replica 0 is clamped to the top of its interval: 779_297 ns behind true time.
    expect(errors[0]).toBe(-779_297);
  });

  it("installs a new epoch every time a window synchronises", () => {
    const synchronizations = cluster.log[0]!.filter((r) => r.synchronized !== null).length;
    // Windows synchronise 2 s after they start, with a new sample each second: every 2 s.
    expect(synchronizations).toBe(5);
    expect(cluster.log[0]!.some((r) => r.epochExpired || r.windowExpired !== null)).toBe(false);
  });
});

describe("clock: a partitioned replica", () => {
  const partitionNs = 5_500n * ms;
  const cluster = new Cluster([0n, 2n * ms, -2n * ms], 1n * ms,
    (from, to, t) => t >= partitionNs && (from === 0 || to === 0));

  it("stays synchronised on its last epoch, then expires it 60 s after its window began", () => {
    cluster.runUntil(30n * second);
    expect(cluster.errorNs(0)).not.toBeNull();
    const epochStart = cluster.clocks[0]!.epochStartMonotonic() - cluster.monotonic(0, 0n);
    // The last window that learned before the partition began at 4 s and synchronised at 6 s.
    expect(epochStart).toBe(4n * second);
    cluster.runUntil(epochStart + 60n * second - tickNs);
    expect(cluster.errorNs(0)).not.toBeNull();
    cluster.runUntil(epochStart + 60n * second);
    expect(cluster.errorNs(0)).toBeNull();
    expect(cluster.log[0]!.at(-1)!.epochExpired).toBe(true);
  });

  it("resets windows that cannot synchronise, reporting a partition", () => {
    const expired = cluster.log[0]!.filter((r) => r.windowExpired !== null);
    expect(expired.length).toBeGreaterThan(0);
    expect(expired.every((r) => r.windowExpired === "partitioned")).toBe(true);
  });

  it("leaves the connected majority synchronised", () => {
    expect(cluster.errorNs(1)).not.toBeNull();
    expect(cluster.errorNs(2)).not.toBeNull();
  });
});

describe("clock: faulty clocks", () => {
  it("excludes an outlier beyond tolerance while a quorum agrees", () => {
    const cluster = new Cluster([0n, 1n * ms, 30n * second]);
    cluster.runUntil(5n * second);
    expect(cluster.clocks[0]!.epochInterval()).toMatchObject({ sources_true: 2, sources_false: 1 });
    expect(Math.abs(cluster.errorNs(0)!)).toBeLessThanOrEqual(1_000_000);
    // The outlier itself is clamped to the time its two peers agree on, 30 s behind its clock.
    expect(cluster.clocks[2]!.epochInterval()).toMatchObject({ sources_true: 2 });
    expect(Math.abs(cluster.errorNs(2)!)).toBeLessThanOrEqual(2_000_000);
  });

  it("needs 3 agreeing sources in a cluster of 5", () => {
    const cluster = new Cluster([0n, 1n * ms, -1n * ms, 30n * second, -25n * second]);
    cluster.runUntil(5n * second);
    expect(cluster.clocks[0]!.quorum).toBe(3);
    expect(cluster.clocks[0]!.epochInterval()).toMatchObject({ sources_true: 3, sources_false: 2 });
    expect(Math.abs(cluster.errorNs(0)!)).toBeLessThanOrEqual(1_000_000);
  });

  it("never synchronises when no quorum agrees within tolerance_max", () => {
    const cluster = new Cluster([0n, 30n * second, -30n * second]);
    cluster.runUntil(45n * second);
    expect(cluster.errorNs(0)).toBeNull();
    const expired = cluster.log[0]!.filter((r) => r.windowExpired !== null);
    expect(expired.map((r) => r.windowExpired)).toEqual(["no_agreement", "no_agreement"]);
  });
});

describe("clock: samples", () => {
  const start = 1_000n * second;

  function clock(replicaCount = 3): Clock {
    return new Clock({ replica: 0, replicaCount, monotonic: start, realtime: realtimeBase });
  }

  it("rejects m0 > m2, pings from before the window, and stale windows", () => {
    const c = clock();
    expect(c.learn(1, start + 5n * ms, realtimeBase, start + 4n * ms)).toBe("rejected_m0_after_m2");
    expect(c.learn(1, start - 1n, realtimeBase, start + 4n * ms))
      .toBe("rejected_m0_before_window");
    expect(c.learn(1, start + 20n * second + 1n, realtimeBase, start + 20n * second + 2n))
      .toBe("rejected_window_expired");
    expect(c.learn(1, start + 19n * second, realtimeBase, start + 20n * second + 1n))
      .toBe("rejected_window_expired");
    expect(c.windowSample(1)).toBeNull();
    expect(c.windowSamples()).toBe(1);
  });

  it("quietUntil(): tick() changes nothing before it, and acts at it (the simulator sleeps until then)", () => {
    const quiet = (result: ClockTickResult): boolean =>
      result.synchronized === null && result.windowExpired === null && !result.epochExpired;
    const c = clock();
    // Nothing learned: the window expires at window_max (20 s), before the epoch (60 s).
    expect(c.quietUntil()).toBe(start + 20n * second);
    for (let t = start + tickNs; t < start + 20n * second; t += 100n * tickNs) {
      expect(quiet(c.tick(t, realtimeBase + (t - start)))).toBe(true);
    }
    expect(c.tick(start + 20n * second, realtimeBase + 20n * second).windowExpired).toBe("partitioned");
    // A new window from 20 s: with samples learned it may synchronise from window_min (2 s) on.
    const windowStart = start + 20n * second;
    c.learn(1, windowStart + ms, realtimeBase + 20n * second + 2n * ms, windowStart + 3n * ms);
    c.learn(2, windowStart + ms, realtimeBase + 20n * second + 2n * ms, windowStart + 3n * ms);
    expect(c.quietUntil()).toBe(windowStart + 2n * second);
    expect(quiet(c.tick(windowStart + 2n * second - tickNs, realtimeBase + 22n * second - tickNs))).toBe(true);
    expect(c.tick(windowStart + 2n * second, realtimeBase + 22n * second).synchronized).not.toBeNull();
    // Synchronised: the next window has nothing learned, and the new epoch expires at 60 s from now.
    expect(c.quietUntil()).toBe(windowStart + 22n * second);
    expect(new Clock({ replica: 0, replicaCount: 1, monotonic: start, realtime: realtimeBase }).quietUntil()).toBeNull();
  });

  it("accepts m0 == m2 (a very slow host reading the same instant)", () => {
    expect(clock().learn(1, start, realtimeBase, start)).toBe("learned");
  });

  it("ignores standbys and asserts it never learns from itself", () => {
    const c = clock();
    expect(c.learn(3, start, realtimeBase, start + ms)).toBe("ignored_standby");
    expect(() => c.learn(0, start, realtimeBase, start + ms)).toThrow(AssertionError);
  });

  it("keeps the smallest one-way delay per source, the newer sample on a tie", () => {
    const c = clock();
    // rtt 4 ms, remote clock +7 ms: offset = t1 + owd − t2.
    c.learn(1, start, realtimeBase + 2n * ms + 7n * ms, start + 4n * ms);
    expect(c.windowSample(1)).toEqual({ clock_offset: 7_000_000, one_way_delay: 2_000_000 });
    c.learn(1, start + second, realtimeBase + second + 4n * ms + 9n * ms, start + second + 8n * ms);
    expect(c.windowSample(1)).toEqual({ clock_offset: 7_000_000, one_way_delay: 2_000_000 });
    c.learn(1, start + 2n * second, realtimeBase + 2n * second + 2n * ms + 8n * ms,
      start + 2n * second + 4n * ms);
    expect(c.windowSample(1)).toEqual({ clock_offset: 8_000_000, one_way_delay: 2_000_000 });
    expect(c.windowSample(0)).toEqual({ clock_offset: 0, one_way_delay: 0 });
  });

  it("synchronises only after learning a new sample", () => {
    const c = clock();
    c.learn(1, start, realtimeBase + ms, start + 2n * ms);
    expect(c.tick(start + 2n * second, realtimeBase + 2n * second).synchronized).not.toBeNull();
    // The new window has learned nothing: no synchronisation, however often it ticks.
    for (let i = 1n; i <= 100n; i++) {
      expect(c.tick(start + 4n * second + i * tickNs, realtimeBase).synchronized).toBeNull();
    }
  });

  it("uses system time directly in a cluster of one", () => {
    const c = clock(1);
    expect(c.synchronizationDisabled).toBe(true);
    expect(c.realtimeSynchronized(start, realtimeBase + 123n)).toBe(realtimeBase + 123n);
    expect(c.tick(start + 100n * second, realtimeBase)).toEqual(
      { synchronized: null, windowExpired: null, epochExpired: false });
    expect(c.realtimeSynchronized(start + 100n * second, 42n)).toBe(42n);
  });
});

describe("clock: asymmetric-delay correction (§14.1)", () => {
  const start = 0n;
  const offset = 3n * ms; // replica 1's clock is 3 ms ahead

  /** A clock whose epoch holds replica 1's sample {offset 3 ms, owd 1 ms}. */
  function synchronized(): Clock {
    const c = new Clock({ replica: 0, replicaCount: 3, monotonic: start, realtime: realtimeBase });
    c.learn(1, start, realtimeBase + ms + offset, start + 2n * ms);
    expect(c.tick(2n * second, realtimeBase + 2n * second).synchronized).not.toBeNull();
    return c;
  }

  /** A round trip from the new window (starting at 2 s) with the given path delays. */
  function sample(c: Clock, forwardNs: bigint, reverseNs: bigint): number {
    const m0 = 2n * second + 100n * ms;
    const t1 = realtimeBase + m0 + forwardNs + offset;
    expect(c.learn(1, m0, t1, m0 + forwardNs + reverseNs)).toBe("learned");
    return c.windowSample(1)!.clock_offset;
  }

  it.each([
    // forward, reverse, measured offset before correction, corrected offset
    ["slow forward path", 31n * ms, 1n * ms, 3_000_000],
    ["slow reverse path", 1n * ms, 31n * ms, 3_000_000],
    ["within the 10 ms margin", 21n * ms, 1n * ms, 13_000_000],
    ["no slower than the epoch's sample", 1n * ms, 1n * ms, 3_000_000],
  ])("%s", (_, forwardNs, reverseNs, expectedNs) => {
    expect(sample(synchronized(), forwardNs, reverseNs)).toBe(expectedNs);
  });
});
