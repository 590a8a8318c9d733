// Simulated time (spec/vopr.md §10). A TimeSim only moves when the simulator calls tick(), one
// tick being 10 ms of simulated time, so every timeout and timestamp is a pure function of the
// seed. realtime = epoch + monotonic − offset(ticks), with the offset models of TigerBeetle's
// TimeSim. The VOPR draws a model per replica (runner/swarm_clocks.ts); the clock tests use them
// too (spec/vsr.md §14).
//
// Integer math everywhere except the periodic and non_ideal models, which need sin() (and a
// normal draw for the jittered period). That is the one floating-point use here: V8's bundled
// fdlibm makes Math.sin/Math.log/Math.cos platform-independent (spec/vopr.md §1), and the result
// is floored to whole nanoseconds before it touches the bigint clock.
import { assert, unreachable } from "../../core/assert.js";
import { Prng } from "../../core/prng.js";
import type { Time } from "../../io/time.js";
import { tickNs } from "../../io/time.js";
import { DeviceTicks } from "./device_ticks.js";

export type ClockOffset =
  /** offset = A·ticks + B: drift per tick plus a fixed offset. */
  | { readonly model: "linear"; readonly driftNsPerTick: bigint; readonly offsetNs: bigint }
  /** offset = A·sin(2π·ticks / B). */
  | { readonly model: "periodic"; readonly amplitudeNs: number; readonly periodTicks: number }
  /** offset = A once ticks > B, else 0: a jump. */
  | { readonly model: "step"; readonly stepNs: bigint; readonly afterTicks: number }
  /**
   * periodic with the period jittered by a normal draw (σ = 10 ticks, as TigerBeetle), plus
   * uniform noise in ±C. Draws from its own PRNG on every read, so reads must be deterministic.
   */
  | {
      readonly model: "non_ideal";
      readonly amplitudeNs: number;
      readonly periodTicks: number;
      readonly noiseNs: number;
      readonly seed: bigint;
    };

/** The VOPR's clock: no skew, drift or jumps (spec/vopr.md §3.5 "Clock skew"). */
export const idealClock: ClockOffset = { model: "linear", driftNsPerTick: 0n, offsetNs: 0n };

export interface TimeSimOptions {
  readonly offset: ClockOffset;
  /** Nanoseconds per tick; 10 ms unless a test says otherwise. */
  readonly resolutionNs?: bigint;
  /** Realtime at tick 0, in nanoseconds since the Unix epoch. */
  readonly epochNs?: bigint;
  /** The cluster's device tick count (device_ticks.ts); without it, the clock counts its own tick() calls. */
  readonly ticks?: DeviceTicks;
}

const maxSafeNs = BigInt(Number.MAX_SAFE_INTEGER);

export class TimeSim implements Time {
  /** The cluster's device tick count (device_ticks.ts), or a count of 0 for a clock on its own. */
  private readonly clusterTicks: DeviceTicks;
  /** The ticks this clock was ticked alone: all of them on its own. */
  private ticksAlone = 0;
  private readonly resolutionNs: bigint;
  /** resolutionNs as a number. */
  private readonly resolution: number;
  private readonly epochNs: bigint;
  private offsetModel: ClockOffset;
  /** Only for non_ideal. */
  private readonly prng: Prng | null;

  constructor(options: TimeSimOptions = { offset: idealClock }) {
    this.offsetModel = options.offset;
    this.clusterTicks = options.ticks ?? new DeviceTicks();
    this.resolutionNs = options.resolutionNs ?? tickNs;
    this.resolution = Number(this.resolutionNs);
    this.epochNs = options.epochNs ?? 0n;
    assert(this.resolutionNs > 0n, "TimeSim: resolution must be positive");
    const model = options.offset;
    if (model.model === "periodic" || model.model === "non_ideal") {
      assert(model.periodTicks > 0, "TimeSim: period must be positive");
      assert(Number.isSafeInteger(model.amplitudeNs), "TimeSim: amplitude must be an integer");
    }
    if (model.model === "non_ideal") assert(Number.isSafeInteger(model.noiseNs) && model.noiseNs >= 0);
    this.prng = model.model === "non_ideal" ? new Prng(model.seed) : null;
  }

  get ticks(): number {
    return this.clusterTicks.now + this.ticksAlone;
  }

  /** One tick of this clock alone (a cluster advances its clocks' shared count instead). */
  tick(): void {
    this.ticksAlone += 1;
  }

  /** Whether reading the time draws nothing (every model but non_ideal): skipping a read changes no later one. */
  get readsArePure(): boolean {
    return this.offsetModel.model !== "non_ideal";
  }

  /** Ticks from now until monotonic() first reads at least `monotonicNs` (at least 1: the next tick). */
  ticksUntilMonotonic(monotonicNs: bigint): number {
    // Asked after every message a replica takes, mostly for the same deadline (its clock's next
    // window): the tick of the last deadline asked is kept.
    if (monotonicNs !== this.untilNs) {
      this.untilNs = monotonicNs;
      this.untilTick = this.firstTickReading(monotonicNs);
    }
    return Math.max(1, this.untilTick - this.ticks);
  }
  private untilNs = -1n;
  private untilTick = 0;

  /** The first tick whose monotonic() reads at least `monotonicNs` (ceil(m / r), and 0 for m ≤ 0). */
  private firstTickReading(monotonicNs: bigint): number {
    if (monotonicNs <= 0n) return 0;
    // In doubles while exact (104 days of monotonic time): ceil(m / r) of integers below 2^53 rounds exactly.
    if (monotonicNs <= maxSafeNs) return Math.ceil(Number(monotonicNs) / this.resolution);
    return Number((monotonicNs + this.resolutionNs - 1n) / this.resolutionNs);
  }

  monotonic(): bigint {
    // Read many times per tick (clock, pings, timeouts): one BigInt per tick, not per read.
    const ticks = this.ticks;
    if (this.monotonicTick !== ticks) {
      // Read on every tick: one addition, not a conversion and a product.
      const next = this.monotonicTick >= 0 && this.monotonicTick === ticks - 1;
      this.monotonicNs = next ? this.monotonicNs + this.resolutionNs : BigInt(ticks) * this.resolutionNs;
      this.monotonicTick = ticks;
    }
    return this.monotonicNs;
  }
  private monotonicTick = -1;
  private monotonicNs = 0n;

  realtime(): bigint {
    // A pure function of the tick, except for non_ideal clocks (a draw per read): those are not cached.
    const ticks = this.ticks;
    if (this.realtimeTick === ticks) return this.realtimeNs;
    const model = this.offsetModel;
    // Most clocks are ideal (a fixed offset of 0): one BigInt addition per tick for them.
    const realtime = model.model === "linear" && model.driftNsPerTick === 0n
      ? this.monotonic() + (this.epochMinusOffsetNs ??= this.epochNs - model.offsetNs)
      : this.epochNs + this.monotonic() - this.offsetNs(ticks);
    if (model.model !== "non_ideal") {
      this.realtimeTick = ticks;
      this.realtimeNs = realtime;
    }
    return realtime;
  }
  private realtimeTick = -1;
  private realtimeNs = 0n;
  /** epoch − offset of a linear model without drift (null until read, and after setOffset). */
  private epochMinusOffsetNs: bigint | null = null;

  /**
   * Replaces the offset model from now on: the liveness phase brings skewed clocks back within
   * tolerance (spec/vopr.md §10). Realtime jumps to the new model's offset; monotonic time does not.
   */
  setOffset(model: ClockOffset): void {
    assert(model.model !== "non_ideal", "TimeSim: non_ideal clocks keep their model (their draws)");
    this.offsetModel = model;
    this.realtimeTick = -1;
    this.epochMinusOffsetNs = null;
  }

  /** The clock's error at `ticks`, in nanoseconds (realtime runs this much behind). */
  offsetNs(ticks: number): bigint {
    const model = this.offsetModel;
    switch (model.model) {
      case "linear":
        return BigInt(ticks) * model.driftNsPerTick + model.offsetNs;
      case "periodic":
        return BigInt(Math.floor(model.amplitudeNs * Math.sin((ticks * 2 * Math.PI) / model.periodTicks)));
      case "step":
        return ticks > model.afterTicks ? model.stepNs : 0n;
      case "non_ideal":
        return this.nonIdealOffsetNs(ticks, model.amplitudeNs, model.periodTicks, model.noiseNs);
      default:
        return unreachable(model);
    }
  }

  private nonIdealOffsetNs(ticks: number, amplitudeNs: number, periodTicks: number, noiseNs: number): bigint {
    const prng = this.prng!;
    const period = periodTicks + normal(prng) * 10;
    const wave = Math.floor(amplitudeNs * Math.sin((ticks * 2 * Math.PI) / period));
    const noise = prng.intInclusive(2 * noiseNs) - noiseNs;
    return BigInt(wave) + BigInt(noise);
  }
}

/** A standard normal draw (Box–Muller); used only for the non_ideal clock's jittered period. */
function normal(prng: Prng): number {
  const u1 = 1 - prng.next53() / 2 ** 53; // (0, 1]: log(u1) is finite
  const u2 = prng.next53() / 2 ** 53;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
