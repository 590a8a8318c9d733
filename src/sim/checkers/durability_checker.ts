// The durability checker (spec/vopr.md §11.4 "journal checker", widened): every promise a replica
// makes about its disk is checked against what its disk durably holds — the simulator's pristine
// bytes, which a crash would leave behind — at the moment the promise is made:
// - WAL write order (vsr.md §11.2): a redundant header is written only once its prepare has landed
//   (a header durable before its prepare makes a crash look like a torn prepare, and the replica
//   may then nack what it acknowledged);
// - a join_view (a view-change vote) for view v: the replica's superblock, as open would read it,
//   holds view ≥ v (vsr.md §6.2: a vote is durable before it is sent);
// - a join_view nacks no op whose prepare the replica acknowledged in its log_view, neither by its
//   nack bitset nor by ending below it, unless that prepare descends from one the cluster did not
//   commit, or the replica since wrote a later view's prepare of that op (onPrepareWrite): a nack
//   means "never prepared", and a faulty slot is not that (vsr.md §11.3);
// - a new primary's first `view` (start_view): it holds every uncommitted prepare of its log, in
//   its journal or in memory, so that it can replicate them (vsr.md §6.4);
// - a state sync's target, when exactly one checkpoint ahead: a replication quorum of active
//   replicas has held it durably (vsr.md §8);
// - the journal itself (vopr.md §11.4), every journalCheckTicks ticks while no journal write is in
//   flight: every clean slot's in-memory header, redundant header and prepare agree, and the
//   prepare's sector padding is zero;
// - WAL recovery, once the replica has a status again: every prepare it acknowledged in its
//   log_view is still in its log, or its slot is marked faulty (vsr.md §11.3–11.4).
//
// It reads replicas (their prepare caches) and their StorageSims, never changes them, and fails
// with a CorrectnessError (exit code 129).
import { Command } from "../../core/command.js";
import { headerSize, sectorSize, type Config } from "../../core/config.js";
import { FrameField, JoinViewHeader, PrepareField, PrepareHeader, PrepareOkField, ViewHeader, verifyHeaderChecksum } from "../../core/header.js";
import { allZero, bytesEqual, readU128, readU32, readU64AsNumber } from "../../core/bytes.js";
import { Zone } from "../../io/storage.js";
import { isReservedPrepare } from "../../replica/journal/prepare_headers.js";
import { checkpointMath, type CheckpointMath } from "../../replica/checkpoint_math.js";
import type { Replica } from "../../replica/replica.js";
import { checkpointStateSize } from "../../replica/superblock/layout.js";
import { durableSuperblockOf, SuperblockCopyReader } from "../../replica/superblock/superblock.js";
import { superblockCopies, type SuperblockCopy } from "../../replica/superblock/quorum.js";
import type { StorageSim } from "../world/storage_sim.js";
import { CorrectnessError } from "./state_checker.js";

/** How many ops of acknowledgements are remembered per replica (beyond any join_view's reach). */
const ackedOpsKept = 4096;

/**
 * The journal check runs on one tick in this many per replica (a tick count, not the seed's PRNG):
 * about the spec's 1 %, and prime, so it does not keep step with the 10-, 50- and 100-tick
 * timeouts. Re-checking every slot made 1 in 97 a third of the simulator's time (it ran 1 in 499);
 * skipping unchanged slots (SlotsPassed) makes it cost no more than 1 in 499 did.
 */
const journalCheckTicks = 97;

/** A prepare_ok a replica sent: the prepare, its parent, and the view it was sent in. */
interface Acknowledgement {
  readonly checksum: bigint;
  readonly parent: bigint;
  readonly view: number;
}

export class DurabilityChecker {
  /** Per node: op → the prepare it acknowledged last at that op, its parent, and the view it did so in. */
  private readonly acked: Map<number, Acknowledgement>[];
  /** Per node: at least the highest op in `acked` (entries age out from the oldest). */
  private readonly ackedOpMax: number[];
  private readonly sector = new Uint8Array(sectorSize);
  private readonly prepareSector = new Uint8Array(sectorSize);
  /** Per node: its durable superblock as open would pick it, and StorageSim.superblockWritesLanded then. */
  private readonly durable: { view: number; stamp: number }[];
  /**
   * Per node and superblock copy: the copy as open weighs it, and the storage's changesStamp plus
   * the copy's sector change counts then (counts only grow, so the sum names the bytes).
   */
  private readonly superblockCopies: { copy: SuperblockCopy | null; changes: number }[][];
  private readonly superblockBytes: Uint8Array;
  private readonly copyReader: SuperblockCopyReader;

  /** Per active replica: the highest checkpoint its superblock ever held (reformats aside). */
  private readonly checkpointDurableMax: number[];
  private readonly math: CheckpointMath;
  /** Per node: opened, and its recovered WAL not yet checked. */
  private readonly openPending: boolean[];
  /** Per node: each WAL slot's last pass of the journal check, which need not be repeated unchanged. */
  private readonly slotsPassed: SlotsPassed[];

  constructor(
    private readonly config: Config, cluster: bigint, nodeCount: number,
    private readonly replicaCount: number, private readonly quorumReplication: number,
    private readonly storages: readonly StorageSim[], private readonly replicas: readonly (Replica | null)[],
    /** The checksum of the prepare the cluster committed at `op` (the state checker's), or null if none yet. */
    private readonly committed: (op: number) => bigint | null,
  ) {
    this.checkpointDurableMax = new Array<number>(replicaCount).fill(0);
    this.math = checkpointMath(config);
    this.acked = Array.from({ length: nodeCount }, () => new Map());
    this.ackedOpMax = new Array<number>(nodeCount).fill(-1);
    this.slotsPassed = Array.from({ length: nodeCount }, () => new SlotsPassed(config.journalSlotCount));
    this.openPending = new Array<boolean>(nodeCount).fill(false);
    this.durable = Array.from({ length: nodeCount }, () => ({ view: -1, stamp: -1 }));
    this.superblockCopies = Array.from({ length: nodeCount },
      () => Array.from({ length: superblockCopies }, () => ({ copy: null, changes: -1 })));
    this.superblockBytes = new Uint8Array(config.superblockCopySize);
    this.copyReader = new SuperblockCopyReader(config, cluster);
  }

  /** The view in `node`'s superblock as open would pick it (-1 where open would fail). */
  private durableView(node: number): number {
    const storage = this.storages[node]!;
    const cached = this.durable[node]!;
    if (cached.stamp === storage.superblockWritesLanded) return cached.view;
    // A write lands one copy at a time: decode only the copies whose sectors changed.
    const copies = this.superblockCopies[node]!;
    const copySize = this.config.superblockCopySize;
    for (let copy = 0; copy < copies.length; copy++) {
      let changes = storage.changesStamp;
      for (let at = 0; at < copySize; at += sectorSize) changes += storage.sectorChangeCount(Zone.superblock, copy * copySize + at);
      const entry = copies[copy]!;
      if (entry.changes === changes) continue;
      storage.readPristine(Zone.superblock, copy * copySize, this.superblockBytes);
      entry.copy = this.copyReader.copyOf(this.superblockBytes);
      entry.changes = changes;
    }
    cached.view = durableSuperblockOf(copies.map((entry) => entry.copy))?.view ?? -1;
    cached.stamp = storage.superblockWritesLanded;
    return cached.view;
  }

  /** The node's data file was lost and formatted anew: it acknowledged nothing in it. */
  onReformat(node: number): void {
    this.acked[node]!.clear();
    this.ackedOpMax[node] = -1;
  }

  /** A message `node` sends to a replica. */
  onSend(node: number, message: Uint8Array): void {
    const command = message[FrameField.command];
    if (command === Command.prepare_ok) this.onPrepareOk(node, message);
    else if (command === Command.join_view) this.checkJoinView(node, message);
    else if (command === Command.view) this.checkView(node, message);
  }

  private onPrepareOk(node: number, message: Uint8Array): void {
    const op = readU64AsNumber(message, PrepareOkField.op);
    const acked = this.acked[node]!;
    acked.set(op, {
      checksum: readU128(message, PrepareOkField.prepare_checksum), parent: readU128(message, PrepareOkField.parent),
      view: readU32(message, FrameField.view),
    });
    if (acked.size > ackedOpsKept) acked.delete(acked.keys().next().value!);
    if (op > this.ackedOpMax[node]!) this.ackedOpMax[node] = op;
  }

  /**
   * A write of `node`'s data file is submitted (StorageSim's observer). A redundant header that it
   * changes must name the prepare already landed in its slot: the write order of vsr.md §11.2.
   * (Once issued, the slot may move on — the next prepare may land before this sector does.)
   */
  onWrite(node: number, zone: Zone, offset: number, buffer: Uint8Array): void {
    if (zone === Zone.wal_prepares) return this.onPrepareWrite(node, buffer);
    if (zone !== Zone.wal_headers) return;
    const storage = this.storages[node]!;
    for (let at = 0; at < buffer.length; at += sectorSize) {
      storage.readPristine(Zone.wal_headers, offset + at, this.sector);
      for (let i = at; i < at + sectorSize; i += headerSize) {
        if (bytesEqual(buffer, i, this.sector, i - at, headerSize)) continue; // not a new promise
        this.checkHeaderWrite(node, (offset + i) / headerSize, buffer, i);
      }
    }
  }

  /**
   * `node` writes a prepare to its WAL. One of view w at op n supersedes an acknowledgement of
   * another prepare of op n in a view before w: view w's primary prepared op n only after its log
   * choice ended below n, and that log holds every op committed before w, so the prepare
   * acknowledged was not committed then; nor can that acknowledgement (of a view before w) help
   * commit it later. A replica may write it in a view whose log_view is not yet durable (a `view`
   * installed, the superblock update pending), crash, and vote again with the older log_view:
   * TigerBeetle's send_join_view nacks that op ("nack bit case 3: we have a _different_ prepare —
   * safe to nack"), and so does ours (replica.ts loadViewHeaders reinstalls the older header,
   * dirty). VOPR seed 10973424217410457325 (crash 1/20000, restart 1/2000): node 1 acked op 46 in
   * view 84, wrote view 99's op 46 before log_view 99 was durable, crashed, and nacked it in its
   * join_view for view 100 with log_view 84.
   */
  private onPrepareWrite(node: number, buffer: Uint8Array): void {
    if (buffer[FrameField.command] !== Command.prepare) return;
    const acked = this.acked[node]!;
    const ack = acked.get(readU64AsNumber(buffer, PrepareField.op));
    if (ack === undefined || ack.view >= readU32(buffer, FrameField.view)) return;
    if (!verifyHeaderChecksum(buffer, 0) || isReservedPrepare(buffer, 0)) return;
    const header = new PrepareHeader(buffer, 0);
    if (header.checksum !== ack.checksum) acked.delete(header.op);
  }

  /** The new redundant header at `buffer[offset]` (slot `slot`) names the prepare its slot holds. */
  private checkHeaderWrite(node: number, slot: number, buffer: Uint8Array, offset: number): void {
    if (!verifyHeaderChecksum(buffer, offset) || isReservedPrepare(buffer, offset)) return;
    if (buffer[offset + FrameField.command] !== Command.prepare) return;
    const header = new PrepareHeader(buffer, offset);
    const storage = this.storages[node]!;
    const prepareOffset = slot * this.config.messageSizeMax;
    // The prepare as written, or as a read of the slot shows it: a misdirected write of a newer
    // prepare leaves the old one visible there, and WAL recovery rightly fixes the header from what
    // it read (crash-heavy seed 6311786364354787720 of `--from 4242`), as the journal check allows.
    if (sectorHolds(storage, Zone.wal_prepares, prepareOffset, 0, header)) return;
    storage.readPristine(Zone.wal_prepares, prepareOffset, this.prepareSector);
    const held = verifyHeaderChecksum(this.prepareSector, 0) ? new PrepareHeader(this.prepareSector, 0) : null;
    this.fail(`node ${node}: the redundant header of WAL slot ${slot} (op ${header.op}, view ${header.view}) is written ` +
      `before its prepare landed (the slot holds ${held === null ? "no valid prepare" : `op ${held.op}, view ${held.view}`})`);
  }

  private checkJoinView(node: number, message: Uint8Array): void {
    const jv = new JoinViewHeader(message, 0);
    // (Its log_view is not checked: after a state sync it advertises the synced checkpoint's view.)
    const durableView = this.durableView(node);
    if (durableView < jv.view) {
      this.fail(`node ${node}: join_view for view ${jv.view} sent while its superblock holds ` +
        (durableView < 0 ? "no openable state" : `view ${durableView}`));
    }
    const acked = this.acked[node]!;
    // A replica that adopts a checkpoint by state sync no longer vouches for its WAL up to it
    // (replica.ts headerAt): those ops are committed, so no view change can truncate them.
    const syncOpMax = this.replicas[node]?.superblock.working?.vsr_state.sync_op_max ?? 0;
    const count = message.length / headerSize - 1;
    const nack = jv.nack_bitset;
    const nackLow = Number(nack & 0xffff_ffffn);
    const nackHigh = Number(nack >> 32n);
    for (let i = 0; i < count; i++) {
      const nacked = i < 32 ? (nackLow >>> i) & 1 : i < 64 ? (nackHigh >>> (i - 32)) & 1 : 0;
      if (nacked === 0) continue;
      const offset = headerSize * (1 + i);
      const op = jv.op - i;
      const carried = verifyHeaderChecksum(message, offset) ? new PrepareHeader(message, offset).checksum : null;
      // An ack in a view before our log_view may since have been truncated by the log we installed
      // (the op was not committed then) and reinstalled dirty from a later log: nacking that is
      // safe. An ack in the log_view itself is of the log we still hold, faulty or not.
      const ack = acked.get(op);
      if (ack !== undefined && (carried === null || ack.checksum === carried) && this.mustKeep(node, op, ack, jv.log_view, syncOpMax)) {
        this.fail(`node ${node}: join_view for view ${jv.view} nacks op ${op}${carried === null ? " (no header)" : ""}, ` +
          `whose prepare it acknowledged in view ${ack.view} (its log_view is ${jv.log_view})`);
      }
    }
    // An op above the join_view's head counts as nacked too (log_choice.ts). The ops above the head
    // are usually few: look them up, and walk every acknowledgement kept (up to ackedOpsKept, in
    // the order that names the first failure) only when one of them must be kept, or when the
    // range is wider than the map.
    const above = this.ackedOpMax[node]! - jv.op;
    if (above <= 0) return;
    if (above < acked.size && !this.mustKeepAny(node, acked, jv.op + 1, jv.op + above, jv.log_view, syncOpMax)) return;
    for (const [op, ack] of acked) {
      if (op > jv.op && this.mustKeep(node, op, ack, jv.log_view, syncOpMax)) {
        this.fail(`node ${node}: join_view for view ${jv.view} ends at op ${jv.op}, below op ${op}, whose prepare it ` +
          `acknowledged in view ${ack.view} (its log_view is ${jv.log_view})`);
      }
    }
  }

  private mustKeepAny(node: number, acked: Map<number, Acknowledgement>, opMin: number, opMax: number, logView: number,
    syncOpMax: number): boolean {
    for (let op = opMin; op <= opMax; op++) {
      const ack = acked.get(op);
      if (ack !== undefined && this.mustKeep(node, op, ack, logView, syncOpMax)) return true;
    }
    return false;
  }

  /**
   * Whether `node` must still vouch for its acknowledgement `ack` of `op` in a join_view with this
   * log_view: made in that log_view, above any checkpoint it adopted by sync (those ops are
   * committed), and not of a prepare that forked from the committed log.
   */
  private mustKeep(node: number, op: number, ack: Acknowledgement, logView: number, syncOpMax: number): boolean {
    return op > syncOpMax && ack.view >= logView && !this.forksFromCommitted(node, op, ack.checksum);
  }

  /**
   * Whether the prepare (op, checksum) that `node` acknowledged descends, through the parents of
   * its other acknowledged prepares, from one that lost to another prepare the cluster committed
   * at the same op: then it was never committed and never will be, and forgetting it is safe (a
   * log that a state sync found forked below the synced checkpoint is dropped so).
   */
  private forksFromCommitted(node: number, op: number, checksum: bigint): boolean {
    const acked = this.acked[node]!;
    let expected = checksum;
    for (let at = op; at > 0; at--) {
      const committed = this.committed(at);
      if (committed !== null) return committed !== expected;
      const ack = acked.get(at);
      if (ack === undefined || ack.checksum !== expected) return false; // its ancestry is not known here
      expected = ack.parent;
    }
    return false;
  }

  private checkView(node: number, message: Uint8Array): void {
    const view = new ViewHeader(message, 0);
    if (view.nonce !== 0n) return; // an answer to get_view, not the start of the view
    const replica = this.replicas[node];
    if (replica === null || replica === undefined || replica.status !== "normal") return;
    const first = headerSize + checkpointStateSize;
    for (let offset = first; offset < message.length; offset += headerSize) {
      const header = new PrepareHeader(message, offset);
      if (header.op <= view.commit_max || isReservedPrepare(message, offset)) continue;
      if (replica.prepareCache.get(header.op, header.checksum) !== null) continue;
      this.storages[node]!.readPristine(Zone.wal_prepares, (header.op % this.config.journalSlotCount) * this.config.messageSizeMax,
        this.prepareSector);
      if (verifyHeaderChecksum(this.prepareSector, 0) && new PrepareHeader(this.prepareSector, 0).checksum === header.checksum) continue;
      this.fail(`node ${node}: primary of view ${view.view} started it without the prepare of uncommitted op ${header.op}`);
    }
  }

  /** `node`'s superblock now holds checkpoint `op` (a checkpoint or state sync done, or an open). */
  onCheckpointDurable(node: number, op: number): void {
    if (node < this.replicaCount) this.checkpointDurableMax[node] = Math.max(this.checkpointDurableMax[node]!, op);
  }

  /**
   * `node`, whose checkpoint is `from`, starts a state sync to checkpoint `target`. Exactly one
   * checkpoint behind, a replication quorum of active replicas must have held the target (or a
   * later one) durably, or the cluster's WAL may be stranded; further behind, any target will do
   * (vsr.md §8).
   */
  onSyncStart(node: number, from: number, target: number): void {
    if (target !== this.math.checkpointAfter(from)) return;
    const holders = this.checkpointDurableMax.filter((op) => op >= target).length;
    if (holders < this.quorumReplication) {
      this.fail(`node ${node}: state sync to checkpoint ${target}, durable on ${holders} replica(s), ` +
        `fewer than a replication quorum of ${this.quorumReplication}`);
    }
  }

  /** `node` opened its data file (superblock read, WAL recovered); checked once it has a status. */
  onOpen(node: number): void {
    this.openPending[node] = true;
  }

  /**
   * WAL recovery kept every prepare the replica acknowledged in its log_view: the slot holds it,
   * or is marked faulty (to be repaired, never nacked). Not when the head is uncertain: a replica
   * in recovering_head vouches for nothing above its checkpoint until a view tells it its log.
   */
  private checkRecovered(node: number, replica: Replica): void {
    if (replica.status === "recovering_head") return;
    for (const [op, ack] of this.acked[node]!) {
      if (ack.view < replica.logView || op <= replica.opCheckpoint || op > replica.opPrepareMax) continue;
      if (replica.journal.isFaulty(op) || replica.journal.header(op)?.checksum === ack.checksum) continue;
      this.fail(`node ${node}: WAL recovery lost op ${op}, whose prepare it acknowledged in view ${ack.view} ` +
        `(its log_view is ${replica.logView}; recovered head ${replica.op})`);
    }
  }

  /**
   * Whether onTick(node, tick) has anything to do: a journal check every journalCheckTicks ticks,
   * or a recovery check after an open. The cluster asks first: it ticks every node every tick.
   */
  tickDue(node: number, tick: number): boolean {
    return tick % journalCheckTicks === 0 || this.openPending[node] === true;
  }

  /** Called after each replica's tick: every journalCheckTicks ticks, checks its journal. */
  onTick(node: number, tick: number): void {
    const replica = this.replicas[node];
    if (this.openPending[node] && replica !== null && replica !== undefined && replica.status !== "recovering") {
      this.openPending[node] = false;
      this.checkRecovered(node, replica);
    }
    if (tick % journalCheckTicks !== 0) return;
    if (replica === null || replica === undefined || replica.journal.status !== "ready" || replica.journal.writing) return;
    const storage = this.storages[node]!;
    const passed = this.slotsPassed[node]!;
    // Neither the replica's headers nor its disk changed since every slot last passed: they pass.
    if (passed.wholePassIs(replica, replica.journal.headersVersion, storage.changesStamp, storage.sectorChangesTotal)) return;
    const perSector = sectorSize / headerSize;
    passed.stampIs(storage.changesStamp);
    for (let slot = 0; slot < this.config.journalSlotCount; slot++) {
      const memory = replica.journal.headerForSlot(slot);
      if (isReservedPrepare(memory.buffer, memory.offset) || replica.journal.isDirty(memory.op)) continue;
      const redundantOffset = Math.floor(slot / perSector) * sectorSize;
      const prepareOffset = slot * this.config.messageSizeMax;
      const redundantChanges = storage.sectorChangeCount(Zone.wal_headers, redundantOffset);
      const prepareChanges = storage.sectorChangeCount(Zone.wal_prepares, prepareOffset);
      // The same header over the same sectors passed before (padding included): it passes again.
      if (passed.holds(slot, memory, redundantChanges, prepareChanges)) continue;
      // Byte equality, not checksums: the in-memory header is verified, and the disk must hold it
      // exactly, either as written (a lost write, which the replica cannot know of, is not its
      // bug) or as a read sees it (a lost write that a crash cut off before its header sector
      // shows the old bytes, which recovery rightly took: restart-heavy seed 73).
      const redundantHolds = sectorHolds(storage, Zone.wal_headers, redundantOffset, (slot % perSector) * headerSize,
        memory);
      const prepareInPristine = pristineHolds(storage, Zone.wal_prepares, prepareOffset, 0, memory);
      const prepareHolds = prepareInPristine || visibleHolds(storage, Zone.wal_prepares, prepareOffset, 0, memory);
      if (!redundantHolds || !prepareHolds) {
        this.fail(`node ${node}: clean WAL slot ${slot} (op ${memory.op}) holds ${redundantHolds ? "its" : "another"} ` +
          `redundant header and ${prepareHolds ? "its" : "another"} prepare on disk`);
      }
      // The padding of a prepare once found zero stays so until the slot is rewritten.
      if (!passed.paddingZero(slot, memory)) {
        const size = memory.size;
        if (size % sectorSize !== 0) { // (a prepare of whole sectors has no padding, and may end the zone)
          // The padding of the copy that holds the header: the pristine bytes, or, where a misdirected
          // rewrite of the slot left the old prepare visible (sectorHolds), the bytes a read sees
          // (crash-heavy seed 6311786364354787720 of `--from 4242`, once it asked for views when stuck).
          const lastOffset = prepareOffset + Math.floor(size / sectorSize) * sectorSize;
          const last = prepareInPristine
            ? storage.pristineSector(Zone.wal_prepares, lastOffset) : storage.visibleSector(Zone.wal_prepares, lastOffset);
          if (last === null || !allZero(last, size % sectorSize)) {
            this.fail(`node ${node}: the sector padding of the prepare in WAL slot ${slot} (op ${memory.op}) is not zero`);
          }
        }
        passed.recordPaddingZero(slot, memory);
      }
      passed.record(slot, memory, redundantChanges, prepareChanges);
    }
    passed.recordWholePass(replica, replica.journal.headersVersion, storage.changesStamp, storage.sectorChangesTotal);
  }

  private fail(message: string): never {
    throw new CorrectnessError(`durability checker: ${message}`);
  }
}

/**
 * Per WAL slot of one node: the header (by checksum) and the change counts of its two sectors
 * (StorageSim.sectorChangeCount) under which its journal check last passed, valid while the
 * storage's changesStamp stays the same (re-checking an unchanged slot was a sixth of a VOPR run);
 * and the header whose prepare's sector padding was last found zero, which stays so until the slot
 * is rewritten with another prepare.
 */
class SlotsPassed {
  private stamp = -1;
  /**
   * The last check of every slot passed with this replica (object), headers version and storage
   * change counts. A slot's dirty bit cannot clear without a write landing, so while all four
   * stay, the next check would look at the same bytes.
   */
  private wholePass: { replica: unknown; headersVersion: number; stamp: number; changes: number } =
    { replica: null, headersVersion: -1, stamp: -1, changes: -1 };
  private readonly valid: Uint8Array;
  private readonly redundantChanges: Uint32Array;
  private readonly prepareChanges: Uint32Array;
  private readonly checksums: Uint8Array;
  private readonly paddingChecksums: Uint8Array;

  constructor(slotCount: number) {
    this.valid = new Uint8Array(slotCount);
    this.redundantChanges = new Uint32Array(slotCount);
    this.prepareChanges = new Uint32Array(slotCount);
    this.checksums = new Uint8Array(slotCount * 16);
    this.paddingChecksums = new Uint8Array(slotCount * 16);
  }

  wholePassIs(replica: unknown, headersVersion: number, stamp: number, changes: number): boolean {
    const last = this.wholePass;
    return last.replica === replica && last.headersVersion === headersVersion && last.stamp === stamp && last.changes === changes;
  }

  recordWholePass(replica: unknown, headersVersion: number, stamp: number, changes: number): void {
    this.wholePass = { replica, headersVersion, stamp, changes };
  }

  /** Forgets every pass made under another stamp. */
  stampIs(stamp: number): void {
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    this.valid.fill(0);
  }

  holds(slot: number, header: PrepareHeader, redundantChanges: number, prepareChanges: number): boolean {
    return this.valid[slot] === 1 && this.redundantChanges[slot] === redundantChanges &&
      this.prepareChanges[slot] === prepareChanges &&
      bytesEqual(this.checksums, slot * 16, header.buffer, header.offset + FrameField.checksum, 16);
  }

  record(slot: number, header: PrepareHeader, redundantChanges: number, prepareChanges: number): void {
    this.valid[slot] = 1;
    this.redundantChanges[slot] = redundantChanges;
    this.prepareChanges[slot] = prepareChanges;
    copyChecksum(header, this.checksums, slot);
  }

  paddingZero(slot: number, header: PrepareHeader): boolean {
    return bytesEqual(this.paddingChecksums, slot * 16, header.buffer, header.offset + FrameField.checksum, 16);
  }

  recordPaddingZero(slot: number, header: PrepareHeader): void {
    copyChecksum(header, this.paddingChecksums, slot);
  }
}

/** The header's 16 checksum bytes into slot `slot` of `target`. */
function copyChecksum(header: PrepareHeader, target: Uint8Array, slot: number): void {
  const checksum = header.offset + FrameField.checksum;
  target.set(header.buffer.subarray(checksum, checksum + 16), slot * 16);
}

/** Whether the pristine sector at `offset` holds `header` at byte `at`. */
function pristineHolds(storage: StorageSim, zone: Zone, offset: number, at: number, header: PrepareHeader): boolean {
  const pristine = storage.pristineSector(zone, offset);
  return pristine !== null && bytesEqual(pristine, at, header.buffer, header.offset, headerSize);
}

/** Whether the sector at `offset`, as a read sees it (through a misdirected write's overlay), holds `header` at `at`. */
function visibleHolds(storage: StorageSim, zone: Zone, offset: number, at: number, header: PrepareHeader): boolean {
  const visible = storage.visibleSector(zone, offset);
  return visible !== null && bytesEqual(visible, at, header.buffer, header.offset, headerSize);
}

/** Whether the sector at `offset` of `zone`, as written or as a read sees it, holds `header` at `at`. */
function sectorHolds(storage: StorageSim, zone: Zone, offset: number, at: number, header: PrepareHeader): boolean {
  return pristineHolds(storage, zone, offset, at, header) || visibleHolds(storage, zone, offset, at, header);
}
