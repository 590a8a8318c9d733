// Opening the superblock (spec/vsr.md §10): choose the working copy out of the 4 copies read,
// or refuse to open. Picking only the newest copy would be wrong: a misdirected read can hide the
// sole newest copy, so the same disk could open at different states on different boots. A write
// is verified on 3 of 4 copies and an open needs 2 of 4, so every verified write is found.
import { assert, unreachable } from "../../core/assert.js";

export const superblockCopies = 4;
/** Read quorum + write (verify) quorum = copies + 1, so the two always intersect. */
export const superblockOpenQuorum = 2;
export const superblockVerifyQuorum = 3;

/** What open needs of one copy: its identity, hash chain and the VSR state it must keep. */
export interface SuperblockCopy {
  readonly checksum: bigint;
  readonly sequence: number;
  /** The checksum of the previous sequence. */
  readonly parent: bigint;
  /** The copy index 0–3, excluded from the checksum so that misdirection is detectable. */
  readonly copy: number;
  readonly view: number;
  readonly log_view: number;
  readonly commit_max: number;
  readonly checkpoint_op: number;
}

/** The working superblock: a copy's contents without the per-slot copy index. */
export type SuperblockHeader = Omit<SuperblockCopy, "copy">;

export type SuperblockOpenError =
  | "Fork" | "ParentSkipped" | "ParentNotConnected" | "VSRStateNotMonotonic" | "QuorumLost"
  | "NotFound";

export type SuperblockOpenResult =
  | {
    readonly kind: "working";
    readonly header: SuperblockHeader;
    /** Distinct copy indexes of the working quorum found on disk. */
    readonly copies: number;
    /** The slots to rewrite with their own copy of the working header, in order. */
    readonly repairs: readonly number[];
  }
  | { readonly kind: "error"; readonly error: SuperblockOpenError };

/** The copies that share one checksum. */
interface Group {
  readonly header: SuperblockCopy;
  /** Distinct copy indexes seen: a misdirected read must not count one copy twice. */
  readonly copies: Set<number>;
  /** Per slot, the copy index it holds if it is a member of this group; null otherwise. */
  readonly slots: (number | null)[];
  valid: boolean;
}

/** `copies[slot]` is the copy read from that slot, or null if unreadable or badly checksummed. */
export function superblockOpen(copies: readonly (SuperblockCopy | null)[]): SuperblockOpenResult {
  assert(copies.length === superblockCopies, "superblockOpen: expected 4 copies");
  const groups = groupCopies(copies).sort(comparePriority);
  if (groups.length === 0) return { kind: "error", error: "NotFound" };
  const best = groups[0]!;
  if (!best.valid) return { kind: "error", error: "QuorumLost" };

  // A parent group can exist after a crash mid-write, a lost or misdirected write, or a latent
  // sector error; if it does, it must be connected to the working group.
  for (const other of groups.slice(1)) {
    const sequence = other.header.sequence;
    // Same sequence, different contents: two independent writes or mixed-up data files.
    if (sequence === best.header.sequence) return { kind: "error", error: "Fork" };
    // E.g. (2,2,2,4): 2 has a quorum but is not the newest, and 4 has no quorum.
    if (sequence > best.header.sequence + 1) return { kind: "error", error: "ParentSkipped" };
    if (sequence + 1 === best.header.sequence) {
      if (other.header.checksum !== best.header.parent) {
        return { kind: "error", error: "ParentNotConnected" };
      }
      if (!vsrStateMonotonic(other.header, best.header)) {
        return { kind: "error", error: "VSRStateNotMonotonic" };
      }
      break;
    }
    // Otherwise: a newer write that reached no quorum (sequence + 1, never verified), or an
    // ancestor older than the parent. Neither constrains the working copy.
  }
  const { copy: _copy, ...header } = best.header;
  return { kind: "working", header, copies: best.copies.size, repairs: repairOrder(best.slots) };
}

/** The VSR state never goes backwards from one superblock sequence to the next. */
export function vsrStateMonotonic(previous: SuperblockHeader, next: SuperblockHeader): boolean {
  return previous.view <= next.view && previous.log_view <= next.log_view &&
    previous.commit_max <= next.commit_max && previous.checkpoint_op <= next.checkpoint_op;
}

function groupCopies(copies: readonly (SuperblockCopy | null)[]): Group[] {
  const groups: Group[] = [];
  copies.forEach((copy, slot) => {
    if (copy === null) return;
    let group = groups.find((g) => g.header.checksum === copy.checksum);
    if (group === undefined) {
      group = { header: copy, copies: new Set(), slots: new Array(copies.length).fill(null),
        valid: false };
      groups.push(group);
    }
    assertSameHeader(group.header, copy);
    // A corrupt copy index (it is not checksummed) is assumed to be the only fault: the copy
    // sits in its own slot.
    const index = copy.copy < superblockCopies ? copy.copy : slot;
    // A duplicate (a misdirected read of a copy already counted) is left out of the slots, so
    // it is rewritten.
    if (!group.copies.has(index)) {
      group.copies.add(index);
      group.slots[slot] = index;
    }
    group.valid = group.copies.size >= superblockOpenQuorum;
  });
  return groups;
}

function assertSameHeader(a: SuperblockCopy, b: SuperblockCopy): void {
  assert(a.sequence === b.sequence && a.parent === b.parent && a.view === b.view &&
    a.log_view === b.log_view && a.commit_max === b.commit_max &&
    a.checkpoint_op === b.checkpoint_op, "superblock copies with one checksum must be equal");
}

/** Valid groups first, then the newest, then the most copies; the checksum makes it total. */
function comparePriority(a: Group, b: Group): number {
  assert(a.header.checksum !== b.header.checksum);
  if (a.valid !== b.valid) return a.valid ? -1 : 1;
  if (a.header.sequence !== b.header.sequence) return b.header.sequence - a.header.sequence;
  if (a.copies.size !== b.copies.size) return b.copies.size - a.copies.size;
  return a.header.checksum > b.header.checksum ? -1 : 1;
}

/**
 * The order in which to rewrite slots so that one more fault (a torn write of the slot being
 * repaired) never loses the quorum. Repair is complete when every copy is on disk, even if not in
 * its home slot. Each step writes a slot's own copy index: first empty slots whose copy is found
 * nowhere, then empty slots whose copy is found elsewhere, then slots holding a duplicated
 * misdirected copy.
 */
function repairOrder(slotsFound: readonly (number | null)[]): number[] {
  const slots = [...slotsFound];
  const repairs: number[] = [];
  for (let step = 0; step < 2 * slots.length; step++) {
    const found = new Set<number>();
    const duplicated = new Set<number>();
    for (const copy of slots) {
      if (copy === null) continue;
      if (found.has(copy)) duplicated.add(copy);
      found.add(copy);
    }
    const emptyMissing = slots.findIndex((copy, slot) => copy === null && !found.has(slot));
    const emptyFound = slots.findIndex((copy, slot) => copy === null && found.has(slot));
    const duplicate = slots.findIndex((copy, slot) =>
      copy !== null && copy !== slot && duplicated.has(copy));
    const repair = [emptyMissing, emptyFound, duplicate].find((slot) => slot !== -1);
    if (repair === undefined) {
      assert(slots.every((copy) => copy !== null));
      return repairs;
    }
    slots[repair] = repair;
    repairs.push(repair);
  }
  return unreachable(undefined, "superblock repair did not converge");
}
