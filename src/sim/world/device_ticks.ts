// The tick count of a cluster's simulated devices (spec/vopr.md §5: every storage and every clock
// ticks once per cluster tick, down and paused replicas' included). The cluster advances one
// shared count instead of calling tick() on each device, twice per node per tick (its loop over
// the nodes was the largest self-time item of the VOPR's profile). A device's own tick() counts
// ticks it is driven alone, on top of the shared count (all of them for a device outside a cluster).
export class DeviceTicks {
  now = 0;
  /**
   * A lower bound on the tick from which some storage has IO or a next-tick callback due: storages
   * lower it as work arrives, and the cluster raises it to the exact minimum each time it scans
   * them. While it is above `now`, no storage's step() would run anything, and the cluster skips
   * asking each of them (twice per tick, at least).
   */
  ioDueAt = Infinity;
}
