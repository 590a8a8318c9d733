// Checkpoint arithmetic (spec/vsr.md §9). Every function is pure and derives from one Config, so
// the simulator (checkpoints at 19, 39, 59…) and production (959, 1919…) share one code path.
import { assert, assertFailed } from "../core/assert.js";
import type { Config } from "../core/config.js";

export interface CheckpointMath {
  /** Checkpoints fall only at the end of a bar (§9 `valid`). */
  checkpointValid(op: number): boolean;
  /** The checkpoint that follows checkpoint `c`. */
  checkpointAfter(c: number): number;
  /** The commit that triggers checkpoint `c` to be written; null for the root checkpoint 0. */
  triggerForCheckpoint(c: number): number | null;
  /** The highest op that may be prepared while `c` is the next checkpoint; null for c = 0. */
  prepareMaxForCheckpoint(c: number): number | null;
  /** Whether checkpoint `c` is held by a quorum once the cluster has committed `commit`. */
  checkpointDurable(c: number, commit: number): boolean;
  /**
   * The op whose commit makes checkpoint `c` durable, the first checkpointDurable accepts (null for
   * the root, durable from the start): every replica frees the blocks `c` released when it commits
   * this op (grid/free_set.ts).
   */
  checkpointDurableOp(c: number): number | null;
  /** The highest op a replica whose last checkpoint is `opCheckpoint` may prepare (§9, §17.5). */
  opPrepareMax(opCheckpoint: number): number;
  /**
   * The highest op such a replica may acknowledge: one pipeline short of opPrepareMax. An
   * acknowledgement beyond the next checkpoint's trigger + pipeline vouches that this checkpoint
   * is durable here, which is what checkpointDurable() infers from a commit.
   */
  opPrepareOkMax(opCheckpoint: number): number;
}

export function checkpointMath(config: Config): CheckpointMath {
  const compactionOps = config.lsmCompactionOps;
  const pipelineMax = config.pipelinePrepareQueueMax;
  const checkpointOps = config.vsrCheckpointOps;
  assert(compactionOps > 0 && pipelineMax > 0 && checkpointOps > 0);
  // The durability rule: an entry of the previous wrap is overwritten only after a quorum holds
  // the next checkpoint. Config derivation asserts it too; restated here because the functions
  // below are only correct under it.
  assert(checkpointOps + compactionOps + 2 * pipelineMax <= config.journalSlotCount);
  // checkpoint_after() must land on a bar boundary again.
  assert(checkpointOps % compactionOps === 0);
  // A checkpoint is durable (its releases free) before the next one is taken.
  assert(compactionOps + pipelineMax + 1 <= checkpointOps);

  function checkpointValid(op: number): boolean {
    assertOp(op);
    // A checkpoint is only allowed at the end of a bar, when compaction has caught up.
    return op === 0 || (op + 1) % compactionOps === 0;
  }

  function checkpointAfter(c: number): number {
    if (!checkpointValid(c)) assertFailed(`checkpointAfter: ${c} is not a valid checkpoint`);
    // The root checkpoint (0) is not at the end of a bar, so the first interval is one shorter.
    const result = c === 0 ? checkpointOps - 1 : c + checkpointOps;
    assert(checkpointValid(result) && result > c);
    return result;
  }

  function triggerForCheckpoint(c: number): number | null {
    if (!checkpointValid(c)) assertFailed(`triggerForCheckpoint: ${c} is not a valid checkpoint`);
    // The checkpoint is written once the first bar after it has been compacted.
    return c === 0 ? null : c + compactionOps;
  }

  function prepareMaxForCheckpoint(c: number): number | null {
    const trigger = triggerForCheckpoint(c);
    // Two pipelines past the trigger: the primary keeps preparing while the checkpoint is written
    // and while it becomes durable on a quorum.
    return trigger === null ? null : trigger + 2 * pipelineMax;
  }

  function checkpointDurable(c: number, commit: number): boolean {
    assertOp(commit);
    const durableOp = checkpointDurableOp(c);
    return durableOp === null || commit >= durableOp;
  }

  function checkpointDurableOp(c: number): number | null {
    const trigger = triggerForCheckpoint(c);
    // Committing an op beyond trigger + pipeline needs a replication quorum of prepare_oks sent
    // by replicas whose prepare window already required the checkpoint to be written.
    return trigger === null ? null : trigger + pipelineMax + 1;
  }

  function opPrepareMax(opCheckpoint: number): number {
    const prepareMax = prepareMaxForCheckpoint(checkpointAfter(opCheckpoint));
    assert(prepareMax !== null);
    // Never overwrite an op that is not yet in a local checkpoint.
    assert(prepareMax - config.journalSlotCount <= opCheckpoint);
    return prepareMax;
  }

  function opPrepareOkMax(opCheckpoint: number): number {
    const trigger = triggerForCheckpoint(checkpointAfter(opCheckpoint));
    assert(trigger !== null);
    return trigger + pipelineMax;
  }

  return {
    checkpointValid, checkpointAfter, triggerForCheckpoint, prepareMaxForCheckpoint,
    checkpointDurable, checkpointDurableOp, opPrepareMax, opPrepareOkMax,
  };
}

function assertOp(op: number): void {
  if (!(Number.isSafeInteger(op) && op >= 0)) assertFailed(`checkpoint math: bad op ${op}`);
}
