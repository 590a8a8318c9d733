// Process faults (spec/vopr.md §3.4, §5 steps 4-5): crash up replicas (×10 while writes are in
// flight), restart or reformat down ones, pause and unpause them, each after its stability period.
//
// The spec rolls each die for every node on every tick. At one in a million, that is a PRNG draw
// per node per tick for nothing, the largest part of the simulator's own per-tick work. Each node
// instead draws the tick on which its die next succeeds: the number of failed rolls before a
// success is geometric, P(k) = (1 − p)^k · p, exactly the distribution of rolling every tick (the
// clogs of packet_simulator.ts do the same). A success that lands on a tick when the die is not
// rolled (paused, down, within a stability period) is dropped and the next drawn from the next
// tick on: the rolls are independent, so nothing changes.
//
// A crash's chance depends on the tick (×10 while writes are in flight). Its die succeeds at the
// higher rate, crash_probability_writes_pending; on a tick without writes in flight a success also
// needs a second die of crash_probability / crash_probability_writes_pending (thinning), so every
// tick's chance of a crash is exactly the spec's.
import { assert } from "../../core/assert.js";
import type { Prng } from "../../core/prng.js";
import { recoverView } from "../../replica/quorums.js";
import { chance, failuresBeforeSuccess, ratioQuotient, type Ratio } from "../ratio.js";
import type { Cluster } from "../world/cluster.js";
import type { ProcessFaults } from "./swarm.js";

export interface ProcessDiceHost {
  /** Reformats left (§8: at most reformats_max per seed); a reformat counts itself. */
  readonly reformatsLeft: () => number;
  readonly onReformat: () => void;
}

export class ProcessDice {
  /** Per node: the tick of the last crash or restart, and of the last pause or unpause. */
  private readonly processTick: number[];
  private readonly pauseTick: number[];
  /** Per node: the next tick on which the crash (or, while down, restart) die succeeds. */
  private readonly crashRollAt: number[];
  /** Per node: the next tick on which the pause (or, while paused, unpause) die succeeds. */
  private readonly pauseRollAt: number[];
  /** crash_probability / crash_probability_writes_pending: the thinning die. */
  private readonly crashWithoutWrites: Ratio;

  constructor(nodes: number, private readonly prng: Prng, private readonly process: ProcessFaults,
    private readonly host: ProcessDiceHost) {
    const crash = process.crashProbability;
    const writing = process.crashProbabilityWritesPending;
    assert(crash.numerator * writing.denominator <= writing.numerator * crash.denominator,
      "process faults: a crash is likelier without writes in flight");
    this.crashWithoutWrites = ratioQuotient(crash, writing);
    this.processTick = new Array<number>(nodes).fill(0);
    this.pauseTick = new Array<number>(nodes).fill(0);
    // Every node starts up and unpaused, its stability periods counted from tick 0.
    this.crashRollAt = this.processTick.map(() => this.rollAt(process.restartStabilityTicks, writing));
    this.pauseRollAt = this.pauseTick.map(() => this.rollAt(process.unpauseStabilityTicks, process.pauseProbability));
  }

  /** §5 step 4 (tick_crash) on simulator tick `tick`. */
  tickCrash(cluster: Cluster, tick: number): void {
    for (let index = 0; index < cluster.nodeCount; index++) {
      if (tick >= this.crashRollAt[index]!) this.crashRoll(cluster, index, tick);
    }
  }

  /** §5 step 5 (tick_pause) on simulator tick `tick`. */
  tickPause(cluster: Cluster, tick: number): void {
    for (let index = 0; index < cluster.nodeCount; index++) {
      if (tick >= this.pauseRollAt[index]!) this.pauseRoll(cluster, index, tick);
    }
  }

  /** The crash die succeeded on `tick`: crash an up replica, restart (or reformat) a down one. */
  private crashRoll(cluster: Cluster, index: number, tick: number): void {
    const process = this.process;
    const since = tick - this.processTick[index]!;
    if (cluster.isUp(index)) {
      const rolled = !cluster.paused[index] && since >= process.restartStabilityTicks;
      if (rolled && (cluster.storages[index]!.pendingWrites > 0 || chance(this.prng, this.crashWithoutWrites))) {
        cluster.crash(index);
        this.processTick[index] = tick;
        this.crashRollAt[index] = this.rollAt(tick + Math.max(1, process.crashStabilityTicks), process.restartProbability);
        return;
      }
      const from = Math.max(tick + 1, this.processTick[index]! + process.restartStabilityTicks);
      this.crashRollAt[index] = this.rollAt(from, process.crashProbabilityWritesPending);
      return;
    }
    if (since < process.crashStabilityTicks) {
      this.crashRollAt[index] = this.rollAt(Math.max(tick + 1, this.processTick[index]! + process.crashStabilityTicks),
        process.restartProbability);
      return;
    }
    const faultAllowed = cluster.faultAllowed(index);
    if (this.reformatAllowed(cluster, index, faultAllowed) && chance(this.prng, process.reformatProbability)) {
      this.reformat(cluster, index);
    } else {
      cluster.restart(index, faultAllowed);
    }
    this.processTick[index] = tick;
    this.crashRollAt[index] = this.rollAt(tick + Math.max(1, process.restartStabilityTicks), process.crashProbabilityWritesPending);
  }

  /** The pause die succeeded on `tick`: pause an up replica, unpause a paused one. */
  private pauseRoll(cluster: Cluster, index: number, tick: number): void {
    const process = this.process;
    const paused = cluster.paused[index]!;
    const stability = paused ? process.pauseStabilityTicks : process.unpauseStabilityTicks;
    const probability = paused ? process.unpauseProbability : process.pauseProbability;
    if (!cluster.isUp(index) || tick - this.pauseTick[index]! < stability) {
      // Not rolled on this tick (a down replica is not paused, so the pause die goes on).
      this.pauseRollAt[index] = this.rollAt(Math.max(tick + 1, this.pauseTick[index]! + stability), probability);
      return;
    }
    if (paused) cluster.unpause(index);
    else cluster.pause(index);
    this.pauseTick[index] = tick;
    // The next roll comes on a later tick, and not within the new state's stability period.
    this.pauseRollAt[index] = paused
      ? this.rollAt(tick + Math.max(1, process.unpauseStabilityTicks), process.pauseProbability)
      : this.rollAt(tick + Math.max(1, process.pauseStabilityTicks), process.unpauseProbability);
  }

  /** The first tick from `from` on whose roll of `probability` succeeds (Infinity: never). */
  private rollAt(from: number, probability: Ratio): number {
    return from + failuresBeforeSuccess(this.prng, probability);
  }

  /**
   * §8 "Reformat": only when faults are allowed, never a standby, at most reformats_max times, and
   * only once the cluster committed every op the replica acknowledged (scarab recover's no-ops).
   */
  private reformatAllowed(cluster: Cluster, index: number, faultAllowed: boolean): boolean {
    return faultAllowed && index < cluster.replicaCount && cluster.replicaCount > 1 &&
      this.host.reformatsLeft() > 0 && cluster.checker.reformatSafe(index);
  }

  /** The data file is lost: formatted in a view past any the replica or the cluster spoke in. */
  private reformat(cluster: Cluster, index: number): void {
    let view = cluster.checker.viewSpoken(index);
    for (const replica of cluster.replicas) if (replica !== null) view = Math.max(view, replica.view);
    cluster.reformat(index, recoverView(view, index, cluster.replicaCount));
    this.host.onReformat();
  }
}
