// State sync (spec/vsr.md §8): a replica too far behind to repair its WAL from peers (they have
// wrapped past what it needs) adopts a newer checkpoint instead. The target CheckpointState comes
// in a `view` message; its blocks come from peers by (index, checksum) — every block is verified
// against the checksum held outside it, so any peer may serve them. Once all blocks are local,
// the replica writes them to its free grid area, points its superblock at them, loads the state,
// and re-applies the `view` to install the log suffix above the checkpoint. While syncing it
// commits nothing and withholds prepare_oks.
import { assert } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import { Command } from "../../core/command.js";
import { BlockHeader, Header, PrepareHeader, setChecksums } from "../../core/header.js";
import { decodeSessions } from "../client_sessions.js";
import {
  areaFirstAddress, areaOf, blockTypeManifest, manifestChecksums, verifyBlock,
} from "../grid_snapshot.js";
import type { Replica } from "../replica.js";
import { checkpointId, type CheckpointState } from "../superblock/superblock.js";

/** A get_blocks entry: index u64 (the block's place in its checkpoint), checksum u128, 8 reserved. */
const entrySize = 32;
const blocksRequestedPerTick = 8;

/** A sync that receives no block for this many repair ticks (≈ 3 s) is abandoned and retried. */
const syncIdleTicksMax = 30;

export function startSync(replica: Replica, target: CheckpointState, view: Uint8Array, source: number): void {
  if (replica.syncing !== null) return replica.ignored("view", "already syncing");
  if (replica.checkpointing) return replica.ignored("view", "checkpointing: sync later");
  assert(source !== replica.replica && source < replica.replicaCount + replica.standbyCount);
  const targetOp = new PrepareHeader(target.header, 0).op;
  assert(replica.math.checkpointValid(targetOp) && targetOp > replica.opCheckpoint, "sync to a checkpoint behind ours");
  replica.syncStart({
    target, targetOp, checksums: [target.manifest_checksum],
    blocks: [null], view: view.slice(), source, writing: false, idleTicks: 0,
  });
  requestBlocks(replica);
}

/** Called on each repair tick: asks for missing blocks, or gives up on a target nobody serves. */
export function tickSync(replica: Replica): void {
  const sync = replica.syncing;
  if (sync === null || sync.writing) return;
  assert(sync.idleTicks <= syncIdleTicksMax);
  assert(sync.blocks.length === sync.checksums.length && sync.blocks.length >= 1, "the manifest is always wanted");
  sync.idleTicks += 1;
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

/** True when `targetOp` is a newer checkpoint than the one being synced (and may replace it). */
export function syncTargetStale(replica: Replica, targetOp: number): boolean {
  const sync = replica.syncing;
  return sync !== null && !sync.writing && targetOp > sync.targetOp;
}

function requestBlocks(replica: Replica): void {
  const sync = replica.syncing;
  assert(sync !== null, "requesting blocks without a sync");
  assert(!sync.writing && sync.blocks.length === sync.checksums.length);
  const wanted: number[] = [];
  for (let i = 0; i < sync.blocks.length && wanted.length < blocksRequestedPerTick; i++) {
    if (sync.blocks[i] === null) wanted.push(i);
  }
  if (wanted.length === 0) return;
  assert(wanted.length <= blocksRequestedPerTick);
  const message = new Uint8Array(headerSize + wanted.length * entrySize);
  assert(message.length <= replica.config.messageSizeMax, "a get_blocks beyond a message");
  const view = new DataView(message.buffer);
  wanted.forEach((i, n) => {
    view.setBigUint64(headerSize + n * entrySize, BigInt(i + 1), true);
    writeChecksum(view, headerSize + n * entrySize + 8, sync.checksums[i]!);
  });
  const header = new Header(message, 0);
  replica.frame(header, Command.get_blocks, message.length);
  setChecksums(message, 0, message.length);
  // Ask the replica that sent the view, or anyone else if it stays silent.
  const source = replica.prng.chance(1, 2) ? sync.source : replica.prng.int(replica.replicaCount);
  replica.sendToReplica(source, message);
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
  const current = replica.superblock.working!.vsr_state.checkpoint.manifest_address;
  const areas = [areaOf(replica.config, current), 1 - areaOf(replica.config, current)];
  assert(areas[0]! + areas[1]! === 1, "two distinct checkpoint areas");
  for (let offset = headerSize; offset < request.size; offset += entrySize) {
    const index = Number(view.getBigUint64(offset, true));
    const checksum = readChecksum(view, offset + 8);
    if (index < 1 || index > 1 << 20) continue;
    serveBlock(replica, from, areas, index, checksum);
  }
}

function serveBlock(replica: Replica, to: number, areas: number[], index: number, checksum: bigint): void {
  // Recursion bounded by the two areas: the current checkpoint's, then the previous one's.
  assert(areas.length <= 2 && index >= 1);
  const [area, ...rest] = areas;
  if (area === undefined) return replica.ignored("get_blocks", "no such block in either area");
  replica.grid.readBlock(areaFirstAddress(replica.config, area) + index - 1, checksum, (block) => {
    if (block === null) return serveBlock(replica, to, rest, index, checksum);
    // A block is a message of its header's size: the rest of the block buffer is padding, which
    // on a TCP stream would be read as the next header (and close the connection).
    const size = new BlockHeader(block, 0).size;
    assert(size >= headerSize && size <= block.length);
    replica.sendToReplica(to, block.subarray(0, size));
  });
}

function ignoreBlock(replica: Replica, index: number, message: Uint8Array): string | null {
  const sync = replica.syncing;
  if (sync === null) return "not syncing";
  if (sync.writing) return "sync already writing";
  if (index < 0 || index >= sync.blocks.length) return "not a block of the target";
  if (sync.blocks[index] !== null) return "already have it";
  if (!verifyBlock(message, sync.checksums[index]!, replica.cluster)) return "checksum mismatch";
  return null;
}

export function onBlock(replica: Replica, message: Uint8Array): void {
  const index = new BlockHeader(message, 0).address - 1;
  const reason = ignoreBlock(replica, index, message);
  if (reason !== null) return replica.ignored("block", reason);
  const sync = replica.syncing!;
  assert(!sync.writing && sync.blocks[index] === null && message.length <= replica.config.blockSize);
  assert(index >= 0 && index < sync.blocks.length && sync.blocks.length === sync.checksums.length);
  const block = new Uint8Array(replica.config.blockSize);
  block.set(message, 0);
  sync.blocks[index] = block;
  sync.idleTicks = 0;
  if (index === 0) {
    if (new BlockHeader(block, 0).block_type !== blockTypeManifest) {
      sync.blocks[0] = null;
      return replica.ignored("block", "the manifest's index holds no manifest");
    }
    assert(sync.blocks.length === 1, "the manifest arrives once, before its data blocks");
    for (const checksum of manifestChecksums(block)) {
      sync.checksums.push(checksum);
      sync.blocks.push(null);
    }
    assert(sync.blocks.length === sync.checksums.length);
  }
  if (sync.blocks.every((candidate) => candidate !== null)) finishSync(replica);
}

/** All blocks are here: write them, persist the new checkpoint, load it, re-apply the view. */
function finishSync(replica: Replica): void {
  const sync = replica.syncing!;
  assert(!sync.writing && sync.blocks.every((block) => block !== null));
  assert(!replica.checkpointing, "syncing while checkpointing");
  sync.writing = true;
  const blocks = sync.blocks as Uint8Array[];
  const current = replica.superblock.working!.vsr_state.checkpoint.manifest_address;
  const area = 1 - areaOf(replica.config, current);
  assert(area === 0 || area === 1);
  replica.grid.writeBlocks(blocks, sync.target.manifest_size, area, (reference) => {
    assert(replica.syncing === sync && reference.address !== current, "the sync target changed while writing");
    const checkpoint = { ...sync.target, manifest_address: reference.address };
    replica.runSuperblockJob((done) => {
      replica.superblock.updateCheckpoint({
        checkpoint, commit_max: Math.max(replica.commitMax, sync.targetOp),
        sync_op_min: replica.commitMin + 1, sync_op_max: sync.targetOp,
        view_headers: replica.superblock.working!.view_headers,
      }, () => {
        done();
        installCheckpoint(replica, replica.grid.assemble(blocks, sync.target.manifest_size), checkpoint);
        assert(replica.commitMin === sync.targetOp && replica.opCheckpoint === sync.targetOp);
        replica.applyView(sync.view);
      });
    });
  });
}

function installCheckpoint(replica: Replica, state: Uint8Array, checkpoint: CheckpointState): void {
  assert(replica.syncing !== null && replica.syncing.writing);
  const view = new DataView(state.buffer, state.byteOffset, state.length);
  const sessionsLength = view.getUint32(0, true);
  assert(4 + sessionsLength <= state.length, "synced sessions beyond the verified state");
  decodeSessions(replica.sessions, state.subarray(4, 4 + sessionsLength));
  replica.stateMachine.restore(state.subarray(4 + sessionsLength));
  replica.syncInstalled(checkpoint, checkpointId(checkpoint));
  assert(replica.syncing === null);
  replica.prepareCache.clear();
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
  if (viewOp <= replica.opPrepareMax) return false; // WAL repair suffices
  assert(targetOp > replica.opCheckpoint && viewOp > replica.opPrepareMax);
  if (targetOp > replica.math.checkpointAfter(replica.opCheckpoint)) return true;
  // Checkpoints fall on one chain (checkpointAfter from 0): exactly one checkpoint behind.
  assert(targetOp === replica.math.checkpointAfter(replica.opCheckpoint), "a checkpoint off the chain");
  return replica.math.checkpointDurable(targetOp, commitMax);
}
