// Time for real processes: monotonic nanoseconds from the OS (never backwards, includes suspend on
// Linux), and the wall clock. The wall clock is read once and then advanced by the monotonic
// clock, so it has nanosecond resolution; it is re-anchored when it drifts by more than 100 ms
// from Date.now() (NTP steps), which keeps realtime() close to the system clock.
import type { Time } from "./time.js";

const reanchorDriftNs = 100_000_000n;

export class RealTime implements Time {
  ticks = 0;
  private anchorWallNs = BigInt(Date.now()) * 1_000_000n;
  private anchorMonotonicNs = process.hrtime.bigint();

  monotonic(): bigint {
    return process.hrtime.bigint();
  }

  realtime(): bigint {
    const now = this.anchorWallNs + (process.hrtime.bigint() - this.anchorMonotonicNs);
    const system = BigInt(Date.now()) * 1_000_000n;
    const drift = now > system ? now - system : system - now;
    if (drift <= reanchorDriftNs) return now;
    this.anchorWallNs = system;
    this.anchorMonotonicNs = process.hrtime.bigint();
    return system;
  }

  tick(): void {
    this.ticks += 1;
  }
}
