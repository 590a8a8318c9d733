// The WAL part of `scarab inspect` (spec/vsr.md §11): reads both rings of a stopped replica's data
// file and evaluates every slot the way recovery would, with the journal's own pure functions:
// slot validity (prepare_headers.ts), the §11.3 decision table and the §11.4 torn-write rule
// (recovery_table.ts). Nothing here writes: recovery's "fix" and "cut" are only reported.
import { allZero, readU128, readU32 } from "../core/bytes.js";
import { Command, commandName } from "../core/command.js";
import { type Config, headerSize } from "../core/config.js";
import { FrameField, PrepareField, verifyBodyChecksum, verifyHeaderChecksum } from "../core/header.js";
import { checkpointMath } from "../replica/checkpoint_math.js";
import {
  type SlotHeaderContext, clusterBytes, isReservedPrepare, sizeOf, slotHeaderValid, slotPrepareValid,
} from "../replica/journal/prepare_headers.js";
import {
  type OpRelation, type RecoveryCaseLabel, type RecoveryDecision, type TornSlotSummary, type TornWriteVerdict,
  classifyTornSlots, recoveryDecision,
} from "../replica/journal/recovery_table.js";
import type { SuperBlockState } from "../replica/superblock/layout.js";
import type { DataFile } from "./inspect_read.js";

/** One 256-byte header as read from a slot of either ring. */
export interface HeaderReport {
  /** §11.3 "valid" for this slot: checksum, cluster, command = prepare, size, slot. */
  readonly valid: boolean;
  readonly reserved: boolean;
  readonly checksumValid: boolean;
  /** Why the header is not valid; "" when it is. */
  readonly problem: string;
  /** Fields, only when the header checksum holds (otherwise the bytes are untrusted). */
  readonly op: number | null;
  readonly view: number | null;
  readonly checksum: bigint | null;
}

export interface PrepareReport extends HeaderReport {
  /** The body checksum holds; null when the header is too broken to locate the body. */
  readonly bodyValid: boolean | null;
}

export interface SlotReport {
  readonly slot: number;
  readonly header: HeaderReport;
  readonly prepare: PrepareReport;
  /** The §11.3 case and decision; null when the table rejects the inputs (tableError). */
  readonly case: RecoveryCaseLabel | null;
  readonly decision: RecoveryDecision | null;
  /** The §11.4 rule turned this slot's "vsr" into "cut": a torn append. */
  readonly torn: boolean;
  readonly tableError: string | null;
}

export interface WalReport {
  readonly slots: readonly SlotReport[];
  readonly opCheckpoint: number;
  readonly opPrepareMax: number;
  readonly soloReplica: boolean;
  /** §11.4 op_max: the largest op among valid headers and prepares. */
  readonly opMaxSeen: number;
  /** The ops held intact after recovery (decision eql or fix); null when none. */
  readonly opsHeld: { readonly min: number; readonly max: number; readonly count: number } | null;
  /** The head open would take: max(journal op_max, checkpoint op, view headers' head). */
  readonly head: number;
  readonly headCertain: boolean;
  readonly verdict: TornWriteVerdict | null;
  readonly verdictError: string | null;
  /** Why open would refuse the WAL, if it would. */
  readonly refusal: "WALInvalid" | "WALCorrupt" | null;
}

const u64SafeHighLimit = 0x20_0000;

function u64OrNull(bytes: Uint8Array, at: number): number | null {
  const high = readU32(bytes, at + 4);
  return high < u64SafeHighLimit ? high * 0x1_0000_0000 + readU32(bytes, at) : null;
}

/** Why a header fails slotHeaderValid, checked in the same order. */
function headerProblem(bytes: Uint8Array, at: number, slot: number, context: SlotHeaderContext): string {
  if (allZero(bytes, at, at + headerSize)) return "zeroed";
  if (!verifyHeaderChecksum(bytes, at)) return "bad checksum";
  const command = bytes[at + FrameField.command]!;
  if (command !== Command.prepare) return `command ${commandName(command)}, not prepare`;
  const cluster = readU128(context.cluster, 0);
  if (readU128(bytes, at + FrameField.cluster) !== cluster) return `other cluster ${readU128(bytes, at + FrameField.cluster)}`;
  const size = sizeOf(bytes, at);
  if (size < headerSize || size > context.messageSizeMax) return `size ${size} out of range`;
  const op = u64OrNull(bytes, at + PrepareField.op);
  if (op === null) return "op out of range";
  if (isReservedPrepare(bytes, at)) {
    return op === slot ? `reserved header with size ${size}` : `reserved header of slot ${op} (misdirected)`;
  }
  return `op ${op} belongs to slot ${op % context.slotCount} (misdirected)`;
}

function describeHeader(bytes: Uint8Array, at: number, slot: number, context: SlotHeaderContext): HeaderReport {
  const checksumValid = verifyHeaderChecksum(bytes, at);
  const valid = slotHeaderValid(bytes, at, slot, context);
  return {
    valid, checksumValid,
    reserved: valid && isReservedPrepare(bytes, at),
    problem: valid ? "" : headerProblem(bytes, at, slot, context),
    op: checksumValid ? u64OrNull(bytes, at + PrepareField.op) : null,
    view: checksumValid ? readU32(bytes, at + FrameField.view) : null,
    checksum: checksumValid ? readU128(bytes, at + FrameField.checksum) : null,
  };
}

/** Reads a prepare slot: its header, then (when the header says where it ends) the whole message. */
function describePrepare(file: DataFile, config: Config, slot: number, context: SlotHeaderContext): PrepareReport {
  const offset = config.zones.walPrepares.offset + slot * config.messageSizeMax;
  const head = file.read(offset, headerSize);
  const header = describeHeader(head, 0, slot, context);
  const size = sizeOf(head, 0);
  if (!header.checksumValid || size < headerSize || size > config.messageSizeMax) {
    return { ...header, bodyValid: null };
  }
  const message = size === headerSize ? head : file.read(offset, size);
  const bodyValid = verifyBodyChecksum(message, 0);
  const valid = slotPrepareValid(message, slot, context);
  const problem = valid ? "" : header.valid ? "bad body checksum" : header.problem;
  return { ...header, valid, reserved: valid && header.reserved, problem, bodyValid };
}

function liveOp(report: HeaderReport): number | null {
  return report.valid && !report.reserved ? report.op : null;
}

interface Bounds {
  readonly opCheckpoint: number;
  readonly opPrepareMax: number;
  readonly prepareOpMax: number;
  readonly soloReplica: boolean;
}

/** The §11.3 inputs of one slot, exactly as journal/recover.ts derives them. */
function decide(header: HeaderReport, prepare: PrepareReport, bounds: Bounds): ReturnType<typeof recoveryDecision> {
  const both = header.valid && prepare.valid;
  const prepareOp = liveOp(prepare);
  const headerOp = liveOp(header);
  let opRelation: OpRelation = "eq";
  if (both) opRelation = header.op! < prepare.op! ? "lt" : header.op! > prepare.op! ? "gt" : "eq";
  return recoveryDecision({
    h: header.valid, hr: header.reserved, p: prepare.valid, pr: prepare.reserved,
    pmax: prepareOp !== null && prepareOp === bounds.prepareOpMax,
    pGreater: prepareOp !== null && prepareOp > bounds.opPrepareMax,
    hGreater: headerOp !== null && headerOp > bounds.opPrepareMax,
    checksumsEqual: both && header.checksum === prepare.checksum,
    opRelation,
    viewsEqual: both && header.view === prepare.view,
    soloReplica: bounds.soloReplica,
  });
}

function slotReport(slot: number, header: HeaderReport, prepare: PrepareReport, bounds: Bounds): SlotReport {
  try {
    const decided = decide(header, prepare, bounds);
    return { slot, header, prepare, case: decided.case, decision: decided.decision, torn: false, tableError: null };
  } catch (error) {
    return { slot, header, prepare, case: null, decision: null, torn: false, tableError: (error as Error).message };
  }
}

function readSlots(file: DataFile, config: Config, state: SuperBlockState): { headers: HeaderReport[]; prepares: PrepareReport[] } {
  const context: SlotHeaderContext = {
    cluster: clusterBytes(state.cluster), slotCount: config.journalSlotCount, messageSizeMax: config.messageSizeMax,
  };
  const ring = file.read(config.zones.walHeaders.offset, config.zones.walHeaders.size);
  const headers: HeaderReport[] = [];
  const prepares: PrepareReport[] = [];
  for (let slot = 0; slot < config.journalSlotCount; slot++) {
    headers.push(describeHeader(ring, slot * headerSize, slot, context));
    prepares.push(describePrepare(file, config, slot, context));
  }
  return { headers, prepares };
}

/** Reads and decides every slot, then the head, as open would with this superblock state. */
export function inspectWal(file: DataFile, config: Config, state: SuperBlockState): WalReport {
  const opCheckpoint = u64OrNull(state.vsr_state.checkpoint.header, PrepareField.op) ?? 0;
  const opPrepareMax = checkpointMath(config).opPrepareMax(opCheckpoint);
  const soloReplica = state.vsr_state.replica_count === 1;
  const { headers, prepares } = readSlots(file, config, state);
  let prepareOpMax = opCheckpoint;
  let opMaxSeen = 0;
  headers.forEach((header, slot) => {
    const prepareOp = liveOp(prepares[slot]!);
    if (prepareOp !== null) prepareOpMax = Math.max(prepareOpMax, prepareOp);
    opMaxSeen = Math.max(opMaxSeen, prepareOp ?? 0, liveOp(header) ?? 0);
  });
  const bounds = { opCheckpoint, opPrepareMax, prepareOpMax, soloReplica };
  const slots = headers.map((header, slot) => slotReport(slot, header, prepares[slot]!, bounds));
  const { verdict, verdictError } = tornVerdict(slots, bounds, opMaxSeen, soloReplica ? 1 : config.journalIopsWriteMax);
  const final = verdict?.kind === "truncate" ? markTorn(slots, verdict) : slots;
  return { slots: final, opCheckpoint, opPrepareMax, soloReplica, opMaxSeen, verdict, verdictError,
    ...headOf(final, state, verdict, opCheckpoint, soloReplica) };
}

function tornVerdict(slots: readonly SlotReport[], bounds: Bounds, opMax: number, iopsWriteMax: number):
  { verdict: TornWriteVerdict | null; verdictError: string | null } {
  if (slots.some((slot) => slot.decision === null)) {
    return { verdict: null, verdictError: "the recovery table rejects a slot (see the slots)" };
  }
  const summaries: TornSlotSummary[] = slots.map((slot) => ({
    decision: slot.decision!, headerValid: slot.header.valid, headerReserved: slot.header.reserved,
    headerOp: liveOp(slot.header), prepareChecksumValid: slot.prepare.checksumValid,
  }));
  try {
    const verdict = classifyTornSlots({
      opCheckpoint: bounds.opCheckpoint, opMax, opPrepareMax: bounds.opPrepareMax, iopsWriteMax, slots: summaries,
    });
    return { verdict, verdictError: null };
  } catch (error) {
    return { verdict: null, verdictError: (error as Error).message };
  }
}

function markTorn(slots: readonly SlotReport[], verdict: Extract<TornWriteVerdict, { kind: "truncate" }>): SlotReport[] {
  const torn = new Set(verdict.torn.map((entry) => entry.slot));
  return slots.map((slot) => (torn.has(slot.slot) ? { ...slot, decision: "cut", torn: true } : slot));
}

function headOf(slots: readonly SlotReport[], state: SuperBlockState, verdict: TornWriteVerdict | null,
  opCheckpoint: number, soloReplica: boolean): Pick<WalReport, "opsHeld" | "head" | "headCertain" | "refusal"> {
  const held = slots
    .filter((slot) => slot.decision === "eql" || slot.decision === "fix")
    .map((slot) => liveOp(slot.prepare))
    .filter((op): op is number => op !== null);
  const opsHeld = held.length === 0 ? null : { min: Math.min(...held), max: Math.max(...held), count: held.length };
  const viewHead = state.view_headers.length > 0 ? u64OrNull(state.view_headers[0]!, PrepareField.op) ?? 0 : 0;
  const head = Math.max(opsHeld?.max ?? 0, opCheckpoint, viewHead);
  const headCertain = verdict?.kind === "truncate";
  const faulty = slots.filter((slot) => slot.decision === "vsr" || slot.decision === null).length;
  let refusal: WalReport["refusal"] = null;
  if (faulty === slots.length) refusal = "WALInvalid";
  else if (soloReplica && (faulty > 0 || !headCertain)) refusal = "WALCorrupt";
  return { opsHeld, head, headCertain, refusal };
}
