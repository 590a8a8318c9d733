// Checkpoints (spec/vsr.md §9): after committing the checkpoint op, the replica serialises its
// state (client sessions + state machine), writes it to the grid, then points a new superblock at
// it. Only then may the WAL wrap past the previous checkpoint. On open, the latest checkpoint is
// loaded and the WAL replayed from there.
import { assert } from "../../core/assert.js";
import { PrepareHeader } from "../../core/header.js";
import { decodeSessions, encodeSessions } from "../client_sessions.js";
import { areaFirstAddress, areaOf } from "../grid_snapshot.js";
import type { Replica } from "../replica.js";
import { checkpointId, type CheckpointState } from "../superblock/superblock.js";

/** Called after each commit: starts the checkpoint if `op` is the next checkpoint op. */
export function checkpointIfDue(replica: Replica, prepare: Uint8Array): void {
  const op = new PrepareHeader(prepare, 0).op;
  if (op !== replica.math.checkpointAfter(replica.opCheckpoint)) return;
  assert(replica.math.checkpointValid(op), "a checkpoint at the end of a bar");
  assert(!replica.checkpointing && replica.syncing === null, "one checkpoint at a time, never while syncing");
  assert(op === replica.commitMin && op > replica.opCheckpoint);
  replica.checkpointing = true;
  replica.emit("checkpoint_start");
  const state = encodeState(replica);
  const previous = replica.superblock.working!.vsr_state.checkpoint;
  // The other area than the current checkpoint's, which must stay intact until this one is durable.
  const area = 1 - areaOf(replica.config, previous.manifest_address);
  assert(area === 0 || area === 1);
  assert(state.length >= 4, "a checkpoint's state holds at least the sessions' length");
  replica.grid.write(state, area, (reference) => {
    assert(replica.checkpointing && replica.commitMin === op, "the state changed under a checkpoint");
    assert(reference.address === areaFirstAddress(replica.config, area), "the checkpoint went to another area");
    assert(reference.size === state.length && reference.address !== previous.manifest_address);
    const checkpoint: CheckpointState = {
      ...previous,
      header: prepare.slice(0, 256),
      parent_checkpoint_id: checkpointId(previous),
      grandparent_checkpoint_id: previous.parent_checkpoint_id,
      manifest_address: reference.address,
      manifest_checksum: reference.checksum,
      manifest_size: reference.size,
      release: replica.release,
    };
    replica.runSuperblockJob((done) => {
      replica.superblock.updateCheckpoint({
        checkpoint, commit_max: Math.max(replica.commitMax, op), sync_op_min: 0, sync_op_max: 0,
        view_headers: replica.superblock.working!.view_headers,
      }, () => {
        const id = checkpointId(checkpoint);
        replica.checkpointDurable(op, id);
        assert(replica.opCheckpoint === op && replica.checkpointId() === id, "the durable checkpoint is ours");
        replica.checkpointing = false;
        replica.emit("checkpoint_done");
        done();
        replica.afterCheckpoint();
      });
    });
  });
}

function encodeState(replica: Replica): Uint8Array {
  const sessions = encodeSessions(replica.sessions);
  const machine = replica.stateMachine.snapshot();
  const state = new Uint8Array(4 + sessions.length + machine.length);
  new DataView(state.buffer).setUint32(0, sessions.length, true);
  state.set(sessions, 4);
  state.set(machine, 4 + sessions.length);
  return state;
}

/** Loads the superblock's checkpoint into the session table and the state machine. */
export function restoreCheckpoint(replica: Replica, callback: (error: string | null) => void): void {
  assert(replica.status === "recovering", "checkpoints are restored only while opening");
  const checkpoint = replica.superblock.working!.vsr_state.checkpoint;
  assert(replica.commitMin === replica.opCheckpoint, "the state is restored before any replay");
  if (checkpoint.manifest_address === 0) return callback(null); // the root checkpoint: empty state
  replica.grid.read({
    address: checkpoint.manifest_address, checksum: checkpoint.manifest_checksum,
    size: checkpoint.manifest_size,
  }, (state) => {
    // Grid repair from peers comes with the storage-fault work; until then this is fatal.
    if (state === null) return callback("checkpoint blocks missing or corrupt");
    const view = new DataView(state.buffer, state.byteOffset, state.length);
    const sessionsLength = view.getUint32(0, true);
    assert(4 + sessionsLength <= state.length, "checkpoint sessions beyond the verified state");
    decodeSessions(replica.sessions, state.subarray(4, 4 + sessionsLength));
    replica.stateMachine.restore(state.subarray(4 + sessionsLength));
    callback(null);
  });
}
