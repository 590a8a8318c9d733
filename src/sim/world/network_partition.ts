// Automatic network partitions (spec/vopr.md §9 "Partitions"): after `unpartition_stability`
// healthy ticks, partition with `partition_probability` per tick; after `partition_stability`
// partitioned ticks, heal with `unpartition_probability` per tick. Only replicas and standbys
// (nodes 0..count−1) are ever split: clients are never partitioned.
import { assert } from "../../core/assert.js";
import type { Prng } from "../../core/prng.js";
import {
  commandMaskAll, commandMaskNone, PartitionMode, PartitionSymmetry, type PartitionOptions,
} from "./network_options.js";
import { chance, intBelow, ratioZero, type Ratio } from "../ratio.js";

/** Sets the command filter of the directed link source → target. */
export type SetFilter = (source: number, target: number, mask: number) => void;

export class NetworkPartition {
  private partitioned = false;
  /** Ticks left before the state may change again. */
  private stability: number;
  private partitionProbability: Ratio;
  private unpartitionProbability: Ratio;
  /** 0 or 1 per replica node while partitioned. */
  private readonly side: Uint8Array;
  private readonly order: number[] = [];
  /** Asymmetric partitions: the side (0 or 1) that can still send to the other; −1 otherwise. */
  private sending = -1;

  constructor(
    private readonly count: number,
    private readonly prng: Prng,
    private readonly options: PartitionOptions,
    private readonly setFilter: SetFilter,
  ) {
    this.side = new Uint8Array(count);
    this.stability = options.unpartitionStabilityTicks;
    this.partitionProbability = options.partitionProbability;
    this.unpartitionProbability = options.unpartitionProbability;
  }

  get isPartitioned(): boolean {
    return this.partitioned;
  }

  /** The node's side (0 or 1); 0 when not partitioned. */
  sideOf(node: number): number {
    assert(node >= 0 && node < this.count, "partition: not a replica node");
    return this.partitioned ? this.side[node]! : 0;
  }

  /** While partitioned asymmetrically, the side that can still send to the other; else −1. */
  get sendingSide(): number {
    return this.partitioned ? this.sending : -1;
  }

  /** Liveness phase (§6.2): the current state, partitioned or not, becomes permanent. */
  freeze(): void {
    this.partitionProbability = ratioZero;
    this.unpartitionProbability = ratioZero;
  }

  tick(): void {
    if (this.options.partitionMode === PartitionMode.none) return;
    if (this.stability > 0) {
      this.stability -= 1;
    } else if (this.partitioned) {
      if (chance(this.prng, this.unpartitionProbability)) {
        this.unpartition();
        this.stability = this.options.unpartitionStabilityTicks;
      }
    } else if (chance(this.prng, this.partitionProbability)) {
      if (this.partition(this.options.partitionMode, this.options.partitionSymmetry)) {
        this.stability = this.options.partitionStabilityTicks;
      }
    }
  }

  /**
   * Splits the nodes into exactly two non-empty sides. Symmetric: no link crosses. Asymmetric:
   * one random side can still send to the other but not receive from it. Returns false when
   * fewer than two nodes exist (nothing to split).
   */
  partition(mode: PartitionMode, symmetry: PartitionSymmetry): boolean {
    const count = this.count;
    if (count < 2 || mode === PartitionMode.none) return false;
    this.drawSides(mode);
    const sendingSide = symmetry === PartitionSymmetry.asymmetric ? this.prng.intInclusive(1) : -1;
    for (let source = 0; source < count; source++) {
      for (let target = 0; target < count; target++) {
        if (source === target) continue;
        const open = this.side[source] === this.side[target] || this.side[source] === sendingSide;
        this.setFilter(source, target, open ? commandMaskAll : commandMaskNone);
      }
    }
    this.sending = sendingSide;
    this.partitioned = true;
    return true;
  }

  unpartition(): void {
    for (let source = 0; source < this.count; source++) {
      for (let target = 0; target < this.count; target++) this.setFilter(source, target, commandMaskAll);
    }
    this.side.fill(0);
    this.partitioned = false;
  }

  private drawSides(mode: PartitionMode): void {
    const { side, count, prng } = this;
    if (mode === PartitionMode.uniform_size) {
      const size = prng.range(1, count - 1);
      const order = this.order;
      order.length = 0;
      for (let node = 0; node < count; node++) order.push(node);
      prng.shuffle(order);
      for (let index = 0; index < count; index++) side[order[index]!] = index < size ? 1 : 0;
    } else if (mode === PartitionMode.uniform_partition) {
      let ones = 0;
      for (let node = 0; node < count; node++) {
        side[node] = prng.intInclusive(1);
        ones += side[node]!;
      }
      // Every flip the same would be no partition: move one random node across.
      if (ones === 0 || ones === count) side[intBelow(prng, count)] ^= 1;
    } else {
      assert(mode === PartitionMode.isolate_single, "partition: unknown mode");
      side.fill(0);
      side[intBelow(prng, count)] = 1;
    }
  }
}
