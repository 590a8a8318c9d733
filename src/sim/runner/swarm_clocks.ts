// Clock faults (spec/vopr.md §10): each seed draws a clock model per replica and standby, so that
// bugs which only show under skew (timestamps going back after a view change, a window accepting an
// outlier) are the VOPR's to find. Half the seeds keep ideal clocks. In the others, most clocks
// stay within the cluster's tolerance (clockToleranceMaxNs, 10 s) with a fixed offset and a drift;
// some jump once mid-run, some swing periodically, and a few sit beyond tolerance, where the
// cluster must leave them out of its window (or stop stamping, if no quorum agrees). The liveness
// phase sets the core's clocks back to ideal before it demands convergence (Cluster.healCore).
import type { Prng } from "../../core/prng.js";
import type { ClockOffset } from "../world/time_sim.js";
import { idealClock } from "../world/time_sim.js";

const ms = 1_000_000;
const second = 1000 * ms;

/**
 * One model per node; all ideal for half the seeds, unless `alwaysSkewed` (`scarab vopr
 * --skew-clocks`). Always draws the same number of values, so a seed that skews its clocks anyway
 * runs the same either way.
 */
export function drawClocks(prng: Prng, nodeCount: number, alwaysSkewed = false): ClockOffset[] {
  const skewed = prng.chance(1, 2) || alwaysSkewed;
  const clocks: ClockOffset[] = [];
  for (let node = 0; node < nodeCount; node++) {
    const roll = prng.int(100);
    const sign = prng.chance(1, 2) ? 1 : -1;
    const magnitude = prng.next53() / 2 ** 53; // [0, 1)
    const drift = prng.next53() / 2 ** 53;
    const afterTicks = prng.range(0, 100_000);
    if (!skewed) clocks.push(idealClock);
    else if (roll < 70) {
      // Within tolerance: up to ±2 s off, drifting up to ±200 ppm (2 µs per 10 ms tick).
      clocks.push({ model: "linear", offsetNs: BigInt(Math.floor(sign * magnitude * 2 * second)),
        driftNsPerTick: BigInt(Math.floor((drift - 0.5) * 4000)) });
    } else if (roll < 85) {
      clocks.push({ model: "step", stepNs: BigInt(Math.floor(sign * (1 + 7 * magnitude) * second)), afterTicks });
    } else if (roll < 95) {
      clocks.push({ model: "periodic", amplitudeNs: Math.floor((0.1 + 2.9 * magnitude) * second), periodTicks: 1000 + Math.floor(afterTicks / 5) });
    } else {
      // Beyond tolerance: 15 to 30 s off.
      clocks.push({ model: "linear", offsetNs: BigInt(Math.floor(sign * (15 + 15 * magnitude) * second)), driftNsPerTick: 0n });
    }
  }
  return clocks;
}

/** For the start-up banner: "ideal", or each node's model in short. */
export function describeClocks(clocks: readonly ClockOffset[]): string {
  if (clocks.every((clock) => clock === idealClock)) return "clocks=ideal";
  const inMs = (ns: bigint | number): string => `${Math.round(Number(ns) / ms)}ms`;
  return "clocks=" + clocks.map((clock, node) => {
    switch (clock.model) {
      case "linear": return `${node}:offset ${inMs(clock.offsetNs)} drift ${clock.driftNsPerTick}ns/tick`;
      case "step": return `${node}:step ${inMs(clock.stepNs)} after tick ${clock.afterTicks}`;
      case "periodic": return `${node}:periodic ±${inMs(clock.amplitudeNs)} every ${clock.periodTicks} ticks`;
      default: return `${node}:${clock.model}`;
    }
  }).join(", ");
}
