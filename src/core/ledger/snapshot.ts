// Canonical snapshots of the whole ledger state in one byte string: the reference the tests
// compare states with (the grid persists the same buffers page by page instead, persistence.ts,
// and shares the restore checks below). Two state machines that executed the same requests must
// produce byte-identical snapshots. The bytes therefore never depend on table capacities, growth
// history or hash-table slot layout:
// - only the used part of every buffer is written (rows, side-array words and history entries up
//   to their counts; the 12 always-zero padding words of each history entry are left out);
// - the id indexes, the orphan index and the expiry heap are derived data (tables.ts) and are
//   rebuilt on restore, never dumped.
//
// Layout: little-endian u32 words (the host order; u128.ts asserts a little-endian host).
//   header (12 words): magic, version, A = account rows, T = transfer rows, H = history entries,
//     O = orphaned ids, pulse_next (lo, hi), last prepare timestamp (lo, hi), total words, 0
//   A × 32 account rows | T × 32 transfer rows | T × 10 side words (state.ts SW)
//   A × 4 list heads/tails (state.ts LW) | H × 20 history words (history.ts HW) | O × 4 orphan ids
//
// Why rebuilding the expiry heap from the side arrays gives the same future as the original heap:
// the heap holds exactly one entry per transfer that is pending with a timeout (pushed at
// creation, popped only once no longer pending; a rolled-back push is undone exactly), plus stale
// entries of posted or voided transfers (lazy deletion) — a transfer never becomes pending again
// once a request has completed. Keys (expires_at, row) are unique, so any min-heap pops the live
// entries in the same total order, ties on expires_at included (by row = timestamp order). Stale
// entries are popped and skipped whenever they reach the top, and never count towards the
// per-pulse expiry cap or pulse_next, so dropping them changes nothing observable.
//
// Restore leaves every dirty-page bitset clean: the restored state is exactly the checkpoint, so
// an incremental checkpoint taken after it writes only pages changed since. Snapshotting is a pure
// read and does not touch the dirty bits (the caller clears them once the checkpoint is durable).
import { assert } from "../assert.js";
import type { PagedRecords } from "../paged_records.js";
import { HW } from "./history.js";
import { LedgerState, SW, linkWords, pulseNextInfinity, sideWords, type LedgerOptions } from "./state.js";
import { hiOf, joinTimestamp, loOf, tsLess } from "./timestamps.js";
import { AW, PendingState, rowWords } from "./words.js";

export const snapshotMagic = 0x4e53_4c53; // the bytes "SLSN"
export const snapshotVersion = 1;

/**
 * Header word offsets. Words 2..9 (counts and scalars) are also the ledger's checkpoint metadata
 * (persistence.ts), written and read by writeCountsAndScalars / readCountsAndScalars.
 */
const H = {
  magic: 0, version: 1, accounts: 2, transfers: 3, history: 4, orphans: 5, pulseNextLo: 6, pulseNextHi: 7,
  timestampLastLo: 8, timestampLastHi: 9, words: 10, reserved: 11,
} as const;
export const headerWords = 12;
const historyUsedWords = HW.balances + 16;
const orphanWords = 4;

export interface Counts {
  accounts: number;
  transfers: number;
  history: number;
  orphans: number;
}

export interface CountsAndScalars {
  counts: Counts;
  pulseNextLo: number;
  pulseNextHi: number;
  timestampLast: bigint;
}

/** Header words 2..9: the row counts, pulse_next and the last prepare timestamp. */
export function writeCountsAndScalars(words: Uint32Array, state: LedgerState, timestampLast: bigint): void {
  words[H.accounts] = state.accounts.count;
  words[H.transfers] = state.transfers.count;
  words[H.history] = state.history.count;
  words[H.orphans] = state.orphans.count;
  words[H.pulseNextLo] = state.pulseNextLo;
  words[H.pulseNextHi] = state.pulseNextHi;
  words[H.timestampLastLo] = loOf(timestampLast);
  words[H.timestampLastHi] = hiOf(timestampLast);
}

/** Reads what writeCountsAndScalars wrote; asserts that pulse_next is a timestamp or +∞. */
export function readCountsAndScalars(words: Uint32Array, what: string): CountsAndScalars {
  const pulseNextLo = words[H.pulseNextLo]!;
  const pulseNextHi = words[H.pulseNextHi]!;
  assert(pulseNextHi < 0x8000_0000 || (pulseNextHi === pulseNextInfinity && pulseNextLo === pulseNextInfinity),
    `${what}: pulse_next is a timestamp or +∞`);
  return {
    counts: {
      accounts: words[H.accounts]!, transfers: words[H.transfers]!, history: words[H.history]!, orphans: words[H.orphans]!,
    },
    pulseNextLo, pulseNextHi, timestampLast: joinTimestamp(words[H.timestampLastHi]!, words[H.timestampLastLo]!),
  };
}

/** Word offsets of the sections, and the total length in words. */
interface Layout {
  accounts: number;
  transfers: number;
  side: number;
  links: number;
  history: number;
  orphans: number;
  total: number;
}

function layoutOf(counts: Counts): Layout {
  const accounts = headerWords;
  const transfers = accounts + counts.accounts * rowWords;
  const side = transfers + counts.transfers * rowWords;
  const links = side + counts.transfers * sideWords;
  const history = links + counts.accounts * linkWords;
  const orphans = history + counts.history * historyUsedWords;
  const total = orphans + counts.orphans * orphanWords;
  return { accounts, transfers, side, links, history, orphans, total };
}

/** Serialises the ledger state and the last prepare timestamp (see the header comment). */
export function encodeSnapshot(state: LedgerState, timestampLast: bigint): Uint8Array {
  const counts: Counts = {
    accounts: state.accounts.count, transfers: state.transfers.count,
    history: state.history.count, orphans: state.orphans.count,
  };
  const layout = layoutOf(counts);
  const words = new Uint32Array(layout.total);
  const signed = new Int32Array(words.buffer);
  words[H.magic] = snapshotMagic;
  words[H.version] = snapshotVersion;
  writeCountsAndScalars(words, state, timestampLast);
  words[H.words] = layout.total;
  words.set(state.accounts.u32.subarray(0, counts.accounts * rowWords), layout.accounts);
  copyRecordsOut(state.transfers, words, layout.transfers, rowWords);
  copyRecordsOut(state.side, words, layout.side, sideWords);
  signed.set(state.accountLinks.subarray(0, counts.accounts * linkWords), layout.links);
  copyRecordsOut(state.history, words, layout.history, historyUsedWords);
  words.set(state.orphanIds.subarray(0, counts.orphans * orphanWords), layout.orphans);
  return new Uint8Array(words.buffer);
}

export interface DecodedSnapshot {
  state: LedgerState;
  timestampLast: bigint;
}

/**
 * Builds a fresh LedgerState from a snapshot taken by encodeSnapshot: tables sized to fit (or to
 * the configured capacities, if larger), indexes and the expiry heap rebuilt, every page clean.
 * A malformed snapshot is an assertion failure: checkpoints are checksummed before they get here.
 */
export function decodeSnapshot(snapshot: Uint8Array, options: LedgerOptions = {}): DecodedSnapshot {
  const words = alignedWords(snapshot);
  const header = readHeader(words, snapshot.length);
  const counts = header.counts;
  const layout = layoutOf(counts);
  const state = new LedgerState({
    ...options,
    accountsCapacity: Math.max(1, counts.accounts, options.accountsCapacity ?? 0),
  });
  const signed = new Int32Array(words.buffer, words.byteOffset, words.length);
  state.accounts.u32.set(words.subarray(layout.accounts, layout.transfers));
  state.accounts.count = counts.accounts;
  copyRecordsIn(state.transfers, counts.transfers, words, layout.transfers, rowWords);
  copyRecordsIn(state.side, counts.transfers, words, layout.side, sideWords);
  state.accountLinks.set(signed.subarray(layout.links, layout.history));
  copyRecordsIn(state.history, counts.history, words, layout.history, historyUsedWords);
  restoreOrphans(state, words.subarray(layout.orphans, layout.total), counts.orphans);
  checkRows(state);
  rebuildIndexes(state);
  rebuildExpiry(state);
  state.pulseNextLo = header.pulseNextLo;
  state.pulseNextHi = header.pulseNextHi;
  clearDirtyPages(state);
  return { state, timestampLast: header.timestampLast };
}

/** The snapshot as u32 words: a view when 4-byte aligned, else an aligned copy. */
function alignedWords(snapshot: Uint8Array): Uint32Array {
  assert(snapshot.length % 4 === 0 && snapshot.length >= headerWords * 4, "snapshot: truncated");
  if ((snapshot.byteOffset & 3) === 0) {
    return new Uint32Array(snapshot.buffer, snapshot.byteOffset, snapshot.length >>> 2);
  }
  const copy = new Uint32Array(snapshot.length >>> 2);
  new Uint8Array(copy.buffer).set(snapshot);
  return copy;
}

function readHeader(words: Uint32Array, bytes: number): CountsAndScalars {
  assert(words[H.magic] === snapshotMagic, "snapshot: bad magic");
  assert(words[H.version] === snapshotVersion, "snapshot: unknown version");
  assert(words[H.reserved] === 0, "snapshot: reserved header word");
  const header = readCountsAndScalars(words, "snapshot");
  const total = layoutOf(header.counts).total;
  assert(words[H.words] === total && total * 4 === bytes, "snapshot: length does not match the counts");
  return header;
}

/** Copies the first `usedWords` of every record of `records` to words[offset..], back to back. */
function copyRecordsOut(records: PagedRecords, words: Uint32Array, offset: number, usedWords: number): void {
  for (let r = 0; r < records.count; r++) {
    const from = records.u32(r);
    const f = records.at(r);
    const to = offset + r * usedWords;
    for (let w = 0; w < usedWords; w++) words[to + w] = from[f + w]!;
  }
}

/** Appends `count` records to the empty `records`, each from `usedWords` words at words[offset..]. */
function copyRecordsIn(records: PagedRecords, count: number, words: Uint32Array, offset: number, usedWords: number): void {
  assert(records.count === 0);
  for (let r = 0; r < count; r++) {
    records.append();
    const to = records.u32(r);
    const t = records.at(r);
    const from = offset + r * usedWords;
    for (let w = 0; w < usedWords; w++) to[t + w] = words[from + w]!;
  }
}

export function restoreOrphans(state: LedgerState, ids: Uint32Array, count: number): void {
  // addOrphan() grows the id list by doubling, so it must start non-empty.
  state.orphanIds = new Uint32Array(Math.max(16, count) * orphanWords);
  state.orphanIdsDirty.ensureRows(state.orphanIds.length / orphanWords);
  state.orphanIds.set(ids);
  state.orphans.reserve(count);
  for (let n = 0; n < count; n++) state.orphans.insert(state.orphanIds, n * orphanWords, n); // asserts unique
}

/** Cheap structural checks: timestamps increase with rows, and every reference is in range. */
export function checkRows(state: LedgerState): void {
  checkResidentRows(state);
  const accounts = state.accounts.count;
  const transfers = state.transfers.count;
  for (let row = 1; row < transfers; row++) {
    assert(tsLess(state.transfers.timestampHi(row - 1), state.transfers.timestampLo(row - 1),
      state.transfers.timestampHi(row), state.transfers.timestampLo(row)), "snapshot: rows are in timestamp order");
  }
  for (let row = 0; row < transfers; row++) {
    const side = state.side.i32(row);
    const s = state.side.at(row);
    assert(within(side[s + SW.debitRow]!, 0, accounts) && within(side[s + SW.creditRow]!, 0, accounts),
      "snapshot: account rows of a transfer");
    assert(within(side[s + SW.debitNext]!, -1, transfers) && within(side[s + SW.debitPrev]!, -1, transfers) &&
      within(side[s + SW.creditNext]!, -1, transfers) && within(side[s + SW.creditPrev]!, -1, transfers),
    "snapshot: list links");
    assert(within(side[s + SW.history]!, -1, state.history.count), "snapshot: history link");
    assert(within(side[s + SW.state]!, PendingState.none, PendingState.expired + 1), "snapshot: pending state");
  }
  for (let entry = 0; entry < state.history.count; entry++) {
    const history = state.history.u32(entry);
    const h = state.history.at(entry);
    assert(history[h + HW.accountRow]! < accounts && history[h + HW.transferRow]! < transfers, "snapshot: history entry");
  }
}

/**
 * The checks of checkRows over the resident tables only (accounts and their list heads): what a
 * grid open can afford, since it reads no transfer page.
 */
export function checkResidentRows(state: LedgerState): void {
  const accounts = state.accounts.count;
  const transfers = state.transfers.count;
  checkTimestampOrder(state.accounts.u32, accounts);
  const links = state.accountLinks;
  for (let l = 0; l < accounts * linkWords; l++) {
    assert(within(links[l]!, -1, transfers), "snapshot: list head or tail");
  }
}

/** Accounts and transfers keep their timestamps at the same words (AW = TW there). */
function checkTimestampOrder(words: Uint32Array, count: number): void {
  const hi = AW.timestampHi;
  const lo = AW.timestampLo;
  for (let t = rowWords; t < count * rowWords; t += rowWords) {
    const p = t - rowWords;
    assert(tsLess(words[p + hi]!, words[p + lo]!, words[t + hi]!, words[t + lo]!), "snapshot: rows are in timestamp order");
  }
}

/** low ≤ value < high. */
function within(value: number, low: number, high: number): boolean {
  return value >= low && value < high;
}

/** Inserts every account id in row order (asserts that ids are unique). */
export function rebuildAccountIndex(state: LedgerState): void {
  const accounts = state.accounts.u32;
  for (let row = 0; row < state.accounts.count; row++) state.accountIndex.insert(accounts, row * rowWords, row);
}

/** Inserts every id in row order (asserts that ids are unique). */
export function rebuildIndexes(state: LedgerState): void {
  rebuildAccountIndex(state);
  const transfers = state.transfers;
  for (let row = 0; row < transfers.count; row++) state.transferIndex.insert(transfers.u32(row), transfers.at(row), row);
}

/**
 * One heap entry per transfer that is pending with a timeout, pushed in row order: deterministic,
 * and the heap's layout never shows, since unique keys fix the pop order (header comment).
 */
export function rebuildExpiry(state: LedgerState): void {
  assert(state.expiry.length === 0);
  for (let row = 0; row < state.transfers.count; row++) {
    const side = state.side.i32(row);
    const s = state.side.at(row);
    if (side[s + SW.state] !== PendingState.pending) continue;
    const hi = side[s + SW.expiresHi]! >>> 0;
    const lo = side[s + SW.expiresLo]! >>> 0;
    if ((hi | lo) !== 0) state.expiry.push(hi, lo, row);
  }
}

/** Clears every dirty-page bitset of the state (checkpoint-time helper). */
export function clearDirtyPages(state: LedgerState): void {
  state.accounts.dirty.clear();
  state.transfers.clearDirty();
  state.accountLinksDirty.clear();
  state.side.clearDirty();
  state.history.clearDirty();
  state.transferIndex.nodes.clearDirty();
  state.expiry.dirty.clear();
  state.orphanIdsDirty.clear();
}
