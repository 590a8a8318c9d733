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

export class Timeout {
  readonly name: string;
  /** The configured period; reset() and start() return to it. */
  readonly afterTicks: number;
  /** The period in force: afterTicks, or a backed-off or jittered value. */
  currentAfterTicks: number;
  rttTicks: number;
  ticks = 0;
  ticking = false;
  /** Consecutive backoffs since the last start or reset; a u8 that wraps. */
  attempts = 0;

  constructor(options: TimeoutOptions) {
    assert(Number.isInteger(options.afterTicks) && options.afterTicks > 0,
      `timeout ${options.name}: afterTicks must be positive`);
    this.name = options.name;
    this.afterTicks = options.afterTicks;
    this.currentAfterTicks = options.afterTicks;
    this.rttTicks = options.rttTicks ?? rttTicksDefault;
    assert(Number.isInteger(this.rttTicks) && this.rttTicks > 0);
  }

  start(): void {
    this.attempts = 0;
    this.ticks = 0;
    this.currentAfterTicks = this.afterTicks;
    this.ticking = true;
  }

  stop(): void {
    this.attempts = 0;
    this.ticks = 0;
    this.currentAfterTicks = this.afterTicks;
    this.ticking = false;
  }

  /** Restarts the period of a running timeout, forgetting any backoff. */
  reset(): void {
    if (!this.ticking) assertFailed(`timeout ${this.name}: reset while stopped`);
    this.attempts = 0;
    this.ticks = 0;
    this.currentAfterTicks = this.afterTicks;
  }

  /** Like reset(), with a jittered period, so that replicas started together drift apart. */
  resetJittered(prng: Prng): void {
    this.reset();
    this.currentAfterTicks = jitteredTicks(prng, this.afterTicks);
  }

  /** Restarts the period after a failed attempt, backing off exponentially with jitter. */
  backoff(prng: Prng): void {
    if (!this.ticking) assertFailed(`timeout ${this.name}: backoff while stopped`);
    this.ticks = 0;
    // Wrap rather than saturate, so round-robin retries keyed on attempts never get stuck.
    this.attempts = (this.attempts + 1) & attemptsMax;
    this.currentAfterTicks = backoffTicks(prng, this.rttTicks, this.attempts);
  }

  setRtt(rttTicks: number): void {
    if (!(Number.isInteger(rttTicks) && rttTicks > 0)) assertFailed(`timeout ${this.name}: bad rtt`);
    this.rttTicks = rttTicks;
  }

  tick(): void {
    if (this.ticking) this.ticks += 1;
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
