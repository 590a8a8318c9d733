// State sync (spec/vsr.md §8): a replica too far behind to repair its WAL from peers (they have
// wrapped past what it needs) adopts a newer checkpoint instead. The target CheckpointState comes
// in a `view` message; the grid walks it from its manifest (grid/grid_sync.ts) and fetches from
// peers, by (address, checksum), only the blocks it does not already hold — every block is verified
// against the checksum held outside it, so any peer may serve them. Once all blocks are local, the
// replica points its superblock at the target, opens it like a restart would, and re-applies the
// `view` to install the log suffix above the checkpoint. While syncing it commits nothing and
// withholds prepare_oks.
import type { ScrubFault } from "../../grid/grid_scrubber.js";
import { assert } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import { Command } from "../../core/command.js";
import { BlockHeader, Header, PrepareHeader, setChecksums } from "../../core/header.js";
import type { BlockReference } from "../../grid/block.js";
import { GridSync } from "../../grid/grid_sync.js";
import type { Replica } from "../replica.js";
import { checkpointId, type CheckpointState } from "../superblock/superblock.js";
import { openCheckpoint } from "./checkpoint.js";

/** A get_blocks entry: address u64, checksum u128, 8 reserved. */
const entrySize = 32;
const blocksRequestedPerTick = 8;
/** Grid repair asks for the blocks its reads wait for every this many ticks (100 ms). */
const gridRepairTicks = 10;

/** A sync that finds or receives no block for this many repair ticks (≈ 3 s) is abandoned and retried. */
const syncIdleTicksMax = 30;
/** A sync idle for this many repair ticks (≈ 0.5 s) gives way to a newer target. */
const syncReplaceIdleTicks = 5;

export function startSync(replica: Replica, target: CheckpointState, view: Uint8Array, source: number): void {
  if (replica.syncing !== null) return replica.ignored("view", "already syncing");
  if (replica.checkpointing) return replica.ignored("view", "checkpointing: sync later");
  assert(source !== replica.replica && source < replica.replicaCount + replica.standbyCount);
  const targetOp = new PrepareHeader(target.header, 0).op;
  assert(replica.math.checkpointValid(targetOp) && targetOp > replica.opCheckpoint, "sync to a checkpoint behind ours");
  const blocks = new GridSync(replica.grid, { address: target.manifest_address, checksum: target.manifest_checksum }, replica.cluster);
  replica.syncStart({ target, targetOp, blocks, view: view.slice(), source, writing: false, idleTicks: 0, resolvedAtTick: 0 });
  requestBlocks(replica);
}

/** Called on each repair tick: asks for missing blocks, or gives up on a target nobody serves. */
export function tickSync(replica: Replica): void {
  const sync = replica.syncing;
  if (sync === null || sync.writing) return;
  assert(sync.idleTicks <= syncIdleTicksMax);
  sync.idleTicks = sync.blocks.blocksResolved > sync.resolvedAtTick ? 0 : sync.idleTicks + 1;
  sync.resolvedAtTick = sync.blocks.blocksResolved;
  if (sync.idleTicks > syncIdleTicksMax) {
    // Peers moved on and overwrote that checkpoint's blocks: ask for the current view again.
    replica.trace(`sync to checkpoint ${sync.targetOp} abandoned: no block for ${syncIdleTicksMax} repair ticks`);
    cancelSync(replica);
    return;
  }
  requestBlocks(replica);
}

/** Abandons a sync that has not started writing (a newer target, or an unserved one). */
export function cancelSync(replica: Replica): void {
  if (replica.syncing === null || replica.syncing.writing) return;
  replica.syncCancel();
  assert(replica.syncing === null);
}

/**
 * True when `targetOp` is a newer checkpoint than the one being synced and may replace it: once
 * the sync has stalled for a while (peers may have reused its blocks). A sync that is still
 * receiving blocks goes on: a cluster that checkpoints faster than a sync completes (a primary
 * replaying a backlog) would otherwise restart it on every `view`, and it would never finish.
 */
export function syncTargetStale(replica: Replica, targetOp: number): boolean {
  const sync = replica.syncing;
  return sync !== null && !sync.writing && targetOp > sync.targetOp && sync.idleTicks >= syncReplaceIdleTicks;
}

function requestBlocks(replica: Replica): void {
  const sync = replica.syncing;
  assert(sync !== null, "requesting blocks without a sync");
  assert(!sync.writing);
  if (sync.blocks.failure !== null) {
    replica.trace(`sync to checkpoint ${sync.targetOp} abandoned: ${sync.blocks.failure}`);
    return cancelSync(replica);
  }
  if (sync.blocks.complete) return finishSync(replica);
  const wanted = sync.blocks.nextWanted(blocksRequestedPerTick);
  if (wanted.length === 0) return; // still looking for blocks locally
  // Ask the replica that sent the view, or any other node: its copy of a block may be faulty (it
  // is repaired only when read), and standbys hold the same blocks.
  sendGetBlocks(replica, replica.prng.chance(1, 2) ? sync.source : anyOtherNode(replica), wanted);
}

/** A random node other than ourselves, active or standby. */
export function anyOtherNode(replica: Replica): number {
  const others = replica.replicaCount + replica.standbyCount - 1;
  assert(others >= 1, "no other node to ask");
  return (replica.replica + 1 + replica.prng.int(others)) % (others + 1);
}

/**
 * Grid repair (grid/grid_repair.ts), on every tick from open on: every 100 ms, asks a random peer
 * for the blocks that reads of our own state wait for.
 */
export function tickGridRepair(replica: Replica): void {
  const repair = replica.grid.repair;
  if (repair === null || repair.pending === 0) return;
  replica.gridRepairTicks += 1;
  if (replica.gridRepairTicks < gridRepairTicks) return;
  replica.gridRepairTicks = 0;
  const wanted = repair.nextWanted(blocksRequestedPerTick);
  assert(wanted.length > 0, "grid repair pending with nothing wanted");
  // Any other node: active replicas hold the same blocks at the same addresses, standbys too.
  sendGetBlocks(replica, anyOtherNode(replica), wanted);
}

/**
 * The grid scrubber (grid/grid_scrubber.ts), on every tick of a replica whose state is loaded and
 * not being replaced: a faulty block it finds is fetched from peers in the background.
 */
export function tickScrubber(replica: Replica): void {
  if (!replica.scrubberRuns) return;
  replica.scrubber.tick(replica.onScrubFault);
}

/** What the replica does when its scrubber finds a faulty block (made once: the scrubber ticks every tick). */
export function scrubFaultHandler(replica: Replica): (fault: ScrubFault) => void {
  return ({ reference, repairing }) => {
    replica.probe("scrubber_fault_found");
    replica.notice("scrub_fault", () => `grid block ${reference.address} read back corrupt or misdirected by the ` +
      `scrubber: ${repairing ? "repairing it from a peer" : "no peer to repair it from"}`);
  };
}

function sendGetBlocks(replica: Replica, target: number, wanted: readonly BlockReference[]): void {
  const message = new Uint8Array(headerSize + wanted.length * entrySize);
  assert(message.length <= replica.config.messageSizeMax, "a get_blocks beyond a message");
  const view = new DataView(message.buffer);
  wanted.forEach((reference, n) => {
    view.setBigUint64(headerSize + n * entrySize, BigInt(reference.address), true);
    writeChecksum(view, headerSize + n * entrySize + 8, reference.checksum);
  });
  const header = new Header(message, 0);
  replica.frame(header, Command.get_blocks, message.length);
  setChecksums(message, 0, message.length);
  replica.sendToReplica(target, message);
}

/** Serves blocks of our current or previous checkpoint that match the requested checksums. */
function ignoreGetBlocks(replica: Replica, request: Header): string | null {
  if (request.replica === replica.replica) return "from ourselves";
  if ((request.size - headerSize) % entrySize !== 0) return "bad size";
  return null;
}

export function onGetBlocks(replica: Replica, message: Uint8Array): void {
  const request = new Header(message, 0);
  const from = request.replica;
  const reason = ignoreGetBlocks(replica, request);
  if (reason !== null) return replica.ignored("get_blocks", reason);
  assert(from !== replica.replica && request.size >= headerSize);
  assert(request.size === message.length && (request.size - headerSize) % entrySize === 0);
  const view = new DataView(message.buffer, message.byteOffset, message.length);
  for (let offset = headerSize; offset < request.size; offset += entrySize) {
    const address = view.getBigUint64(offset, true);
    const checksum = readChecksum(view, offset + 8);
    if (address < 1n || address > BigInt(replica.grid.blocksLimit)) continue;
    serveBlock(replica, from, Number(address), checksum);
  }
}

/** Sends our block at `address` if it is the one with `checksum` (of any checkpoint). */
function serveBlock(replica: Replica, to: number, address: number, checksum: bigint): void {
  replica.grid.readLocal({ address, checksum }, (block) => {
    if (block === null) return replica.ignored("get_blocks", "no such block here");
    // A block is a message of its header's size: the rest of the block buffer is padding, which
    // on a TCP stream would be read as the next header (and close the connection).
    const size = new BlockHeader(block, 0).size;
    assert(size >= headerSize && size <= block.length);
    replica.sendToReplica(to, block.subarray(0, size));
  });
}

/**
 * A block a peer served: for grid repair if a read of ours waits for it, else for the state sync.
 * Both verify it against the reference they hold before taking it.
 */
export function onBlock(replica: Replica, message: Uint8Array): void {
  if (message.length > replica.config.blockSize) return replica.ignored("block", "larger than a block");
  const block = new Uint8Array(replica.config.blockSize);
  block.set(message, 0);
  const repaired = replica.grid.receiveRepair(block);
  if (repaired !== null) {
    replica.probe("grid_block_repaired");
    if (repaired === "misplaced") replica.probe("misdirected_write_repaired");
    const address = new BlockHeader(block, 0).address;
    replica.notice("repair_block", () => `repaired grid block ${address}: our copy was corrupt or misdirected`);
    return;
  }
  const sync = replica.syncing;
  if (sync === null) return replica.ignored("block", "not syncing, and no read waits for it");
  if (sync.writing) return replica.ignored("block", "sync already writing");
  const refused = sync.blocks.receive(block);
  if (refused !== null) return replica.ignored("block", refused);
  sync.idleTicks = 0;
  if (sync.blocks.complete) finishSync(replica);
}

/**
 * All blocks are local: write them (staged where they would overwrite the checkpoint we still
 * stand on, grid/sync_moves.ts), switch the superblock to the new checkpoint, move the staged
 * blocks home, open the checkpoint, re-apply the view.
 */
function finishSync(replica: Replica): void {
  const sync = replica.syncing!;
  assert(!sync.writing && sync.blocks.complete);
  assert(!replica.checkpointing, "syncing while checkpointing");
  sync.writing = true;
  // Reads of the state being replaced stop waiting for repairs (they see the sync and stop).
  replica.grid.repair?.suspend();
  const checkpoint = sync.target;
  sync.blocks.stage(checkpointId(checkpoint), (movesAddress, stagedInPlace) => {
    assert(replica.syncing === sync, "the sync target changed while writing");
    if (stagedInPlace) replica.trace(`sync to checkpoint ${sync.targetOp}: no free blocks to stage in; written in place`);
    const install = (): void => {
      // The new checkpoint is on disk: opening it may repair its blocks like any read of our state.
      replica.grid.repair?.resume();
      openCheckpoint(replica, checkpoint, openDone);
    };
    const openDone = (error: string | null): void => {
      assert(error === null, `opening the synced checkpoint: ${error}`);
      replica.syncInstalled(checkpoint, checkpointId(checkpoint));
      replica.stateLoaded = true;
      assert(replica.syncing === null);
      replica.prepareCache.clear();
      assert(replica.commitMin === sync.targetOp && replica.opCheckpoint === sync.targetOp);
      replica.applyView(sync.view);
    };
    replica.runSuperblockJob((done) => {
      replica.superblock.updateCheckpoint({
        checkpoint,
        commit_max: Math.max(replica.commitMax, sync.targetOp, replica.superblock.working!.vsr_state.commit_max),
        sync_op_min: replica.commitMin + 1, sync_op_max: sync.targetOp, sync_moves_address: movesAddress,
        view_headers: replica.superblock.working!.view_headers,
      }, () => {
        done();
        if (movesAddress === 0) return install();
        sync.blocks.move(() => replica.runSuperblockJob((forgotten) => replica.superblock.forgetSyncMoves(() => {
          forgotten();
          install();
        })));
      });
    });
  });
}

function writeChecksum(view: DataView, offset: number, value: bigint): void {
  assert(value >= 0n && offset + 16 <= view.byteLength, "a u128 checksum out of range");
  view.setBigUint64(offset, value & 0xffff_ffff_ffff_ffffn, true);
  view.setBigUint64(offset + 8, value >> 64n, true);
}

function readChecksum(view: DataView, offset: number): bigint {
  return (view.getBigUint64(offset + 8, true) << 64n) | view.getBigUint64(offset, true);
}

/**
 * The state-sync rule of vsr.md §8: adopt `target` only when WAL repair cannot catch us up. More
 * than one checkpoint behind → sync; exactly one behind → only once that checkpoint is durable
 * (held by a quorum), since syncing from a lone replica's checkpoint strands the cluster's WAL.
 */
export function syncNeeded(replica: Replica, targetOp: number, viewOp: number, commitMax: number): boolean {
  assert(replica.syncing === null);
  if (targetOp <= replica.commitMin || targetOp <= replica.opCheckpoint) return false;
  if (replica.bugs.syncToUndurableCheckpoint) return true;
  // WAL repair suffices, unless our own checkpoint is not loaded (replica.ts stateLoaded), or the
  // next checkpoint is durable and our repair is stuck (TigerBeetle's on_view's `likely_stuck`).
  if (viewOp <= replica.opPrepareMax && replica.stateLoaded) {
    return replica.math.checkpointDurable(replica.math.checkpointAfter(replica.opCheckpoint), commitMax) &&
      repairStuck(replica);
  }
  assert(targetOp > replica.opCheckpoint && (viewOp > replica.opPrepareMax || !replica.stateLoaded));
  if (targetOp > replica.math.checkpointAfter(replica.opCheckpoint)) return true;
  // Checkpoints fall on one chain (checkpointAfter from 0): exactly one checkpoint behind.
  assert(targetOp === replica.math.checkpointAfter(replica.opCheckpoint), "a checkpoint off the chain");
  return replica.math.checkpointDurable(targetOp, commitMax);
}

/**
 * TigerBeetle's repair_stuck: whether WAL and grid repair have likely stopped making progress, so
 * that a durable newer checkpoint should be synced to instead. A heuristic: when repair cannot
 * finish, this eventually holds; it may also hold when repair would, later. Only for a backup with
 * ops to commit, not checkpointing, whose commit did not move over a whole repair_sync period,
 * and whose next op lacks its header (the chain from the head stops above it), its prepare, or
 * the grid blocks its execution waits for.
 */
export function repairStuck(replica: Replica): boolean {
  // A state sync under way is the remedy already: a `view` asked for meanwhile could replace its
  // target with a newer one whenever its block fetches pause, and a busy cluster always has one.
  if (replica.syncing !== null) return false;
  if (replica.commitMin === replica.commitMax || replica.checkpointing) return false;
  if (replica.status === "recovering_head") return false;
  const progress = replica.walRepairProgress;
  if (progress.advanced || progress.commitMin < replica.commitMin) return false;
  const next = replica.commitMin + 1;
  const stuckHeader = replica.canonicalFrom() > next;
  const stuckPrepare = replica.journal.header(next) === null || replica.journal.isDirty(next);
  const stuckGrid = (replica.grid.repair?.pending ?? 0) > 0;
  return stuckHeader || stuckPrepare || stuckGrid;
}
