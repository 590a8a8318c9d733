// The shape of a recorded VOPR timeline (timeline.ts records it, src/cli/vopr_trace_html.ts
// embeds it as JSON in the trace viewer). Plain numbers and strings only. Columns of ticks and of
// growing counters are delta-coded (each entry minus the previous one) to keep long runs small.
import type { ClockOffset } from "../world/time_sim.js";

/** Status codes: the replica's status, or down (crashed). */
export const statusNames = ["normal", "view_change", "recovering", "recovering_head", "down", "other"] as const;
/** Role codes, as §13.2's L column: primary, backup, standby, syncing (state sync), down. */
export const roleNames = ["primary", "backup", "standby", "syncing", "down"] as const;
/** Point marks on a node's row: process faults, checkpoints, state sync, clocks, rare notices. */
export const markNames = [
  "crash", "restart", "reformat", "open", "pause", "unpause", "checkpoint_start", "checkpoint_done",
  "sync_start", "sync_cancel", "sync_done", "clock_jump", "clock_ideal",
  "storage_full", "storage_ok", "clock_unsynchronized", "clock_synchronized", "state_deferred", "state_loaded",
  "sync_resumed", "repair_superblock", "reply_faulty",
] as const;

export interface TimelineNode {
  readonly index: number;
  readonly standby: boolean;
  /** The node's clock model in short ("ideal", "step +6207ms after tick 45321", …). */
  readonly clock: string;
  /** One entry per state change: the state from that tick on. `tick`, `view`, ops: delta-coded. */
  readonly states: {
    readonly tick: number[];
    readonly status: number[];
    readonly role: number[];
    readonly paused: number[];
    readonly view: number[];
    readonly op: number[];
    readonly commitMin: number[];
    readonly commitMax: number[];
    readonly checkpoint: number[];
  };
  /** Point marks: tick (delta-coded) and index into markNames. */
  readonly marks: { readonly tick: number[]; readonly kind: number[] };
}

export interface TimelineSeries {
  /** drop (name: index into reasons), notice, storage, network, client. */
  readonly group: string;
  /** The node counted, or −1 for the cluster or the clients. */
  readonly node: number;
  readonly name: string;
  /** Non-zero buckets as [gap, count, gap, count, …] (timeline_buckets.ts encodeCounts). */
  readonly counts: number[];
}

export interface TimelineData {
  readonly version: 1;
  readonly seed: string;
  /** The swarm's banner lines, as printed at the start of the run. */
  readonly swarm: string[];
  readonly ticks: number;
  readonly replicaCount: number;
  readonly standbyCount: number;
  readonly clientCount: number;
  readonly bucketTicks: number;
  readonly statusNames: readonly string[];
  readonly roleNames: readonly string[];
  readonly markNames: readonly string[];
  /** Trace lines with their numbers folded to #: the drop reasons. */
  readonly reasons: string[];
  readonly nodes: TimelineNode[];
  /**
   * Partitions: the first tick (delta-coded) and the length in ticks, the nodes on side 1 as a bit
   * mask, and the side that can still send to the other (−1: symmetric).
   */
  readonly partitions: { readonly start: number[]; readonly length: number[]; readonly side: number[]; readonly sending: number[] };
  readonly phases: { readonly tick: number; readonly name: string; readonly detail: string }[];
  /** Client evictions. */
  readonly clientMarks: { readonly tick: number[]; readonly client: number[]; readonly kind: string[] };
  readonly series: TimelineSeries[];
}

/** A node's clock model in a few words (the banner's describeClocks has them all in one line). */
export function clockLabel(clock: ClockOffset | undefined): string {
  const ms = (ns: bigint | number): string => `${Math.round(Number(ns) / 1e6)}ms`;
  if (clock === undefined) return "ideal";
  switch (clock.model) {
    case "linear":
      if (clock.offsetNs === 0n && clock.driftNsPerTick === 0n) return "ideal";
      return `${clock.offsetNs >= 0n ? "+" : ""}${ms(clock.offsetNs)}, drift ${clock.driftNsPerTick}ns/tick`;
    case "step": return `jumps ${clock.stepNs >= 0n ? "+" : ""}${ms(clock.stepNs)} at tick ${clock.afterTicks}`;
    case "periodic": return `swings ±${ms(clock.amplitudeNs)} every ${clock.periodTicks} ticks`;
    default: return `${clock.model} ±${ms(clock.amplitudeNs)}`;
  }
}
