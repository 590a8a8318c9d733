// `scarab inspect integrity`: every checksummed byte a replica needs, verified, and anything damaged
// located exactly (zone, file offset, copy / slot and op / block address). The verdict is strict:
// a clean stop leaves every superblock copy identical, every WAL slot intact or legitimately empty
// (recovery cases P and L) and every block of the checkpoint verifying; anything else is reported.
import { headerSize, sectorSize } from "../core/config.js";
import type { DataFile, SuperblockReport } from "./inspect_read.js";
import { type GridReport, inspectGrid } from "./inspect_grid.js";
import { type RepliesReport, inspectReplies } from "./inspect_replies.js";
import { type Output, headText, hex, offsetText, openText } from "./inspect_print.js";
import { type SlotReport, type WalReport, inspectWal } from "./inspect_wal.js";

export interface Damage {
  readonly zone: string;
  /** Absolute file offset, or null when the problem is not one place (e.g. the open quorum). */
  readonly offset: number | null;
  readonly where: string;
  readonly what: string;
}

function superblockDamage(report: SuperblockReport): Damage[] {
  const damage: Damage[] = [];
  const open = report.open;
  const working = open.kind === "working" ? open.header : null;
  for (const copy of report.copies) {
    const base = { zone: "superblock", offset: copy.offset, where: `copy ${copy.slot}` };
    // An invalid copy, or a valid one in the wrong slot (misdirected), says why in `detail`.
    if (copy.status !== "valid" || copy.detail !== "") damage.push({ ...base, what: copy.detail });
    else if (working !== null && copy.state!.checksum !== working.checksum) {
      damage.push({ ...base, what: `stale: sequence ${copy.state!.sequence}, the working copy is ${working.sequence}` });
    }
  }
  if (open.kind === "error") damage.push({ zone: "superblock", offset: null, where: "open quorum", what: openText(report) });
  return damage;
}

function opNote(slot: SlotReport): string {
  const op = slot.prepare.checksumValid ? slot.prepare.op : slot.header.valid && !slot.header.reserved ? slot.header.op : null;
  return op === null ? "" : ` (op ${op})`;
}

function walSlotDamage(slot: SlotReport, file: { headers: number; prepares: number; size: number }): Damage[] {
  const damage: Damage[] = [];
  const where = `slot ${slot.slot}${opNote(slot)}`;
  if (!slot.header.valid) {
    damage.push({ zone: "wal_headers", offset: file.headers + slot.slot * headerSize,
      where: `${where}, sector ${Math.floor((slot.slot * headerSize) / sectorSize)}`, what: slot.header.problem });
  }
  if (!slot.prepare.valid) {
    const bodyOnly = slot.prepare.checksumValid && slot.prepare.bodyValid === false;
    damage.push({ zone: "wal_prepares", offset: file.prepares + slot.slot * file.size + (bodyOnly ? headerSize : 0),
      where: bodyOnly ? `${where}, body` : where, what: slot.prepare.problem });
  }
  if (damage.length === 0 && slot.decision !== "eql" && slot.decision !== "nil") {
    damage.push({ zone: "wal", offset: null, where,
      what: `redundant header and prepare disagree: ${slot.tableError ?? `case ${slot.case}, recovery would ${slot.decision}`}` });
  }
  return damage;
}

function walDamage(wal: WalReport, report: SuperblockReport): Damage[] {
  const zones = report.config.zones;
  const layout = { headers: zones.walHeaders.offset, prepares: zones.walPrepares.offset, size: report.config.messageSizeMax };
  const damage = wal.slots.flatMap((slot) => walSlotDamage(slot, layout));
  if (wal.refusal !== null) damage.push({ zone: "wal", offset: null, where: "recovery", what: `open would refuse the WAL: ${wal.refusal}` });
  else if (!wal.headCertain) damage.push({ zone: "wal", offset: null, where: "recovery", what: headText(wal) });
  return damage;
}

function gridDamage(grid: GridReport, checkpointOp: number): Damage[] {
  const damage: Damage[] = grid.blocks.filter((block) => block.problem !== "").map((block) => ({
    zone: "grid", offset: block.offset,
    where: `block ${block.address} (${block.role} of checkpoint op ${checkpointOp}, expected checksum ${hex(block.checksum)})`,
    what: block.problem,
  }));
  if (grid.unreachable > 0) {
    damage.push({ zone: "grid", offset: null, where: `${grid.unreachable} pages of checkpoint op ${checkpointOp}`,
      what: "not verifiable: their checksums are in a damaged directory block" });
  }
  return damage;
}

function summaryLines(report: SuperblockReport, wal: WalReport | null, grid: GridReport | null, replies: RepliesReport | null,
  checkpointOp: number): string[] {
  const intactCopies = report.copies.filter((copy) => copy.status === "valid").length;
  const lines = [`superblock      ${intactCopies} of 4 copies valid; ${openText(report)}`];
  if (wal === null || grid === null) return [...lines, "wal, grid       not checked: no valid superblock copy gives the cluster and checkpoint"];
  const headers = wal.slots.filter((slot) => slot.header.valid).length;
  const prepares = wal.slots.filter((slot) => slot.prepare.valid).length;
  const reserved = wal.slots.filter((slot) => slot.prepare.valid && slot.prepare.reserved).length;
  const held = wal.opsHeld === null ? "no ops" : `ops ${wal.opsHeld.min}..${wal.opsHeld.max}`;
  const blocks = grid.blocks.filter((block) => block.problem === "").length;
  const total = grid.blocks.length + grid.unreachable;
  return [...lines,
    `wal_headers     ${headers} of ${wal.slots.length} redundant headers valid`,
    `wal_prepares    ${prepares} of ${wal.slots.length} prepares valid (${held}, ${reserved} reserved); ${headText(wal)}`,
    grid.manifestAddress === 0
      ? `grid            checkpoint op ${checkpointOp} is the root checkpoint: no blocks`
      : `grid            checkpoint op ${checkpointOp}: ${blocks} of ${total} blocks valid (manifest at ${grid.manifestAddress})`,
    replies === null
      ? `client_replies  not checked: ${grid.manifestAddress === 0 ? "no client sessions yet" : "the checkpoint's session table is damaged"}`
      : `client_replies  ${replies.intact} of ${replies.sessions} sessions' stored replies valid`,
  ];
}

function damageLine(damage: Damage): string {
  const at = damage.offset === null ? "" : ` at offset ${offsetText(damage.offset)}`;
  return `  ${damage.zone.padEnd(13)} ${damage.where}${at}: ${damage.what}`;
}

/** Verifies the whole file; prints a summary, then every damaged place; 0 intact, 1 damaged. */
export function runIntegrity(file: DataFile, report: SuperblockReport, out: Output): number {
  const state = report.best;
  const wal = state === null ? null : inspectWal(file, report.config, state);
  const grid = state === null ? null : inspectGrid(file, report.config, state);
  const checkpointOp = wal?.opCheckpoint ?? 0;
  const replies = grid?.sessions == null ? null : inspectReplies(file, report.config, grid.sessions);
  for (const line of summaryLines(report, wal, grid, replies, checkpointOp)) out(line);
  const damage = [
    ...superblockDamage(report),
    ...(wal === null ? [{ zone: "wal", offset: null, where: "all slots", what: "not checked (no valid superblock copy)" }] : walDamage(wal, report)),
    ...(grid === null ? [] : gridDamage(grid, checkpointOp)),
    ...(replies?.damage ?? []),
  ];
  if (damage.length === 0) {
    out("INTACT: every checksum verifies and nothing a replica needs is damaged");
    return 0;
  }
  out("damaged:");
  for (const item of damage) out(damageLine(item));
  out(`DAMAGED: ${damage.length} problem${damage.length === 1 ? "" : "s"} found (listed above)`);
  return 1;
}
