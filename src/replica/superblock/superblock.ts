// The superblock (spec/vsr.md §10): the durable VSR state, 4 copies at the start of the data file
// (zone superblock, each copy config.superblockCopySize bytes; the layout is in
// ./superblock/layout.ts).
//
// Write (format, view change, checkpoint): build a staging state with sequence + 1 and parent =
// the working checksum, write the 4 copies one at a time, read them back and require the verify
// quorum (3 of 4); only then does `working` change and the callback run. Copies are written one at
// a time so that a crash tears at most one of them: with all four in flight, a crash could land
// one new copy and tear the three old ones, leaving no quorum at all (spec/vopr.md §7 item 5).
// Open: read the 4 copies, choose with superblockOpen() (2 of 4; quorum.ts), rewrite
// the broken copies.
import { assert } from "../../core/assert.js";
import { bytesEqual, readU128 } from "../../core/bytes.js";
import { checksum, checksumMatches } from "../../core/checksum.js";
import { type Config, headerSize, releaseCurrent } from "../../core/config.js";
import { Command } from "../../core/command.js";
import { FrameField, verifyHeaderChecksum } from "../../core/header.js";
import { type Storage, Zone } from "../../io/storage.js";
import { clusterBytes, opOf, rootPrepare } from "../journal/prepare_headers.js";
import {
  type CheckpointState, type DecodedCopy, type SuperBlockState, SuperBlockField, decodeSuperBlock,
  encodeSuperBlock, setCopyIndex, superBlockStateOf, superblockCopyIndex, superblockCopySizeMin,
  superblockMatchesChecksum,
} from "./layout.js";
import {
  type SuperblockCopy, type SuperblockHeader, type SuperblockOpenError, type SuperblockOpenResult, superblockCopies,
  superblockOpen, superblockVerifyQuorum,
} from "./quorum.js";

export {
  checkpointId, checkpointStateSize, decodeCheckpointState, encodeCheckpointState, superblockVersion,
} from "./layout.js";
export type { CheckpointState, SuperBlockState, VsrState } from "./layout.js";
export { rootPrepare } from "../journal/prepare_headers.js";

/**
 * Attempts at one update before giving up: the superblock zone suffers only crash faults (spec/
 * vopr.md §7 item 6), so a disk that cannot keep 3 of 4 copies after this many full rewrites is
 * broken, and continuing would only hide it (§17.13: every loop has a bound).
 */
export const superblockWriteAttemptsMax = 16;

/** superblockOpen()'s errors, plus a data file that belongs to another replica slot. */
export type SuperBlockOpenError = SuperblockOpenError | "ReplicaMismatch";

export interface SuperBlockOptions {
  readonly storage: Storage;
  readonly config: Config;
  readonly cluster: bigint;
  readonly replica: number;
  readonly replicaCount: number;
}

export interface ViewChangeUpdate {
  readonly view: number;
  readonly log_view: number;
  readonly view_headers: readonly Uint8Array[];
  /** The highest op known committed; kept if lower than what the superblock holds. */
  readonly commit_max?: number;
}

export interface CheckpointUpdate {
  readonly checkpoint: CheckpointState;
  readonly commit_max: number;
  readonly sync_op_min: number;
  readonly sync_op_max: number;
  /** A state sync's staged blocks still to move (grid/sync_moves.ts); 0 (the default) when none. */
  readonly sync_moves_address?: number;
  readonly view_headers: readonly Uint8Array[];
}

type Unchecksummed = Omit<SuperBlockState, "checksum">;

/**
 * The replica's identity in the superblock: derived from (cluster, index) rather than drawn at
 * random, so that the replica stays deterministic (DESIGN.md).
 */
export function replicaIdFor(cluster: bigint, replica: number): bigint {
  const bytes = new Uint8Array(32);
  bytes.set(clusterBytes(cluster), 0);
  bytes[16] = replica;
  bytes.set([0x72, 0x65, 0x70, 0x6c, 0x69, 0x63, 0x61], 17); // "replica"
  return checksum(bytes);
}

/** The replica index whose id is `replicaId` in `cluster` (replicas and standbys), or null. */
export function replicaIndexOf(cluster: bigint, replicaId: bigint): number | null {
  for (let replica = 0; replica < 256; replica++) if (replicaIdFor(cluster, replica) === replicaId) return replica;
  return null;
}

export class SuperBlock {
  /** The durable state; null until format or open completes. */
  working: SuperBlockState | null = null;
  /** How many times a write had to be repeated because fewer than 3 copies verified. */
  verifyRetries = 0;
  /** True only for the planted bug superblockNewestCopy (replica/bugs.ts). */
  newestCopyWins = false;
  private readonly storage: Storage;
  private readonly config: Config;
  private readonly cluster: bigint;
  private readonly replica: number;
  private readonly replicaCount: number;
  private readonly copySize: number;
  private readonly writeBuffer: Uint8Array;
  private readonly readBuffers: readonly Uint8Array[];
  private staging: SuperBlockState | null = null;
  private callback: (() => void) | null = null;
  private busy = false;
  private copyNext = 0;
  private readsPending = 0;
  private attempts = 0;

  constructor(options: SuperBlockOptions) {
    const { config } = options;
    assert(Number.isInteger(options.replica) && options.replica >= 0 && options.replica < 256);
    assert(options.replicaCount >= 1 && options.replicaCount <= config.replicasMax);
    assert(superblockCopySizeMin(config.viewHeadersMax) <= config.superblockCopySize);
    assert(config.zones.superblock.size === superblockCopies * config.superblockCopySize);
    this.storage = options.storage;
    this.config = config;
    this.cluster = options.cluster;
    this.replica = options.replica;
    this.replicaCount = options.replicaCount;
    this.copySize = config.superblockCopySize;
    this.writeBuffer = new Uint8Array(this.copySize);
    const reads = new Uint8Array(superblockCopies * this.copySize);
    this.readBuffers = Array.from({ length: superblockCopies },
      (_, copy) => reads.subarray(copy * this.copySize, (copy + 1) * this.copySize));
  }

  /** An open, format or update is in progress: start no other (only one at a time, §10). */
  get updating(): boolean {
    return this.busy;
  }

  /**
   * Sequence 1 of a fresh data file: view 0, log_view 0, commit_max 0, and the root checkpoint,
   * whose header is the cluster's root prepare (op 0).
   */
  /**
   * Writes the root state. `view` is 0 for a new cluster; `scarab recover` formats a replica that
   * lost its data file in a view beyond any it can have voted in (see Replica.format).
   */
  format(callback: () => void, view = 0): void {
    assert(!this.busy && this.working === null, "superblock: format needs a fresh superblock");
    assert(Number.isSafeInteger(view) && view >= 0 && view < 2 ** 32, "superblock: format view out of range");
    const root = rootPrepare(this.cluster);
    const checkpoint: CheckpointState = {
      header: root, parent_checkpoint_id: 0n, grandparent_checkpoint_id: 0n,
      manifest_address: 0, manifest_checksum: 0n, manifest_size: 0,
      free_set_address: 0, free_set_checksum: 0n, client_sessions_address: 0, client_sessions_checksum: 0n,
      storage_size: this.config.zones.gridOffset, release: releaseCurrent,
    };
    this.write({
      sequence: 1, parent: 0n, cluster: this.cluster, release_format: releaseCurrent,
      vsr_state: {
        checkpoint, replica_id: replicaIdFor(this.cluster, this.replica), replica_count: this.replicaCount,
        commit_max: 0, sync_op_min: 0, sync_op_max: 0, sync_moves_address: 0, log_view: 0, view,
      },
      view_headers: [root.slice()],
    }, callback);
  }

  /** Persists a view change: `view` (and `log_view`, once a log is installed) with its headers. */
  updateViewChange(update: ViewChangeUpdate, callback: () => void): void {
    const working = this.beginUpdate();
    const vsr = working.vsr_state;
    assert(update.view >= vsr.view && update.log_view >= vsr.log_view, "superblock: view regressed");
    assert(update.log_view <= update.view, "superblock: log_view > view");
    this.write({
      ...this.successor(working),
      vsr_state: {
        ...vsr, view: update.view, log_view: update.log_view, commit_max: Math.max(vsr.commit_max, update.commit_max ?? 0),
      },
      view_headers: this.copyViewHeaders(update.view_headers),
    }, callback);
  }

  /** Persists a checkpoint (or a state-sync target, with sync_op_min/max). */
  updateCheckpoint(update: CheckpointUpdate, callback: () => void): void {
    const working = this.beginUpdate();
    const vsr = working.vsr_state;
    const header = update.checkpoint.header;
    assert(header.length === headerSize && verifyHeaderChecksum(header, 0), "superblock: bad checkpoint header");
    assert(header[FrameField.command] === Command.prepare, "superblock: checkpoint header is not a prepare");
    const op = opOf(header, 0);
    assert(op >= opOf(vsr.checkpoint.header, 0), "superblock: checkpoint regressed");
    assert(update.commit_max >= vsr.commit_max && update.commit_max >= op, "superblock: commit_max regressed");
    assert(update.sync_op_min <= update.sync_op_max, "superblock: sync_op_min > sync_op_max");
    this.write({
      ...this.successor(working),
      vsr_state: {
        ...vsr, checkpoint: { ...update.checkpoint, header: header.slice() }, commit_max: update.commit_max,
        sync_op_min: update.sync_op_min, sync_op_max: update.sync_op_max,
        sync_moves_address: update.sync_moves_address ?? 0,
      },
      view_headers: this.copyViewHeaders(update.view_headers),
    }, callback);
  }

  /** Persists that a state sync's staged blocks are home (grid/sync_moves.ts): nothing else changes. */
  forgetSyncMoves(callback: () => void): void {
    const working = this.beginUpdate();
    assert(working.vsr_state.sync_moves_address !== 0, "superblock: no sync moves to forget");
    this.write({
      ...this.successor(working),
      vsr_state: { ...working.vsr_state, sync_moves_address: 0 },
      view_headers: working.view_headers,
    }, callback);
  }

  /** The copies open rewrote (damaged, torn, or left behind by a crash mid-update). */
  copiesRepaired: readonly number[] = [];

  /** Reads the 4 copies, picks the working state (§10 "Open") and rewrites the broken copies. */
  open(callback: (error: SuperBlockOpenError | null) => void): void {
    assert(!this.busy && this.working === null, "superblock: open needs a fresh superblock");
    this.busy = true;
    this.readAll(() => {
      const decoded = this.readBuffers.map((bytes) => decodeSuperBlock(bytes, this.config, this.cluster));
      const result = this.newestCopyWins ? plantedNewestCopy(decoded) : superblockOpen(decoded.map(quorumCopy));
      if (result.kind === "error") return this.openFailed(result.error, callback);
      const state = decoded.find((copy) => copy !== null && copy.state.checksum === result.header.checksum)!.state;
      const vsr = state.vsr_state;
      if (vsr.replica_id !== replicaIdFor(this.cluster, this.replica) || vsr.replica_count !== this.replicaCount) {
        return this.openFailed("ReplicaMismatch", callback);
      }
      this.working = state;
      this.copiesRepaired = [...result.repairs];
      this.repair(result.repairs, 0, () => {
        this.busy = false;
        callback(null);
      });
    });
  }

  private openFailed(error: SuperBlockOpenError, callback: (error: SuperBlockOpenError | null) => void): void {
    this.busy = false;
    callback(error);
  }

  /** Rewrites each listed slot with its own copy of the working state, one at a time. */
  private repair(slots: readonly number[], index: number, done: () => void): void {
    if (index === slots.length) return done();
    const working = this.working!;
    const slot = slots[index]!;
    const sum = encodeSuperBlock(working, slot, this.writeBuffer, this.config);
    assert(sum === working.checksum, "superblock: re-encoding the working state changed its checksum");
    this.storage.write(Zone.superblock, slot * this.copySize, this.writeBuffer, () => this.repair(slots, index + 1, done));
  }

  private beginUpdate(): SuperBlockState {
    assert(this.working !== null, "superblock: not open");
    assert(!this.busy, "superblock: only one update at a time");
    return this.working;
  }

  /** The next sequence, chained to the working state (superblockOpen checks the link). */
  private successor(working: SuperBlockState): Pick<Unchecksummed, "sequence" | "parent" | "cluster" | "release_format"> {
    return {
      sequence: working.sequence + 1, parent: working.checksum, cluster: working.cluster,
      release_format: working.release_format,
    };
  }

  private copyViewHeaders(headers: readonly Uint8Array[]): Uint8Array[] {
    assert(headers.length >= 1 && headers.length <= this.config.viewHeadersMax, "superblock: view header count");
    const cluster = clusterBytes(this.cluster);
    return headers.map((header) => {
      assert(header.length === headerSize && verifyHeaderChecksum(header, 0), "superblock: bad view header");
      assert(header[FrameField.command] === Command.prepare, "superblock: a view header is a prepare header");
      assert(bytesEqual(header, FrameField.cluster, cluster, 0, 16), "superblock: view header of another cluster");
      return header.slice();
    });
  }

  private write(state: Unchecksummed, callback: () => void): void {
    assert(!this.busy && this.staging === null);
    this.busy = true;
    const sum = encodeSuperBlock(state, 0, this.writeBuffer, this.config);
    this.staging = superBlockStateOf({ ...state, checksum: sum });
    this.callback = callback;
    this.copyNext = 0;
    this.attempts = 1;
    this.writeNextCopy();
  }

  private writeNextCopy(): void {
    if (this.copyNext === superblockCopies) {
      this.readAll(() => this.verify());
      return;
    }
    // Only the copy index differs between copies, and it is outside the checksum.
    setCopyIndex(this.writeBuffer, this.copyNext);
    const offset = this.copyNext * this.copySize;
    this.copyNext += 1;
    this.storage.write(Zone.superblock, offset, this.writeBuffer, () => this.writeNextCopy());
  }

  private readAll(done: () => void): void {
    assert(this.readsPending === 0);
    this.readsPending = superblockCopies;
    for (let copy = 0; copy < superblockCopies; copy++) {
      this.storage.read(Zone.superblock, copy * this.copySize, this.readBuffers[copy]!, () => {
        this.readsPending -= 1;
        if (this.readsPending === 0) done();
      });
    }
  }

  /** The verify quorum (§10 "Write" step 3): 3 of 4 copies read back intact, each in its slot. */
  private verify(): void {
    const staging = this.staging!;
    let verified = 0;
    for (let copy = 0; copy < superblockCopies; copy++) {
      const bytes = this.readBuffers[copy]!;
      const intact = bytesEqual(bytes, SuperBlockField.checksum, this.writeBuffer, SuperBlockField.checksum, 16) &&
        checksumMatches(bytes.subarray(SuperBlockField.version), bytes, SuperBlockField.checksum) &&
        bytes[SuperBlockField.copy] === copy && bytes[SuperBlockField.copy + 1] === 0;
      if (intact) verified += 1;
    }
    if (verified < superblockVerifyQuorum) {
      assert(this.attempts < superblockWriteAttemptsMax, "superblock: the disk does not keep 3 of 4 copies");
      this.attempts += 1;
      this.verifyRetries += 1;
      this.copyNext = 0;
      this.writeNextCopy();
      return;
    }
    const callback = this.callback!;
    this.working = staging;
    this.staging = null;
    this.callback = null;
    this.busy = false;
    callback();
  }
}

/** The planted bug superblockNewestCopy: the highest sequence with a valid checksum, trusted alone. */
function plantedNewestCopy(decoded: readonly (DecodedCopy | null)[]): SuperblockOpenResult {
  let newest: DecodedCopy | null = null;
  for (const copy of decoded) if (copy !== null && (newest === null || copy.state.sequence > newest.state.sequence)) newest = copy;
  if (newest === null) return { kind: "error", error: "NotFound" };
  const { copy: _copy, ...header } = quorumCopy(newest)!;
  return { kind: "working", header, copies: 1, repairs: [] };
}

/**
 * One copy's bytes as open weighs them (null: not a valid copy of this cluster). The simulator's
 * checkers read a data file's durable copies and ask durableSuperblockOf which state open picks.
 */
export function superblockCopyOf(bytes: Uint8Array, config: Config, cluster: bigint): SuperblockCopy | null {
  return quorumCopy(decodeSuperBlock(bytes, config, cluster));
}

/**
 * superblockCopyOf for a checker that reads the same few states again and again: the 4 copies of
 * one write differ only in their index, which the checksum does not cover, so a copy whose
 * checksum was decoded before is verified against it and reused, not decoded again.
 */
export class SuperblockCopyReader {
  private readonly decoded = new Map<bigint, SuperblockCopy>();

  constructor(private readonly config: Config, private readonly cluster: bigint) {}

  copyOf(bytes: Uint8Array): SuperblockCopy | null {
    const known = this.decoded.get(readU128(bytes, SuperBlockField.checksum));
    if (known !== undefined && superblockMatchesChecksum(bytes, this.config)) {
      // A literal in quorumCopy's key order, not a spread: every copy keeps one hidden class.
      return {
        checksum: known.checksum, sequence: known.sequence, parent: known.parent, copy: superblockCopyIndex(bytes),
        view: known.view, log_view: known.log_view, commit_max: known.commit_max, checkpoint_op: known.checkpoint_op,
      };
    }
    const copy = superblockCopyOf(bytes, this.config, this.cluster);
    if (copy !== null) {
      if (this.decoded.size >= 16) this.decoded.clear(); // a few states are current at a time
      this.decoded.set(copy.checksum, copy);
    }
    return copy;
  }
}

/** The state open would pick from the 4 copies (superblockCopyOf each), or null where open would fail. */
export function durableSuperblockOf(copies: readonly (SuperblockCopy | null)[]): SuperblockHeader | null {
  assert(copies.length === superblockCopies, "durableSuperblockOf: one entry per copy");
  const result = superblockOpen(copies);
  return result.kind === "working" ? result.header : null;
}

function quorumCopy(decoded: DecodedCopy | null): SuperblockCopy | null {
  if (decoded === null) return null;
  const { state, copy } = decoded;
  const vsr = state.vsr_state;
  return {
    checksum: state.checksum, sequence: state.sequence, parent: state.parent, copy,
    view: vsr.view, log_view: vsr.log_view, commit_max: vsr.commit_max,
    checkpoint_op: opOf(vsr.checkpoint.header, 0),
  };
}
