// The VOPR's timeline recorder, behind `scarab vopr SEED --trace out.html` (src/cli/vopr_trace_html.ts
// renders it). The Simulator calls it from its ClusterObserver hooks and once per tick; without
// --trace there is no recorder and nothing is spent.
//
// It only observes: it reads the cluster through the narrow read-only view below (pure getters),
// draws no randomness and writes nothing the run reads, so a seed's trace hash is the same with and
// without it (test/cli/vopr_trace.test.ts). Long runs stay small: each replica's state (status,
// role, view, op, commits, checkpoint, paused) is stored only when it changes, as the start of an
// interval; rare happenings (crash, restart, checkpoint, sync…) as point marks; frequent ones
// (dropped messages by reason, repairs, storage faults, network drops, client requests) as counts
// in time buckets that widen as the run grows (timeline_buckets.ts).
import type { NetworkStats } from "../world/packet_simulator.js";
import type { StorageFaultStats } from "../world/storage_sim.js";
import type { ClockOffset } from "../world/time_sim.js";
import type { ClusterEvent } from "../world/cluster.js";
import type { LoggedReplica } from "./cluster_log.js";
import { encodeCounts, TimelineBuckets, type BucketSeries } from "./timeline_buckets.js";
import {
  clockLabel, encodeStates, markNames, roleNames, statusNames, type StateColumns, type TimelineData, type TimelineNode,
} from "./timeline_data.js";

export type { TimelineData } from "./timeline_data.js";

/** What the recorder reads of the cluster (Cluster satisfies it); reading has no side effect. */
export interface TimelineCluster {
  readonly nodeCount: number;
  readonly replicaCount: number;
  readonly replicas: readonly (LoggedReplica | null)[];
  readonly paused: readonly boolean[];
  readonly storages: readonly { readonly stats: StorageFaultStats }[];
  readonly network: {
    readonly isPartitioned: boolean;
    readonly stats: NetworkStats;
    partitionSide(node: number): number;
    readonly partitionSendingSide?: number;
  };
  readonly clients: { readonly requestsSent: number };
}

/** The run's facts the recorder cannot see in the cluster. */
export interface TimelineStart {
  readonly seed: bigint;
  readonly swarm: readonly string[];
  readonly standbyCount: number;
  readonly clientCount: number;
  readonly clocks: readonly ClockOffset[];
}

const storageKinds = ["latentErrors", "writeCorruptions", "misdirectedWrites", "tornWrites"] as const;
const networkKinds = ["droppedLoss", "droppedFilter", "droppedCapacity", "droppedDisabled", "replayed", "delivered"] as const;
/** Notices too rare to bucket: shown as marks. The others (repairs) are counted. */
const markedNotices = new Set<string>([
  "storage_full", "storage_ok", "clock_unsynchronized", "clock_synchronized", "state_deferred", "state_loaded",
  "sync_resumed", "repair_superblock", "reply_faulty",
]);
const statusCodes = new Map<string, number>(statusNames.map((name, code) => [name, code]));
const statusDown = statusCodes.get("down")!;
const statusOther = statusCodes.get("other")!;

/** Sampled for every node on every tick: the common statuses without a map lookup. */
function statusCode(status: string): number {
  if (status === "normal") return 0;
  if (status === "view_change") return 1;
  return statusCodes.get(status) ?? statusOther;
}
const markCodes = new Map<string, number>(markNames.map((name, code) => [name, code]));

/** A node's recorded intervals: parallel columns, one entry per change. */
class NodeTrack implements StateColumns {
  readonly tick: number[] = [];
  readonly status: number[] = [];
  readonly role: number[] = [];
  readonly paused: number[] = [];
  readonly view: number[] = [];
  readonly op: number[] = [];
  readonly commitMin: number[] = [];
  readonly commitMax: number[] = [];
  readonly checkpoint: number[] = [];
  readonly markTick: number[] = [];
  readonly markKind: number[] = [];
  readonly storage: BucketSeries[] = [];
  readonly storageSeen = [0, 0, 0, 0];
  readonly drops = new Map<string, BucketSeries>();
}

export class TimelineRecorder {
  private cluster: TimelineCluster | null = null;
  private start: TimelineStart | null = null;
  private readonly nodes: NodeTrack[] = [];
  private readonly buckets = new TimelineBuckets();
  private readonly reasons: string[] = [];
  private readonly reasonIds = new Map<string, number>();
  /** Partitions as parallel columns; `end` lags `start` by one while a partition lasts. */
  private readonly partitions = { start: [] as number[], end: [] as number[], side: [] as number[], sending: [] as number[] };
  private readonly phases: { tick: number; name: string; detail: string }[] = [];
  private readonly clientMarks = { tick: [] as number[], client: [] as number[], kind: [] as string[] };
  private network: BucketSeries[] = [];
  private readonly networkSeen = networkKinds.map(() => 0);
  private requests: BucketSeries | null = null;
  private replies: BucketSeries | null = null;
  private requestsSeen = 0;
  private partitioned = false;
  private readonly healedClocks = new Set<number>();

  /** Called once the cluster exists, before it starts (its opens happen at tick 0). */
  attach(cluster: TimelineCluster, start: TimelineStart): void {
    this.cluster = cluster;
    this.start = start;
    for (let node = 0; node < cluster.nodeCount; node++) {
      const track = new NodeTrack();
      for (const kind of storageKinds) track.storage.push(this.buckets.seriesOf("storage", node, kind));
      this.nodes.push(track);
    }
    this.network = networkKinds.map((kind) => this.buckets.seriesOf("network", -1, kind));
    this.requests = this.buckets.seriesOf("client", -1, "requests");
    this.replies = this.buckets.seriesOf("client", -1, "replies");
  }

  /** After each simulator tick: state changes, partitions, clock jumps; counters once a bucket. */
  tick(tick: number): void {
    const cluster = this.cluster!;
    for (let node = 0; node < cluster.nodeCount; node++) {
      this.sample(tick, node);
      const clock = this.start!.clocks[node];
      // TimeSim ticks before the replicas read it: tick `afterTicks` is the first with the jump.
      if (clock?.model === "step" && tick === clock.afterTicks && !this.healedClocks.has(node)) {
        this.mark(tick, node, "clock_jump");
      }
    }
    this.samplePartition(tick);
    // The counters only feed buckets: reading them as each bucket ends is exact and costs less.
    if ((tick + 1) % this.buckets.bucketTicks === 0) this.readCounters(tick);
  }

  /** Adds what the storage, network and client counters gained since the last read to `tick`'s bucket. */
  private readCounters(tick: number): void {
    const cluster = this.cluster!;
    for (let node = 0; node < cluster.nodeCount; node++) {
      const track = this.nodes[node]!;
      const stats = cluster.storages[node]!.stats;
      for (let kind = 0; kind < storageKinds.length; kind++) {
        const value = stats[storageKinds[kind]!];
        this.buckets.add(track.storage[kind]!, tick, value - track.storageSeen[kind]!);
        track.storageSeen[kind] = value;
      }
    }
    const stats = cluster.network.stats;
    for (let kind = 0; kind < networkKinds.length; kind++) {
      const value = stats[networkKinds[kind]!];
      this.buckets.add(this.network[kind]!, tick, value - this.networkSeen[kind]!);
      this.networkSeen[kind] = value;
    }
    this.buckets.add(this.requests!, tick, cluster.clients.requestsSent - this.requestsSeen);
    this.requestsSeen = cluster.clients.requestsSent;
  }

  event(tick: number, node: number, event: ClusterEvent): void {
    if (markCodes.has(event)) this.mark(tick, node, event);
  }

  notice(tick: number, node: number, notice: string): void {
    if (markedNotices.has(notice)) this.mark(tick, node, notice);
    else this.buckets.add(this.buckets.seriesOf("notice", node, notice), tick);
  }

  /** A replica's trace line (why it dropped a message): counted per reason, numbers folded to #. */
  traced(tick: number, node: number, line: string): void {
    const track = this.nodes[node];
    if (track === undefined) return;
    let series = track.drops.get(line);
    if (series === undefined) {
      const reason = line.replace(/[0-9]+/g, "#");
      let id = this.reasonIds.get(reason);
      if (id === undefined) {
        id = this.reasons.length;
        this.reasons.push(reason);
        this.reasonIds.set(reason, id);
      }
      series = this.buckets.seriesOf("drop", node, String(id));
      // Lines with numbers in them are many: cache only the ones that are their own reason.
      if (reason === line) track.drops.set(line, series);
    }
    this.buckets.add(series, tick);
  }

  reply(tick: number): void {
    this.buckets.add(this.replies!, tick);
  }

  clientEvicted(tick: number, client: number, reason: string): void {
    this.clientMarks.tick.push(tick);
    this.clientMarks.client.push(client);
    this.clientMarks.kind.push(reason);
  }

  /** A phase begins (safety, liveness); the liveness core's clocks are set back to ideal. */
  phase(tick: number, name: string, core: readonly number[] = []): void {
    this.phases.push({ tick, name, detail: core.length > 0 ? `core=[${core.join(",")}]` : "" });
    for (const node of core) {
      this.healedClocks.add(node);
      const clock = this.start!.clocks[node];
      if (clock !== undefined && !isIdeal(clock)) this.mark(tick, node, "clock_ideal");
    }
  }

  /** The recorded run, as plain JSON-ready data (an empty cluster if the run failed before it had one). */
  finish(ticks: number): TimelineData {
    if (this.cluster !== null && ticks > 0) this.readCounters(ticks - 1);
    const start = this.start ?? { seed: 0n, swarm: [], standbyCount: 0, clientCount: 0, clocks: [] };
    const cluster = this.cluster ?? { replicaCount: 0 };
    const ends = this.partitioned ? [...this.partitions.end, ticks] : this.partitions.end;
    const starts = this.partitions.start;
    const nodes: TimelineNode[] = this.nodes.map((track, index) => ({
      index, standby: index >= cluster.replicaCount, clock: clockLabel(start.clocks[index]),
      states: encodeStates(track),
      marks: { tick: deltas(track.markTick), kind: track.markKind },
    }));
    return {
      version: 1, seed: start.seed.toString(), swarm: [...start.swarm], ticks,
      replicaCount: cluster.replicaCount, standbyCount: start.standbyCount, clientCount: start.clientCount,
      bucketTicks: this.buckets.bucketTicks, statusNames, roleNames, markNames, reasons: [...this.reasons],
      nodes, partitions: { start: deltas(starts), length: starts.map((start, index) => ends[index]! - start),
        side: [...this.partitions.side], sending: [...this.partitions.sending] },
      phases: [...this.phases],
      clientMarks: { tick: [...this.clientMarks.tick], client: [...this.clientMarks.client], kind: [...this.clientMarks.kind] },
      series: this.buckets.all().map((series) => ({
        group: series.group, node: series.node, name: series.name, counts: encodeCounts(series.counts),
      })),
    };
  }

  private sample(tick: number, node: number): void {
    const cluster = this.cluster!;
    const track = this.nodes[node]!;
    const replica = cluster.replicas[node] ?? null;
    const status = replica === null ? statusDown : statusCode(replica.status);
    const role = replica === null ? 4 : replica.syncing !== null && replica.syncing !== undefined ? 3
      : replica.isStandby ? 2 : replica.isPrimary ? 0 : 1;
    const paused = cluster.paused[node] ? 1 : 0;
    const last = track.tick.length - 1;
    // Down: keep the last known numbers, so a restart's recovery reads against them.
    const view = replica?.view ?? (last >= 0 ? track.view[last]! : 0);
    const op = replica?.op ?? (last >= 0 ? track.op[last]! : 0);
    const commitMin = replica?.commitMin ?? (last >= 0 ? track.commitMin[last]! : 0);
    const commitMax = replica?.commitMax ?? (last >= 0 ? track.commitMax[last]! : 0);
    const checkpoint = replica?.opCheckpoint ?? (last >= 0 ? track.checkpoint[last]! : 0);
    if (last >= 0 && track.status[last] === status && track.role[last] === role && track.paused[last] === paused &&
      track.view[last] === view && track.op[last] === op && track.commitMin[last] === commitMin &&
      track.commitMax[last] === commitMax && track.checkpoint[last] === checkpoint) return;
    track.tick.push(tick);
    track.status.push(status);
    track.role.push(role);
    track.paused.push(paused);
    track.view.push(view);
    track.op.push(op);
    track.commitMin.push(commitMin);
    track.commitMax.push(commitMax);
    track.checkpoint.push(checkpoint);
  }

  private samplePartition(tick: number): void {
    const network = this.cluster!.network;
    const partitioned = network.isPartitioned;
    if (partitioned === this.partitioned) return;
    this.partitioned = partitioned;
    if (!partitioned) {
      this.partitions.end.push(tick);
      return;
    }
    let side = 0;
    for (let node = 0; node < this.cluster!.nodeCount; node++) side |= network.partitionSide(node) << node;
    this.partitions.start.push(tick);
    this.partitions.side.push(side);
    this.partitions.sending.push(network.partitionSendingSide ?? -1);
  }

  private mark(tick: number, node: number, kind: string): void {
    const track = this.nodes[node];
    const code = markCodes.get(kind);
    if (track === undefined || code === undefined) return;
    track.markTick.push(tick);
    track.markKind.push(code);
  }
}

function isIdeal(clock: ClockOffset): boolean {
  return clock.model === "linear" && clock.offsetNs === 0n && clock.driftNsPerTick === 0n;
}

/** Ascending-ish columns as differences from the previous entry (the first from 0): short JSON. */
function deltas(values: readonly number[]): number[] {
  const out = new Array<number>(values.length);
  let previous = 0;
  for (let index = 0; index < values.length; index++) {
    out[index] = values[index]! - previous;
    previous = values[index]!;
  }
  return out;
}
