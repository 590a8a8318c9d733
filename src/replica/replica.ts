// The replica: Viewstamped Replication in the TigerBeetle style (spec/vsr.md), written once against
// the Time, Storage and MessageBus seam so that production and the VOPR run the same code.
//
// replica_state.ts holds the protocol state and its transitions; this file holds what the replica
// owns (superblock, journal, sessions, clock, grid), start-up and recovery, the tick, the message
// dispatch and the commit loop. Each protocol concern lives in protocol/ and operates on this class:
//   protocol/request.ts      client requests, sessions, evictions and pulses (primary)
//   protocol/pipeline.ts     turning requests into prepares, acks and the commit quorum
//   protocol/normal.ts       prepare, prepare_ok, commit heartbeats (normal operation)
//   protocol/view_change.ts  exit_view, join_view, view and get_view
//   protocol/repair.ts       header and prepare repair, serving peers
//   protocol/sync.ts         state sync: get_blocks and block
//   protocol/checkpoint.ts   writing and restoring checkpoints
//   protocol/ping.ts         pings, pongs and the cluster clock
import { assert, assertFailed, FatalError } from "../core/assert.js";
import { headerSize } from "../core/config.js";
import { Command, commandName, Operation } from "../core/command.js";
import {
  buildReplyFromPrepare, FrameField, Header, PrepareField, PrepareHeader, validateHeader, verifyFrame,
} from "../core/header.js";
import type { Storage } from "../io/storage.js";
import { ClientReplies } from "./client_replies.js";
import { ClientSessions } from "./client_sessions.js";
import { Journal } from "./journal/journal.js";
import { checkpointId, SuperBlock } from "./superblock/superblock.js";
import { onRequest, onPingClient, pulseQuietTicks, tickPulse } from "./protocol/request.js";
import { onCommit, onPrepare, onPrepareOk, tickNormal } from "./protocol/normal.js";
import {
  enterViewChange, onExitView, onGetView, onJoinView, onView, tickViewChange,
} from "./protocol/view_change.js";
import { journalRepairIdle, onGetHeaders, onGetPrepare, onHeaders, tickRepair } from "./protocol/repair.js";
import { onPing, onPong, tickClock, tickPing } from "./protocol/ping.js";
import { Clock } from "./clock/clock.js";
import { PrepareCache } from "./prepare_cache.js";
import { Grid, gridBlocksLimitDefault } from "../grid/grid.js";
import { GridScrubber, scrubPace, type ScrubFault } from "../grid/grid_scrubber.js";
import { checkpointIfDue, flushIfBarEnd, restoreCheckpoint } from "./protocol/checkpoint.js";
import { onBlock, onGetBlocks, scrubFaultHandler, tickGridRepair, tickScrubber } from "./protocol/sync.js";
import { onGetReply, onReplyRepair } from "./protocol/reply_repair.js";
import { ackJournal, refillPipeline } from "./protocol/pipeline.js";
import { ReplicaState, type ReplicaOptions } from "./replica_state.js";

export type { NoticeEvent, PipelineEntry, ReplicaEvent, ReplicaOptions, Status, SyncState } from "./replica_state.js";
export { isNotice } from "./replica_state.js";

/** How long open waits for grid repair before going on without its state (5 s). */
const openRepairTicksMax = 500;

/** Converts a monotonic deadline into ticks (the simulator's TimeSim). */
export interface MonotonicTicks {
  /** Ticks from now until monotonic time first reads at least `monotonicNs` (at least 1: the next tick). */
  ticksUntilMonotonic(monotonicNs: bigint): number;
}

export class Replica extends ReplicaState {
  readonly superblock: SuperBlock;
  readonly journal: Journal;
  readonly sessions: ClientSessions;
  /** The client_replies zone: each session's latest reply (protocol/reply_repair.ts). */
  readonly clientReplies: ClientReplies;
  /** Cluster time (vsr.md §14); standbys' clocks are ignored, so they keep none. */
  readonly clock: Clock | null;
  /** Recently seen prepares, so that commits rarely need to read the journal. */
  readonly prepareCache: PrepareCache;

  /** A checkpoint is being written: committing waits (the state must not change under it). */
  checkpointing = false;
  readonly grid: Grid;
  /** Reads cold grid blocks at a bounded rate and repairs the faulty ones (protocol/sync.ts). */
  readonly scrubber: GridScrubber;
  /** Told of each faulty block the scrubber finds (protocol/sync.ts). */
  readonly onScrubFault: (fault: ScrubFault) => void;
  /** A backup's commit once its newest prepare is written and acknowledged (protocol/normal.ts onPrepare). */
  readonly commitJournalAfterAck = (): void => {
    if (this.status === "normal") this.commitJournal();
  };
  private opened = false;
  private readonly checkpointHeaderAccessor = new PrepareHeader(new Uint8Array(headerSize));
  private readonly scratchHeader = new Header(new Uint8Array(headerSize));
  readonly replyBuffer: Uint8Array;

  /** The commit loop is waiting for a journal read or a checkpoint. */
  committing = false;
  /** The next op's prefetch round, run early and found resident (warmPrefetch), or null. */
  private warmed: { op: number; checksum: bigint; epoch: number } | null = null;
  /** Ticks since grid repair last asked peers for blocks (protocol/sync.ts). */
  gridRepairTicks = 0;
  /**
   * A backup's commit progress, noted at each repair_sync firing (protocol/repair.ts
   * tickRepairSync): commit_min then, and whether it had advanced since the firing before.
   */
  readonly walRepairProgress = { commitMin: 0, advanced: true };
  /**
   * False while the checkpoint's state is not in memory: opening it waited too long for grid
   * blocks that peers may no longer hold (they moved on and reused the addresses). The replica
   * then runs without executing anything until the load completes or a state sync replaces it.
   */
  stateLoaded = true;
  /** Ticks that open has waited for grid repair; past openRepairTicksMax it goes on without the state. */
  private openRepairTicks = 0;
  /** Since an epoch expired without agreement, until a window synchronises (protocol/ping.ts). */
  clockUnsynchronized = false;
  /** Why the last clock window expired, for the operator's notice. */
  clockWindowExpiry: "partitioned" | "no_agreement" | null = null;
  /** Set while open waits for the checkpoint: goes on with the rest of open without it. */
  private openWithoutState: (() => void) | null = null;
  /** Superblock updates run one at a time (vsr.md §10); the durability gate of §6.2 reads it. */
  superblockUpdating = false;
  private readonly superblockJobs: ((done: () => void) => void)[] = [];
  /** The continuation of a queued, not yet started, view update (see persistView). */
  queuedViewThen: (() => void) | null = null;

  constructor(options: ReplicaOptions) {
    super(options);
    const storage: Storage = options.storage;
    this.superblock = new SuperBlock({
      storage, config: options.config, cluster: options.cluster, replica: options.replica,
      replicaCount: options.replicaCount,
    });
    // The journal's "solo" rules (one write in flight; an unrepairable slot is fatal) are for the
    // one active replica of a cluster of one. Its standbys can repair from it like backups.
    const standby = options.replica >= options.replicaCount;
    this.journal = new Journal({
      storage, config: options.config, cluster: options.cluster,
      replicaCount: options.replicaCount === 1 && !standby ? 1 : Math.max(2, options.replicaCount),
    });
    this.sessions = new ClientSessions(options.config.clientsMax);
    this.clientReplies = new ClientReplies(storage, options.config);
    this.clock = this.isStandby ? null : new Clock({
      replicaCount: options.replicaCount, replica: options.replica,
      monotonic: options.time.monotonic(), realtime: options.time.realtime(),
    });
    this.replyBuffer = new Uint8Array(options.config.messageBodySizeMax);
    this.prepareCache = new PrepareCache(4 * options.config.pipelinePrepareQueueMax);
    this.grid = new Grid(storage, options.config, options.cluster, options.gridBlocksLimit ?? gridBlocksLimitDefault(options.config),
      options.gridCacheBytes);
    this.scrubber = new GridScrubber(this.grid, scrubPace(options.config.name));
    this.onScrubFault = scrubFaultHandler(this);
    this.stateMachine.persistent.configurePages(this.grid.pagePool);
    if (options.reserveGridCache === true) this.grid.reserveCache();
    // With a peer to ask, a faulty block of our state is repaired rather than fatal.
    if (options.replicaCount + options.standbyCount > 1) this.grid.enableRepair();
    if (this.bugs.gridReadWithoutBodyChecksum) this.grid.verifyBodies = false;
    if (this.bugs.headerBeforePrepare) this.journal.writer.headerBeforePrepare = true;
    if (this.bugs.truncateAtFaultySlot) this.journal.truncateAtFaultySlot = true;
    if (this.bugs.superblockNewestCopy) this.superblock.newestCopyWins = true;
  }

  /** Queues a superblock update; `job` must call `done` once its update is durable. */
  runSuperblockJob(job: (done: () => void) => void): void {
    assert(this.opened, "superblock updates before open");
    assert(this.superblockJobs.length < 4, "superblock updates pile up");
    this.superblockJobs.push(job);
    if (!this.superblockUpdating) this.nextSuperblockJob();
  }

  private nextSuperblockJob(): void {
    const job = this.superblockJobs.shift();
    this.superblockUpdating = job !== undefined;
    if (job !== undefined) job(() => this.nextSuperblockJob());
  }

  /** After a checkpoint is durable: resume committing, and the primary may prepare further. */
  afterCheckpoint(): void {
    assert(!this.checkpointing && this.opCheckpoint <= this.commitMin);
    // Prepares beyond what the previous checkpoint let us acknowledge may be acknowledged now.
    if (this.status === "normal") ackJournal(this);
    this.commitJournal();
    if (this.isPrimary && this.status === "normal") refillPipeline(this);
  }

  // ---- identity and roles ----

  /** Cluster time for stamping prepares, or null while unsynchronised (requests are dropped). */
  realtimeSynchronized(): bigint | null {
    if (this.isSolo || this.clock === null) return this.time.realtime();
    return this.clock.realtimeSynchronized(this.time.monotonic(), this.time.realtime());
  }

  realtimeForPrepare(): bigint {
    const realtime = this.realtimeSynchronized();
    assert(realtime !== null, "preparing without a synchronised clock");
    return realtime;
  }

  /** The view and log_view persisted in the superblock (what may be advertised). */
  get viewDurable(): number {
    const view = this.superblock.working!.vsr_state.view;
    assert(view <= this.view, "the durable view is ahead of the view");
    return view;
  }

  get logViewDurable(): number {
    const logView = this.superblock.working!.vsr_state.log_view;
    assert(logView <= this.viewDurable, "the durable log_view is ahead of the durable view");
    return logView;
  }

  /**
   * The prepare header of `op` if we can vouch for it. The last executed op's header is the one
   * we executed (its WAL slot may hold a stale header from an aborted view, or nothing after a
   * state sync); the checkpoint op's is in the superblock; ops whose state we adopted by state
   * sync were never in our WAL, so whatever their slots hold is not ours to vouch for; the rest
   * come from the journal (anything at or below commit_min there was executed by us).
   */
  headerAt(op: number): PrepareHeader | null {
    if (op === this.commitMin) return this.commitHeaderAccessor;
    const state = this.superblock.working!.vsr_state;
    if (op === this.opCheckpoint) {
      // Accessors are reused (no allocation on this hot path); reset() is cheap for the same buffer.
      const checkpointHeader = this.checkpointHeaderAccessor.reset(state.checkpoint.header, 0);
      return checkpointHeader.op === op ? checkpointHeader : null;
    }
    if (state.sync_op_max > 0 && op >= state.sync_op_min && op <= state.sync_op_max) return null;
    return this.journal.header(op);
  }

  /**
   * Whether a header for `op` may be installed now: above what we executed, and not over a slot
   * that already holds a newer op (an op that old can no longer matter to us).
   */
  installable(op: number): boolean {
    if (op <= this.commitMin || op > this.opPrepareMax) return false;
    assert(op > this.opCheckpoint && op - this.opCheckpoint <= this.journal.slotCount);
    const current = this.journal.headerForSlot(op % this.journal.slotCount);
    return current.operation === Operation.reserved || current.op <= op;
  }

  /** The checksum of the prepare at `op` if its header is known. */
  checksumOf(op: number): bigint | null {
    return this.headerAt(op)?.checksum ?? null;
  }

  // ---- start-up ----

  /**
   * Formats a fresh data file for this replica. A replica that lost its data file is formatted
   * with `recoverView` (`scarab recover`): a view above any it may have voted in before the loss,
   * so that it never acts on a promise it no longer remembers; it opens in that view's view change
   * with an empty log, which loses every log choice, and catches up by repair or state sync.
   */
  static format(options: ReplicaOptions, callback: () => void, recoverView = 0): void {
    const replica = new Replica(options);
    replica.superblock.format(() => replica.journal.format(callback), recoverView);
  }

  /** Opens the data file: superblock, WAL recovery, replay of committed ops (vsr.md §11.5). */
  open(callback: (error: string | null) => void): void {
    assert(!this.opened, "open twice");
    this.opened = true;
    this.superblock.open((error) => {
      if (error !== null) return callback(`superblock: ${error}`);
      assert(this.status === "recovering" && this.superblock.working !== null);
      const repaired = this.superblock.copiesRepaired;
      if (repaired.length > 0) {
        this.probe("superblock_copy_repaired");
        this.notice("repair_superblock", () => `rewrote superblock cop${repaired.length === 1 ? "y" : "ies"} ` +
          `${repaired.join(", ")} from the 2-of-4 quorum (damaged, or left behind by a crash mid-update)`);
      }
      const state = this.superblock.working!.vsr_state;
      this.openFromSuperblock(state.view, state.log_view, state.checkpoint, checkpointId(state.checkpoint));
      const recoverJournal = (): void => {
        this.openWithoutState = null;
        this.journal.recover({ opCheckpoint: this.opCheckpoint, opPrepareMax: this.opPrepareMax }, (result) => {
          if (typeof result === "string") return callback(`journal: ${result}`);
          assert(result.opMax <= this.opPrepareMax, "the journal recovered ops beyond its capacity");
          if (result.torn > 0) this.probe("wal_torn_write_truncated");
          if (result.faultyCount > 0) this.probe("wal_faulty_slot_recovered");
          this.openFinish(result.opMax, result.headCertain, callback);
        });
      };
      this.openWithoutState = () => {
        this.stateLoaded = false;
        this.probe("open_without_state");
        this.notice("state_deferred", () => `checkpoint ${this.opCheckpoint}: grid blocks still unrepaired after ` +
          `${openRepairTicksMax / 100} s; joining the cluster without executing until they are, or until a state sync`);
        recoverJournal();
      };
      restoreCheckpoint(this, (restoreError) => {
        if (this.stateLoaded && this.openWithoutState !== null) {
          if (restoreError !== null) return callback(restoreError);
          return recoverJournal();
        }
        // Loaded in the background, after open went on without it.
        if (this.stateLoaded) return; // a state sync installed a newer checkpoint meanwhile
        if (restoreError !== null) {
          if (this.syncing !== null) return; // superseded by the sync that replaces it
          throw new FatalError(`loading checkpoint ${this.opCheckpoint}: ${restoreError}`);
        }
        this.stateLoaded = true;
        this.notice("state_loaded", () => `checkpoint ${this.opCheckpoint}: repaired and loaded; executing again`);
        this.commitJournal();
      });
    });
  }

  private openFinish(opMax: number, headCertain: boolean, callback: (error: string | null) => void): void {
    this.openHead(this.loadViewHeaders(opMax));
    // The head the WAL and the view headers left us may sit in a faulty slot (a prepare we may
    // have acknowledged): we can neither vouch for it nor nack it, so we could join no view
    // change (view_change.ts buildJoinView), and a 2-replica cluster changed views forever
    // (crash-heavy VOPR seeds 66 and 835791073117046069). Where we would have to join one, we
    // wait in recovering_head for a view instead, as TigerBeetle's op_head_certain sends a faulty
    // head slot there (vsr.md §11.5). A backup back in its own view repairs the slot instead.
    const headFaulty = this.op > this.opCheckpoint && this.journal.isFaulty(this.op);
    const head = this.journal.header(this.op);
    if (head !== null) this.prepareTimestamp = new PrepareHeader(head.bytes(), 0).timestamp;
    this.emit("open");
    assert(this.commitMin === this.opCheckpoint && this.op >= this.commitMin);
    // Replay what is known committed before serving: a restarted replica never regresses.
    this.commitJournal(() => {
      assert(this.status === "recovering", "serving before open finished");
      this.timeouts.startCommon(!this.isStandby);
      if (this.isSolo) {
        // A solo replica has nobody to agree with: it increments its view on every restart.
        this.startSoloView();
      } else if (!headCertain) {
        this.toRecoveringHead();
      } else if (this.logView === this.view && (this.primaryOf(this.view) !== this.replica || this.isStandby)) {
        this.toNormal(this.view); // a faulty head is repaired from the primary there
      } else if (headFaulty && !this.isStandby) {
        this.toRecoveringHead();
      } else if (this.logView === this.view) {
        // A primary that restarts in its own view may have lost prepares it acked: move on.
        enterViewChange(this, this.view + 1);
      } else {
        enterViewChange(this, this.view);
      }
      // A solo replica's new view is being persisted: it turns normal once that is durable.
      assert(this.status !== "recovering" || this.isSolo, "open finished without a status");
      callback(null);
    });
  }

  /**
   * The view headers persisted with the last view change are canonical for log_view: they may
   * be newer than the WAL (their prepares were still being written at a crash), or the WAL may
   * still hold entries that installing that view truncated (the reserved headers were not yet
   * written). So they replace whatever differs, and above their head an entry prepared before
   * log_view is from an aborted view and is discarded (vsr.md §11.4 item 6) — that entry alone:
   * log_view's own entries above it may have been acknowledged (a crash can land op 45 of the
   * view and not op 44, which then still holds the aborted view's op 44; restart-heavy seed 85).
   * Returns the head: recovery's `opMax`, unless its entry was discarded; then the highest op
   * still held (a header, or a faulty slot), since a head whose header we do not know would end
   * our next view headers low and lose the log above them (restart-heavy seeds 20, 22, 45).
   */
  private loadViewHeaders(opMax: number): number {
    assert(this.status === "recovering");
    const viewHeaders = this.superblock.working!.view_headers;
    for (const bytes of viewHeaders) {
      const header = new PrepareHeader(bytes, 0);
      if (!this.installable(header.op)) continue;
      const existing = this.journal.header(header.op);
      if (existing === null || existing.checksum !== header.checksum) this.journal.setHeader(bytes);
    }
    const floor = Math.max(this.opCheckpoint, this.viewHeadersHeadOp());
    let discarded = false;
    for (let op = floor + 1; op <= this.journal.opMax; op++) {
      const header = this.journal.header(op);
      if (header === null || header.view >= this.logView) continue;
      this.journal.removeEntry(op);
      discarded = true;
    }
    let head = Math.max(opMax, floor);
    if (!discarded) return head;
    while (head > floor && this.journal.header(head) === null && !this.journal.isFaulty(head)) head--;
    return head;
  }

  private viewHeadersHeadOp(): number {
    const headers = this.superblock.working!.view_headers;
    return headers.length > 0 ? new PrepareHeader(headers[0]!, 0).op : 0;
  }

  private startSoloView(): void {
    const view = this.view + 1;
    this.openSoloView(view);
    this.runSuperblockJob((done) => {
      const update = { view, log_view: view, view_headers: this.viewHeadersSuffix(), commit_max: this.commitMax };
      this.superblock.updateViewChange(update, () => {
        done();
        this.advanceCommitMax(this.op);
        this.toNormal(view);
        this.commitJournal();
      });
    });
  }

  // ---- the tick ----

  tick(): void {
    if (!this.opened) return;
    // Opening may wait for grid blocks from peers: ask for them before anything else runs.
    tickGridRepair(this);
    if (this.openWithoutState !== null && (this.grid.repair?.pending ?? 0) > 0) {
      this.openRepairTicks += 1;
      if (this.openRepairTicks >= openRepairTicksMax) this.openWithoutState();
    }
    if (this.status === "recovering") return;
    if (this.primaryWithoutState) {
      // A primary that cannot execute would stall the cluster: hand the view on.
      return enterViewChange(this, this.view + 1);
    }
    assert(this.superblock.working !== null);
    if (!this.timeouts.tick()) return this.tickQuiet();
    tickPing(this);
    if (this.timeouts.exitViewWindow.fired()) {
      // Votes are forgotten after a while in every status (vsr.md §6.1).
      this.timeouts.exitViewWindow.stop();
      this.exitViewVotes = 0;
    }
    if (this.status === "normal") {
      tickNormal(this);
      // tickNormal may have started a view change (a backup's vote can make it the new primary).
      if (this.isPrimary && this.status === "normal") tickPulse(this);
    } else if (this.status === "view_change") {
      tickViewChange(this);
    } else if (this.status === "recovering_head") {
      tickViewChange(this);
    }
    tickRepair(this);
    tickScrubber(this);
  }

  /**
   * A tick on which no timeout is due, as tick() would run it: every step of tick() other than
   * these acts only on a fired timeout (Timeout.fired). Most ticks are these: between two
   * journal_repair timeouts (10 ticks) nothing else is due on an idle replica.
   */
  private tickQuiet(): void {
    tickClock(this);
    if (this.pipelineCanRefill) refillPipeline(this);
    tickScrubber(this);
  }

  /** A primary without its checkpoint's state: tick() hands the view on at once. */
  private get primaryWithoutState(): boolean {
    return !this.stateLoaded && this.status === "normal" && this.isPrimary && !this.isSolo;
  }

  /**
   * A primary with requests queued and room to prepare them: every tick tries to move them into
   * the pipeline (refillPipeline), which waits only for a synchronised clock. Without room the try
   * is a no-op: room comes from a commit or a checkpoint, never from a tick alone.
   */
  private get pipelineCanRefill(): boolean {
    return this.status === "normal" && this.isPrimary && this.requestQueue.length > 0 &&
      this.pipeline.length < this.config.pipelinePrepareQueueMax && this.op < this.opPrepareMax;
  }

  /** The grid scrubber ticks (tickScrubber): the state is loaded and no state sync replaces it. */
  get scrubberRuns(): boolean {
    return this.stateLoaded && this.syncing === null;
  }

  /**
   * How many coming ticks would be quiet ticks that only count (the timeouts' clock and the
   * scrubber's), as long as no message or IO completion arrives meanwhile; 0 when the next tick
   * may act. Deadlines in monotonic time (the cluster clock's, the pulse's) become ticks through
   * `time`. The simulator lets a replica sleep through them (sim/world/cluster.ts) and pays the
   * counts back with skipQuietTicks before anything else reaches it.
   */
  quietTicksAhead(time: MonotonicTicks): number {
    if (!this.opened || this.status === "recovering" || this.openWithoutState !== null) return 0;
    if ((this.grid.repair?.pending ?? 0) > 0) return 0; // tickGridRepair counts towards a request
    if (this.primaryWithoutState || this.pipelineCanRefill) return 0;
    const pulseQuiet = this.timeouts.pulse.ticking ? pulseQuietTicks(this, time) : 0;
    let quiet = this.timeouts.quietTicksAhead(journalRepairIdle(this), pulseQuiet);
    if (this.scrubberRuns) quiet = Math.min(quiet, this.scrubber.quietTicksAhead());
    if (quiet === 0) return 0;
    const clockAt = this.clock?.quietUntil() ?? null;
    return clockAt === null ? quiet : Math.min(quiet, time.ticksUntilMonotonic(clockAt) - 1);
  }

  /** What `ticks` quiet ticks (promised by quietTicksAhead) would have counted. */
  skipQuietTicks(ticks: number): void {
    this.timeouts.skipQuietTicks(ticks);
    if (this.scrubberRuns) this.scrubber.skipQuietTicks(ticks);
  }

  /** Re-applies a `view` message (after state sync installed the checkpoint it named). */
  applyView(message: Uint8Array): void {
    assert(this.syncing === null && this.commitMin === this.opCheckpoint, "a view re-applied after sync only");
    if (this.logExtendsCheckpoint()) {
      // Our log above the checkpoint is still our log_view's: we keep it, and keep vouching for the
      // prepares we acknowledged in it (forgetting them nacked them, and could truncate commits).
      this.logKeptAfterSync();
    } else {
      this.journal.truncateAfter(this.commitMin); // nothing above the new checkpoint is vouched for
      this.truncateHead(this.commitMin);
    }
    onView(this, message);
  }

  /**
   * Whether the journal above the synced checkpoint (commit_min) may still be our log_view's log.
   * It may not when the checkpoint was prepared in a later view (our log cannot hold it), or when
   * the hash chain down from our head (canonicalFrom: the head is canonical, a header that
   * does not chain to it is stale and repaired) reaches the op after the checkpoint and names
   * another parent: our log forked below the checkpoint, and nothing above the fork was committed.
   * A gap or a stale header on the way leaves the question open: a log that does not extend the
   * checkpoint never wins a view change (a replica that acknowledged the checkpoint's commit has a
   * later log_view), and one that does holds what we acknowledged, so we keep it.
   */
  private logExtendsCheckpoint(): boolean {
    const checkpoint = this.commitHeaderAccessor;
    if (this.op === this.commitMin || checkpoint.view > this.logView) return false;
    // The chain from the head stops above the op after the checkpoint: the question stays open.
    if (this.canonicalFrom() > this.commitMin + 1) return true;
    return this.journal.header(this.commitMin + 1)!.parent === checkpoint.checksum;
  }

  // ---- messages ----

  /** A message from a peer or client. Bytes are untrusted until both checksums verify. */
  onMessage(message: Uint8Array): void {
    if (!this.opened) return this.ignored("message", "still opening");
    const reason = this.ignoreFrame(message);
    if (reason !== null) return this.ignored("message", reason);
    const header = this.scratchHeader.reset(message, 0);
    assert(header.size === message.length && header.u128EqualsBytes(FrameField.cluster, this.clusterBytes, 0));
    // While opening, only grid blocks are taken: the checkpoint being loaded may wait for one.
    if (this.status === "recovering" && header.command !== Command.block) return this.ignored("message", "still opening");
    this.dispatch(header.command, message);
  }

  /** Why a received frame is not a valid message of this cluster, or null. */
  private ignoreFrame(message: Uint8Array): string | null {
    if (message.length < headerSize) return "shorter than a header";
    const frameCheck = verifyFrame(message);
    if (frameCheck !== null) return frameCheck;
    const header = this.scratchHeader.reset(message, 0);
    if (!header.u128EqualsBytes(FrameField.cluster, this.clusterBytes, 0)) return "another cluster";
    return validateHeader(header, this.config.messageSizeMax);
  }

  private dispatch(command: number, message: Uint8Array): void {
    switch (command) {
      case Command.request: return onRequest(this, message);
      case Command.ping_client: return onPingClient(this, message);
      case Command.prepare: return onPrepare(this, message);
      case Command.prepare_ok: return onPrepareOk(this, message);
      case Command.commit: return onCommit(this, message);
      case Command.exit_view: return onExitView(this, message);
      case Command.join_view: return onJoinView(this, message);
      case Command.view: return onView(this, message);
      case Command.get_view: return onGetView(this, message);
      case Command.get_headers: return onGetHeaders(this, message);
      case Command.headers: return onHeaders(this, message);
      case Command.get_prepare: return onGetPrepare(this, message);
      case Command.ping: return onPing(this, message);
      case Command.get_blocks: return onGetBlocks(this, message);
      case Command.block: return onBlock(this, message);
      case Command.pong: return onPong(this, message);
      case Command.get_reply: return onGetReply(this, message);
      case Command.reply: return onReplyRepair(this, message);
      default: return this.ignored(commandName(command), "not a replica's command");
    }
  }

  /** Fills the frame fields of a message this replica authors (wire.md §2); checksums come last. */
  frame(header: Header, command: number, size: number, view: number = this.view): void {
    assert(size >= headerSize && size <= this.config.messageSizeMax, "a message of impossible size");
    header.command = command;
    header.buffer.set(this.clusterBytes, header.offset + FrameField.cluster);
    header.size = size;
    header.view = view;
    header.release = this.release;
    header.replica = this.replica;
  }

  sendToReplica(replica: number, message: Uint8Array): void {
    assert(replica >= 0 && replica < this.replicaCount + this.standbyCount, "sending to a non-member");
    assert(message.length >= headerSize);
    if (replica !== this.replica) this.bus.sendToReplica(replica, message);
  }

  /** To every other active replica and every standby. */
  /**
   * Sends `message` to every other replica (and standby). Broadcast messages are built for the
   * broadcast and never modified after, so a bus that can send them uncopied does (a prepare).
   */
  broadcast(message: Uint8Array, includeStandbys = true): void {
    const nodes = this.replicaCount + (includeStandbys ? this.standbyCount : 0);
    const shared = this.bus.sendToReplicaShared;
    for (let node = 0; node < nodes; node++) {
      if (shared === undefined) this.sendToReplica(node, message);
      else if (node !== this.replica) shared.call(this.bus, node, message);
    }
  }

  // ---- the commit loop ----

  /**
   * Executes ops commitMin + 1 ..= commitMax in order. Prepares come from the pipeline or the
   * cache, else from the journal; a missing or corrupt prepare stops the loop until repair.
   */
  commitJournal(done?: () => void): void {
    if (this.committing) return;
    if (!this.stateLoaded) return done?.(); // resumed once the state is loaded (open) or synced
    const canonicalFrom = this.canonicalFrom();
    while (this.commitMin < this.commitMax && this.status !== "recovering_head") {
      // Execute only what hangs off the canonical head by the hash chain: a stale header from an
      // older view may sit in a slot below the head until repair replaces it.
      if (this.commitMin + 1 < canonicalFrom) break;
      if (this.checkpointing || this.syncing !== null) return; // resumed by afterCheckpoint / sync
      const op = this.commitMin + 1;
      assert(op <= this.commitMax && op >= canonicalFrom && !this.committing);
      const checksum = this.checksumOf(op);
      if (checksum === null) break; // the header must be repaired first
      const cached = this.prepareCache.get(op, checksum);
      if (cached !== null) {
        if (!this.commitWhenResident(cached, done)) return;
        continue;
      }
      if (this.journal.isDirty(op)) break; // the prepare must be repaired first
      this.committing = true;
      this.journal.readPrepare(op, checksum, (prepare) => {
        assert(this.committing);
        this.committing = false;
        if (prepare === null) return done?.();
        if (this.syncing !== null) return;
        if (this.commitMin + 1 === op && this.canonicalFrom() <= op && !this.commitWhenResident(prepare, done)) return;
        this.commitJournal(done);
      });
      return;
    }
    done?.();
  }

  /**
   * Commits `prepare` once every page its execution touches is in memory (DESIGN.md "Prefetch,
   * then execute"): at once when they are (true), else after reading them through the grid
   * (false; the commit loop then resumes by itself).
   */
  private commitWhenResident(prepare: Uint8Array, done?: () => void): boolean {
    const header = new PrepareHeader(prepare, 0);
    const op = header.op;
    const resident = this.prefetchPages(header, prepare, () => {
      assert(this.committing);
      this.committing = false;
      if (this.syncing !== null) return;
      if (this.commitMin + 1 === op && this.canonicalFrom() <= op) this.commitPrepare(prepare);
      this.commitJournal(done);
    });
    if (resident) this.commitPrepare(prepare);
    else this.committing = true;
    return resident;
  }

  /**
   * Primary: runs the prefetch round of the op that executes next while its prepare is being
   * written and replicated, so the walk's CPU work (about 2 ms of a 15 ms batch at full load)
   * overlaps that wait instead of following it. When it finds every page resident, the commit
   * skips its own round, provided nothing executed since (commitMin) and no page left memory
   * since (the cache's epoch): the round would name the same resident pages. Otherwise the commit
   * runs its rounds as ever. Deterministic, like everything the rounds decide.
   */
  warmPrefetch(prepare: Uint8Array): void {
    if (this.committing || this.syncing !== null || this.checkpointing) return;
    const header = new PrepareHeader(prepare, 0);
    if (header.op !== this.commitMin + 1) return;
    const operation = header.operation;
    if (operation !== Operation.pulse && !this.stateMachine.isOperation(operation)) return;
    this.options.storage.submitQueued?.(); // the WAL write starts now, not after this walk
    const needs = this.stateMachine.prefetch(operation, header.timestamp, prepare.subarray(headerSize, header.size));
    if (!this.grid.touchIfResident(this.stateMachine.persistent.spaces(), needs)) return;
    this.warmed = { op: header.op, checksum: header.checksum, epoch: this.grid.residencyEpoch };
  }

  /** Prefetch rounds until a round finds every page resident: true when the first one does. */
  private prefetchPages(header: PrepareHeader, prepare: Uint8Array, callback: () => void): boolean {
    const operation = header.operation;
    const warmed = this.warmed;
    this.warmed = null;
    if (warmed !== null && warmed.op === header.op && warmed.checksum === header.checksum &&
      warmed.epoch === this.grid.residencyEpoch && header.op === this.commitMin + 1) return true;
    if (operation !== Operation.pulse && !this.stateMachine.isOperation(operation)) return true;
    const body = prepare.subarray(headerSize, header.size);
    const needs = this.stateMachine.prefetch(operation, header.timestamp, body);
    if (needs.length === 0) return true;
    const persistent = this.stateMachine.persistent;
    return this.grid.prefetch(persistent.spaces(), needs, (error) => {
      // A state sync may have replaced the state meanwhile: then this prepare is not for it.
      if (this.syncing !== null || this.commitMin + 1 !== header.op) return callback();
      // Repair from peers (grid_repair.ts) waits for a faulty block; alone, nobody has it.
      if (error !== null) throw new FatalError(`op ${header.op} cannot execute: ${error}, and no peer to repair it from`);
      if (this.prefetchPages(header, prepare, callback)) callback();
    });
  }

  /**
   * The lowest op from which the journal's headers chain, link by link, up to the head. The head
   * is canonical (the current primary prepared it, or the view installed it); a header that does
   * not chain to it may be a stale one from an older view, so ops below this are not executed
   * until repair replaces the broken link (protocol/repair.ts).
   */
  canonicalFrom(): number {
    assert(this.commitMin <= this.op);
    // The walk reads only what the key names (headerAt): repair asks twice per repair tick.
    const key = this.canonicalKey;
    const version = this.journal.headersVersion;
    const working = this.superblock.working;
    if (key.version === version && key.op === this.op && key.commitMin === this.commitMin &&
      key.opCheckpoint === this.opCheckpoint && key.working === working && key.commitHeader === this.commitHeader) {
      return key.result;
    }
    const result = this.canonicalWalk();
    this.canonicalKey = {
      version, op: this.op, commitMin: this.commitMin, opCheckpoint: this.opCheckpoint, working,
      commitHeader: this.commitHeader, result,
    };
    return result;
  }

  private canonicalKey: {
    readonly version: number; readonly op: number; readonly commitMin: number; readonly opCheckpoint: number;
    readonly working: unknown; readonly commitHeader: Uint8Array | null; readonly result: number;
  } = { version: -1, op: -1, commitMin: -1, opCheckpoint: -1, working: null, commitHeader: null, result: 0 };

  private canonicalWalk(): number {
    let op = this.op;
    let header = this.headerAt(op);
    if (header === null) return op + 1;
    // Down to the link onto the last executed op, which must hold too.
    while (op > this.commitMin) {
      const below = this.headerAt(op - 1);
      if (below === null || !below.u128Equals(FrameField.checksum, header, PrepareField.parent)) return op;
      header = below;
      op -= 1;
    }
    assert(op === this.commitMin);
    return op + 1;
  }

  private commitPrepare(prepare: Uint8Array): void {
    const header = new PrepareHeader(prepare, 0);
    const op = header.op;
    assert(op === this.commitMin + 1, "commits are in op order");
    if (!header.u128Equals(PrepareField.parent, this.commitHeaderAccessor, FrameField.checksum)) {
      assertFailed(`commit ${op}: hash chain broken`);
    }
    assert(header.timestamp > this.commitTimestamp || header.operation === Operation.root,
      "timestamps increase in op order");
    assert(!this.checkpointing && this.syncing === null, "committing while the state is being saved or replaced");
    const reply = this.execute(header, prepare);
    this.committed(prepare, header);
    if (this.pipeline.length > 0 && this.pipeline[0]!.op === op) {
      assert(this.pipeline[0]!.checksum === header.checksum, "committed another prepare than the pipeline's");
      this.pipeline.shift();
      // Progress: prepares are resent only after a whole timeout without a commit, not on a timer
      // that a continuously busy pipeline never stops (1 MiB prepares resent every few hundred ms).
      if (this.pipeline.length === 0) this.timeouts.prepare.stop();
      else if (this.timeouts.prepare.ticking) this.timeouts.prepare.reset();
    }
    assert(this.pipeline.length === 0 || this.pipeline[0]!.op > op);
    this.options.onCommit?.(this, prepare, reply);
    this.emit("commit");
    this.grid.evict(this.stateMachine.persistent.spaces());
    // Before this op's flush may acquire them: the blocks our checkpoint released are free once a
    // quorum holds it, at the same op on every replica (grid/free_set.ts).
    if (op === this.math.checkpointDurableOp(this.opCheckpoint)) this.grid.checkpointDurable();
    flushIfBarEnd(this, op);
    checkpointIfDue(this, prepare);
  }

  /** Runs the op against the state machine and the session table; returns the client's reply. */
  private execute(header: PrepareHeader, prepare: Uint8Array): Uint8Array | null {
    assert(header.size === prepare.length && header.command === Command.prepare);
    const operation = header.operation;
    const body = prepare.subarray(headerSize, header.size);
    if (operation === Operation.pulse) {
      assert(header.client === 0n, "a pulse from a client");
      this.stateMachine.execute(operation, header.timestamp, body, this.replyBuffer);
      return null;
    }
    if (operation === Operation.register) {
      // The primary wrote its batch_size_limit into the prepared body (wire.md §5).
      assert(header.client !== 0n && body.length >= 4);
      const result = new Uint8Array(64);
      result.set(body.subarray(0, 4), 0);
      const reply = buildReplyFromPrepare(new Header(prepare, 0), result);
      if (this.sessions.register(header.client, header.request_release, reply) !== null) this.probe("client_session_evicted");
      this.clientReplies.write(this.sessions.get(header.client)!.slot, reply);
      this.replyToClient(header.client, reply);
      return reply;
    }
    assert(this.stateMachine.isOperation(operation), "prepared an unknown operation");
    assert(header.client !== 0n, "a client operation without a client");
    const length = this.stateMachine.execute(operation, header.timestamp, body, this.replyBuffer);
    assert(length >= 0 && length <= this.replyBuffer.length);
    const reply = buildReplyFromPrepare(new Header(prepare, 0), this.replyBuffer.subarray(0, length));
    const session = this.sessions.get(header.client);
    if (session !== undefined) {
      this.sessions.commit(header.client, reply);
      this.clientReplies.write(session.slot, reply);
    }
    this.replyToClient(header.client, reply);
    return reply;
  }

  private replyToClient(client: bigint, reply: Uint8Array): void {
    if (this.status === "normal" && this.isPrimary) this.bus.sendToClient(client, reply);
  }

  /** The header suffix persisted with a view change: from the head down (vsr.md §6.2, §10). */
  viewHeadersSuffix(): Uint8Array[] {
    const headers: Uint8Array[] = [];
    const max = this.config.viewHeadersMax;
    assert(max >= 1 && this.op >= this.opCheckpoint);
    for (let op = this.op; op >= this.opCheckpoint && headers.length < max; op--) {
      const header = this.headerAt(op);
      // A head whose header we do not know is skipped: the suffix starts at the highest header
      // we hold (falling back to the checkpoint would make the next open discard, as older than
      // log_view, every entry above the checkpoint; see loadViewHeaders).
      if (header !== null) headers.push(header.bytes().slice());
      else if (headers.length === 0) continue;
      if (op <= this.commitMax && headers.length >= 1) break;
    }
    // The checkpoint's own prepare anchors the suffix when nothing above it is known.
    if (headers.length === 0) headers.push(this.superblock.working!.vsr_state.checkpoint.header.slice());
    assert(headers.length >= 1 && headers.length <= max);
    return headers;
  }
}
