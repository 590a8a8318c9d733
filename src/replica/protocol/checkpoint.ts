// Checkpoints (spec/vsr.md §9): after committing the checkpoint op, the replica has the grid write
// what changed since the last one (the pages not yet flushed at a bar, the changed directory
// blocks, the client sessions, the state machine's metadata, the free set, the manifest), then
// points a new superblock at the manifest. Only then may the WAL wrap past the previous
// checkpoint. On open, the latest checkpoint is loaded and the WAL replayed from there.
import { assert } from "../../core/assert.js";
import { PrepareHeader } from "../../core/header.js";
import { replayMoves } from "../../grid/sync_moves.js";
import { decodeSessions, encodeSessions } from "../client_sessions.js";
import type { Replica } from "../replica.js";
import { checkpointId, type CheckpointState } from "../superblock/superblock.js";

/**
 * Called after each commit: at the end of a bar, the grid writes the pages the bar changed; inside
 * one, those that appends have left behind (grid.flushBehindTails), so the bar end has less to do.
 */
export function flushIfBarEnd(replica: Replica, op: number): void {
  const spaces = replica.stateMachine.persistent.spaces();
  if ((op + 1) % replica.config.lsmCompactionOps === 0) replica.grid.flush(spaces);
  else replica.grid.flushBehindTails(spaces);
}

/** Called after each commit: starts the checkpoint if `op` is the next checkpoint op. */
export function checkpointIfDue(replica: Replica, prepare: Uint8Array): void {
  const op = new PrepareHeader(prepare, 0).op;
  if (op !== replica.math.checkpointAfter(replica.opCheckpoint)) return;
  assert(replica.math.checkpointValid(op), "a checkpoint at the end of a bar");
  assert(!replica.checkpointing && replica.syncing === null, "one checkpoint at a time, never while syncing");
  assert(op === replica.commitMin && op > replica.opCheckpoint);
  replica.checkpointing = true;
  replica.emit("checkpoint_start");
  const previous = replica.superblock.working!.vsr_state.checkpoint;
  replica.grid.checkpoint(replica.stateMachine.persistent, encodeSessions(replica.sessions), (manifest) => {
    assert(replica.checkpointing && replica.commitMin === op, "the state changed under a checkpoint");
    const checkpoint: CheckpointState = {
      ...previous,
      header: prepare.slice(0, 256),
      parent_checkpoint_id: checkpointId(previous),
      grandparent_checkpoint_id: previous.parent_checkpoint_id,
      manifest_address: manifest.address,
      manifest_checksum: manifest.checksum,
      manifest_size: manifest.size,
      storage_size: replica.grid.storageSizeBytes(),
      release: replica.release,
    };
    replica.runSuperblockJob((done) => {
      replica.superblock.updateCheckpoint({
        // A restarted replica's commit_max starts at its checkpoint (replica_state.ts
        // openFromSuperblock), below what the superblock may hold: never write it back lower.
        checkpoint,
        commit_max: Math.max(replica.commitMax, op, replica.superblock.working!.vsr_state.commit_max),
        sync_op_min: 0, sync_op_max: 0,
        view_headers: replica.superblock.working!.view_headers,
      }, () => {
        const id = checkpointId(checkpoint);
        replica.grid.checkpointWritten();
        replica.checkpointDurable(op, id);
        assert(replica.opCheckpoint === op && replica.checkpointId() === id, "the durable checkpoint is ours");
        replica.checkpointing = false;
        replica.probe("checkpoint_done");
        replica.emit("checkpoint_done");
        done();
        replica.afterCheckpoint();
      });
    });
  });
}

/**
 * Loads the superblock's checkpoint into the session table and the state machine, first completing
 * a state sync that a crash interrupted after the superblock switched to it (grid/sync_moves.ts).
 */
export function restoreCheckpoint(replica: Replica, callback: (error: string | null) => void): void {
  assert(replica.status === "recovering", "checkpoints are restored only while opening");
  assert(replica.commitMin === replica.opCheckpoint, "the state is restored before any replay");
  const vsr = replica.superblock.working!.vsr_state;
  const checkpoint = vsr.checkpoint;
  if (vsr.sync_moves_address === 0) return openCheckpoint(replica, checkpoint, callback);
  replica.notice("sync_resumed", () => `completing the state sync to checkpoint ${replica.opCheckpoint} that a crash ` +
    "interrupted: moving its staged blocks home");
  replayMoves(replica.grid, vsr.sync_moves_address, checkpointId(checkpoint), (error, skipped) => {
    if (error !== null) return callback(`completing an interrupted state sync: ${error}`);
    if (skipped !== undefined) {
      replica.notice("sync_resumed", () => `${skipped}: the blocks it would have moved home are repaired from peers as they are read`);
    }
    replica.runSuperblockJob((done) => replica.superblock.forgetSyncMoves(() => {
      done();
      openCheckpoint(replica, checkpoint, callback);
    }));
  });
}

/**
 * Points the grid, the session table and the state machine at `checkpoint` (open and state sync).
 * The root checkpoint (no manifest) is the empty state.
 */
export function openCheckpoint(replica: Replica, checkpoint: CheckpointState, callback: (error: string | null) => void): void {
  const persistent = replica.stateMachine.persistent;
  replica.grid.reset(persistent.spaces().length);
  if (checkpoint.manifest_address === 0) return replica.options.storage.nextTick(() => callback(null));
  replica.grid.open({ address: checkpoint.manifest_address, checksum: checkpoint.manifest_checksum }, persistent, (result) => {
    // Grid repair from peers comes with the storage-fault work; until then this is fatal.
    if ("error" in result) return callback(result.error);
    decodeSessions(replica.sessions, result.sessions);
    callback(null);
  });
}
