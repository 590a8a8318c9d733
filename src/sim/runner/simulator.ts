// The VOPR's run of one seed (spec/vopr.md §4–§6, §13): draw the swarm, print it, run the safety
// phase until requests_max replies (or a no-progress budget), then the liveness phase on a healed
// core until convergence. Exit codes: 0 pass (or a legitimate/unimplemented non-liveness),
// 127 crash (any assertion failure or other error thrown by replica or harness code),
// 128 unexplained non-convergence, 129 correctness (state checker, sequencer, workload).
import { AssertionError, assert } from "../../core/assert.js";
import { commandName, Operation } from "../../core/command.js";
import { headerSize, releaseCurrent, testConfig } from "../../core/config.js";
import { PrepareHeader, ReplyHeader } from "../../core/header.js";
import { Prng } from "../../core/prng.js";
import { describeProbes, isProbeName, type ProbeCounts, type ProbeName } from "../../core/probes.js";
import type { PlantedBugs } from "../../replica/bugs.js";
import type { NoticeEvent } from "../../replica/replica.js";
import { describeCounts, noFaults, noRepairs, type FaultCounts, type RepairCounts } from "./fault_counts.js";
import { idealClock } from "../world/time_sim.js";
import { accountingWorkloadFactory } from "../workloads/accounting/accounting_workload.js";
import { Cluster, type ClusterEvent, type ClusterObserver } from "../world/cluster.js";
import { replicaLine, TraceHash } from "./cluster_log.js";
import { chooseCore, convergence, explainNoConvergence } from "../checkers/liveness.js";
import { chance, type Ratio } from "../ratio.js";
import { CorrectnessError } from "../checkers/state_checker.js";
import { describeSwarm, drawSwarm, type SwarmParameters } from "./swarm.js";
import { ProcessDice } from "./process_dice.js";
import { activeFaultClasses, type FaultClass } from "./fault_classes.js";
import type { TimelineRecorder } from "./timeline.js";
import { echoWorkloadFactory, type Workload, type WorkloadFactory } from "../workloads/workload.js";

export interface SimulationOptions {
  readonly lite?: boolean;
  readonly performance?: boolean;
  readonly replicaCount?: number;
  /** `--clients N`: overrides the drawn client count. */
  readonly clientCount?: number;
  /** The safety phase's no-progress budget (§6.1), default 40,000,000 ticks. */
  readonly ticksMaxRequests?: number;
  /** The liveness phase's budget (§6.2), default 10,000,000 ticks. */
  readonly ticksMaxConvergence?: number;
  readonly requestsMax?: number;
  /** `--packet-loss-ratio=a/b`: overrides the drawn packet loss (§13.3). */
  readonly packetLoss?: Ratio;
  /** `--crash-ratio=a/b` and `--restart-ratio=a/b`: override the fixed process faults (§3.4). */
  readonly crashRatio?: Ratio;
  readonly restartRatio?: Ratio;
  /** `--faults-off=CLASS,...`: zeroed after the draws (fault_classes.ts). */
  readonly faultsOff?: readonly FaultClass[];
  /** `--skew-clocks`: every seed skews its clocks, not half of them (swarm_clocks.ts). */
  readonly skewClocks?: boolean;
  readonly log: "full" | "short" | "none";
  readonly stateMachine: "accounting" | "testing";
  /** Default: the accounting workload (ledger) or the echo workload (testing). */
  readonly workloadFactory?: WorkloadFactory;
  readonly write: (line: string) => void;
  /** Planted protocol bugs (the VOPR's self-check, test/sim/vopr_planted_bugs.test.ts). */
  readonly bugs?: PlantedBugs;
  /** `--trace FILE`: records the run's timeline (timeline.ts); it only observes. */
  readonly timeline?: TimelineRecorder;
  /**
   * Replicas and clients sleep through ticks they promise are quiet (Cluster's sleepWhenQuiet);
   * default true. The run is the same either way: a test compares the two.
   */
  readonly sleepWhenQuiet?: boolean;
}


export interface SimulationResult {
  readonly exitCode: 0 | 127 | 128 | 129;
  readonly ticks: number;
  /** One line: "passed", "no liveness: …", "crash: …", "correctness: …", "no state convergence: …". */
  readonly outcome: string;
  /** The stack of a crash or correctness failure, else "". */
  readonly details: string;
  readonly parameters: Readonly<Record<string, string | number>>;
  readonly traceHash: string;
  readonly faults: FaultCounts;
  readonly repairs: RepairCounts;
  readonly requestsReplied: number;
  /** Coverage probes hit in this run (src/core/probes.ts), with their hit counts. */
  readonly probes: ProbeCounts;
}

export const ticksMaxRequestsDefault = 40_000_000;
export const ticksMaxConvergenceDefault = 10_000_000;

/** Runs one seed. Never throws for replica failures: they become exit codes. */
export function runSimulation(seed: bigint, options: SimulationOptions): SimulationResult {
  const factory = options.workloadFactory ??
    (options.stateMachine === "accounting" ? accountingWorkloadFactory : echoWorkloadFactory);
  if (factory.stateMachine !== options.stateMachine) {
    throw new Error(`no workload for state machine '${options.stateMachine}'`);
  }
  const mode = options.performance ? "performance" : options.lite ? "lite" : "default";
  const { swarm, prng } = drawSwarm(seed, testConfig, {
    mode, replicaCount: options.replicaCount, clientCount: options.clientCount, requestsMax: options.requestsMax,
    packetLoss: options.packetLoss, crashRatio: options.crashRatio, restartRatio: options.restartRatio,
    faultsOff: options.faultsOff, skewClocks: options.skewClocks,
  });
  const simulator = new Simulator(swarm, prng, factory, options);
  return simulator.run();
}

type Ending = { exitCode: 0 | 128; outcome: string };

class Simulator implements ClusterObserver {
  ticks = 0;
  requestsReplied = 0;
  readonly faults: FaultCounts = noFaults();
  readonly repairs: RepairCounts = noRepairs();
  /** Coverage probe hits (src/core/probes.ts). */
  readonly probes: ProbeCounts = {};
  private cluster: Cluster | null = null;
  private readonly workload: Workload;
  private readonly trace = new TraceHash();
  private readonly write: (line: string) => void;
  private readonly full: boolean;
  private ticksWithoutProgress = 0;
  private requestsIdle = false;
  private faultsEnabled = true;
  private wasPartitioned = false;
  private readonly processDice: ProcessDice;
  private readonly checkpointing: boolean[];
  private readonly idle: number[] = [];
  private readonly lastLines: string[] = [];
  private readonly prepare = new PrepareHeader(new Uint8Array(headerSize));
  private readonly reply = new ReplyHeader(new Uint8Array(headerSize));
  private readonly timeline: TimelineRecorder | undefined;

  constructor(
    private readonly swarm: SwarmParameters,
    private readonly prng: Prng,
    private readonly factory: WorkloadFactory,
    private readonly options: SimulationOptions,
  ) {
    this.write = options.log === "none" ? () => {} : options.write;
    this.full = options.log === "full";
    this.timeline = options.timeline;
    const nodes = swarm.replicaCount + swarm.standbyCount;
    this.processDice = new ProcessDice(nodes, prng, swarm.process, {
      reformatsLeft: () => swarm.reformatsMax - this.faults.reformats,
      onReformat: () => { this.faults.reformats += 1; },
    });
    this.checkpointing = new Array<boolean>(nodes).fill(false);
    this.workload = factory.createWorkload(new Prng(swarm.workloadSeed), {
      clientCount: swarm.clientCount, batchSizeLimit: swarm.batchSizeLimit,
      multiBatchPerRequestLimit: swarm.multiBatchPerRequestLimit, replyBodySizeMax: testConfig.messageBodySizeMax,
    });
  }

  run(): SimulationResult {
    for (const line of describeSwarm(this.swarm, this.factory.stateMachine)) this.write(line);
    this.write(this.workload.describe());
    let exitCode: SimulationResult["exitCode"];
    let outcome: string;
    let details = "";
    try {
      ({ exitCode, outcome } = this.phases());
    } catch (error) {
      const correctness = error instanceof CorrectnessError;
      exitCode = correctness ? 129 : 127;
      const message = error instanceof Error ? error.message : String(error);
      const kind = error instanceof AssertionError ? "assertion" : error instanceof Error ? error.name : "throw";
      outcome = correctness ? `correctness: ${message}` : `crash: ${kind}: ${message}`;
      details = error instanceof Error ? error.stack ?? "" : "";
      this.dumpState();
    }
    const faults = this.faultCounts();
    this.write(describeCounts(faults, this.repairs));
    this.write(describeProbes(this.probes));
    if (exitCode === 0) this.write(`PASSED (${this.ticks} ticks)${outcome === "passed" ? "" : ` — ${outcome}`}`);
    else this.write(`FAILED exit=${exitCode} after ${this.ticks} ticks: ${outcome}${details ? `\n${details}` : ""}`);
    return {
      exitCode, ticks: this.ticks, outcome, details, parameters: this.parameters(),
      traceHash: this.trace.digest, faults, repairs: { ...this.repairs }, requestsReplied: this.requestsReplied,
      probes: { ...this.probes },
    };
  }

  private phases(): Ending {
    const swarm = this.swarm;
    const cluster = new Cluster({
      cluster: 0x5ca7abn, replicaCount: swarm.replicaCount, standbyCount: swarm.standbyCount,
      clientCount: swarm.clientCount, config: testConfig, release: releaseCurrent, seed: swarm.clusterSeed,
      network: swarm.network, storage: swarm.storage, storageSeed: swarm.storageSeed,
      storageSizeBytes: swarm.storageSizeBytes, gridCachePages: swarm.gridCachePages, workload: this.factory, observer: this,
      // Trace lines are never hashed: routing them to the timeline does not change the run.
      trace: this.full || this.timeline !== undefined, bugs: this.options.bugs, clocks: swarm.clocks, probe: this.probeHit,
      sleepWhenQuiet: this.options.sleepWhenQuiet ?? true,
    });
    this.cluster = cluster;
    this.timeline?.attach(cluster, {
      seed: swarm.seed, swarm: describeSwarm(swarm, this.factory.stateMachine), standbyCount: swarm.standbyCount,
      clientCount: swarm.clientCount, clocks: swarm.clocks,
    });
    cluster.start();
    for (let tick = 0; tick < swarm.warmupTicks; tick++) this.tick(false);
    this.timeline?.phase(this.ticks, "safety");
    const safetyFinished = this.safetyPhase(cluster);
    if (cluster.clients.allEvicted) return { exitCode: 0, outcome: "unimplemented: all clients evicted" };
    if (swarm.mode === "performance") {
      this.printNetworkStats(cluster);
      return safetyFinished ? { exitCode: 0, outcome: "passed" } : { exitCode: 128, outcome: "no progress (performance)" };
    }
    if (swarm.mode === "lite") {
      // §4: lite skips the liveness phase; it looks only for crashes and correctness failures.
      return { exitCode: 0, outcome: safetyFinished ? "passed" : "no liveness (lite): safety phase ran out of ticks" };
    }
    return this.livenessPhase(cluster, safetyFinished);
  }

  /** §6.1. Returns whether requests_max replies arrived within the no-progress budget. */
  private safetyPhase(cluster: Cluster): boolean {
    const budget = this.options.ticksMaxRequests ?? ticksMaxRequestsDefault;
    while (this.requestsReplied < this.swarm.requestsMax) {
      if (this.ticksWithoutProgress >= budget || cluster.clients.allEvicted) return false;
      this.tick(true);
      this.ticksWithoutProgress += 1;
    }
    return true;
  }

  /** §6.2: heal a core, stop process faults and new requests, run until convergence. */
  private livenessPhase(cluster: Cluster, safetyFinished: boolean): Ending {
    const core = chooseCore(this.prng, cluster, safetyFinished);
    this.faultsEnabled = false;
    this.timeline?.phase(this.ticks, "liveness", core);
    cluster.healCore(core);
    this.write(`liveness: core=[${core.join(",")}] (${safetyFinished ? "random" : "full: safety phase ran out of ticks"})`);
    const budget = this.options.ticksMaxConvergence ?? ticksMaxConvergenceDefault;
    let reason: string | null = convergence(cluster, core, this.checkpointing);
    for (let tick = 0; tick < budget && reason !== null; tick++) {
      if (cluster.clients.allEvicted) return { exitCode: 0, outcome: "unimplemented: all clients evicted" };
      this.tick(false);
      reason = convergence(cluster, core, this.checkpointing);
    }
    if (reason === null) {
      cluster.checker.assertHistory();
      return { exitCode: 0, outcome: "passed" };
    }
    const legitimate = explainNoConvergence(cluster, core);
    if (legitimate !== null) return { exitCode: 0, outcome: `no liveness: ${legitimate}` };
    this.dumpState();
    return { exitCode: 128, outcome: `no state convergence: ${reason}` };
  }

  /** One simulator tick (§5): cluster, requests, crashes, pauses. Upgrades do not exist yet. */
  private tick(requests: boolean): void {
    const cluster = this.cluster!;
    cluster.tick();
    if (requests) this.tickRequests(cluster);
    if (this.faultsEnabled) {
      this.processDice.tickCrash(cluster, this.ticks);
      this.processDice.tickPause(cluster, this.ticks);
    }
    this.timeline?.tick(this.ticks);
    this.ticks += 1;
    const partitioned = cluster.network.isPartitioned;
    if (partitioned && !this.wasPartitioned) this.faults.partitions += 1;
    this.wasPartitioned = partitioned;
  }

  /** §5 tick_requests: maybe one request from a random idle client, if the sequencer has room. */
  private tickRequests(cluster: Cluster): void {
    const clients = cluster.clients;
    if (clients.requestsSent - clients.requestsCancelled >= this.swarm.requestsMax) return;
    if (cluster.sequencer.free === 0) return;
    if (this.requestsIdle) {
      if (chance(this.prng, this.swarm.requestIdleOffProbability)) this.requestsIdle = false;
    } else if (chance(this.prng, this.swarm.requestIdleOnProbability)) {
      this.requestsIdle = true;
    }
    if (this.requestsIdle || !chance(this.prng, this.swarm.requestProbability)) return;
    const idle = clients.idleClients(this.idle);
    if (idle.length === 0) return;
    const index = idle[this.prng.int(idle.length)]!;
    const request = this.workload.nextRequest(index);
    if (request !== null) clients.request(index, request.operation, request.body);
  }

  /**
   * Counts a coverage probe hit. Counting only: a probe never feeds the trace hash, the log or a
   * PRNG, so a run is the same with and without it. A name outside the catalog is our bug.
   */
  private readonly probeHit = (name: ProbeName): void => {
    const count = this.probes[name];
    if (count !== undefined) {
      this.probes[name] = count + 1;
      return;
    }
    assert(isProbeName(name), `probe '${name}' is not in the catalog (src/core/probes.ts)`);
    this.probes[name] = 1;
  };

  // ClusterObserver.

  replicaEvent(replica: number, event: ClusterEvent): void {
    this.timeline?.event(this.ticks, replica, event);
    if (event === "crash") this.faults.crashes += 1;
    else if (event === "restart" || event === "reformat") this.faults.restarts += 1;
    else if (event === "pause") this.faults.pauses += 1;
    else if (event === "checkpoint_start") this.checkpointing[replica] = true;
    else if (event === "checkpoint_done") this.checkpointing[replica] = false;
    else if (event === "sync_done") this.repairs.stateSyncs += 1;
    if (event === "crash") this.checkpointing[replica] = false;
    if (event === "restart") return; // its "open" line follows, with the recovered state
    if (event === "reformat") this.log(`${replica}: data file lost: reformatted (scarab recover)`);
    const cluster = this.cluster!;
    const line = replicaLine(replica, cluster.nodeCount, event, cluster.replicas[replica] ?? null);
    // A view change emits "view" then "status" with nothing else changed: print it once.
    if (line === this.lastLines[replica]) return;
    this.lastLines[replica] = line;
    this.log(line);
  }

  replicaNotice(replica: number, event: NoticeEvent): void {
    this.timeline?.notice(this.ticks, replica, event);
    if (event === "repair_headers") this.repairs.walHeaders += 1;
    else if (event === "repair_prepare") this.repairs.walPrepares += 1;
    else if (event === "repair_block") this.repairs.gridBlocks += 1;
    else if (event === "scrub_fault") this.repairs.scrubFaults += 1;
    else if (event === "repair_reply") this.repairs.replies += 1;
    else if (event === "state_deferred") this.repairs.statesDeferred += 1;
    else if (event === "repair_superblock") this.repairs.superblocks += 1;
  }

  sequenced(prepare: Uint8Array, reply: Uint8Array | null): void {
    const header = this.prepare.reset(prepare, 0);
    const operation = header.operation;
    if (header.client === 0n) {
      if (operation === Operation.pulse) this.workload.onPulse(header.timestamp);
      return;
    }
    if (operation === Operation.register) return;
    const replyBody = reply === null ? new Uint8Array(0) : reply.subarray(headerSize, this.reply.reset(reply, 0).size);
    const violation = this.workload.onCommit(operation, header.timestamp, prepare.subarray(headerSize, header.size), replyBody);
    if (violation !== null) throw new CorrectnessError(`workload: op ${header.op}: ${violation}`);
  }

  clientReply(clientIndex: number, reply: Uint8Array): void {
    this.requestsReplied += 1;
    this.ticksWithoutProgress = 0;
    this.timeline?.reply(this.ticks);
    // Replies clients receive are only counted (§11.2), but each must be the canonical one.
    const header = this.reply.reset(reply, 0);
    const canonical = this.cluster!.checker.replyChecksumAt(header.op);
    if (canonical !== header.checksum_body) {
      throw new CorrectnessError(`client ${clientIndex}: reply to op ${header.op} is not the canonical reply`);
    }
    // Full-log extras are written, not traced: the trace must not depend on the log mode.
    if (this.full) this.write(`client ${clientIndex}: reply op=${header.op} request=${header.request}`);
  }

  clientEvicted(clientIndex: number, reason: string | number): void {
    this.faults.evictions += 1;
    this.timeline?.clientEvicted(this.ticks, clientIndex, String(reason));
    this.cluster!.checker.onEviction();
    this.log(`client ${clientIndex}: evicted (${reason})`);
  }

  traced(replica: number, line: string): void {
    this.timeline?.traced(this.ticks, replica, line);
    if (this.full) this.write(`  ${replica}: ${line}`);
  }

  delivered(source: number, target: number, message: Uint8Array): void {
    this.trace.bytes(message, 0, 16);
    if (this.full) this.write(`  ${source}→${target} ${commandName(message[114]!)} ${message.length}B`);
  }

  /** A log line goes into the trace hash whatever the log mode. */
  private log(line: string): void {
    this.trace.line(line);
    this.write(line);
  }

  private dumpState(): void {
    const cluster = this.cluster;
    if (cluster === null) return;
    this.write("cluster state:");
    for (let index = 0; index < cluster.nodeCount; index++) {
      this.write(replicaLine(index, cluster.nodeCount, cluster.paused[index] ? "pause" : "status",
        cluster.replicas[index] ?? null));
    }
    this.write(`cluster commit=${cluster.checker.commitLatest} requests_replied=${this.requestsReplied}` +
      ` clients_in_flight=${cluster.clients.requestsInFlight} evicted=${cluster.clients.evictedCount}`);
  }

  private printNetworkStats(cluster: Cluster): void {
    const stats = cluster.network.stats;
    for (let command = 0; command < 32; command++) {
      if (stats.messagesByCommand[command] === 0) continue;
      this.write(`${commandName(command).padEnd(12)} messages=${stats.messagesByCommand[command]} bytes=${stats.bytesByCommand[command]}`);
    }
  }

  private faultCounts(): FaultCounts {
    const stats = this.cluster?.network.stats;
    if (stats !== undefined) {
      this.faults.packetsDropped = stats.droppedCapacity + stats.droppedFilter + stats.droppedLoss + stats.droppedDisabled;
      this.faults.packetsReplayed = stats.replayed;
    }
    const storages = this.cluster?.storages ?? [];
    this.faults.latentErrors = storages.reduce((sum, storage) => sum + storage.stats.latentErrors, 0);
    this.faults.writeCorruptions = storages.reduce((sum, storage) => sum + storage.stats.writeCorruptions, 0);
    this.faults.misdirectedWrites = storages.reduce((sum, storage) => sum + storage.stats.misdirectedWrites, 0);
    this.faults.tornWrites = storages.reduce((sum, storage) => sum + storage.stats.tornWrites, 0);
    this.faults.clocksSkewed = this.swarm.clocks.filter((clock) => clock !== idealClock).length;
    this.faults.clockJumps = this.swarm.clocks.filter((clock) => clock.model === "step" && clock.afterTicks <= this.ticks).length;
    return { ...this.faults };
  }

  private parameters(): Record<string, string | number> {
    const s = this.swarm;
    return {
      seed: s.seed.toString(), mode: s.mode, state_machine: this.factory.stateMachine,
      replicas: s.replicaCount, standbys: s.standbyCount, clients: s.clientCount, requests_max: s.requestsMax,
      batch_size_limit: s.batchSizeLimit, fault_classes: activeFaultClasses(s).join(","),
    };
  }
}
