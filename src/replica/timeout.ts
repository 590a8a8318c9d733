// Timeouts measured in ticks (spec/vsr.md §16). The replica ticks every timeout once per tick and
// acts on those that fired; acting means resetting, backing off or stopping the timeout in the
// same tick, or the next tick panics instead of sending a thundering herd of messages.
import { assert, assertFailed } from "../core/assert.js";
import type { Prng } from "../core/prng.js";

/** backoff_min = 10 ms = 1 tick. */
export const backoffMinTicks = 1;
/** backoff_max = 10 s; the jitter ranges over backoff_max − backoff_min. */
export const backoffMaxTicks = 1000;
/** Retries wait at least rtt · 2: a round trip, plus as long again for processing. */
export const rttMultiple = 2;
/** The RTT assumed until pongs measure it (§14.4); the spec gives none, this is 300 ms. */
export const rttTicksDefault = 30;
const attemptsMax = 0xff; // a u8 that wraps

/** `rtt · 2 + backoff_min + U[0, min(backoff range, backoff_min · 2^min(attempts, 63))]`. */
export function backoffTicks(prng: Prng, rttTicks: number, attempts: number): number {
  assert(Number.isInteger(rttTicks) && rttTicks > 0, "backoff: rtt must be positive");
  assert(Number.isInteger(attempts) && attempts >= 0 && attempts <= attemptsMax);
  // The exponent saturates (rather than wraps) so that a large attempt count backs off most.
  const exponent = Math.min(attempts, 63);
  const rangeTicks = backoffMaxTicks - backoffMinTicks;
  // 2^exponent is exact as a double up to 2^63; min() keeps the draw small.
  const jitterMaxTicks = Math.min(rangeTicks, backoffMinTicks * 2 ** exponent);
  const after = rttTicks * rttMultiple + backoffMinTicks + prng.intInclusive(jitterMaxTicks);
  assert(after > 0);
  return after;
}

/**
 * Uniform in [after/2, 2·after − after/2]: centred on `after`, so the mean is unchanged. At least
 * one tick: for after = 1 the formula's lower end is 0, a timeout that would fire before ticking.
 */
export function jitteredTicks(prng: Prng, afterTicks: number): number {
  assert(Number.isInteger(afterTicks) && afterTicks > 0);
  const half = Math.floor(afterTicks / 2);
  return Math.max(1, prng.range(half, 2 * afterTicks - half));
}

export interface TimeoutOptions {
  readonly name: string;
  readonly afterTicks: number;
  readonly rttTicks?: number;
}

/**
 * The tick count that a group of timeouts shares (ReplicaTimeouts): one increment ticks them all,
 * where ticking each of a replica's twelve timeouts on every tick was the largest part of a quiet
 * tick in the simulator.
 */
export class TickClock {
  now = 0;
  /** A timeout of the group started, stopped or restarted its period since the group last looked. */
  changed = true;
}

export class Timeout {
  readonly name: string;
  /** The configured period; reset() and start() return to it. */
  readonly afterTicks: number;
  /** The period in force: afterTicks, or a backed-off or jittered value. */
  currentAfterTicks: number;
  rttTicks: number;
  ticking = false;
  /** Consecutive backoffs since the last start or reset; a u8 that wraps. */
  attempts = 0;
  private readonly clock: TickClock;
  /** Ticked by tick() alone, not with a group. */
  private readonly alone: boolean;
  /** clock.now when the period in force began. */
  private startedAt = 0;

  constructor(options: TimeoutOptions, clock?: TickClock) {
    assert(Number.isInteger(options.afterTicks) && options.afterTicks > 0,
      `timeout ${options.name}: afterTicks must be positive`);
    this.name = options.name;
    this.afterTicks = options.afterTicks;
    this.currentAfterTicks = options.afterTicks;
    this.rttTicks = options.rttTicks ?? rttTicksDefault;
    assert(Number.isInteger(this.rttTicks) && this.rttTicks > 0);
    this.alone = clock === undefined;
    this.clock = clock ?? new TickClock();
  }

  /** Ticks since the period in force began (0 while stopped). */
  get ticks(): number {
    return this.ticking ? this.clock.now - this.startedAt : 0;
  }

  /** The clock's tick at which the period in force ends (while ticking). */
  get deadline(): number {
    return this.startedAt + this.currentAfterTicks;
  }

  start(): void {
    this.attempts = 0;
    this.currentAfterTicks = this.afterTicks;
    this.ticking = true;
    this.restartPeriod();
  }

  stop(): void {
    this.attempts = 0;
    this.currentAfterTicks = this.afterTicks;
    this.ticking = false;
    this.clock.changed = true;
  }

  /** Restarts the period of a running timeout, forgetting any backoff. */
  reset(): void {
    if (!this.ticking) assertFailed(`timeout ${this.name}: reset while stopped`);
    this.attempts = 0;
    this.currentAfterTicks = this.afterTicks;
    this.restartPeriod();
  }

  /** Like reset(), with a jittered period, so that replicas started together drift apart. */
  resetJittered(prng: Prng): void {
    this.reset();
    this.currentAfterTicks = jitteredTicks(prng, this.afterTicks);
  }

  /** Restarts the period after a failed attempt, backing off exponentially with jitter. */
  backoff(prng: Prng): void {
    if (!this.ticking) assertFailed(`timeout ${this.name}: backoff while stopped`);
    // Wrap rather than saturate, so round-robin retries keyed on attempts never get stuck.
    this.attempts = (this.attempts + 1) & attemptsMax;
    this.currentAfterTicks = backoffTicks(prng, this.rttTicks, this.attempts);
    this.restartPeriod();
  }

  setRtt(rttTicks: number): void {
    if (!(Number.isInteger(rttTicks) && rttTicks > 0)) assertFailed(`timeout ${this.name}: bad rtt`);
    this.rttTicks = rttTicks;
  }

  /** One tick of a timeout that is not in a group (a group ticks its clock instead). */
  tick(): void {
    assert(this.alone, "a timeout in a group ticks with its group");
    this.clock.now += 1;
  }

  /** How many coming ticks leave it short of firing (Infinity while stopped). */
  get quietTicksAhead(): number {
    return this.ticking ? this.deadline - this.clock.now - 1 : Infinity;
  }

  /** `ticks` ticks at once, of a timeout not in a group, none of which may make it fire. */
  skipQuietTicks(ticks: number): void {
    if (!this.alone || ticks > this.quietTicksAhead) assertFailed(`timeout ${this.name}: skipped past its deadline`);
    this.clock.now += ticks;
  }

  /**
   * Restarts the period at every deadline the clock has reached, as reset() on each firing would
   * have: for a timeout whose firings were skipped because they would only have reset it.
   */
  restartPassedPeriods(): void {
    if (!this.ticking || this.clock.now < this.deadline) return;
    assert(this.currentAfterTicks === this.afterTicks && this.attempts === 0,
      `timeout ${this.name}: only a plain period restarts the same each time`);
    const periods = Math.floor((this.clock.now - this.deadline) / this.afterTicks);
    this.startedAt = this.deadline + periods * this.afterTicks;
    this.clock.changed = true;
  }

  private restartPeriod(): void {
    this.startedAt = this.clock.now;
    this.clock.changed = true;
  }

  /** Running and at (or past) its period: fired() is true, or would assert. */
  get due(): boolean {
    return this.ticking && this.ticks >= this.currentAfterTicks;
  }

  fired(): boolean {
    if (!this.ticking || this.ticks < this.currentAfterTicks) return false;
    // It fired on an earlier tick and nobody reset, backed off or stopped it: a bug.
    assert(this.ticks === this.currentAfterTicks,
      `timeout ${this.name} fired again without a reset (firing every tick)`);
    return true;
  }
}
