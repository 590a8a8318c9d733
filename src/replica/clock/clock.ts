// Cluster clock synchronisation (spec/vsr.md §14.1–14.4). The primary stamps prepares with the
// system time clamped to the interval of true time that a replication quorum of clocks agrees on.
//
// The clock is driven by explicit inputs: every method that needs the time takes it as an
// argument, so the clock never reads Time itself and tests drive it tick by tick. Absolute times
// (monotonic, realtime) are bigint nanoseconds: a realtime of ~1.7e18 ns or a monotonic clock
// after 104 days of uptime do not fit a double exactly. Offsets and delays, which are small, are
// number nanoseconds.
import { assert } from "../../core/assert.js";
import { MarzulloScratch, type MarzulloInterval } from "./marzullo.js";
import { quorums } from "../quorums.js";

const nsPerMs = 1_000_000;
export const clockWindowMinNs = 2_000 * nsPerMs;
export const clockWindowMaxNs = 20_000 * nsPerMs;
export const clockToleranceMaxNs = 10_000 * nsPerMs;
export const clockEpochMaxNs = 60_000 * nsPerMs;
// The same as BigInts, made once: the clock ticks on every tick of every replica.
const clockWindowMinNsBig = BigInt(clockWindowMinNs);
const clockWindowMaxNsBig = BigInt(clockWindowMaxNs);
const clockEpochMaxNsBig = BigInt(clockEpochMaxNs);
/** Asymmetric-delay correction ignores offset changes within this margin (§14.1). */
export const clockErrorMarginNs = 10 * nsPerMs;
/** Tolerance halves each round; 10 s reaches 0 in 35 rounds, so 64 only guards runaway. */
const synchronizeRoundsMax = 64;

export interface ClockSample {
  readonly clock_offset: number;
  readonly one_way_delay: number;
}

/** Why `learn` did or did not keep a sample. */
export type ClockLearnResult =
  | "learned"
  | "ignored_standby"
  | "rejected_m0_after_m2"
  | "rejected_m0_before_window"
  | "rejected_window_expired";

export interface ClockTickResult {
  /** The interval of the epoch installed by this tick, if the window synchronised. */
  readonly synchronized: MarzulloInterval | null;
  /** The window reached window_max without agreement and was reset. */
  readonly windowExpired: "partitioned" | "no_agreement" | null;
  /** The epoch reached epoch_max: "no agreement on cluster time (partitioned or too many clock
   * faults)". The replica is unsynchronised until a window synchronises again. Reported every
   * epoch_max while no window synchronises, whether or not the epoch ever was synchronised. */
  readonly epochExpired: boolean;
}

/** The result of most ticks (nothing happened), shared: the clock ticks on every tick. */
const tickQuiet: ClockTickResult = Object.freeze({ synchronized: null, windowExpired: null, epochExpired: false });
const windowWaiting: Pick<ClockTickResult, "synchronized" | "windowExpired"> =
  Object.freeze({ synchronized: null, windowExpired: null });

/** A window collects samples; once synchronised it becomes the epoch that clock readings use. */
class Epoch {
  readonly sources: (ClockSample | null)[];
  samples = 0;
  monotonic = 0n;
  realtime = 0n;
  synchronized: MarzulloInterval | null = null;
  /** Synchronise only after new samples, so duplicate pongs cannot burn the CPU. */
  learned = false;
  /**
   * monotonic + window_min, + window_max and + epoch_max: the clock ticks on every tick, and
   * comparing against these allocates no BigInt (an elapsed time per comparison did).
   */
  windowMinAt = 0n;
  windowMaxAt = 0n;
  epochMaxAt = 0n;

  constructor(replicaCount: number) {
    this.sources = new Array<ClockSample | null>(replicaCount).fill(null);
  }

  reset(replica: number, monotonic: bigint, realtime: bigint): void {
    this.sources.fill(null);
    // A replica's own clock has no offset from, and no delay to, its own system time.
    this.sources[replica] = { clock_offset: 0, one_way_delay: 0 };
    this.samples = 1;
    this.monotonic = monotonic;
    this.realtime = realtime;
    this.synchronized = null;
    this.learned = false;
    this.windowMinAt = monotonic + clockWindowMinNsBig;
    this.windowMaxAt = monotonic + clockWindowMaxNsBig;
    this.epochMaxAt = monotonic + clockEpochMaxNsBig;
  }

  elapsedNs(monotonic: bigint): bigint {
    assert(monotonic >= this.monotonic, "clock: monotonic time went backwards");
    return monotonic - this.monotonic;
  }

  sourcesSampled(): number {
    return this.sources.filter((sample) => sample !== null).length;
  }
}

export interface ClockOptions {
  readonly replica: number;
  readonly replicaCount: number;
  readonly monotonic: bigint;
  readonly realtime: bigint;
}

export class Clock {
  readonly replica: number;
  readonly replicaCount: number;
  /** A clock agreed by fewer sources than a replication quorum is not trusted (§14.2). */
  readonly quorum: number;
  /** A cluster of one has nobody to agree with: it uses its system time directly. */
  readonly synchronizationDisabled: boolean;
  /** The epoch that clock readings use: valid while drift cannot yet have accumulated. */
  private epoch: Epoch;
  /** The next epoch, collecting samples. */
  private window: Epoch;
  /** Marzullo's working arrays, reused by every synchronisation round. */
  private readonly marzullo: MarzulloScratch;

  constructor(options: ClockOptions) {
    assert(Number.isInteger(options.replica) && options.replica >= 0);
    // Standbys' clocks are ignored (§14.1, §15): a standby never stamps a prepare, so it never
    // needs a synchronised clock.
    assert(options.replica < options.replicaCount, "clock: standbys do not synchronise");
    this.replica = options.replica;
    this.replicaCount = options.replicaCount;
    this.quorum = quorums(options.replicaCount).replication;
    this.synchronizationDisabled = options.replicaCount === 1;
    this.epoch = new Epoch(options.replicaCount);
    this.window = new Epoch(options.replicaCount);
    this.marzullo = new MarzulloScratch(options.replicaCount);
    // The epoch starts unsynchronised, and the first window starts collecting.
    this.epoch.reset(this.replica, options.monotonic, options.realtime);
    this.window.reset(this.replica, options.monotonic, options.realtime);
  }

  /**
   * A pong from `replica`: `m0` is our monotonic time when we sent the ping (echoed back), `t1`
   * the remote's realtime when it answered, `m2` our monotonic time on receipt (§14.1).
   */
  learn(replica: number, m0: bigint, t1: bigint, m2: bigint): ClockLearnResult {
    assert(Number.isInteger(replica) && replica >= 0 && replica !== this.replica);
    if (replica >= this.replicaCount) return "ignored_standby";
    assert(!this.synchronizationDisabled);
    // A slow host may read m0 == m2, which is fine; m0 > m2 is a bad or replayed packet.
    if (m0 > m2) return "rejected_m0_after_m2";
    // A ping sent before this window began belongs to samples already discarded.
    if (m0 < this.window.monotonic) return "rejected_m0_before_window";
    // Delayed packets from before a restart can carry arbitrary monotonic readings.
    const windowEndNs = this.window.windowMaxAt;
    if (m0 > windowEndNs || m2 > windowEndNs) return "rejected_window_expired";

    const rttNs = Number(m2 - m0);
    const oneWayDelayNs = Math.floor(rttNs / 2);
    // Our realtime at m2, measured from the window's start so that the realtime reading is taken
    // once per window and only monotonic time elapses in between.
    const t2 = this.window.realtime + (m2 - this.window.monotonic);
    const offsetNs = Number(t1 + BigInt(oneWayDelayNs) - t2);
    const corrected = offsetNs + this.asymmetricDelayNs(replica, oneWayDelayNs, offsetNs);
    // The less network delay, the more accurate the offset: keep the best sample per source.
    this.window.sources[replica] = minimumOneWayDelay(this.window.sources[replica] ?? null,
      { clock_offset: corrected, one_way_delay: oneWayDelayNs });
    this.window.samples += 1;
    this.window.learned = true;
    return "learned";
  }

  /**
   * Estimates how much of a slow round trip was on one path only, against the same source's
   * sample in the current epoch (Algorithm 1, §4.2 of "A System for Clock Synchronization in an
   * Internet of Things"): a jump in offset that coincides with a longer delay is the delay.
   */
  private asymmetricDelayNs(replica: number, oneWayDelayNs: number, offsetNs: number): number {
    const previous = this.epoch.sources[replica];
    if (previous === null) return 0;
    if (oneWayDelayNs <= previous.one_way_delay) return 0;
    const extraDelayNs = oneWayDelayNs - previous.one_way_delay;
    // The forward path (ping) was slow: t1 was read late, so the offset looks too high.
    if (offsetNs > previous.clock_offset + clockErrorMarginNs) return -extraDelayNs;
    // The reverse path (pong) was slow: m2 was read late, so the offset looks too low.
    if (offsetNs < previous.clock_offset - clockErrorMarginNs) return extraDelayNs;
    return 0;
  }

  /**
   * The monotonic time from which tick() may act (synchronise, expire the window or the epoch);
   * before it, tick() changes nothing unless a sample is learned meanwhile. Null: never.
   */
  quietUntil(): bigint | null {
    if (this.synchronizationDisabled) return null;
    // synchronize() acts from window_min on once a sample is learned, and at window_max regardless.
    const window = this.window.learned ? this.window.windowMinAt : this.window.windowMaxAt;
    return window < this.epoch.epochMaxAt ? window : this.epoch.epochMaxAt;
  }

  /** Runs every tick: synchronise the window when ready, expire the epoch when stale (§14.2). */
  tick(monotonic: bigint, realtime: bigint): ClockTickResult {
    if (this.synchronizationDisabled) {
      return tickQuiet;
    }
    const { synchronized, windowExpired } = this.synchronize(monotonic, realtime);
    // Drift makes an epoch unusable after a while, even when no window could replace it.
    let epochExpired = false;
    assert(monotonic >= this.epoch.monotonic, "clock: monotonic time went backwards");
    if (monotonic >= this.epoch.epochMaxAt) {
      this.epoch.reset(this.replica, monotonic, realtime);
      epochExpired = true;
    }
    if (synchronized === null && windowExpired === null && !epochExpired) return tickQuiet;
    return { synchronized, windowExpired, epochExpired };
  }

  private synchronize(monotonic: bigint, realtime: bigint):
    Pick<ClockTickResult, "synchronized" | "windowExpired"> {
    assert(this.window.synchronized === null);
    assert(monotonic >= this.window.monotonic, "clock: monotonic time went backwards");
    // Wait for enough samples to pick the most accurate ones.
    if (monotonic < this.window.windowMinAt) return windowWaiting;
    if (monotonic >= this.window.windowMaxAt) {
      // Stale samples are worse than none: start a fresh window.
      const partitioned = this.window.sourcesSampled() <= Math.floor(this.replicaCount / 2);
      this.window.reset(this.replica, monotonic, realtime);
      return { synchronized: null, windowExpired: partitioned ? "partitioned" : "no_agreement" };
    }
    if (!this.window.learned) return windowWaiting;
    this.window.learned = false;

    const interval = this.agreedInterval();
    if (interval === null) return windowWaiting;
    // The window becomes the epoch; the old epoch's storage becomes the new window.
    this.window.synchronized = interval;
    const windowNext = this.epoch;
    windowNext.reset(this.replica, monotonic, realtime);
    this.epoch = this.window;
    this.window = windowNext;
    return { synchronized: interval, windowExpired: null };
  }

  /**
   * Starting at the largest tolerance, halve it while a quorum still agrees: the last interval
   * agreed by a quorum is the tightest trustworthy bound. Null if no quorum agrees even at
   * tolerance_max, e.g. when too many clocks are faulty.
   */
  private agreedInterval(): MarzulloInterval | null {
    let agreed: MarzulloInterval | null = null;
    let toleranceNs = clockToleranceMaxNs;
    for (let round = 0; round < synchronizeRoundsMax; round++) {
      const interval = this.windowInterval(toleranceNs);
      if (interval.sources_true < this.quorum) break;
      // Fewer sources may agree at a tighter tolerance; while a quorum does, the tighter wins.
      agreed = interval;
      if (toleranceNs === 0) break;
      toleranceNs = Math.floor(toleranceNs / 2);
    }
    return agreed;
  }

  /** Marzullo's smallest interval over the window's samples, each widened by its delay and the tolerance. */
  private windowInterval(toleranceNs: number): MarzulloInterval {
    const own = this.window.sources[this.replica]!;
    assert(own.clock_offset === 0 && own.one_way_delay === 0);
    const scratch = this.marzullo;
    scratch.clear();
    const sources = this.window.sources;
    for (let source = 0; source < sources.length; source++) {
      const sample = sources[source];
      if (sample === null || sample === undefined) continue;
      const errorNs = sample.one_way_delay + toleranceNs;
      scratch.add(source, sample.clock_offset - errorNs, sample.clock_offset + errorNs);
    }
    return scratch.smallest();
  }

  /**
   * The system time clamped into the interval the cluster agreed on, advanced by the monotonic
   * time elapsed since the epoch began (§14.4). Null when unsynchronised: the primary must not
   * stamp prepares then.
   */
  realtimeSynchronized(monotonic: bigint, realtime: bigint): bigint | null {
    if (this.synchronizationDisabled) return realtime;
    const interval = this.epoch.synchronized;
    if (interval === null) return null;
    const base = this.epoch.realtime + this.epoch.elapsedNs(monotonic);
    const lower = base + BigInt(interval.lower);
    const upper = base + BigInt(interval.upper);
    if (realtime < lower) return lower;
    if (realtime > upper) return upper;
    return realtime;
  }

  /**
   * A monotonic time before which realtimeSynchronized() reads below `realtime`, or null while it
   * reads null (unsynchronised; until tick() installs an epoch, see quietUntil). Its upper clamp,
   * the agreed interval's upper bound, moves with monotonic time from the epoch's start.
   */
  monotonicWhileSynchronizedBelow(realtime: bigint): bigint | null {
    assert(!this.synchronizationDisabled, "a cluster of one reads its system time");
    const interval = this.epoch.synchronized;
    if (interval === null) return null;
    return realtime - this.epoch.realtime + this.epoch.monotonic - BigInt(interval.upper);
  }

  /** The interval of the current epoch, or null when unsynchronised (for tests and logs). */
  epochInterval(): MarzulloInterval | null {
    return this.epoch.synchronized;
  }

  /** The monotonic time at which the current epoch's window began. */
  epochStartMonotonic(): bigint {
    return this.epoch.monotonic;
  }

  /** The best sample of `replica` collected in the current window (for tests and logs). */
  windowSample(replica: number): ClockSample | null {
    assert(replica >= 0 && replica < this.replicaCount);
    return this.window.sources[replica] ?? null;
  }

  /** The number of samples the current window has learned, counting our own. */
  windowSamples(): number {
    return this.window.samples;
  }
}

/** On a tie the newer sample `b` wins (§14.1). */
function minimumOneWayDelay(a: ClockSample | null, b: ClockSample): ClockSample {
  if (a === null) return b;
  return a.one_way_delay < b.one_way_delay ? a : b;
}
