// The ledger as the grid persists it (core/persistent_state.ts): eight spaces and a metadata
// record. The spaces are the tables, page by page — account rows, transfer rows, the per-transfer
// side array, the per-account list heads, the history entries, the orphaned ids, the nodes of the
// transfer id tree (id_tree.ts) and the expiry heap — so a checkpoint writes only the pages that
// changed. The metadata holds the counts, the scalars, the id tree's root and the heap's length.
// The account id index and the orphan index are rebuilt on open from resident tables (bounded by
// the accounts and the failures, not by the transfers). The id tree and the heap are restored as
// they were, so open reads nothing per transfer: their shapes depend on the history of operations,
// and restoring them verbatim keeps every later page identical to the original's.
import { assert } from "../assert.js";
import { FlatSpace } from "../flat_space.js";
import type { PageSpace } from "../persistent_state.js";
import {
  checkResidentRows, clearDirtyPages, headerWords, readCountsAndScalars, rebuildAccountIndex, restoreOrphans,
  writeCountsAndScalars, type Counts,
} from "./snapshot.js";
import { expiryEntryWords } from "./expiry.js";
import { LedgerState, linkWords, type LedgerOptions } from "./state.js";
import { rowWords } from "./words.js";

export const ledgerMetaMagic = 0x4d47_444c; // the bytes "LDGM"
export const ledgerMetaVersion = 2;

/**
 * The metadata: a snapshot header (snapshot.ts: magic, version, counts and scalars in words 2..9)
 * with its own magic, then the id tree's root node (0xffff_ffff when empty), height and node count,
 * and the expiry heap's length.
 */
const M = {
  magic: 0, version: 1, treeRoot: headerWords, treeHeight: headerWords + 1, treeNodes: headerWords + 2,
  expiryLength: headerWords + 3,
} as const;
const metaWords = headerWords + 4;
const orphanWords = 4;

function bytesOf(array: Int32Array | Uint32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** The eight spaces of `state`, in their fixed order. */
export function ledgerSpaces(state: LedgerState, orphanCount = () => state.orphans.count): PageSpace[] {
  const pageBytes = state.pageBytes;
  return [
    new FlatSpace(() => state.accounts.u8, () => state.accounts.count * rowWords * 4, () => state.accounts.dirty, pageBytes),
    state.transfers,
    state.side,
    new FlatSpace(() => bytesOf(state.accountLinks), () => state.accounts.count * linkWords * 4, () => state.accountLinksDirty, pageBytes),
    state.history,
    new FlatSpace(() => bytesOf(state.orphanIds), () => orphanCount() * orphanWords * 4, () => state.orphanIdsDirty, pageBytes),
    state.transferIndex.nodes,
    new FlatSpace(() => bytesOf(state.expiry.words), () => state.expiry.length * expiryEntryWords * 4, () => state.expiry.dirty, pageBytes),
  ];
}

export function encodeLedgerMeta(state: LedgerState, timestampLast: bigint): Uint8Array {
  const words = new Uint32Array(metaWords);
  words[M.magic] = ledgerMetaMagic;
  words[M.version] = ledgerMetaVersion;
  writeCountsAndScalars(words, state, timestampLast);
  const tree = state.transferIndex;
  assert(tree.count === state.transfers.count, "every transfer is in the id tree");
  words[M.treeRoot] = tree.root;
  words[M.treeHeight] = tree.height;
  words[M.treeNodes] = tree.nodes.count;
  words[M.expiryLength] = state.expiry.length;
  return new Uint8Array(words.buffer);
}

export interface LedgerRestore {
  readonly state: LedgerState;
  readonly timestampLast: bigint;
  readonly counts: Counts;
  readonly treeRoot: number;
  readonly treeHeight: number;
}

/**
 * A fresh state sized for the metadata's counts (or the configured capacities, if larger), every
 * table empty: the caller copies the spaces' used bytes in, then calls finishLedgerRestore.
 * Malformed metadata is an assertion failure: it is checksummed before it gets here.
 */
export function beginLedgerRestore(meta: Uint8Array, options: LedgerOptions): LedgerRestore {
  assert(meta.length === metaWords * 4, "ledger meta: length");
  const words = new Uint32Array(metaWords);
  new Uint8Array(words.buffer).set(meta);
  assert(words[M.magic] === ledgerMetaMagic, "ledger meta: bad magic");
  assert(words[M.version] === ledgerMetaVersion, "ledger meta: unknown version");
  assert(words[headerWords - 2] === 0 && words[headerWords - 1] === 0, "ledger meta: reserved words");
  const { counts, pulseNextLo, pulseNextHi, timestampLast } = readCountsAndScalars(words, "ledger meta");
  const state = new LedgerState({
    ...options,
    accountsCapacity: Math.max(1, counts.accounts, options.accountsCapacity ?? 0),
  });
  state.orphanIds = new Uint32Array(Math.max(16, counts.orphans) * orphanWords);
  state.orphanIdsDirty.ensureRows(state.orphanIds.length / orphanWords);
  // The counts first, so that the spaces' usedBytes() say how much to copy in.
  state.accounts.count = counts.accounts;
  state.transfers.count = counts.transfers;
  state.side.count = counts.transfers;
  state.history.count = counts.history;
  state.transferIndex.nodes.count = words[M.treeNodes]!;
  state.expiry.reserve(words[M.expiryLength]!);
  state.expiry.length = words[M.expiryLength]!;
  state.pulseNextLo = pulseNextLo;
  state.pulseNextHi = pulseNextHi;
  return { state, counts, timestampLast, treeRoot: words[M.treeRoot]! | 0, treeHeight: words[M.treeHeight]! };
}

/** The spaces a restore copies into: orphans are counted by their index, so they come separately. */
export function restoreSpaces(restore: LedgerRestore): PageSpace[] {
  return ledgerSpaces(restore.state, () => restore.counts.orphans);
}

/** Rebuilds the derived data, checks the rows, and leaves every page clean. */
export function finishLedgerRestore(restore: LedgerRestore): LedgerState {
  const state = restore.state;
  restoreOrphans(state, state.orphanIds.subarray(0, restore.counts.orphans * orphanWords), restore.counts.orphans);
  checkResidentRows(state);
  rebuildAccountIndex(state);
  state.transferIndex.restore(restore.treeRoot, restore.treeHeight, restore.counts.transfers);
  for (let i = 0; i < state.expiry.length; i++) {
    assert(state.expiry.entry(i).row < restore.counts.transfers, "ledger meta: an expiry entry beyond the transfers");
  }
  clearDirtyPages(state);
  return state;
}
