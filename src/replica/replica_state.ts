// The replica's protocol state and the only code that changes it (DESIGN.md "Style": status
// changes only through transition functions that assert where they come from, as TigerBeetle's
// `transition_to_*` and etcd raft's `becomeX`).
//
// The protocol fields (status, view, log_view, op, commit_min, commit_max, the checkpoint op and
// the sync target) are read-only outside this class: the handlers in protocol/ read them and call
// the transitions below, each of which asserts the status it comes from and that view, log_view
// and commits never go back. `invariants()` states what holds between any two events; the
// simulator runs it after every message and every tick.
import { assert, assertFailed } from "../core/assert.js";
import { writeU128 } from "../core/u128.js";
import { headerSize, type Config } from "../core/config.js";
import { PrepareHeader } from "../core/header.js";
import type { Prng } from "../core/prng.js";
import { noProbe, type ProbeSink } from "../core/probes.js";
import type { MessageBus } from "../io/message_bus.js";
import type { Storage } from "../io/storage.js";
import type { GridSync } from "../grid/grid_sync.js";
import type { Time } from "../io/time.js";
import { noBugs, type PlantedBugs } from "./bugs.js";
import { checkpointMath, type CheckpointMath } from "./checkpoint_math.js";
import { primaryIndex, quorums, type Quorums } from "./quorums.js";
import type { Replica } from "./replica.js";
import type { ReplicaStateMachine } from "./state_machine.js";
import type { CheckpointState } from "./superblock/superblock.js";
import { ReplicaTimeouts } from "./timeouts.js";
import type { TraceSink } from "./trace.js";

export type Status = "recovering" | "normal" | "view_change" | "recovering_head";

export type ReplicaEvent =
  | "open" | "status" | "view" | "checkpoint_start" | "checkpoint_done" | "commit" | "sync_start" | "sync_done"
  | "sync_cancel"
  | NoticeEvent;

/** Notices for the operator (a log line each), with a detail line. */
export type NoticeEvent =
  | "eviction" | "repair_prepare" | "repair_headers" | "repair_block" | "repair_superblock" | "scrub_fault"
  | "repair_reply" | "reply_faulty"
  | "storage_full" | "storage_ok"
  | "sync_resumed"
  | "state_deferred" | "state_loaded" | "clock_unsynchronized" | "clock_synchronized";

export function isNotice(event: ReplicaEvent): event is NoticeEvent {
  return event === "eviction" || event === "repair_prepare" || event === "repair_headers" || event === "repair_block" ||
    event === "scrub_fault" || event === "repair_reply" || event === "reply_faulty" ||
    event === "state_deferred" || event === "state_loaded" || event === "repair_superblock" ||
    event === "clock_unsynchronized" || event === "clock_synchronized" ||
    event === "storage_full" || event === "storage_ok" || event === "sync_resumed";
}

export interface ReplicaOptions {
  readonly cluster: bigint;
  readonly replica: number;
  readonly replicaCount: number;
  readonly standbyCount: number;
  readonly config: Config;
  readonly release: number;
  readonly time: Time;
  readonly storage: Storage;
  readonly bus: MessageBus;
  readonly prng: Prng;
  readonly stateMachine: ReplicaStateMachine;
  /** Observes every commit, in op order (the simulator's checkers). */
  readonly onCommit?: (replica: Replica, prepare: Uint8Array, reply: Uint8Array | null) => void;
  /** Observes status, view and checkpoint transitions (the simulator's log lines). */
  readonly onEvent?: (replica: Replica, event: ReplicaEvent, detail?: string) => void;
  /** Receives why each message was dropped (trace.ts); none in production unless --log-debug. */
  readonly trace?: TraceSink;
  /** Grid blocks the data file may hold (the storage limit). Default: gridBlocksLimitDefault. */
  readonly gridBlocksLimit?: number;
  /** Bytes of grid pages kept in memory (the block cache). Default: gridCacheBytesDefault. */
  readonly gridCacheBytes?: number;
  /**
   * Allocates and touches the whole block cache now (page_pool.ts), as a production replica does,
   * so its memory does not grow as the ledger does. The simulator leaves it off.
   */
  readonly reserveGridCache?: boolean;
  /** Planted protocol bugs, for the VOPR's self-check only (bugs.ts). Default: none. */
  readonly bugs?: PlantedBugs;
  /**
   * Coverage probes (core/probes.ts): called with a literal name at each probe point. The VOPR
   * counts the hits; production passes none. It must not change the run.
   */
  readonly probe?: ProbeSink;
}

/** A prepare the primary has sent and not yet committed, with the replicas that acked it. */
export interface PipelineEntry {
  /** Empty while the prepare is being read back from the journal after a view change. */
  message: Uint8Array;
  readonly op: number;
  readonly checksum: bigint;
  /** From the header, so they are known even while the message is being read back. */
  readonly client: bigint;
  readonly operation: number;
  okFrom: number; // bitset of replica indexes
  /** A read of the prepare back from the journal is in flight (pipeline.ts readBackIntoPipeline). */
  readingBack?: boolean;
}

/** State sync in progress (vsr.md §8); the fields are owned by protocol/sync.ts. */
export interface SyncState {
  readonly target: CheckpointState;
  readonly targetOp: number;
  /** The target's blocks: which are local, which are still wanted from peers. */
  readonly blocks: GridSync;
  /** The `view` message that asked us to sync, re-applied once the checkpoint is installed. */
  readonly view: Uint8Array;
  readonly source: number;
  writing: boolean;
  /** Repair ticks since the last block was found locally or arrived. */
  idleTicks: number;
  /** blocks.blocksResolved at the last repair tick. */
  resolvedAtTick: number;
}

export abstract class ReplicaState {
  readonly cluster: bigint;
  /** `cluster` as the 16 bytes of a header's cluster field: framing and checks compare bytes, not BigInts. */
  readonly clusterBytes = new Uint8Array(16);
  readonly replica: number;
  readonly replicaCount: number;
  readonly standbyCount: number;
  readonly config: Config;
  readonly release: number;
  readonly quorum: Quorums;
  readonly math: CheckpointMath;
  readonly time: Time;
  readonly bus: MessageBus;
  readonly prng: Prng;
  readonly stateMachine: ReplicaStateMachine;
  readonly timeouts: ReplicaTimeouts;
  readonly options: ReplicaOptions;
  readonly bugs: PlantedBugs;
  /** Reports a coverage probe hit (core/probes.ts); a no-op unless the VOPR counts them. */
  readonly probe: ProbeSink;
  private readonly traceSink: TraceSink | null;

  // ---- protocol state: read anywhere, written only by the transitions below ----
  private statusValue: Status = "recovering";
  private viewValue = 0;
  private logViewValue = 0;
  private opValue = 0;
  private commitMinValue = 0;
  private commitMaxValue = 0;
  private opCheckpointValue = 0;
  private checkpointIdValue = 0n;
  private syncingValue: SyncState | null = null;
  /**
   * State sync discarded our log above the new checkpoint, and no `view` has reinstalled it yet:
   * our log is only the checkpoint's prefix, so a join_view advertises the checkpoint header's
   * view as its log_view, not the (higher) log_view whose suffix we no longer hold.
   */
  private logDiscardedValue = false;

  /** The header of the last executed prepare (commitMin): the anchor of the hash chain. */
  private commitHeaderBytes: Uint8Array = new Uint8Array(headerSize);
  protected readonly commitHeaderAccessor = new PrepareHeader(new Uint8Array(headerSize));
  /** The timestamp of the latest prepare (ledger.md §5 `prev`) and of the latest commit. */
  prepareTimestamp = 0n;
  private commitTimestampValue = 0n;

  /** Primary only: prepares in flight, in op order. */
  readonly pipeline: PipelineEntry[] = [];
  /** Primary only: requests waiting for room in the pipeline (at most one per client). */
  readonly requestQueue: Uint8Array[] = [];
  /** View change: votes to leave `view` (bitset), and the join_views received as new primary. */
  exitViewVotes = 0;
  readonly joinViews = new Map<number, Uint8Array>();
  /** Set once this replica, as the new primary, has chosen the log of `view`. */
  viewLogChosen = false;
  getViewNonce = 0n;
  /** Primary: no prepare_ok for too long while prepares wait; heartbeats stop (vsr.md §5.6). */
  abdicating = false;
  /** Primary: refusing new requests because the storage limit is near (logged once per episode). */
  refusingForStorage = false;

  constructor(options: ReplicaOptions) {
    assert(options.replica >= 0 && options.replica < options.replicaCount + options.standbyCount);
    assert(options.replicaCount >= 1 && options.replicaCount <= options.config.replicasMax);
    this.options = options;
    this.bugs = options.bugs ?? noBugs;
    assert(Object.isFrozen(this.bugs), "planted bugs are passed frozen");
    this.traceSink = options.trace ?? null;
    this.probe = options.probe ?? noProbe;
    this.cluster = options.cluster;
    writeU128(new DataView(this.clusterBytes.buffer), 0, options.cluster);
    this.replica = options.replica;
    this.replicaCount = options.replicaCount;
    this.standbyCount = options.standbyCount;
    this.config = options.config;
    this.release = options.release;
    this.quorum = quorums(options.replicaCount);
    this.math = checkpointMath(options.config);
    this.time = options.time;
    this.bus = options.bus;
    this.prng = options.prng;
    this.stateMachine = options.stateMachine;
    this.timeouts = new ReplicaTimeouts(this.prng);
  }

  get status(): Status { return this.statusValue; }
  get view(): number { return this.viewValue; }
  /** The last view in which this replica installed a log (vsr.md §6). */
  get logView(): number { return this.logViewValue; }
  /** The head of the log. */
  get op(): number { return this.opValue; }
  /** The highest op executed locally. */
  get commitMin(): number { return this.commitMinValue; }
  /** The highest op known committed by the cluster. */
  get commitMax(): number { return this.commitMaxValue; }
  get opCheckpoint(): number { return this.opCheckpointValue; }
  /** State sync in progress (vsr.md §8): commits stop and prepare_oks are withheld. */
  get syncing(): SyncState | null { return this.syncingValue; }
  /** Our log above the synced checkpoint was discarded and not yet reinstalled by a view. */
  get logDiscardedBySync(): boolean { return this.logDiscardedValue; }
  get commitHeader(): Uint8Array { return this.commitHeaderBytes; }
  get commitTimestamp(): bigint { return this.commitTimestampValue; }

  checkpointId(): bigint {
    return this.checkpointIdValue;
  }

  // ---- identity and roles ----

  get isStandby(): boolean {
    return this.replica >= this.replicaCount;
  }

  primaryOf(view: number): number {
    return primaryIndex(view, this.replicaCount);
  }

  get isPrimary(): boolean {
    return !this.isStandby && this.primaryOf(this.viewValue) === this.replica;
  }

  get isSolo(): boolean {
    return this.replicaCount === 1 && this.standbyCount === 0;
  }

  /** The highest op this replica may prepare before the next checkpoint is durable (vsr.md §9). */
  get opPrepareMax(): number {
    // Memoised per checkpoint: invariants() reads it after every message and tick.
    if (this.opPrepareMaxCheckpoint !== this.opCheckpointValue) {
      this.opPrepareMaxValue = this.math.opPrepareMax(this.opCheckpointValue);
      this.opPrepareMaxCheckpoint = this.opCheckpointValue;
    }
    return this.opPrepareMaxValue;
  }
  private opPrepareMaxCheckpoint = -1;
  private opPrepareMaxValue = 0;

  // ---- events and trace ----

  emit(event: ReplicaEvent, detail?: string): void {
    // Only Replica extends this class: the observer sees the whole replica.
    this.options.onEvent?.(this as unknown as Replica, event, detail);
  }

  /** Emits a notice whose detail line is built only when someone listens. */
  notice(event: NoticeEvent, detail: () => string): void {
    if (this.options.onEvent !== undefined) this.emit(event, detail());
  }

  /** Whether a trace sink listens (so callers can skip building a line nobody reads). */
  get tracing(): boolean {
    return this.traceSink !== null;
  }

  /** Records that a `command` message was dropped, and why (trace.ts). */
  ignored(command: string, reason: string): void {
    if (this.traceSink !== null) this.traceSink(this.replica, `ignored ${command}: ${reason}`);
  }

  /** Records a decision worth explaining that is not a drop. */
  trace(line: string): void {
    if (this.traceSink !== null) this.traceSink(this.replica, line);
  }

  // ---- transitions: start-up ----

  /** Open: the superblock's view, log_view and checkpoint become ours (vsr.md §11.5). */
  protected openFromSuperblock(view: number, logView: number, checkpoint: CheckpointState, checkpointId: bigint): void {
    assert(this.statusValue === "recovering" && this.viewValue === 0 && this.opValue === 0, "opened twice");
    assert(logView <= view, "superblock: log_view beyond view");
    const header = new PrepareHeader(checkpoint.header, 0);
    this.viewValue = view;
    this.logViewValue = logView;
    // Replay only what the checkpoint vouches for: the cluster tells a restarted replica what is
    // committed (WAL entries above the checkpoint may be stale ones from an aborted view).
    this.opCheckpointValue = header.op;
    this.checkpointIdValue = checkpointId;
    this.commitMinValue = header.op;
    this.commitMaxValue = header.op;
    this.opValue = header.op; // until the WAL is recovered
    this.commitHeaderBytes = checkpoint.header.slice();
    this.commitHeaderAccessor.reset(this.commitHeaderBytes, 0);
    this.commitTimestampValue = header.timestamp;
  }

  /** Open: the head recovered from the WAL and the view headers. */
  protected openHead(op: number): void {
    assert(this.statusValue === "recovering", "openHead after open");
    assert(op >= this.opCheckpointValue, "the head is below the checkpoint");
    this.opValue = op;
  }

  /** A solo replica increments its view on every restart: nobody else can vouch for its log. */
  protected openSoloView(view: number): void {
    assert(this.statusValue === "recovering" && this.isSolo, "only a solo replica starts its own view");
    assert(view === this.viewValue + 1 && this.logViewValue <= this.viewValue);
    this.viewValue = view;
    this.logViewValue = view;
  }

  // ---- transitions: status ----

  /** To normal status in `view`, whose log this replica has installed durably. */
  toNormal(view: number): void {
    assert(this.statusValue === "recovering" || this.statusValue === "view_change",
      `toNormal from ${this.statusValue}`);
    assert(view >= this.viewValue, "toNormal: view goes back");
    assert(this.logViewValue === view, "toNormal: the log of the view is not installed");
    const viewChanged = view !== this.viewValue;
    this.viewValue = view;
    this.statusValue = "normal";
    this.exitViewVotes = 0;
    this.joinViews.clear();
    this.viewLogChosen = false;
    this.timeouts.enterNormal(this.isPrimary);
    if (viewChanged) this.emit("view");
    this.emit("status");
  }

  /** To view_change for `view` (a quorum of votes, or a newer view seen): the caller persists it. */
  toViewChange(view: number): void {
    assert(!this.isStandby, "a standby never changes view on its own");
    assert(this.statusValue !== "recovering_head" || view > this.viewValue, "recovering_head joins only newer views");
    assert(view > this.viewValue || (view === this.viewValue && this.statusValue !== "view_change"),
      "toViewChange: view goes back");
    this.viewValue = view;
    this.statusValue = "view_change";
    this.exitViewVotes = 0;
    this.joinViews.clear();
    this.viewLogChosen = false;
    this.clearPrimaryState();
    this.timeouts.enterViewChange();
    this.emit("view");
    this.emit("status");
  }

  /**
   * A backup (or standby, or a replica in recovering_head) adopts the log of `view` from its
   * primary's `view` message: view and log_view become `view`, with the head at `head`. It stays
   * in view_change until the view is durable, then calls toNormal.
   */
  adoptView(view: number, head: number): void {
    assert(this.statusValue !== "recovering", "adoptView before open");
    assert(view >= this.viewValue && view >= this.logViewValue, "adoptView: view goes back");
    assert(this.primaryOf(view) !== this.replica, "a primary adopts no view of its own");
    assert(head >= this.commitMinValue && head <= this.opPrepareMax, "adoptView: head out of range");
    this.viewValue = view;
    this.logViewValue = view;
    this.opValue = head;
    this.logDiscardedValue = false;
    this.statusValue = "view_change";
    this.getViewNonce = 0n;
    // A would-be primary of an older view that chose its log gives that up: it is a backup now.
    this.joinViews.clear();
    this.viewLogChosen = false;
    this.clearPrimaryState();
    this.timeouts.enterViewChange();
  }

  /** Open found the head of the WAL uncertain: wait for a view from the cluster (vsr.md §11.4). */
  protected toRecoveringHead(): void {
    if (this.statusValue !== "recovering") assertFailed(`toRecoveringHead from ${this.statusValue}`);
    assert(!this.isSolo, "a solo replica has nobody to learn its head from");
    this.statusValue = "recovering_head";
    this.timeouts.enterRecoveringHead();
    this.probe("recovering_head_entered");
    this.emit("status");
  }

  /** The new primary has chosen the log of its view: log_view = view (vsr.md §6.3). */
  chooseLogOfView(head: number): void {
    assert(this.statusValue === "view_change" && this.isPrimary && !this.viewLogChosen);
    assert(this.logViewValue < this.viewValue, "the log of this view is chosen once");
    assert(head >= this.commitMinValue && head <= this.opPrepareMax, "chosen head out of range");
    this.opValue = head;
    this.logViewValue = this.viewValue;
    this.logDiscardedValue = false;
    this.viewLogChosen = true;
  }

  private clearPrimaryState(): void {
    this.pipeline.length = 0;
    this.requestQueue.length = 0;
    this.abdicating = false;
  }

  // ---- transitions: the log ----

  /** The head moves up: a new prepare, or headers beyond it that the cluster committed. */
  advanceHead(op: number): void {
    assert(op > this.opValue, "advanceHead: the head goes back");
    assert(op <= this.opPrepareMax, "advanceHead: beyond the WAL's capacity");
    assert(this.statusValue === "normal", "the head advances only in normal status");
    this.opValue = op;
  }

  /** The head is reset to `op` by an installed log (never below what we executed). */
  truncateHead(op: number): void {
    assert(op >= this.commitMinValue, "truncateHead below commit_min");
    assert(op <= this.opPrepareMax, "truncateHead beyond the WAL's capacity");
    this.opValue = op;
  }

  /** commit_max only grows (vsr.md §17.3). */
  advanceCommitMax(commit: number): void {
    if (commit > this.commitMaxValue) this.commitMaxValue = commit;
  }

  /** `prepare` (op commit_min + 1) was executed. */
  protected committed(prepare: Uint8Array, header: PrepareHeader): void {
    assert(header.op === this.commitMinValue + 1, "commits are in op order");
    assert(header.op <= this.commitMaxValue, "executed an op not known committed");
    this.commitMinValue = header.op;
    this.commitHeaderBytes = prepare.slice(0, headerSize);
    this.commitHeaderAccessor.reset(this.commitHeaderBytes, 0);
    this.commitTimestampValue = header.timestamp;
  }

  /** A checkpoint at `op` is durable (its superblock is written). */
  checkpointDurable(op: number, checkpointId: bigint): void {
    assert(op > this.opCheckpointValue, "checkpoints advance");
    assert(op <= this.commitMinValue, "a checkpoint of ops not executed");
    this.opCheckpointValue = op;
    this.checkpointIdValue = checkpointId;
  }

  // ---- transitions: state sync ----

  syncStart(sync: SyncState): void {
    assert(this.syncingValue === null, "syncStart while syncing");
    assert(sync.targetOp > this.commitMinValue && sync.targetOp > this.opCheckpointValue, "sync backwards");
    this.syncingValue = sync;
    this.emit("sync_start");
  }

  /** Abandons a sync that has not started writing (a newer target, or an unserved one). */
  syncCancel(): void {
    assert(this.syncingValue !== null && !this.syncingValue.writing, "syncCancel without a cancellable sync");
    this.syncingValue = null;
    this.probe("state_sync_cancelled");
    this.emit("sync_cancel");
  }

  /** The synced checkpoint is durable and loaded: it becomes our checkpoint and commit_min. */
  syncInstalled(checkpoint: CheckpointState, checkpointId: bigint): void {
    const sync = this.syncingValue;
    assert(sync !== null && sync.writing, "syncInstalled without a sync being written");
    const header = new PrepareHeader(checkpoint.header, 0);
    assert(header.op === sync.targetOp, "installed another checkpoint than the target");
    assert(header.op > this.commitMinValue && header.op > this.opCheckpointValue);
    this.opCheckpointValue = header.op;
    this.checkpointIdValue = checkpointId;
    this.commitMinValue = header.op;
    this.commitMaxValue = Math.max(this.commitMaxValue, header.op);
    this.commitTimestampValue = header.timestamp;
    this.commitHeaderBytes = checkpoint.header.slice();
    this.commitHeaderAccessor.reset(this.commitHeaderBytes, 0);
    if (this.opValue < header.op) this.opValue = header.op;
    this.syncingValue = null;
    this.logDiscardedValue = true; // until the view that asked for the sync is re-applied
    // Join_views collected before the sync (our own among them) describe logs we no longer hold.
    this.joinViews.clear();
    this.probe("state_sync_done");
    this.emit("sync_done");
  }

  /** The log above the synced checkpoint extends it: it is ours still, and in our log_view. */
  protected logKeptAfterSync(): void {
    assert(this.logDiscardedValue && this.syncingValue === null, "logKeptAfterSync without a sync just installed");
    this.logDiscardedValue = false;
  }

  // ---- invariants ----

  /** What holds between any two events (the simulator checks it after every message and tick). */
  invariants(): void {
    assert(this.opCheckpointValue <= this.commitMinValue, "invariant: checkpoint beyond commit_min");
    assert(this.commitMinValue <= this.commitMaxValue, "invariant: commit_min beyond commit_max");
    assert(this.commitMinValue <= this.opValue, "invariant: commit_min beyond the head");
    assert(this.opValue <= this.opPrepareMax, "invariant: the head beyond the WAL's capacity");
    assert(this.logViewValue <= this.viewValue, "invariant: log_view beyond view");
    assert(this.statusValue !== "normal" || this.logViewValue === this.viewValue,
      "invariant: normal status without the view's log");
    assert(this.commitHeaderAccessor.op === this.commitMinValue, "invariant: commit header is not commit_min's");
    // Votes are bits 0..replicaCount-1 (a shift, not `2 ** replicaCount`: Math.pow was 3% of the VOPR).
    assert(this.exitViewVotes >>> this.replicaCount === 0, "invariant: a vote from a non-voter");
    assert(this.statusValue === "view_change" || !this.viewLogChosen, "invariant: log chosen outside a view change");
    this.pipelineInvariants();
  }

  private pipelineInvariants(): void {
    if (this.pipeline.length === 0 && this.requestQueue.length === 0) return;
    assert(this.isPrimary && this.statusValue === "normal", "invariant: pipeline outside a normal primary");
    assert(this.pipeline.length <= this.config.pipelinePrepareQueueMax, "invariant: pipeline overflow");
    assert(this.requestQueue.length <= this.config.clientsMax, "invariant: request queue overflow");
    for (let i = 0; i < this.pipeline.length; i++) {
      const entry = this.pipeline[i]!;
      assert(entry.op > this.commitMinValue && entry.op <= this.opValue, "invariant: pipeline op out of range");
      assert(i === 0 || entry.op === this.pipeline[i - 1]!.op + 1, "invariant: pipeline not contiguous");
    }
  }
}
