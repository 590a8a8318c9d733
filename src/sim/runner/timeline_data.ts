// The shape of a recorded VOPR timeline (timeline.ts records it, src/cli/trace_viewer/ embeds it as
// JSON in the trace page). Plain numbers and strings only. Columns of ticks and of growing counters
// are delta-coded (each entry minus the previous one), and a replica's states store only the
// fields that changed, to keep long runs small (12M ticks: about 2 MB).
import type { ClockOffset } from "../world/time_sim.js";

/** Status codes: the replica's status, or down (crashed). timeline.ts statusCode() knows 0 and 1. */
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

/** A replica's state from a tick on; status and role index statusNames and roleNames, paused is 0 or 1. */
export interface StateColumns {
  readonly tick: number[];
  readonly status: number[];
  readonly role: number[];
  readonly paused: number[];
  readonly view: number[];
  readonly op: number[];
  readonly commitMin: number[];
  readonly commitMax: number[];
  readonly checkpoint: number[];
}

/** The fields after the tick, in the order of the change mask's bits. */
export const stateFields = ["status", "role", "paused", "view", "op", "commitMin", "commitMax", "checkpoint"] as const;
/** Codes are stored as they are; counters as the difference from the previous record. */
const codeFields = 3;

/**
 * Flat records `tick − previous tick, mask, value…`: bit k of mask says field stateFields[k]
 * changed, and only those fields follow. Half the size of one array per field, since a record
 * usually changes one or two fields (a commit, a view change).
 */
export function encodeStates(columns: StateColumns): number[] {
  const out: number[] = [];
  for (let index = 0; index < columns.tick.length; index++) {
    out.push(columns.tick[index]! - (index === 0 ? 0 : columns.tick[index - 1]!), 0);
    const maskAt = out.length - 1;
    for (let field = 0; field < stateFields.length; field++) {
      const values = columns[stateFields[field]!];
      const value = values[index]!;
      const previous = index === 0 ? (field < codeFields ? -1 : 0) : values[index - 1]!;
      if (value === previous) continue;
      out[maskAt]! |= 1 << field;
      out.push(field < codeFields ? value : value - previous);
    }
  }
  return out;
}

export function decodeStates(encoded: readonly number[]): StateColumns {
  const columns: StateColumns = { tick: [], status: [], role: [], paused: [], view: [], op: [], commitMin: [], commitMax: [], checkpoint: [] };
  let at = 0;
  while (at < encoded.length) {
    const first = columns.tick.length === 0;
    columns.tick.push((first ? 0 : columns.tick[columns.tick.length - 1]!) + encoded[at++]!);
    const mask = encoded[at++]!;
    for (let field = 0; field < stateFields.length; field++) {
      const values = columns[stateFields[field]!];
      const previous = first ? 0 : values[values.length - 1]!;
      if ((mask & (1 << field)) === 0) values.push(previous);
      else values.push(field < codeFields ? encoded[at++]! : previous + encoded[at++]!);
    }
  }
  return columns;
}

export interface TimelineNode {
  readonly index: number;
  readonly standby: boolean;
  /** The node's clock model in short ("ideal", "step +6207ms after tick 45321", …). */
  readonly clock: string;
  /** One record per state change, the state from that tick on: encodeStates() below. */
  readonly states: number[];
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
