// The state checker (spec/vopr.md §11.1): linearisability of commits across the whole cluster.
//
// It keeps the canonical commit history, a hash chain from the root prepare, and checks every
// replica against it on every commit and after every tick. Principle: the cluster never reaches
// the same state twice and never regresses. So:
// - an op any replica commits again must have the canonical checksum (and reply body);
// - a new op must be exactly the next one, chained to the previous checksum, with a later
//   timestamp (vsr.md §17 items 8, 10), and be either a pulse/upgrade from client 0 or the
//   in-flight request of the client that sent it (a request committed twice, or one the client
//   never sent, is a split brain or a duplicate execution);
// - a replica's commit_min moves forward one op at a time, except that a restart may move it
//   back to its checkpoint (the replay);
// - a replica's view never regresses in one lifetime, and never drops below the highest view it
//   acknowledged in a prepare_ok, across restarts (vsr.md §17 item 12).
//
// It reads replicas only through CheckedReplica (plain numbers), so it runs without the replica.
import { Operation } from "../../core/command.js";
import { headerSize } from "../../core/config.js";
import { PrepareHeader, ReplyHeader } from "../../core/header.js";

/** A correctness failure (exit code 129, spec/vopr.md §13.1). */
export class CorrectnessError extends Error {
  override name = "CorrectnessError";
}

/** What the checker reads of a replica: read-only numbers. */
export interface CheckedReplica {
  readonly status: string;
  readonly view: number;
  readonly commitMin: number;
}

/** The request a client has sent and not yet seen answered (the VsrClient's last request). */
export interface ClientRequest {
  readonly client: bigint;
  /** 0 for the register request. */
  readonly request: number;
  /** The request header's checksum: the prepare's request_checksum. */
  readonly checksum: bigint;
  readonly operation: number;
  /** Header plus body. */
  readonly size: number;
}

export interface StateCheckerOptions {
  /** Replicas plus standbys. */
  readonly replicaNodeCount: number;
  /** The checksum of op 0, the root prepare (vsr.md §3). */
  readonly rootChecksum: bigint;
  /** The client's currently in-flight request, or null (the cluster tracks what clients send). */
  readonly inFlight: (client: bigint) => ClientRequest | null;
  /** How far state sync may move commit_min back (§11.1: lsm_compaction_ops). */
  readonly syncBacktrackMax: number;
  /** The session table's size: the register of one more distinct client evicts a session. */
  readonly clientsMax: number;
  /** How many no-op requests `scarab recover` commits before it formats (pipeline_prepare_queue_max). */
  readonly recoverNoops: number;
}

export class StateChecker {
  /** Canonical history, indexed by op: prepare checksum, view, timestamp, reply body checksum. */
  private readonly checksums: bigint[] = [];
  private readonly views: number[] = [0];
  private readonly timestamps: bigint[] = [0n];
  private readonly replyChecksums: (bigint | null)[] = [null];
  /** Per replica: the commit_min last seen, and whether a restart allows one backwards jump. */
  private readonly commitMins: number[];
  private readonly restarted: boolean[];
  /** Per replica: the highest view seen in this lifetime, and acked in a prepare_ok ever. */
  private readonly viewsSeen: number[];
  private readonly viewsAcked: number[];
  /** Per replica: the highest op it acknowledged in a prepare_ok or sent the prepare of (since its last reformat). */
  private readonly opsAcked: number[];
  /** Per replica: the highest view of any message it sent, across restarts and reformats. */
  private readonly viewsSent: number[];
  /** checkpoint_id by op_checkpoint: the first replica to reach a checkpoint records it. */
  private readonly checkpointIds = new Map<number, bigint>();
  /** Per client: the highest request number committed (−1: not even the register). */
  private readonly clientRequests = new Map<bigint, number>();
  /**
   * Switched off after the first eviction (§11.1). A session is evicted before its client hears
   * of it, and a late duplicate of an evicted client's register is then legitimately new; so
   * this goes off at the first session eviction, not at the first eviction message.
   */
  clientsExhaustive = true;
  private readonly registered = new Set<bigint>();
  requestsCommitted = 0;
  private readonly prepare = new PrepareHeader(new Uint8Array(headerSize));
  private readonly reply = new ReplyHeader(new Uint8Array(headerSize));

  constructor(private readonly options: StateCheckerOptions) {
    this.checksums.push(options.rootChecksum);
    const count = options.replicaNodeCount;
    this.commitMins = new Array<number>(count).fill(0);
    this.restarted = new Array<boolean>(count).fill(false);
    this.viewsSeen = new Array<number>(count).fill(0);
    this.viewsAcked = new Array<number>(count).fill(0);
    this.opsAcked = new Array<number>(count).fill(0);
    this.viewsSent = new Array<number>(count).fill(0);
  }

  /** The latest op committed by any replica (the cluster's commit). */
  get commitLatest(): number {
    return this.checksums.length - 1;
  }

  checksumAt(op: number): bigint {
    if (!(op >= 0 && op < this.checksums.length)) this.fail(`no canonical commit at op ${op}`);
    return this.checksums[op]!;
  }

  /** checksum_body of the canonical reply at `op`; null for pulses and upgrades. */
  replyChecksumAt(op: number): bigint | null {
    if (!(op >= 0 && op < this.checksums.length)) this.fail(`no canonical commit at op ${op}`);
    return this.replyChecksums[op]!;
  }

  /** A restart: one backwards jump of commit_min is allowed (the replay), and a new lifetime. */
  onRestart(replica: number): void {
    this.restarted[replica] = true;
    this.viewsSeen[replica] = 0;
  }

  /** The replica sent a prepare_ok for `op` in `view`: it must never go below that view again. */
  onPrepareOk(replica: number, view: number, op: number): void {
    if (view > this.viewsAcked[replica]!) this.viewsAcked[replica] = view;
    if (op > this.opsAcked[replica]!) this.opsAcked[replica] = op;
  }

  /** The replica sent the prepare of `op`: as its primary, it holds it without a prepare_ok. */
  onPrepareSent(replica: number, op: number): void {
    if (op > this.opsAcked[replica]!) this.opsAcked[replica] = op;
  }

  /** The replica sent a message in `view`. */
  onSent(replica: number, view: number): void {
    if (view > this.viewsSent[replica]!) this.viewsSent[replica] = view;
  }

  /** The highest view the replica ever spoke in, across restarts. */
  viewSpoken(replica: number): number {
    return this.viewsSent[replica]!;
  }

  /**
   * §8 "Reformat": losing the replica's data file is survivable only once the cluster has
   * committed every op it acknowledged, and then `recoverNoops` more ops without it, as `scarab
   * recover`'s no-op requests do. Committed alone is not enough: a committed op may be held by a
   * replication quorum that counted the lost replica, and the reformatted replica nacks it; the
   * ops committed after, acknowledged by a quorum of others, put a JV with a commit at or above
   * it into every view-change quorum (seed 17 of `--crash-ratio=1/50000 --restart-ratio=1/5000`
   * lost op 20 that way: the checker allowed the reformat at commit 20).
   */
  reformatSafe(replica: number): boolean {
    return this.opsAcked[replica]! + this.options.recoverNoops <= this.commitLatest;
  }

  /** A reformat: the replica starts over from the root state with no promises but its view. */
  onReformat(replica: number): void {
    if (!(this.reformatSafe(replica))) this.fail(`replica ${replica}: reformatted before the cluster committed op ` +
      `${this.opsAcked[replica]} that it acknowledged and ${this.options.recoverNoops} more ` +
      `(the cluster's commit is ${this.commitLatest})`);
    this.opsAcked[replica] = 0;
    this.onRestart(replica);
  }

  onEviction(): void {
    this.clientsExhaustive = false;
  }

  /**
   * State sync installed a checkpoint and set commit_min to it (§11.1: sync may fast-forward
   * commit_min, with a backtrack of at most lsm_compaction_ops). The cluster committed it before.
   */
  onSyncDone(replica: number, state: CheckedReplica): void {
    const from = this.commitMins[replica]!;
    const to = state.commitMin;
    if (!(to <= this.commitLatest)) {
      this.fail(`replica ${replica}: synced to op ${to}, beyond the cluster's commit ${this.commitLatest}`);
    }
    if (!(to + this.options.syncBacktrackMax >= from)) {
      this.fail(`replica ${replica}: state sync moved commit_min back from ${from} to ${to}`);
    }
    this.commitMins[replica] = to;
    this.restarted[replica] = false;
  }

  /**
   * vsr.md §17 item 9: at the same checkpoint op, checkpoint_id is equal on all replicas. Checked
   * whenever a replica opens, finishes a checkpoint, or syncs one.
   */
  checkCheckpoint(replica: number, opCheckpoint: number, checkpointId: bigint): void {
    const known = this.checkpointIds.get(opCheckpoint);
    if (known === undefined) this.checkpointIds.set(opCheckpoint, checkpointId);
    else if (known !== checkpointId) this.fail(`replica ${replica}: checkpoint ${opCheckpoint} has id ` +
      `${hex(checkpointId)}, another replica's is ${hex(known)}`);
  }

  /** After every tick (§5 step 4.5). */
  checkState(replica: number, state: CheckedReplica): void {
    if (state.status === "recovering") return; // the superblock is not read yet: nothing to compare
    const view = state.view;
    if (!(view >= this.viewsSeen[replica]!)) {
      this.fail(`replica ${replica}: view regressed from ${this.viewsSeen[replica]} to ${view}`);
    }
    if (!(view >= this.viewsAcked[replica]!)) {
      this.fail(`replica ${replica}: view ${view} below the view ${this.viewsAcked[replica]} it acked in a prepare_ok`);
    }
    this.viewsSeen[replica] = view;
    this.checkCommitMin(replica, state.commitMin);
  }

  private checkCommitMin(replica: number, commitMin: number): void {
    const seen = this.commitMins[replica]!;
    if (commitMin === seen) return;
    if (this.restarted[replica]) {
      // Opening sets commit_min to the checkpoint, which the cluster committed long ago.
      if (!(commitMin <= this.commitLatest)) {
        this.fail(`replica ${replica}: restarted at commit_min ${commitMin} beyond the cluster's ${this.commitLatest}`);
      }
      this.commitMins[replica] = commitMin;
      return;
    }
    // Every forward step arrives through onCommit first; anything else is a jump.
    this.fail(`replica ${replica}: commit_min moved from ${seen} to ${commitMin} without a commit`);
  }

  /** Every commit of every replica, in that replica's op order (§11.1 "and every commit"). */
  onCommit(replica: number, state: CheckedReplica, prepare: Uint8Array, reply: Uint8Array | null): void {
    const header = this.prepare.reset(prepare, 0);
    const op = header.op;
    if (state.commitMin !== op) this.fail(`replica ${replica}: commit of op ${op} at commit_min ${state.commitMin}`);
    if (this.restarted[replica]) {
      this.restarted[replica] = false; // the replay has begun: from now on, one op at a time
    } else {
      if (op !== this.commitMins[replica]! + 1) {
        this.fail(`replica ${replica}: commit_min jumped from ${this.commitMins[replica]} to ${op}`);
      }
    }
    this.commitMins[replica] = op;
    const replyChecksum = reply === null ? null : this.reply.reset(reply, 0).checksum_body;
    if (op < this.checksums.length) this.checkKnown(replica, op, header.checksum, replyChecksum);
    else this.appendNew(replica, op, header, replyChecksum);
  }

  private checkKnown(replica: number, op: number, checksum: bigint, replyChecksum: bigint | null): void {
    if (!(op > 0)) this.fail(`replica ${replica}: committed the root op`);
    if (checksum !== this.checksums[op]) {
      this.fail(`replica ${replica}: op ${op} has checksum ${hex(checksum)}, canonical ${hex(this.checksums[op]!)}`);
    }
    // Same prepare, same state: the state machine must answer byte for byte the same.
    if (replyChecksum !== this.replyChecksums[op]) {
      this.fail(`replica ${replica}: op ${op} reply body differs from the canonical reply`);
    }
  }

  private appendNew(replica: number, op: number, header: PrepareHeader, replyChecksum: bigint | null): void {
    if (op !== this.checksums.length) {
      this.fail(`replica ${replica}: committed op ${op} but the cluster's latest commit is ${this.commitLatest} ` +
        "(skipped op)");
    }
    const parent = this.checksums[op - 1]!;
    if (header.parent !== parent) {
      this.fail(`replica ${replica}: op ${op} parent ${hex(header.parent)} is not the checksum ${hex(parent)} ` +
        `of op ${op - 1}`);
    }
    if (!(header.timestamp > this.timestamps[op - 1]!)) {
      this.fail(`replica ${replica}: op ${op} timestamp ${header.timestamp} not after ${this.timestamps[op - 1]}`);
    }
    this.checkOrigin(replica, op, header, replyChecksum);
    this.checksums.push(header.checksum);
    this.views.push(header.view);
    this.timestamps.push(header.timestamp);
    this.replyChecksums.push(replyChecksum);
  }

  /** A new op is a client's in-flight request, or a pulse/upgrade from client 0 (§11.1). */
  private checkOrigin(replica: number, op: number, header: PrepareHeader, replyChecksum: bigint | null): void {
    const client = header.client;
    if (client === 0n) {
      const operation = header.operation;
      if (!(operation === Operation.pulse || operation === Operation.upgrade)) {
        this.fail(`replica ${replica}: op ${op} from client 0 has operation ${operation} (only pulse or upgrade)`);
      }
      return;
    }
    if (replyChecksum === null) this.fail(`replica ${replica}: client op ${op} produced no reply`);
    const last = this.clientRequests.get(client) ?? -1;
    // A request executes at most once: again is a lost session or a split brain. Registers are
    // exempt: when other registers evict a session before its client saw the reply, the
    // client's retried register is legitimately new to the primary (vsr.md §13).
    if (!(header.request > last || header.operation === Operation.register)) {
      this.fail(`replica ${replica}: op ${op} executes request ${header.request} of client ${hex(client)} ` +
        `again (last ${last})`);
    }
    if (this.clientsExhaustive) {
      const sent = this.options.inFlight(client);
      if (sent === null) {
        this.fail(`replica ${replica}: op ${op} commits a request client ${hex(client)} has not in flight`);
      }
      const mismatch = requestMismatch(sent, header);
      if (mismatch !== null) {
        this.fail(`replica ${replica}: op ${op} does not match the in-flight request: ${mismatch}`);
      }
    }
    this.clientRequests.set(client, Math.max(last, header.request));
    this.requestsCommitted += 1;
    if (header.operation === Operation.register) {
      // Sessions leave the table only by eviction, so the first eviction is exactly the register
      // of the (clients_max + 1)-th distinct client (vsr.md §13).
      this.registered.add(client);
      if (this.registered.size > this.options.clientsMax) this.clientsExhaustive = false;
    }
  }

  /** Convergence (§6.2 item 3): the history is a hash chain with non-decreasing views. */
  assertHistory(): void {
    for (let op = 1; op < this.views.length; op++) {
      if (!(this.views[op]! >= this.views[op - 1]!)) {
        this.fail(`history: op ${op} in view ${this.views[op]} after view ${this.views[op - 1]}`);
      }
    }
  }

  private fail(message: string): never {
    throw new CorrectnessError(`state checker: ${message}`);
  }
}

function requestMismatch(sent: ClientRequest, header: PrepareHeader): string | null {
  if (sent.client !== header.client) return "client";
  if (sent.request !== header.request) return `request number ${header.request}, in flight ${sent.request}`;
  if (sent.checksum !== header.request_checksum) return "request checksum";
  if (sent.operation !== header.operation) return `operation ${header.operation}, in flight ${sent.operation}`;
  if (sent.size !== header.size) return `size ${header.size}, in flight ${sent.size}`;
  return null;
}

function hex(value: bigint): string {
  return value.toString(16).padStart(32, "0");
}
