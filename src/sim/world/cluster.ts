// The simulated cluster (spec/vopr.md §5, §8, §9): replicas and standbys over StorageSim and the
// packet simulator, one TimeSim per replica and client (linear 0/0 clocks, §3.5), the real
// VsrClient, the state checker and the reply sequencer, ticked in the exact order of §5.
//
// A crash drops the Replica object and its pending IO (StorageSim.crash); a restart builds a new
// Replica over the same storage and clock and opens it. The fault dice (when to crash, pause,
// restart) live in the simulator; this class only carries the actions out.
import { assert, AssertionError } from "../../core/assert.js";
import { readU32, readU64AsNumber } from "../../core/bytes.js";
import { Command } from "../../core/command.js";
import type { Config } from "../../core/config.js";
import { FrameField, PrepareField, PrepareHeader, PrepareOkField } from "../../core/header.js";
import { Prng } from "../../core/prng.js";
import type { ProbeSink } from "../../core/probes.js";
import type { MessageBus } from "../../io/message_bus.js";
import { rootPrepare } from "../../replica/journal/prepare_headers.js";
import { quorums } from "../../replica/quorums.js";
import type { PlantedBugs } from "../../replica/bugs.js";
import { isNotice, Replica, type NoticeEvent, type ReplicaEvent, type ReplicaOptions } from "../../replica/replica.js";
import { SimClients, simulatorEpochNs, type ClientsObserver } from "./cluster_clients.js";
import { FaultAtlas } from "./fault_atlas.js";
import type { PacketSimulatorOptions } from "./network_options.js";
import { PacketSimulator } from "./packet_simulator.js";
import { ReplySequencer } from "../checkers/reply_sequencer.js";
import type { SimMessageBus } from "./sim_message_bus.js";
import { StateChecker } from "../checkers/state_checker.js";
import { StorageChecker } from "../checkers/storage_checker.js";
import { DurabilityChecker } from "../checkers/durability_checker.js";
import type { StorageFaultOptions } from "./storage_options.js";
import { StorageSim } from "./storage_sim.js";
import { idealClock, TimeSim, type ClockOffset } from "./time_sim.js";
import { DeviceTicks } from "./device_ticks.js";
import type { WorkloadFactory } from "../workloads/workload.js";

export type ClusterEvent = ReplicaEvent | "crash" | "restart" | "reformat" | "pause" | "unpause";

export interface ClusterObserver extends ClientsObserver {
  replicaEvent(replica: number, event: ClusterEvent): void;
  /** Operator notices (an eviction, a WAL repair) with their detail line. */
  replicaNotice?(replica: number, event: NoticeEvent, detail: string): void;
  /** Each op once, in op order, after the reply sequencer (§11.2). Buffers valid during the call. */
  sequenced(prepare: Uint8Array, reply: Uint8Array | null): void;
  /** Every delivered message (for the trace hash and full logs). Valid during the call. */
  delivered(source: number, target: number, message: Uint8Array): void;
  /** The replicas' trace lines (why messages were dropped); only when `ClusterOptions.trace`. */
  traced?(replica: number, line: string): void;
}

export interface ClusterOptions {
  readonly cluster: bigint;
  readonly replicaCount: number;
  readonly standbyCount: number;
  readonly clientCount: number;
  readonly config: Config;
  readonly release: number;
  /** The cluster sub-seed (§1): replica PRNGs and client ids. */
  readonly seed: bigint;
  readonly network: PacketSimulatorOptions;
  readonly storage: StorageFaultOptions;
  readonly storageSeed: bigint;
  readonly storageSizeBytes: number;
  /** Pages of each replica's grid block cache (default: gridCacheBytesDefault). */
  readonly gridCachePages?: number;
  readonly workload: WorkloadFactory;
  readonly observer: ClusterObserver;
  /** Route the replicas' trace lines to `observer.traced` (costly: full logs only). */
  readonly trace?: boolean;
  /** Planted protocol bugs (the VOPR's self-check); default none. */
  readonly bugs?: PlantedBugs;
  /** Each node's clock offset model (time_sim.ts), by node index; default the ideal clock. */
  readonly clocks?: readonly ClockOffset[];
  /** Receives every replica's (and its state machine's) coverage probe hits; default none. */
  readonly probe?: ProbeSink;
  /**
   * Let replicas and clients sleep through ticks they promise are quiet (Replica.quietTicksAhead,
   * VsrClient.quietTicksAhead): the run is the same, only faster. Off by default, for tests that
   * reach into replicas between ticks.
   */
  readonly sleepWhenQuiet?: boolean;
}

/**
 * Forwards a replica's sends, noting the views and ops it acknowledges in prepare_oks (§11.1), the
 * ops it sends prepares of, and the highest view it spoke in (what a reformat must stay above, §8).
 */
class ReplicaBus implements MessageBus {
  constructor(private readonly bus: SimMessageBus, private readonly index: number, private readonly checker: StateChecker,
    private readonly durability: DurabilityChecker) {}

  sendToReplica(replica: number, message: Uint8Array): void {
    this.durability.onSend(this.index, message);
    const view = readU32(message, FrameField.view);
    const command = message[FrameField.command];
    if (command === Command.prepare_ok) this.checker.onPrepareOk(this.index, view, readU64AsNumber(message, PrepareOkField.op));
    // A primary's own copy counts in the replication quorum without a prepare_ok; a prepare sent in
    // repair is one we hold too (counting it only makes reformats wait longer).
    else if (command === Command.prepare) this.checker.onPrepareSent(this.index, readU64AsNumber(message, PrepareField.op));
    this.checker.onSent(this.index, view);
    this.bus.sendToReplica(replica, message);
  }

  sendToClient(client: bigint, message: Uint8Array): void {
    this.checker.onSent(this.index, readU32(message, FrameField.view));
    this.bus.sendToClient(client, message);
  }
}

export class Cluster {
  readonly replicaCount: number;
  readonly standbyCount: number;
  /** Replicas plus standbys: node indexes 0..nodeCount−1. */
  readonly nodeCount: number;
  readonly config: Config;
  readonly network: PacketSimulator;
  readonly storages: StorageSim[] = [];
  readonly times: TimeSim[] = [];
  /** null while down. */
  readonly replicas: (Replica | null)[] = [];
  readonly paused: boolean[] = [];
  /**
   * Per node: after a reformat, the cluster commit it must reach before it counts as healthy
   * (§8: "not reformatting"); 0 once it has.
   */
  readonly catchingUpTo: number[] = [];
  /** The open callback has run (the replica is past recovery's first phase). */
  readonly opened: boolean[] = [];
  readonly clients: SimClients;
  readonly checker: StateChecker;
  readonly storageChecker = new StorageChecker();
  readonly durabilityChecker: DurabilityChecker;
  readonly sequencer: ReplySequencer;
  readonly quorumViewChange: number;
  private readonly prng: Prng;
  private readonly buses: ReplicaBus[] = [];
  /** Ticks since start (the durability checker's sampling). */
  private ticks = 0;
  private readonly observer: ClusterObserver;
  /** Every storage's and clock's tick count (device_ticks.ts): one increment per tick, not two per node. */
  private readonly deviceTicks = new DeviceTicks();
  /**
   * Sleeping replicas (ClusterOptions.sleepWhenQuiet), per node: the first tick on which the
   * replica ticks again, and the tick it fell asleep from (−1: awake). The quiet ticks it skipped
   * since are owed to its counters before it ticks or anything reaches it (a message, an IO
   * completion); they are counted when paid, not on every tick.
   */
  private readonly wakeAt: number[] = [];
  private readonly asleepFrom: number[] = [];
  /** The last tick whose loop over the nodes in tick() has completed. */
  private loopedThrough = 0;

  constructor(private readonly options: ClusterOptions) {
    this.replicaCount = options.replicaCount;
    this.standbyCount = options.standbyCount;
    this.nodeCount = options.replicaCount + options.standbyCount;
    this.config = options.config;
    this.observer = options.observer;
    this.quorumViewChange = quorums(options.replicaCount).viewChange;
    this.prng = new Prng(options.seed);
    this.network = new PacketSimulator(options.network, (target, message, source) => this.deliver(target, message, source));
    this.checker = new StateChecker({
      replicaNodeCount: this.nodeCount,
      rootChecksum: new PrepareHeader(rootPrepare(options.cluster), 0).checksum,
      inFlight: (client) => this.clients.inFlight(client),
      syncBacktrackMax: options.config.lsmCompactionOps,
      clientsMax: options.config.clientsMax,
      recoverNoops: options.config.pipelinePrepareQueueMax,
    });
    this.sequencer = new ReplySequencer(2 * options.config.clientsMax,
      (op) => this.checker.checksumAt(op), (prepare, reply) => this.observer.sequenced(prepare, reply));
    this.createStorages();
    this.durabilityChecker = new DurabilityChecker(this.config, options.cluster, this.nodeCount, this.replicaCount,
      quorums(options.replicaCount).replication, this.storages, this.replicas,
      (op) => (op <= this.checker.commitLatest ? this.checker.checksumAt(op) : null));
    this.storages.forEach((storage, index) => {
      storage.onWrite = (zone, offset, buffer) => this.durabilityChecker.onWrite(index, zone, offset, buffer);
    });
    for (let index = 0; index < this.nodeCount; index++) {
      this.times.push(new TimeSim({
        offset: options.clocks?.[index] ?? idealClock, epochNs: simulatorEpochNs, ticks: this.deviceTicks,
      }));
      this.buses.push(new ReplicaBus(this.network.bus(index), index, this.checker, this.durabilityChecker));
      this.replicas.push(null);
      this.paused.push(false);
      this.opened.push(false);
      this.catchingUpTo.push(0);
      this.wakeAt.push(0);
      this.asleepFrom.push(-1);
    }
    this.clients = new SimClients({
      cluster: options.cluster, replicaCount: options.replicaCount, clientCount: options.clientCount,
      config: options.config, release: options.release, network: this.network, prng: this.prng.split(),
      observer: options.observer, sleepWhenQuiet: options.sleepWhenQuiet,
    });
  }

  /** The storage sub-PRNG draws the atlas, then one seed per node (§1 order: after the network). */
  private createStorages(): void {
    const prng = new Prng(this.options.storageSeed);
    const atlas = new FaultAtlas(prng, this.replicaCount, this.config, this.options.storageSizeBytes);
    for (let index = 0; index < this.nodeCount; index++) {
      this.storages.push(new StorageSim({
        ...this.options.storage, config: this.config, sizeBytes: this.options.storageSizeBytes,
        replicaIndex: index, seed: prng.next(), faultAtlas: atlas, faulty: false, ticks: this.deviceTicks,
      }));
    }
  }

  /**
   * Formats every data file (with faults hidden: formatting is set-up, not under test), then
   * opens every replica. §8 "Start-up": replicas at index ≥ quorum_view_change are faulty from
   * the start; the first quorum_view_change keep faults hidden until their first restart.
   */
  start(): void {
    for (let index = 0; index < this.nodeCount; index++) this.format(index);
    for (let index = 0; index < this.nodeCount; index++) this.open(index, index >= this.quorumViewChange);
  }

  private format(index: number, recoverView = 0): void {
    const storage = this.storages[index]!;
    let done = false;
    // Formatting is set-up, not under test: it reports nothing.
    const options = { ...this.replicaOptions(index), onCommit: undefined, onEvent: undefined, probe: undefined };
    Replica.format(options, () => { done = true; }, recoverView);
    // Drive this storage alone; its clock may run ahead of the others (only its own IO uses it).
    for (let rounds = 0; !done; rounds++) {
      assert(rounds < 1_000_000, `replica ${index}: format did not finish`);
      if (!storage.step()) storage.tick();
    }
  }

  private replicaOptions(index: number): ReplicaOptions {
    return {
      cluster: this.options.cluster, replica: index, replicaCount: this.replicaCount,
      standbyCount: this.standbyCount, config: this.config, release: this.options.release,
      time: this.times[index]!, storage: this.storages[index]!, bus: this.buses[index]!, prng: this.prng.split(),
      stateMachine: this.options.workload.createStateMachine(this.options.probe),
      onCommit: (replica, prepare, reply) => this.onCommit(replica, prepare, reply),
      onEvent: (replica, event, detail) => this.onEvent(replica, event, detail),
      trace: this.options.trace === true ? (replica, line) => this.observer.traced?.(replica, line) : undefined,
      bugs: this.options.bugs,
      probe: this.options.probe,
      gridBlocksLimit: Math.floor((this.options.storageSizeBytes - this.config.zones.gridOffset) / this.config.blockSize),
      gridCacheBytes: this.options.gridCachePages === undefined ? undefined : this.options.gridCachePages * this.config.blockSize,
    };
  }

  /** Builds and opens a replica; `faultyAfterOpen` makes faults visible once open returns. */
  private open(index: number, faultyAfterOpen: boolean): void {
    const replica = new Replica(this.replicaOptions(index));
    this.replicas[index] = replica;
    this.wakeAt[index] = 0;
    this.asleepFrom[index] = -1;
    this.opened[index] = false;
    this.network.setNodeEnabled(index, true);
    replica.open((error) => {
      if (this.replicas[index] !== replica) return;
      if (error !== null) throw new AssertionError(`replica ${index}: open failed: ${error}`);
      this.opened[index] = true;
      this.storages[index]!.faulty = faultyAfterOpen;
    });
  }

  private onEvent(replica: Replica, event: ReplicaEvent, detail?: string): void {
    const index = replica.replica;
    if (this.replicas[index] !== replica) return;
    if (event === "sync_done") this.checker.onSyncDone(index, replica);
    if (event === "sync_done" || event === "checkpoint_done" || event === "open") {
      this.checker.checkCheckpoint(index, replica.opCheckpoint, replica.checkpointId());
      if (event !== "open") this.storageChecker.check(index, replica.opCheckpoint, replica.grid, this.storages[index]!);
      this.durabilityChecker.onCheckpointDurable(index, replica.opCheckpoint);
    }
    if (event === "open") this.durabilityChecker.onOpen(index);
    if (event === "sync_start") this.durabilityChecker.onSyncStart(index, replica.opCheckpoint, replica.syncing!.targetOp);
    // Operator notices carry no state change: they do not make a state line of the log.
    if (isNotice(event)) this.observer.replicaNotice?.(index, event, detail ?? "");
    else this.observer.replicaEvent(index, event);
  }

  private onCommit(replica: Replica, prepare: Uint8Array, reply: Uint8Array | null): void {
    const index = replica.replica;
    if (this.replicas[index] !== replica) return;
    this.checker.onCommit(index, replica, prepare, reply);
    this.sequencer.push(prepare, reply);
  }

  private deliver(target: number, message: Uint8Array, source: number): void {
    this.observer.delivered(source, target, message);
    if (target >= this.nodeCount) return this.clients.deliver(target, message);
    const replica = this.replicas[target];
    if (replica === null || replica === undefined || this.paused[target]) return;
    this.wake(target);
    replica.onMessage(message);
    this.settle(target);
  }

  /**
   * After a message or IO completions reached a replica: its invariants hold, and if its coming
   * ticks are quiet (most often they are), it is checked now and sleeps from this tick on, rather
   * than being woken for a tick that only counts.
   */
  private settle(index: number): void {
    const replica = this.replicas[index];
    if (replica === null || replica === undefined) return; // an IO callback may not outlive a crash
    replica.invariants();
    if (this.options.sleepWhenQuiet !== true) return;
    this.checker.checkState(index, replica);
    this.sleep(index, replica, this.ticks);
  }

  /** One tick, in the order of spec/vopr.md §5 (cluster.tick). */
  tick(): void {
    this.ticks += 1;
    this.stepUntilIdle();
    this.network.tick();
    this.clients.tick();
    // Every storage and clock ticks, down and paused replicas' too (a paused VM's wall clock keeps
    // moving). A replica's tick below reads only its own devices, so one shared count does.
    this.deviceTicks.now += 1;
    for (let index = 0; index < this.nodeCount; index++) {
      const replica = this.replicas[index];
      if (replica === null || replica === undefined) continue;
      if (!this.paused[index]) {
        if (this.ticks < this.wakeAt[index]!) {
          // Asleep: this tick only counts (asleepFrom keeps the count), and nothing about the
          // replica changed to check again.
          if (this.durabilityChecker.tickDue(index, this.ticks)) this.durabilityChecker.onTick(index, this.ticks);
          continue;
        }
        this.payTicksOwed(index, replica);
        replica.tick();
      }
      replica.invariants();
      if (this.durabilityChecker.tickDue(index, this.ticks)) this.durabilityChecker.onTick(index, this.ticks);
      this.checker.checkState(index, replica);
      if (this.options.sleepWhenQuiet === true && !this.paused[index]) this.sleep(index, replica, this.ticks + 1);
    }
    this.loopedThrough = this.ticks;
  }

  /**
   * Puts a replica to sleep through the quiet ticks ahead of it, if any: from `fromTick`, the
   * cluster tick of its next replica.tick() (this one's after a message, the next after a tick).
   */
  private sleep(index: number, replica: Replica, fromTick: number): void {
    const time = this.times[index]!;
    if (!time.readsArePure) return; // a quiet tick still reads the clock, which draws
    const quiet = replica.quietTicksAhead(time);
    if (quiet === 0) return;
    assert(this.asleepFrom[index] === -1, "cluster: a replica falls asleep with its skipped ticks paid");
    this.wakeAt[index] = quiet === Infinity ? Infinity : fromTick + quiet;
    this.asleepFrom[index] = fromTick;
  }

  /** Wakes a sleeping replica before anything reaches it: its counters catch up, and it ticks next. */
  private wake(index: number): void {
    this.wakeAt[index] = 0;
    const replica = this.replicas[index];
    if (replica !== null && replica !== undefined) this.payTicksOwed(index, replica);
  }

  /**
   * Pays a sleeping replica the ticks it skipped: one for every completed loop of tick() over the
   * nodes from its asleepFrom tick on. Inside this tick's loop only the replica whose turn it is
   * is paid (nothing there wakes another), and its turn is not over.
   */
  private payTicksOwed(index: number, replica: Replica): void {
    const from = this.asleepFrom[index]!;
    if (from === -1) return;
    this.asleepFrom[index] = -1;
    const owed = this.loopedThrough - from + 1;
    if (owed > 0) replica.skipQuietTicks(owed);
  }

  /** §5 step 1: alternate storage and network steps until neither makes progress. */
  private stepUntilIdle(): void {
    const devices = this.deviceTicks;
    for (let rounds = 0; ; rounds++) {
      assert(rounds < 100_000, "cluster: storage and network steps never settle");
      let progressed = false;
      // No storage has anything due: the loop below would step none (the common case).
      if (devices.ioDueAt <= devices.now) {
        devices.ioDueAt = Infinity; // each storage notes its due tick again, after its step if any
        for (let index = 0; index < this.nodeCount; index++) {
          const storage = this.storages[index]!;
          // A paused replica completes no IO; a down one has none (crash() cancelled it). Neither
          // does a storage with nothing due: step() would run nothing.
          if (!this.paused[index] && storage.hasDue) {
            if (this.wakeAt[index] !== 0) this.wake(index);
            if (storage.step()) progressed = true;
            this.settle(index);
          }
          storage.noteDue();
        }
      }
      if (this.network.step()) progressed = true;
      if (!progressed) return;
    }
  }

  // Process faults (§3.4, §8). The simulator decides when; these carry them out.

  isUp(index: number): boolean {
    return this.replicas[index] !== null;
  }

  /** A crash: the process and its pending IO vanish; torn writes per §7 item 5. */
  crash(index: number): void {
    assert(this.replicas[index] !== null && !this.paused[index], "crash: replica not up");
    this.replicas[index] = null;
    this.wakeAt[index] = 0;
    this.asleepFrom[index] = -1;
    this.opened[index] = false;
    this.storages[index]!.crash();
    this.network.setNodeEnabled(index, false);
    this.observer.replicaEvent(index, "crash");
  }

  /**
   * §8 "Restart": un-fault both WAL header sectors, then open with faults hidden unless
   * `faultAllowed` (see faultAllowed()). Faults become visible once open returns.
   */
  restart(index: number, faultAllowed: boolean): void {
    assert(this.replicas[index] === null, "restart: replica not down");
    const storage = this.storages[index]!;
    storage.unfaultWalHeaders();
    storage.faulty = faultAllowed;
    this.checker.onRestart(index);
    this.observer.replicaEvent(index, "restart");
    this.open(index, true);
  }

  /**
   * §8 "Reformat": the down replica's data file is lost and formatted anew in `view`, as `scarab
   * recover` does (Replica.format), with faults hidden while formatting; then it is opened.
   */
  reformat(index: number, view: number): void {
    assert(this.replicas[index] === null, "reformat: replica not down");
    assert(index < this.replicaCount, "reformat: standbys are not reformatted");
    const storage = this.storages[index]!;
    storage.wipe();
    storage.faulty = false;
    this.format(index, view);
    this.checker.onReformat(index);
    this.durabilityChecker.onReformat(index);
    this.catchingUpTo[index] = Math.max(1, this.checker.commitLatest);
    this.observer.replicaEvent(index, "reformat");
    this.open(index, true);
  }

  /**
   * §8 rule 2: a standby, or at least quorum_view_change other active replicas are up and
   * healthy (open, not in recovering_head, not syncing, not catching up after a reformat).
   */
  faultAllowed(index: number): boolean {
    if (index >= this.replicaCount) return true;
    let healthy = 0;
    for (let other = 0; other < this.replicaCount; other++) {
      if (other !== index && this.healthy(other)) healthy += 1;
    }
    return healthy >= this.quorumViewChange;
  }

  /** Up, unpaused, open, not in recovering_head, not syncing, and not catching up after a reformat. */
  healthy(index: number): boolean {
    const replica = this.replicas[index];
    if (replica === null || replica === undefined || this.paused[index] || this.catchingUp(index)) return false;
    return replica.status !== "recovering" && replica.status !== "recovering_head" && replica.syncing === null;
  }

  /** Reformatted, and not yet at the cluster commit of the reformat (then it never is again). */
  catchingUp(index: number): boolean {
    const target = this.catchingUpTo[index]!;
    const replica = this.replicas[index];
    if (target === 0 || replica === null || replica === undefined) return target > 0;
    if (replica.commitMin < target) return true;
    this.catchingUpTo[index] = 0;
    return false;
  }

  /** A paused replica neither ticks nor completes IO nor receives; its clock runs on (§3.4). */
  pause(index: number): void {
    assert(this.replicas[index] !== null && !this.paused[index], "pause: replica not up");
    // Paid now: the ticks of a pause are not slept through, so they are not owed.
    this.wake(index);
    this.paused[index] = true;
    this.network.setNodeEnabled(index, false);
    this.observer.replicaEvent(index, "pause");
  }

  unpause(index: number): void {
    assert(this.paused[index], "unpause: replica not paused");
    this.paused[index] = false;
    this.wake(index); // it slept by ticks it did not tick while paused
    this.network.setNodeEnabled(index, true);
    this.observer.replicaEvent(index, "unpause");
  }

  /** §6.2 step 2: restart and unpause the core, heal its storage and its links. */
  healCore(core: readonly number[]): void {
    for (let index = 0; index < this.nodeCount; index++) this.wake(index);
    for (const index of core) {
      this.times[index]!.setOffset(idealClock); // back within tolerance (spec/vopr.md §10)
      if (this.replicas[index] === null) this.restart(index, false); // disk faults hidden while opening
      else if (this.paused[index]) this.unpause(index);
      this.storages[index]!.heal();
    }
    this.network.heal(core);
  }
}
