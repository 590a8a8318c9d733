// The simulated network (spec/vopr.md §9). One link per directed (source, target) pair over
// replicas, standbys and clients, each with a bounded queue ordered by ready_at, a command filter
// (partitions), a clog deadline and optional test hooks.
//
// Partitions live in network_partition.ts; this file owns links, queues, delivery and clogs.
//
// Units: `ticks` counts PacketSimulator.tick() calls (1 tick = 10 ms). Delays are drawn in ms as
// the spec states them, `max(delay_min, exp(delay_mean))`, and converted to whole ticks by
// flooring, so a delay under 10 ms is due at the next step of the same tick.
//
// Cost: a step touches only due packets (an indexed heap of links keyed by their head's effective
// ready time), never every link; clogging is scheduled per link as geometric gaps instead of a
// die per link per tick (see `tickClogs`).
//
// Buffers: `send` copies the message into a pooled packet buffer (§15 rule 5: sender and receiver
// never share bytes). `deliver` receives a view that the receiver owns until it returns
// (io/message_bus.ts); the buffer is then poisoned and reused, so a receiver that keeps a
// reference sees garbage that fails its checksum instead of a plausible other message.
import { assert } from "../../core/assert.js";
import { readU32 } from "../../core/bytes.js";
import { headerSize } from "../../core/config.js";
import { Prng } from "../../core/prng.js";
import { tickMs } from "../../io/time.js";
import { IndexedHeap, TimedHeap, type Timed } from "./heap.js";
import {
  commandAllowed, commandMaskAll, type PacketSimulatorOptions, type PartitionMode, type PartitionSymmetry,
} from "./network_options.js";
import { NetworkPartition } from "./network_partition.js";
import { assertRatio, chance, failuresBeforeSuccess, intBelow, ratioZero, type Ratio } from "../ratio.js";
import { SimMessageBus } from "./sim_message_bus.js";

/** Header offsets read directly (spec/wire.md §2): size u32 LE at 96, command u8 at 114. */
const headerSizeOffset = 96;
const headerCommandOffset = 114;
/** Fills delivered buffers after the receiver returns (see the file comment). */
const poisonByte = 0xee;

/** A queued message: `bytes` is exactly its size (the view delivered); `pool` holds the free ones of that size. */
interface Packet extends Timed {
  readonly bytes: Uint8Array;
  readonly pool: Packet[];
  command: number;
}

class Link {
  readonly queue = new TimedHeap<Packet>();
  filter = commandMaskAll;
  /** Clogged while ticks < cloggedTill. */
  cloggedTill = 0;
  /** Test hook: return true to drop the packet at delivery (after the filter). */
  dropFn: ((message: Uint8Array) => boolean) | null = null;
  /** Test hook: keep a copy of every packet sent, for `replayRecorded()`. */
  record = false;
}

/** Delivers `message` to `target`; the receiver owns the bytes only until it returns. */
export type DeliverFn = (target: number, message: Uint8Array, source: number) => void;

/** Counters for `--performance` (spec/vopr.md §4) and for tests. */
export class NetworkStats {
  /** Sent messages and bytes per command byte (0..31). */
  readonly messagesByCommand = new Float64Array(32);
  readonly bytesByCommand = new Float64Array(32);
  delivered = 0;
  replayed = 0;
  droppedCapacity = 0;
  droppedFilter = 0;
  droppedHook = 0;
  droppedLoss = 0;
  droppedDisabled = 0;
  droppedUnknownClient = 0;
}

export class PacketSimulator {
  readonly nodeCount: number;
  /** Replicas plus standbys: the only nodes that partitions split. */
  readonly replicaNodeCount: number;
  readonly stats = new NetworkStats();
  private ticksNow = 0;
  private seqNext = 0;
  private inFlight = 0;
  private readonly prng: Prng;
  private readonly links: Link[] = [];
  /** Link → (max(head.readyAt, cloggedTill), head.seq), for links with queued packets. */
  private readonly ready: IndexedHeap;
  /** Link → the tick of its next clog. */
  private readonly clogs: IndexedHeap;
  private readonly enabled: Uint8Array;
  private readonly clientNodes = new Map<bigint, number>();
  private readonly buses: SimMessageBus[] = [];
  /** Free packets by size: a message is delivered as its packet's whole buffer, no view made per packet. */
  private readonly pools = new Map<number, Packet[]>();
  private readonly recorded: { link: number; bytes: Uint8Array }[] = [];
  private readonly messageSizeMax: number;
  private readonly capacity: number;
  // Options that heal() changes (spec/vopr.md §6.2).
  private delayMinMs: number;
  private delayMeanMs: number;
  private loss: Ratio;
  private replay: Ratio;
  private clogProbability: Ratio;
  private readonly clogMeanMs: number;
  private readonly partitions: NetworkPartition;

  constructor(options: PacketSimulatorOptions, private readonly deliver: DeliverFn) {
    validate(options);
    this.replicaNodeCount = options.replicaCount + options.standbyCount;
    this.nodeCount = this.replicaNodeCount + options.clientCount;
    this.prng = new Prng(options.seed);
    this.messageSizeMax = options.messageSizeMax;
    this.capacity = options.pathMaximumCapacity;
    this.delayMinMs = options.oneWayDelayMinMs;
    this.delayMeanMs = options.oneWayDelayMeanMs;
    this.loss = options.packetLossProbability;
    this.replay = options.packetReplayProbability;
    this.clogProbability = ratioZero;
    this.clogMeanMs = options.pathClogDurationMeanMs;
    this.partitions = new NetworkPartition(this.replicaNodeCount, this.prng, options,
      (source, target, mask) => { this.links[source * this.nodeCount + target]!.filter = mask; });
    this.enabled = new Uint8Array(this.nodeCount).fill(1);
    const linkCount = this.nodeCount * this.nodeCount;
    for (let link = 0; link < linkCount; link++) this.links.push(new Link());
    this.ready = new IndexedHeap(linkCount);
    this.clogs = new IndexedHeap(linkCount);
    for (let node = 0; node < this.nodeCount; node++) this.buses.push(new SimMessageBus(this, node));
    this.setClogProbability(options.pathClogProbability);
  }

  get ticks(): number {
    return this.ticksNow;
  }

  /** Packets queued on all links. */
  get packetsInFlight(): number {
    return this.inFlight;
  }

  /** The MessageBus of a node (replica index, or a client's node from registerClient). */
  bus(node: number): SimMessageBus {
    this.assertNode(node);
    return this.buses[node]!;
  }

  /** Gives client `id` the next client node; ids map to nodes in registration order. */
  registerClient(id: bigint): number {
    assert(!this.clientNodes.has(id), "registerClient: client already registered");
    const node = this.replicaNodeCount + this.clientNodes.size;
    assert(node < this.nodeCount, "registerClient: more clients than clientCount");
    this.clientNodes.set(id, node);
    return node;
  }

  clientNode(id: bigint): number | undefined {
    return this.clientNodes.get(id);
  }

  /** Crashed replicas and evicted clients are disabled: packets to them are dropped (§9). */
  setNodeEnabled(node: number, enabled: boolean): void {
    this.assertNode(node);
    this.enabled[node] = enabled ? 1 : 0;
  }

  nodeEnabled(node: number): boolean {
    this.assertNode(node);
    return this.enabled[node] === 1;
  }

  /** Queues a copy of `message` (its header's size bytes) from `source` to `target`. */
  send(source: number, target: number, message: Uint8Array): void {
    this.assertNode(source);
    this.assertNode(target);
    assert(message.length >= headerSize, "send: message shorter than a header");
    const size = readU32(message, headerSizeOffset);
    const command = message[headerCommandOffset]!;
    assert(size >= headerSize && size <= message.length, "send: header size disagrees with the buffer");
    assert(size <= this.messageSizeMax, "send: message larger than messageSizeMax");
    assert(command < 32, "send: command outside the filter mask");
    this.stats.messagesByCommand[command] += 1;
    this.stats.bytesByCommand[command] += size;
    const link = source * this.nodeCount + target;
    if (this.links[link]!.record) this.recorded.push({ link, bytes: message.slice(0, size) });
    this.submit(link, message, size, command);
  }

  /** Counts a send to a client id that no node has (the message is dropped). */
  dropUnknownClient(): void {
    this.stats.droppedUnknownClient += 1;
  }

  /**
   * Delivers every packet that is due (ready_at ≤ ticks) on an unclogged link and was queued
   * before this step began; packets sent by receivers wait for the next step, which bounds the
   * loop. Returns whether anything was dequeued (spec/vopr.md §5 "until neither makes progress").
   */
  step(): boolean {
    const seqLimit = this.seqNext;
    let progressed = false;
    while (this.ready.size > 0) {
      // Keys of packets sent during this step are ≥ (ticks, seqLimit), so they sort last.
      if (this.ready.peekKey1() > this.ticksNow || this.ready.peekKey2() >= seqLimit) break;
      const link = this.ready.peekId();
      const packet = this.links[link]!.queue.pop();
      this.inFlight -= 1;
      this.refreshReady(link);
      progressed = true;
      if (this.process(link, packet)) packet.bytes.fill(poisonByte);
      this.release(packet);
    }
    return progressed;
  }

  /** Advances one tick, then rolls the partition and clog dice (spec/vopr.md §5 network.tick()). */
  tick(): void {
    this.ticksNow += 1;
    this.partitions.tick();
    this.tickClogs();
  }

  /**
   * The liveness phase (spec/vopr.md §6.2): 1 ms delays, no loss, replay, partitions or clogs,
   * and every core↔core link open and unclogged. Links touching a non-core node keep their
   * filter, so a non-core partition becomes permanent. Clogging stops everywhere; existing clogs
   * off the core simply expire.
   */
  heal(core: readonly number[]): void {
    assert(core.length > 0, "heal: empty core");
    for (const node of core) assert(node >= 0 && node < this.replicaNodeCount, "heal: core holds a non-replica");
    this.delayMinMs = 1;
    this.delayMeanMs = 1;
    this.loss = ratioZero;
    this.replay = ratioZero;
    this.partitions.freeze();
    this.setClogProbability(ratioZero);
    for (const source of core) {
      for (const target of core) {
        if (source === target) continue;
        const link = source * this.nodeCount + target;
        this.links[link]!.filter = commandMaskAll;
        this.links[link]!.cloggedTill = 0;
        this.refreshReady(link);
      }
    }
  }

  // Partitions (spec/vopr.md §9).

  get isPartitioned(): boolean {
    return this.partitions.isPartitioned;
  }

  /** 0 or 1: the replica node's side of the current partition (0 when not partitioned). */
  partitionSide(node: number): number {
    return this.partitions.sideOf(node);
  }

  /** While partitioned asymmetrically, the side that can still send to the other; else −1. */
  get partitionSendingSide(): number {
    return this.partitions.sendingSide;
  }

  /** Splits replicas and standbys into two sides now (see NetworkPartition.partition). */
  partition(mode: PartitionMode, symmetry: PartitionSymmetry): boolean {
    return this.partitions.partition(mode, symmetry);
  }

  unpartition(): void {
    this.partitions.unpartition();
  }

  // Clogging.

  /**
   * The spec rolls `path_clog_probability` for every unclogged link on every tick. Drawing that
   * die for a few hundred links costs more than the whole tick budget (≈40 ns a draw), so each
   * link instead draws the gap to its next successful roll, which has the same geometric
   * distribution: k failed rolls, then a clog, with P(k) = (1 − p)^k·p. Like exp(), this is a
   * timing draw on V8's fdlibm Math.log (spec/vopr.md §1); no decision compares floats. Only
   * links with a replica endpoint are scheduled: client↔client and self links carry no packets.
   */
  private tickClogs(): void {
    const now = this.ticksNow;
    while (this.clogs.size > 0 && this.clogs.peekKey1() <= now) {
      const linkIndex = this.clogs.peekId();
      const link = this.links[linkIndex]!;
      if (link.cloggedTill <= now) {
        const durationTicks = msToTicks(this.prng.exponential(this.clogMeanMs));
        link.cloggedTill = now + durationTicks;
        this.refreshReady(linkIndex);
      }
      // The next roll happens on the first unclogged tick after this one.
      this.scheduleClog(linkIndex, Math.max(now + 1, link.cloggedTill));
    }
  }

  private setClogProbability(probability: Ratio): void {
    this.clogProbability = probability;
    this.clogs.clear();
    if (probability.numerator === 0) return;
    for (let source = 0; source < this.nodeCount; source++) {
      for (let target = 0; target < this.nodeCount; target++) {
        if (source === target) continue;
        if (source >= this.replicaNodeCount && target >= this.replicaNodeCount) continue;
        const link = source * this.nodeCount + target;
        this.scheduleClog(link, Math.max(this.ticksNow + 1, this.links[link]!.cloggedTill));
      }
    }
  }

  /** Schedules the link's next clog at the first success of per-tick rolls from `firstRoll` on. */
  private scheduleClog(link: number, firstRoll: number): void {
    if (this.clogProbability.numerator === 0) return;
    this.clogs.set(link, firstRoll + failuresBeforeSuccess(this.prng, this.clogProbability), 0);
  }

  // Test hooks (TigerBeetle's link_filter, link_drop_packet_fn, link_record).

  setLinkFilter(source: number, target: number, mask: number): void {
    this.link(source, target).filter = mask >>> 0;
  }

  linkFilter(source: number, target: number): number {
    return this.link(source, target).filter;
  }

  setLinkDropFn(source: number, target: number, dropFn: ((message: Uint8Array) => boolean) | null): void {
    this.link(source, target).dropFn = dropFn;
  }

  setLinkRecord(source: number, target: number, record: boolean): void {
    this.link(source, target).record = record;
  }

  /** Resubmits every recorded packet with a fresh delay, and forgets them. */
  replayRecorded(): void {
    const recorded = this.recorded.splice(0, this.recorded.length);
    for (const { link, bytes } of recorded) this.submit(link, bytes, bytes.length, bytes[headerCommandOffset]!);
  }

  /** Clogs a link for `durationTicks` from now (0 unclogs it). */
  clog(source: number, target: number, durationTicks: number): void {
    assert(Number.isSafeInteger(durationTicks) && durationTicks >= 0, "clog: bad duration");
    this.link(source, target).cloggedTill = this.ticksNow + durationTicks;
    this.refreshReady(source * this.nodeCount + target);
  }

  isClogged(source: number, target: number): boolean {
    return this.link(source, target).cloggedTill > this.ticksNow;
  }

  /** Packets queued on one link. */
  linkQueued(source: number, target: number): number {
    return this.link(source, target).queue.size;
  }

  // Internals.

  /** Filter → hook → loss → replay → deliver unless disabled (spec/vopr.md §9 "Deliver"). */
  private process(linkIndex: number, packet: Packet): boolean {
    const link = this.links[linkIndex]!;
    const source = Math.floor(linkIndex / this.nodeCount);
    const target = linkIndex - source * this.nodeCount;
    const stats = this.stats;
    if (!commandAllowed(link.filter, packet.command)) {
      stats.droppedFilter += 1;
      return false;
    }
    const message = packet.bytes;
    if (link.dropFn !== null && link.dropFn(message)) {
      stats.droppedHook += 1;
      return false;
    }
    if (chance(this.prng, this.loss)) {
      stats.droppedLoss += 1;
      return false;
    }
    if (chance(this.prng, this.replay)) {
      stats.replayed += 1;
      this.submit(linkIndex, message, message.length, packet.command);
    }
    if (this.enabled[target] === 0) {
      stats.droppedDisabled += 1;
      return false;
    }
    stats.delivered += 1;
    this.deliver(target, message, source);
    return true;
  }

  private submit(linkIndex: number, bytes: Uint8Array, size: number, command: number): void {
    const queue = this.links[linkIndex]!.queue;
    let dropped = false;
    if (queue.size >= this.capacity) {
      // A full path drops a random queued packet: a buffer overflow (spec/vopr.md §9 "Send").
      this.release(queue.removeAt(intBelow(this.prng, queue.size)));
      this.inFlight -= 1;
      this.stats.droppedCapacity += 1;
      dropped = true;
    }
    let pool = this.pools.get(size);
    if (pool === undefined) {
      pool = [];
      this.pools.set(size, pool);
    }
    const packet = pool.pop() ?? { bytes: new Uint8Array(size), pool, command: 0, readyAt: 0, seq: 0 };
    packet.bytes.set(size === bytes.length ? bytes : bytes.subarray(0, size));
    packet.command = command;
    packet.readyAt = this.ticksNow + this.delayTicks();
    packet.seq = this.seqNext++;
    queue.push(packet);
    this.inFlight += 1;
    // The link's key is its head's: a packet queued behind the head leaves it as it was.
    if (dropped || queue.peek() === packet) this.refreshReady(linkIndex);
  }

  private release(packet: Packet): void {
    packet.pool.push(packet);
  }

  private delayTicks(): number {
    return msToTicks(Math.max(this.delayMinMs, this.prng.exponential(this.delayMeanMs)));
  }

  private refreshReady(linkIndex: number): void {
    const link = this.links[linkIndex]!;
    const head = link.queue.peek();
    if (head === undefined) this.ready.delete(linkIndex);
    else this.ready.set(linkIndex, Math.max(head.readyAt, link.cloggedTill), head.seq);
  }

  private link(source: number, target: number): Link {
    this.assertNode(source);
    this.assertNode(target);
    return this.links[source * this.nodeCount + target]!;
  }

  private assertNode(node: number): void {
    assert(Number.isInteger(node) && node >= 0 && node < this.nodeCount, "network: node out of range");
  }
}

function msToTicks(ms: number): number {
  return Math.floor(ms / tickMs);
}

function validate(options: PacketSimulatorOptions): void {
  const count = options.replicaCount + options.standbyCount + options.clientCount;
  assert(options.replicaCount >= 1 && options.standbyCount >= 0 && options.clientCount >= 0,
    "network: bad node counts");
  assert(count <= 64, "network: too many nodes");
  assert(options.messageSizeMax >= headerSize, "network: messageSizeMax below a header");
  assert(options.oneWayDelayMinMs >= 0 && options.oneWayDelayMeanMs >= 0, "network: negative delay");
  assert(Number.isInteger(options.pathMaximumCapacity) && options.pathMaximumCapacity >= 1, "network: capacity < 1");
  assert(options.pathClogDurationMeanMs >= 0, "network: negative clog duration");
  assert(options.partitionStabilityTicks >= 0 && options.unpartitionStabilityTicks >= 0, "network: negative stability");
  for (const r of [options.packetLossProbability, options.packetReplayProbability, options.pathClogProbability,
    options.partitionProbability, options.unpartitionProbability]) assertRatio(r);
}
