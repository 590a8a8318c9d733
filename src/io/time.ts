// The Time seam (DESIGN.md "The seam"). Nanoseconds are bigint everywhere: wall-clock nanoseconds
// since the epoch (≈1.7e18) do not fit in a double. The replica measures every timeout in ticks
// (1 tick = 10 ms) and reads these clocks only for timestamps, pings and clock synchronisation.

export const tickNs = 10_000_000n;
export const tickMs = 10;

export interface Time {
  /** Monotonic nanoseconds: never goes backwards, includes suspend. */
  monotonic(): bigint;
  /** Wall-clock nanoseconds since the Unix epoch. */
  realtime(): bigint;
  /** Called by the host once per tick. */
  tick(): void;
  /** Ticks since start. */
  readonly ticks: number;
}
