// Printing for `scarab inspect superblock` and `scarab inspect wal` (see inspect.ts), and the
// formatting helpers shared with inspect_integrity.ts.
import { opOf } from "../replica/journal/prepare_headers.js";
import { checkpointId } from "../replica/superblock/layout.js";
import { superblockOpenQuorum } from "../replica/superblock/quorum.js";
import { type CopyReport, type SuperblockReport } from "./inspect_read.js";
import { replicaIndexOf } from "../replica/superblock/superblock.js";
import type { HeaderReport, SlotReport, WalReport } from "./inspect_wal.js";

export type Output = (line: string) => void;

// ---- formatting ----

export function hex(value: bigint): string {
  return "0x" + value.toString(16).padStart(32, "0");
}

function shortHex(value: bigint | null): string {
  return value === null ? "-" : hex(value).slice(0, 14) + "…";
}

function releaseText(release: number): string {
  return `${release >>> 16}.${(release >>> 8) & 0xff}.${release & 0xff}`;
}

export function offsetText(offset: number): string {
  return `0x${offset.toString(16)}`;
}

// ---- superblock ----

export function printSuperblock(report: SuperblockReport, out: Output): number {
  out(`cluster ${report.cluster} (${report.clusterInferred ? "held by most copies" : "--cluster"})`);
  for (const copy of report.copies) printCopy(copy, report, out);
  out(openText(report));
  return report.working === null ? 1 : 0;
}

function printCopy(copy: CopyReport, report: SuperblockReport, out: Output): void {
  const state = copy.state;
  const status = copy.status === "valid" ? `valid${copy.detail === "" ? "" : ` (${copy.detail})`}` : copy.detail;
  out(`copy ${copy.slot} at offset ${offsetText(copy.offset)}: ${status}`);
  if (state === null) return;
  const vsr = state.vsr_state;
  const checkpoint = vsr.checkpoint;
  const replica = replicaIndexOf(report.cluster, vsr.replica_id);
  out(`    sequence ${state.sequence}, checksum ${hex(state.checksum)}, parent ${hex(state.parent)}`);
  out(`    cluster ${state.cluster}, replica ${replica ?? "unknown"} of ${vsr.replica_count}, ` +
    `release_format ${releaseText(state.release_format)}`);
  out(`    view ${vsr.view}, log_view ${vsr.log_view}, commit_max ${vsr.commit_max}`);
  out(`    checkpoint op ${opOf(checkpoint.header, 0)}, id ${hex(checkpointId(checkpoint))}, release ${releaseText(checkpoint.release)}`);
  out(`    manifest address ${checkpoint.manifest_address}, checksum ${hex(checkpoint.manifest_checksum)}, ` +
    `size ${checkpoint.manifest_size}`);
  out(`    sync_op ${vsr.sync_op_min}..${vsr.sync_op_max}, view headers ${state.view_headers.length}` +
    (vsr.sync_moves_address === 0 ? "" : `, an interrupted state sync's staged blocks listed at block ${vsr.sync_moves_address}`));
}

const openErrorText: Record<string, string> = {
  NotFound: "no copy is valid",
  QuorumLost: `no sequence is held by ${superblockOpenQuorum} distinct copies`,
  Fork: "two groups of copies have the same sequence but different contents",
  ParentSkipped: "a newer sequence exists beyond the quorum's successor",
  ParentNotConnected: "the previous sequence is not the quorum's parent",
  VSRStateNotMonotonic: "the VSR state went backwards from the previous sequence",
};

export function openText(report: SuperblockReport): string {
  const open = report.open;
  if (open.kind === "error") return `open: would fail: ${open.error} (${openErrorText[open.error]})`;
  const holders = report.copies.filter((copy) => copy.state?.checksum === open.header.checksum).map((c) => c.slot);
  const repairs = open.repairs.length === 0 ? "" : `; would rewrite copy ${open.repairs.join(", ")}`;
  return `open: picks sequence ${open.header.sequence} held by copies ${holders.join(", ")} ` +
    `(${open.copies} of 4 distinct, quorum ${superblockOpenQuorum})${repairs}`;
}

// ---- WAL ----

function headerText(report: HeaderReport, op: string): string {
  if (report.reserved) return "reserved";
  if (!report.valid) return report.problem;
  return `op ${op} view ${report.view}`;
}

function decisionText(slot: SlotReport): string {
  if (slot.tableError !== null) return `table rejects it: ${slot.tableError}`;
  return slot.torn ? `case ${slot.case} torn: cut` : `case ${slot.case}: ${slot.decision}`;
}

function bodyText(slot: SlotReport): string {
  return slot.prepare.valid && !slot.prepare.reserved ? ", body ok" : "";
}

/** One slot, or a run of alike slots, with the ops given as text. */
function slotText(slot: SlotReport, headerOp: string, prepareOp: string): string {
  const both = slot.header.valid && slot.prepare.valid && !slot.header.reserved && !slot.prepare.reserved;
  const relation = both ? (slot.header.checksum === slot.prepare.checksum ? " = " : " ≠ ") : " | ";
  return `header ${headerText(slot.header, headerOp)}${relation}prepare ${headerText(slot.prepare, prepareOp)}` +
    `${bodyText(slot)} → ${decisionText(slot)}`;
}

function verboseText(slot: SlotReport): string {
  const header = `header ${headerText(slot.header, String(slot.header.op))} ${shortHex(slot.header.checksum)}`;
  const body = slot.prepare.bodyValid === null ? "" : slot.prepare.bodyValid ? " body ok" : " body BAD";
  const prepare = `prepare ${headerText(slot.prepare, String(slot.prepare.op))} ${shortHex(slot.prepare.checksum)}${body}`;
  return `slot ${String(slot.slot).padStart(4)}  ${header}  ${prepare}  → ${decisionText(slot)}`;
}

function liveOp(report: HeaderReport): number | null {
  return report.valid && !report.reserved ? report.op : null;
}

/** Slot b continues the run ending at slot a: the same text once ops are masked, ops one up. */
function continues(a: SlotReport, b: SlotReport): boolean {
  const next = (x: number | null, y: number | null) => (x === null ? y === null : y === x + 1);
  return slotText(a, "#", "#") === slotText(b, "#", "#") &&
    next(liveOp(a.header), liveOp(b.header)) && next(liveOp(a.prepare), liveOp(b.prepare));
}

function runText(first: SlotReport, last: SlotReport): string {
  const range = (a: number | null, b: number | null) => (a === b ? String(a) : `${a}..${b}`);
  const slots = first === last ? `slot  ${first.slot}` : `slots ${first.slot}..${last.slot}`;
  const text = slotText(first, range(liveOp(first.header), liveOp(last.header)),
    range(liveOp(first.prepare), liveOp(last.prepare)));
  return `${slots.padEnd(14)} ${text}`;
}

function printSlotRuns(slots: readonly SlotReport[], out: Output): void {
  let first = 0;
  for (let index = 1; index <= slots.length; index++) {
    if (index < slots.length && continues(slots[index - 1]!, slots[index]!)) continue;
    out(runText(slots[first]!, slots[index - 1]!));
    first = index;
  }
}

export function headText(wal: WalReport): string {
  const verdict = wal.verdict;
  let certainty = "certain";
  if (verdict === null) certainty = `uncertain (${wal.verdictError})`;
  else if (verdict.kind === "recovering_head") {
    certainty = `uncertain: ${verdict.reason}${verdict.slot === null ? "" : ` at slot ${verdict.slot}`} → recovering_head`;
  } else if (verdict.torn.length > 0) {
    certainty = `certain after truncating torn op ${verdict.torn.map((torn) => torn.op).join(", ")}`;
  }
  return `head: op ${wal.head} (${certainty})`;
}

export function printWal(wal: WalReport, verbose: boolean, out: Output): number {
  out(`WAL: ${wal.slots.length} slots, checkpoint op ${wal.opCheckpoint}, op_prepare_max ${wal.opPrepareMax}` +
    `${wal.soloReplica ? ", solo replica" : ""}`);
  if (verbose) for (const slot of wal.slots) out(verboseText(slot));
  else printSlotRuns(wal.slots, out);
  const held = wal.opsHeld;
  out(held === null ? "ops held: none" : `ops held: ${held.min}..${held.max} (${held.count} slot${held.count === 1 ? "" : "s"}); op_max seen ${wal.opMaxSeen}`);
  out(headText(wal));
  out(wal.refusal === null ? "open: the WAL recovers" : `open: would refuse the WAL: ${wal.refusal}`);
  return wal.refusal === null ? 0 : 1;
}
