// A fluent harness for protocol scenario tests in the spirit of TigerBeetle's replica_test.zig: the
// VOPR's Cluster (real replicas and clients, state checker, reply sequencer) with no random faults
// (fixed latencies, nothing lost), so a test reads as a story: stop a backup, corrupt its WAL, open
// it, expect `recovering_head`, send requests, expect the commit. The only faults are the story's:
// crashes (each pending write tears a sector), byte flips on a stopped disk, links cut per command.
// Names (case-insensitive): R0..R5 replicas by index, S0..S5 standbys; A0 the primary of the current
// view and B1..B5 the replicas after it, resolved at lookup (the handle keeps its replica); C0..
// clients; "*" every replica and standby.
import { expect } from "vitest";
import { Command } from "../../src/core/command.js";
import { headerSize, releaseCurrent, testConfig } from "../../src/core/config.js";
import { PrepareHeader } from "../../src/core/header.js";
import { StateMachine } from "../../src/core/ledger/state_machine.js";
import { Prng } from "../../src/core/prng.js";
import { Zone } from "../../src/io/storage.js";
import type { PlantedBugs } from "../../src/replica/bugs.js";
import type { ClientFailure } from "../../src/replica/client.js";
import type { Replica, Status } from "../../src/replica/replica.js";
import { LedgerStateMachine } from "../../src/replica/state_machine.js";
import { ratio, ratioZero } from "../../src/sim/ratio.js";
import { Cluster, type ClusterObserver } from "../../src/sim/world/cluster.js";
import { commandMask, commandMaskAll } from "../../src/sim/world/network_options.js";
import type { StorageSim } from "../../src/sim/world/storage_sim.js";
import type { ClockOffset } from "../../src/sim/world/time_sim.js";
import { echoOperation } from "../../src/sim/workloads/echo_state_machine.js";
import { echoWorkloadFactory, type WorkloadFactory } from "../../src/sim/workloads/workload.js";
import { quietOptions } from "../sim/helpers.js";

export interface ScenarioOptions {
  readonly replicas: number;
  readonly standbys?: number;
  readonly clients?: number;
  readonly seed?: bigint;
  readonly stateMachine?: "echo" | "ledger";
  /** Planted protocol bugs, to show that a story catches them. Default: none. */
  readonly bugs?: PlantedBugs;
  /** Each replica's data file size (the storage limit). Default: 64 MiB. */
  readonly storageSizeBytes?: number;
  /** Each node's clock offset model, by index (src/sim/world/time_sim.ts). Default: ideal clocks. */
  readonly clocks?: readonly ClockOffset[];
}

export type CommandName = keyof typeof Command;
/** A name or a list of names; "*" is every replica and standby. */
export type Nodes = string | readonly string[];

/** No change for this long is quiet: longer than any timeout that still makes progress (10 s). */
const quietTicksDefault = 1500;
const ticksMaxDefault = 40_000;

/** The cluster only builds state machines; ledger stories write their requests by hand. */
const ledgerFactory: WorkloadFactory = {
  stateMachine: "accounting",
  createStateMachine: (probe) => new LedgerStateMachine(new StateMachine({ probe })),
  createWorkload: () => { throw new Error("scenario tests send their own requests"); },
};

export const scenario = (options: ScenarioOptions): Scenario => new Scenario(options);

export class Scenario implements ClusterObserver {
  readonly cluster: Cluster;
  readonly clients: ScenarioClient[] = [];
  now = 0; // ticks run so far
  /** Per node, across restarts: trace lines (`ignored <command>: <reason>`, …) and events. */
  readonly traces: string[][];
  readonly events: string[][];
  /** Coverage probe hits (src/core/probes.ts) of every replica and its state machine, by name. */
  readonly probes: Record<string, number> = {};
  private readonly deliveryCounts = new Map<string, number>();

  constructor(options: ScenarioOptions) {
    const { replicas: replicaCount, standbys: standbyCount = 0, clients: clientCount = 1, seed = 42n } = options;
    this.traces = Array.from({ length: replicaCount + standbyCount }, () => []);
    this.events = Array.from({ length: replicaCount + standbyCount }, () => []);
    for (let index = 0; index < clientCount; index++) this.clients.push(new ScenarioClient(index, seed));
    this.cluster = new Cluster({
      cluster: 0x5ce4a710n, replicaCount, standbyCount, clientCount, config: testConfig, release: releaseCurrent,
      seed, network: quietOptions({
        replicaCount, standbyCount, clientCount, seed, messageSizeMax: testConfig.messageSizeMax,
        oneWayDelayMinMs: 10, oneWayDelayMeanMs: 0, // every message takes exactly one tick
      }),
      storage: {
        readLatencyMinMs: 10, readLatencyMeanMs: 0, writeLatencyMinMs: 20, writeLatencyMeanMs: 0,
        readFaultProbability: ratioZero, writeFaultProbability: ratioZero, writeMisdirectProbability: ratioZero,
        crashFaultProbability: ratio(1, 1),
      },
      storageSeed: seed + 1n, storageSizeBytes: options.storageSizeBytes ?? 64 * 1024 * 1024,
      workload: options.stateMachine === "ledger" ? ledgerFactory : echoWorkloadFactory,
      observer: this, trace: true, bugs: options.bugs, clocks: options.clocks,
      probe: (name) => { this.probes[name] = (this.probes[name] ?? 0) + 1; },
    });
    this.cluster.start();
  }

  // ---- names ----

  /** A replica or standby by name (R0, S0, A0, B1, …), resolved now. */
  replica(name: string): ScenarioReplica {
    return new ScenarioReplica(this, this.nodeOf(name));
  }

  /** Every replica and standby, in index order. */
  get replicas(): ScenarioReplica[] {
    return Array.from({ length: this.cluster.nodeCount }, (_, index) => new ScenarioReplica(this, index));
  }

  client(name: string | number): ScenarioClient {
    const client = this.clients[typeof name === "number" ? name : Number(/^C(\d)$/i.exec(name)?.[1])];
    if (client === undefined) throw new Error(`no client ${name}`);
    return client;
  }

  /** The cluster's view: the highest view of an up replica in normal status (else of any up one). */
  get view(): number {
    const up = this.replicas.filter((r) => r.up);
    const normal = up.filter((r) => r.status === "normal");
    return Math.max(0, ...(normal.length > 0 ? normal : up).map((r) => r.view));
  }

  private nodeOf(name: string): number {
    const [, kind, digit] = /^([RSAB])(\d)$/.exec(name.toUpperCase()) ?? [];
    const n = Number(digit);
    const { replicaCount, nodeCount } = this.cluster;
    const node = kind === "R" ? n : kind === "S" ? replicaCount + n : (this.view + n) % replicaCount;
    const valid = kind === "A" ? n === 0 : kind === "B" ? n > 0 && n < replicaCount : kind === "R" ? n < replicaCount
      : kind === "S" && node < nodeCount;
    if (!valid) throw new Error(`no ${name} among ${replicaCount} replicas, ${nodeCount - replicaCount} standbys`);
    return node;
  }

  private nodesOf(nodes: Nodes): number[] {
    const all = this.replicas.map((r) => r.index);
    const node = (name: string): number =>
      /^c/i.test(name) ? this.cluster.nodeCount + this.client(name).index : this.nodeOf(name);
    return (typeof nodes === "string" ? [nodes] : nodes).flatMap((name) => (name === "*" ? all : [node(name)]));
  }

  // ---- the network ----

  /** Drops `commands` (all, if none is named) on every link from `from` to `to`. */
  drop(from: Nodes, to: Nodes, ...commands: CommandName[]): this {
    return this.filter(from, to, commands, (mask, bits) => mask & ~bits);
  }

  /** Lets `commands` (all, if none is named) through again; forgets dropPrepare on those links. */
  pass(from: Nodes, to: Nodes, ...commands: CommandName[]): this {
    for (const [source, target] of this.links(from, to)) this.cluster.network.setLinkDropFn(source, target, null);
    return this.filter(from, to, commands, (mask, bits) => mask | bits);
  }

  /** Drops the prepare of `op`, and only that one, whenever it is sent from `from` to `to`. */
  dropPrepare(from: Nodes, to: Nodes, op: number): this {
    const drop = (message: Uint8Array): boolean =>
      message[114] === Command.prepare && new PrepareHeader(message, 0).op === op;
    for (const [source, target] of this.links(from, to)) this.cluster.network.setLinkDropFn(source, target, drop);
    return this;
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: Nodes, b: Nodes): this { return this.drop(a, b).drop(b, a); }

  /** Every link passes everything again. */
  heal(): this {
    const all = ["*", ...this.clients.map((client) => `C${client.index}`)];
    return this.pass(all, all);
  }

  /** Keeps (or stops keeping) a copy of every message sent from `from` to `to`, for `replay()`. */
  record(from: Nodes, to: Nodes, on = true): this {
    for (const [source, target] of this.links(from, to)) this.cluster.network.setLinkRecord(source, target, on);
    return this;
  }

  /** Sends every recorded message again (a duplicate on the wire). */
  replay(): this { this.cluster.network.replayRecorded(); return this; }

  /** Messages of `command` delivered from `from` to `to` so far (after filters and drops). */
  deliveries(from: Nodes, to: Nodes, command: CommandName): number {
    const count = ([source, target]: [number, number]): number =>
      this.deliveryCounts.get(`${source}>${target}:${Command[command]}`) ?? 0;
    return this.links(from, to).reduce((sum, link) => sum + count(link), 0);
  }

  private filter(from: Nodes, to: Nodes, commands: CommandName[], apply: (mask: number, bits: number) => number): this {
    const bits = commands.length === 0 ? commandMaskAll : commandMask(commands.map((name) => Command[name]));
    const network = this.cluster.network;
    for (const [source, target] of this.links(from, to)) {
      network.setLinkFilter(source, target, apply(network.linkFilter(source, target), bits) >>> 0);
    }
    return this;
  }

  private links(from: Nodes, to: Nodes): [number, number][] {
    const targets = this.nodesOf(to);
    return this.nodesOf(from).flatMap((source) =>
      targets.filter((target) => target !== source).map((target): [number, number] => [source, target]));
  }

  // ---- clients and time ----

  /** `count` echo requests, dealt round-robin to the clients not evicted. */
  requests(count: number): this {
    const live = this.clients.filter((client) => client.evicted === null);
    for (let index = 0; index < count; index++) live[index % live.length]!.request();
    return this;
  }

  tick(count = 1): this {
    for (let tick = 0; tick < count; tick++) {
      for (const client of this.clients) client.pump(this.cluster);
      try {
        this.cluster.tick();
      } catch (error) {
        if (error instanceof Error) error.message += `\nat tick ${this.now} of the scenario:\n${this.describe()}`;
        throw error;
      }
      this.now += 1;
    }
    return this;
  }

  /** Ticks until `condition` holds; fails loudly after `ticksMax`. */
  runUntil(condition: () => boolean, ticksMax = ticksMaxDefault): this {
    for (let tick = 0; !condition(); tick++) {
      if (tick === ticksMax) throw new Error(`runUntil: not met after ${ticksMax} ticks\n${this.describe()}`);
      this.tick();
    }
    return this;
  }

  /**
   * Ticks until nothing changes (replica state, commits, client replies and evictions) for
   * `quietTicks` and no message or disk IO is in flight; fails loudly after `ticksMax`. Requests
   * that cannot be served do not keep the cluster busy: the test asserts what was committed.
   */
  runUntilQuiet(ticksMax = ticksMaxDefault, quietTicks = quietTicksDefault): this {
    const fingerprint = (): string => `${this.describe()}\n${this.cluster.checker.commitLatest}`;
    let last = fingerprint();
    for (let tick = 0, quiet = 0; tick < ticksMax; tick++) {
      this.tick();
      const now = fingerprint();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
      const idle = this.cluster.network.packetsInFlight === 0 && this.cluster.storages.every((s) => s.pendingIo === 0);
      if (quiet >= quietTicks && idle) return this;
    }
    throw new Error(`runUntilQuiet: still busy after ${ticksMax} ticks\n${this.describe()}`);
  }

  /** One line per replica and client (for failure messages). */
  describe(): string {
    const replicas = this.replicas.map((r) => `${r.name}: ${!r.up ? "down" : `${r.status} view=${r.view} ` +
      `log_view=${r.logView} op=${r.op} commit=${r.commitMin}/${r.commitMax} checkpoint=${r.opCheckpoint}` +
      (r.syncing ? " syncing" : "")}`);
    const clients = this.clients.map((c) =>
      `C${c.index}: replies=${c.replies.length} pending=${c.pending} evicted=${c.evicted}`);
    return [...replicas, ...clients].join("\n");
  }

  // ---- expectations ----

  /** Every up replica of `nodes` has executed exactly `op`, and knows of nothing newer. */
  expectCommit(op: number, nodes: Nodes = "*"): this {
    return this.expectEach(nodes, (r) => [r.commitMin, r.commitMax], [op, op]);
  }

  /** Every up replica of `nodes` is in `view`, in normal status. */
  expectView(view: number, nodes: Nodes = "*"): this {
    return this.expectEach(nodes, (r) => [r.status, r.view], ["normal", view]);
  }

  private expectEach(nodes: Nodes, actual: (r: ScenarioReplica) => unknown[], expected: unknown[]): this {
    const up = this.nodesOf(nodes).map((node) => new ScenarioReplica(this, node)).filter((r) => r.up);
    expect(Object.fromEntries(up.map((r) => [r.name, actual(r)])), this.describe())
      .toEqual(Object.fromEntries(up.map((r) => [r.name, expected])));
    return this;
  }

  /** The replica's trace lines so far, across restarts. */
  trace(name: string): string[] {
    return this.traces[this.nodeOf(name)]!;
  }

  // ---- ClusterObserver ----

  clientReply(client: number, reply: Uint8Array): void { this.clients[client]!.onReply(reply.slice(headerSize)); }
  clientEvicted(client: number, reason: ClientFailure): void { this.clients[client]!.onEvicted(reason); }
  replicaEvent(replica: number, event: string): void { this.events[replica]!.push(event); }
  replicaNotice(replica: number, event: string, detail: string): void { this.events[replica]!.push(`${event}: ${detail}`); }
  traced(replica: number, line: string): void { this.traces[replica]!.push(line); }
  sequenced(): void {}

  delivered(source: number, target: number, message: Uint8Array): void {
    const key = `${source}>${target}:${message[114]}`; // 114: the command byte (wire.md §2)
    this.deliveryCounts.set(key, (this.deliveryCounts.get(key) ?? 0) + 1);
  }
}

export class ScenarioReplica {
  constructor(private readonly t: Scenario, readonly index: number) {}

  get name(): string {
    const replicaCount = this.t.cluster.replicaCount;
    return this.index < replicaCount ? `R${this.index}` : `S${this.index - replicaCount}`;
  }

  get up(): boolean { return this.t.cluster.replicas[this.index] !== null; }
  /** The live replica (a stopped one has none). */
  get replica(): Replica {
    const replica = this.t.cluster.replicas[this.index];
    if (replica === null || replica === undefined) throw new Error(`${this.name} is down`);
    return replica;
  }

  get status(): Status | "down" { return this.up ? this.replica.status : "down"; }
  get view(): number { return this.replica.view; }
  get logView(): number { return this.replica.logView; }
  get op(): number { return this.replica.op; }
  get commitMin(): number { return this.replica.commitMin; }
  get commitMax(): number { return this.replica.commitMax; }
  get opCheckpoint(): number { return this.replica.opCheckpoint; }
  get isPrimary(): boolean { return this.replica.isPrimary; }
  get syncing(): boolean { return this.replica.syncing !== null; }
  get storage(): StorageSim { return this.t.cluster.storages[this.index]!; }

  /** The checksum of the prepare this replica holds for `op`, or null. */
  checksumOf(op: number): bigint | null { return this.replica.checksumOf(op); }

  /** A clean shutdown: deaf from now on, its pending IO lands, then the process is gone. */
  stop(): this {
    const storage = this.storage;
    this.t.cluster.network.setNodeEnabled(this.index, false);
    for (let rounds = 0; storage.pendingIo > 0 || storage.pendingNextTicks > 0; rounds++) {
      if (rounds === 100_000) throw new Error(`${this.name}: IO never settles`);
      if (!storage.step()) storage.tick();
    }
    this.t.cluster.crash(this.index);
    return this;
  }

  /** A crash: the process vanishes, and every pending write tears one sector. */
  crash(): this { this.t.cluster.crash(this.index); return this; }

  /** Restarts a stopped or crashed replica on its data file. */
  open(): this { this.t.cluster.restart(this.index, true); return this; }

  /** Flips the checksum of the prepare in `op`'s WAL slot (on a stopped replica). */
  corruptWalPrepare(op: number): this {
    return this.corrupt(Zone.wal_prepares, (op % testConfig.journalSlotCount) * testConfig.messageSizeMax);
  }

  /** Flips the checksum of `op`'s redundant header in the wal_headers ring. */
  corruptWalHeader(op: number): this {
    return this.corrupt(Zone.wal_headers, (op % testConfig.journalSlotCount) * headerSize);
  }

  /** Flips the checksum of superblock copy `copy` (0..3). */
  corruptSuperblockCopy(copy: number): this {
    expect(copy).toBeLessThan(4);
    return this.corrupt(Zone.superblock, copy * testConfig.superblockCopySize);
  }

  private corrupt(zone: Zone, offset: number): this {
    if (this.up) throw new Error(`${this.name}: stop it before corrupting its disk`);
    this.storage.corruptBytes(zone, offset, 16);
    return this;
  }

  trace(): string[] { return this.t.traces[this.index]!; }
  /** Events so far: open, status, view, checkpoint_done, sync_start, sync_done, crash, restart, … */
  events(): string[] { return this.t.events[this.index]!; }
}

type Queued = { readonly operation: number; readonly body: Uint8Array };

/** A client of the cluster: requests queue here and go out one at a time (SimClients' rule). */
export class ScenarioClient {
  readonly queue: Queued[] = [];
  /** Reply bodies, in order. */
  readonly replies: Uint8Array[] = [];
  sent: Queued | null = null;
  evicted: ClientFailure | null = null;

  private readonly prng: Prng;

  constructor(readonly index: number, seed: bigint) {
    this.prng = new Prng(seed + BigInt(index));
  }

  /** Queues `count` echo requests with random bodies of up to 100 bytes; each reply must echo it. */
  request(count = 1): this {
    for (let n = 0; n < count; n++) {
      const body = new Uint8Array(this.prng.range(0, 100));
      this.prng.fill(body);
      this.queue.push({ operation: echoOperation, body });
    }
    return this;
  }

  /** Queues one request of any operation (a ledger's, say). */
  send(operation: number, body: Uint8Array): this { this.queue.push({ operation, body }); return this; }

  /** Requests queued or in flight. */
  get pending(): number { return this.queue.length + (this.sent === null ? 0 : 1); }

  pump(cluster: Cluster): void {
    if (this.evicted !== null || this.sent !== null || this.queue.length === 0) return;
    this.sent = this.queue.shift()!;
    cluster.clients.request(this.index, this.sent.operation, this.sent.body);
  }

  onReply(body: Uint8Array): void {
    const sent = this.sent;
    if (sent === null) throw new Error(`C${this.index}: a reply with nothing in flight`);
    if (sent.operation === echoOperation) expect(body, `C${this.index}: the echo`).toEqual(sent.body);
    this.replies.push(body);
    this.sent = null;
  }

  onEvicted(reason: ClientFailure): void {
    this.evicted = reason;
    this.sent = null;
    this.queue.length = 0;
  }
}
