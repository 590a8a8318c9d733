// The tick count of a cluster's simulated devices (spec/vopr.md §5: every storage and every clock
// ticks once per cluster tick, down and paused replicas' included). The cluster advances one
// shared count instead of calling tick() on each device: two calls per node per tick were a tenth
// of the cluster's own per-tick work. A device's own tick() counts ticks it is driven alone, on
// top of the shared count (all of them for a device outside a cluster).
export class DeviceTicks {
  now = 0;
}
