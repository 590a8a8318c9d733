// WAL recovery (spec/vsr.md §11.3–§11.5): read both rings completely, decide every slot with the
// §11.3 table (recovery_table.ts), refine the head with the torn-write rule (§11.4), apply the
// decisions to the in-memory state, and rewrite the redundant headers the table says to fix.
//
// Recovery never loads a header into a slot and marks that slot faulty: a faulty slot holds a
// reserved header in memory, so that a later write of its header sector puts the zeroed, invalid
// header there (slots.ts) and the slot is still faulty after another crash.
import { assert } from "../../core/assert.js";
import { type Config, headerSize, sectorSize } from "../../core/config.js";
import { verifyHeaderChecksum } from "../../core/header.js";
import { type Storage, Zone } from "../../io/storage.js";
import {
  type OpRelation, type RecoveryCaseLabel, type RecoveryDecision, type TornSlotSummary, classifyTornSlots,
  recoveryDecision,
} from "./recovery_table.js";
import { BitSet } from "./bitset.js";
import {
  checksumsEqual, isReservedPrepare, opOf, slotHeaderValid, slotPrepareValid, viewOf,
} from "./prepare_headers.js";
import { type JournalSlots, headersPerSector } from "./slots.js";

export interface JournalRecoverOptions {
  /** The op of the superblock's checkpoint. */
  readonly opCheckpoint: number;
  /** The highest op that may have been prepared on top of that checkpoint (checkpoint_math.ts). */
  readonly opPrepareMax: number;
}

export type JournalRecoveryError = "WALInvalid" | "WALCorrupt";
export type HeadUncertainReason = "op_max_below_checkpoint" | "fault_not_torn" | "torn_over_limit";

/** A recovered WAL; the replica takes its head from here (§11.5). */
export interface JournalRecovered {
  /** The highest op held after recovery, a faulty slot's included (the head, when log_view == view). */
  readonly opMax: number;
  /** False: op_max is uncertain and the replica must enter recovering_head (§11.4). */
  readonly headCertain: boolean;
  readonly headUncertainReason: HeadUncertainReason | null;
  readonly faultyCount: number;
  readonly dirtyCount: number;
  /** Slots truncated as torn appends (§11.4). */
  readonly torn: number;
  /** How many slots fell into each case of the §11.3 table. */
  readonly cases: Record<RecoveryCaseLabel, number>;
}

/** The recovered WAL, or why it cannot be used: every slot faulty, or a solo replica's WAL lost data. */
export type JournalRecovery = JournalRecovered | JournalRecoveryError;

export interface RecoverContext {
  readonly storage: Storage;
  readonly slots: JournalSlots;
  readonly config: Config;
  readonly soloReplica: boolean;
  /** How many prepare writes may have been in flight at a crash (the torn-slot limit). */
  readonly iopsWriteMax: number;
  readonly readBuffers: readonly Uint8Array[];
  readonly sectorBuffer: Uint8Array;
  /** True only for the planted bug truncateAtFaultySlot (replica/bugs.ts). */
  readonly truncateAtFaultySlot?: boolean;
}

const caseLabels: readonly RecoveryCaseLabel[] = [
  "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P",
];

/** One recovery run; `start` reads, decides, writes the fixes and reports once. */
export class JournalRecoverer {
  private readonly context: RecoverContext;
  private readonly options: JournalRecoverOptions;
  private readonly callback: (result: JournalRecovery) => void;
  /** The prepare read from each slot is valid (§11.3 `p`); its header is in slots.headers. */
  private readonly prepareValid: BitSet;
  /** The prepare's header checksum alone is valid (the torn-write rule, §11.4). */
  private readonly prepareChecksumValid: BitSet;
  private readonly decisions: RecoveryDecision[] = [];
  private readonly cases: Record<RecoveryCaseLabel, number>;
  private slotNext = 0;
  private readsDone = 0;
  private sectorNext = 0;

  constructor(context: RecoverContext, options: JournalRecoverOptions, callback: (result: JournalRecovery) => void) {
    const slotCount = context.slots.slotCount;
    assert(Number.isSafeInteger(options.opCheckpoint) && options.opCheckpoint >= 0);
    assert(options.opCheckpoint <= options.opPrepareMax && options.opPrepareMax - slotCount <= options.opCheckpoint,
      "recover: op_prepare_max must lie within one WAL of the checkpoint");
    assert(context.slots.dirty.count === 0 && context.slots.faulty.count === 0, "recover: journal not fresh");
    this.context = context;
    this.options = options;
    this.callback = callback;
    this.prepareValid = new BitSet(slotCount);
    this.prepareChecksumValid = new BitSet(slotCount);
    this.cases = Object.fromEntries(caseLabels.map((label) => [label, 0])) as Record<RecoveryCaseLabel, number>;
  }

  start(): void {
    const { storage, slots } = this.context;
    // The whole redundant ring lands in slots.redundant, untrusted until checked per slot.
    storage.read(Zone.wal_headers, 0, slots.redundant, () => this.readPrepares());
  }

  private readPrepares(): void {
    for (const buffer of this.context.readBuffers) this.readNextPrepare(buffer);
  }

  private readNextPrepare(buffer: Uint8Array): void {
    const slot = this.slotNext;
    if (slot === this.context.slots.slotCount) return;
    this.slotNext += 1;
    // The size is unknown until the header is trusted, so read the whole slot.
    this.context.storage.read(Zone.wal_prepares, slot * this.context.config.messageSizeMax, buffer,
      () => this.onPrepareRead(slot, buffer));
  }

  private onPrepareRead(slot: number, buffer: Uint8Array): void {
    const slots = this.context.slots;
    const offset = slot * headerSize;
    if (slotPrepareValid(buffer, slot, slots.context)) {
      slots.headers.set(buffer.subarray(0, headerSize), offset);
      this.prepareValid.set(slot);
    } else {
      slots.headers.fill(0, offset, offset + headerSize);
    }
    slots.headersVersion += 1;
    if (verifyHeaderChecksum(buffer, 0)) this.prepareChecksumValid.set(slot);
    this.readsDone += 1;
    if (this.readsDone === slots.slotCount) {
      this.decide();
    } else {
      this.readNextPrepare(buffer);
    }
  }

  private decide(): void {
    const { slots, soloReplica } = this.context;
    const { opCheckpoint, opPrepareMax } = this.options;
    let prepareOpMax = opCheckpoint;
    let opMax = 0;
    for (let slot = 0; slot < slots.slotCount; slot++) {
      const prepareOp = this.prepareOp(slot);
      const headerOp = this.headerOp(slot);
      if (prepareOp !== null) prepareOpMax = Math.max(prepareOpMax, prepareOp);
      opMax = Math.max(opMax, prepareOp ?? 0, headerOp ?? 0);
    }
    const summaries: TornSlotSummary[] = [];
    for (let slot = 0; slot < slots.slotCount; slot++) {
      const decided = recoveryDecision(this.inputs(slot, prepareOpMax, soloReplica));
      this.cases[decided.case] += 1;
      this.decisions.push(decided.decision);
      const headerValid = slotHeaderValid(slots.redundant, slot * headerSize, slot, slots.context);
      summaries.push({
        decision: decided.decision, headerValid,
        headerReserved: headerValid && isReservedPrepare(slots.redundant, slot * headerSize),
        headerOp: this.headerOp(slot), prepareChecksumValid: this.prepareChecksumValid.has(slot),
      });
    }
    const verdict = classifyTornSlots({
      opCheckpoint, opMax, opPrepareMax, iopsWriteMax: this.context.iopsWriteMax, slots: summaries,
    });
    let torn = 0;
    if (verdict.kind === "truncate") {
      for (const tornSlot of verdict.torn) {
        assert(this.decisions[tornSlot.slot] === "vsr");
        this.decisions[tornSlot.slot] = "cut";
        torn += 1;
      }
    }
    if (this.context.truncateAtFaultySlot === true) torn += this.plantedTruncateAtFault(opMax);
    // Memory holds a reserved header in a faulty slot, but its op (by a valid redundant header or
    // prepare header) is ours: the head may be one, and must not be lost with the header.
    let faultyOpMax = 0;
    for (let slot = 0; slot < slots.slotCount; slot++) {
      if (this.decisions[slot] !== "vsr") continue;
      faultyOpMax = Math.max(faultyOpMax, this.headerOp(slot) ?? 0, this.prepareOp(slot) ?? 0);
    }
    for (let slot = 0; slot < slots.slotCount; slot++) this.apply(slot, this.decisions[slot]!);
    this.finishDecisions(verdict.kind === "truncate" ? null : verdict.reason, torn, faultyOpMax);
  }

  /** The planted bug: cuts the log at its first faulty slot above the checkpoint, as if torn. */
  private plantedTruncateAtFault(opMax: number): number {
    const slotCount = this.context.slots.slotCount;
    const from = Math.max(this.options.opCheckpoint + 1, opMax - slotCount + 1);
    for (let op = from; op < opMax; op++) {
      if (this.decisions[op % slotCount] !== "vsr") continue;
      for (let cut = op; cut <= opMax; cut++) this.decisions[cut % slotCount] = "cut";
      return opMax - op + 1;
    }
    return 0;
  }

  private finishDecisions(headUncertainReason: HeadUncertainReason | null, torn: number, faultyOpMax: number): void {
    const { slots, soloReplica } = this.context;
    const faultyCount = slots.faulty.count;
    if (faultyCount === slots.slotCount) {
      this.callback("WALInvalid");
      return;
    }
    // A solo replica has no peer to repair a slot from, nor to learn its head from (§11.3, §11.5).
    if (soloReplica && (faultyCount > 0 || headUncertainReason !== null)) {
      this.callback("WALCorrupt");
      return;
    }
    this.writeFixes(() => {
      slots.assertAll();
      for (let slot = 0; slot < slots.slotCount; slot++) {
        if (slots.faulty.has(slot)) assert(slots.isReserved(slot), "recovery loaded a header into a faulty slot");
      }
      this.callback({
        opMax: Math.max(slots.opMax(), faultyOpMax), headCertain: headUncertainReason === null, headUncertainReason,
        faultyCount, dirtyCount: slots.dirty.count, torn, cases: this.cases,
      });
    });
  }

  /** The §11.3 inputs of one slot; `slots.headers` holds the prepare's header when it is valid. */
  private inputs(slot: number, prepareOpMax: number, soloReplica: boolean): Parameters<typeof recoveryDecision>[0] {
    const { slots } = this.context;
    const offset = slot * headerSize;
    const h = slotHeaderValid(slots.redundant, offset, slot, slots.context);
    const hr = h && isReservedPrepare(slots.redundant, offset);
    const p = this.prepareValid.has(slot);
    const pr = p && isReservedPrepare(slots.headers, offset);
    const both = h && p;
    const prepareOp = this.prepareOp(slot);
    const headerOp = this.headerOp(slot);
    let opRelation: OpRelation = "eq";
    if (both) {
      const headerOpAny = opOf(slots.redundant, offset);
      const prepareOpAny = opOf(slots.headers, offset);
      opRelation = headerOpAny < prepareOpAny ? "lt" : headerOpAny > prepareOpAny ? "gt" : "eq";
    }
    return {
      h, hr, p, pr,
      pmax: prepareOp !== null && prepareOp === prepareOpMax,
      pGreater: prepareOp !== null && prepareOp > this.options.opPrepareMax,
      hGreater: headerOp !== null && headerOp > this.options.opPrepareMax,
      checksumsEqual: both && checksumsEqual(slots.redundant, offset, slots.headers, offset),
      opRelation,
      viewsEqual: both && viewOf(slots.redundant, offset) === viewOf(slots.headers, offset),
      soloReplica,
    };
  }

  /** The op of a valid, non-reserved prepare in the slot, else null. */
  private prepareOp(slot: number): number | null {
    const headers = this.context.slots.headers;
    if (!this.prepareValid.has(slot) || isReservedPrepare(headers, slot * headerSize)) return null;
    return opOf(headers, slot * headerSize);
  }

  /** The op of a valid, non-reserved redundant header in the slot, else null. */
  private headerOp(slot: number): number | null {
    const { slots } = this.context;
    const offset = slot * headerSize;
    if (!slotHeaderValid(slots.redundant, offset, slot, slots.context)) return null;
    return isReservedPrepare(slots.redundant, offset) ? null : opOf(slots.redundant, offset);
  }

  /**
   * Installs the decision in memory. `redundant` keeps the bytes read from disk unless the slot is
   * fixed, so that a later write of the sector changes nothing it need not change (in particular
   * the previous-wrap header of a torn slot, which is what lets the next recovery see it as torn).
   */
  private apply(slot: number, decision: RecoveryDecision): void {
    const { slots } = this.context;
    const offset = slot * headerSize;
    const prepareOp = this.prepareOp(slot);
    switch (decision) {
      case "eql":
        assert(prepareOp !== null && checksumsEqual(slots.redundant, offset, slots.headers, offset));
        slots.recordPrepare(slot, slots.headers, offset);
        slots.landed.set(slot);
        break;
      case "nil":
        slots.resetToReserved(slot, slots.headers);
        break;
      case "fix":
        assert(this.prepareValid.has(slot));
        if (prepareOp === null) {
          slots.resetToReserved(slot, slots.headers);
        } else {
          slots.recordPrepare(slot, slots.headers, offset);
          slots.landed.set(slot);
        }
        slots.redundant.set(slots.headers.subarray(offset, offset + headerSize), offset);
        slots.dirty.set(slot); // until the fixed header sector is written
        break;
      case "vsr":
        // A valid prepare can still serve get_prepare by checksum (§11.1), though the slot is lost.
        if (prepareOp !== null) slots.recordPrepare(slot, slots.headers, offset);
        slots.resetToReserved(slot, slots.headers);
        slots.markFaulty(slot);
        break;
      case "cut":
        slots.resetToReserved(slot, slots.headers);
        break;
    }
    slots.assertSlot(slot);
  }

  /** Rewrites, one sector at a time, every redundant-header sector holding a fixed slot. */
  private writeFixes(done: () => void): void {
    const { slots, storage, sectorBuffer } = this.context;
    while (this.sectorNext < slots.sectorCount && !this.sectorHasFix(this.sectorNext)) this.sectorNext += 1;
    if (this.sectorNext === slots.sectorCount) {
      done();
      return;
    }
    const sector = this.sectorNext;
    this.sectorNext += 1;
    slots.snapshotSector(sector, sectorBuffer);
    storage.write(Zone.wal_headers, sector * sectorSize, sectorBuffer, () => {
      for (let slot = sector * headersPerSector; slot < (sector + 1) * headersPerSector; slot++) {
        if (this.decisions[slot] === "fix") slots.dirty.clear(slot);
      }
      this.writeFixes(done);
    });
  }

  private sectorHasFix(sector: number): boolean {
    for (let slot = sector * headersPerSector; slot < (sector + 1) * headersPerSector; slot++) {
      if (this.decisions[slot] === "fix") return true;
    }
    return false;
  }
}
