// Planted protocol bugs: test-only switches that break the replica on purpose, so that the test
// suite can check that the VOPR catches each of them ("a VOPR that passes a broken replica proves
// nothing"). They are passed in, frozen, through ReplicaOptions.bugs and into the pure functions
// that read them (chooseLog); there is no module-level mutable state. Production passes none.

export interface PlantedBugs {
  /** The primary commits an op on its own prepare_ok, without a replication quorum. */
  readonly commitWithoutQuorum: boolean;
  /** The new primary truncates an op on a single nack instead of a nack quorum. */
  readonly truncateWithoutNackQuorum: boolean;
  /** A backup acknowledges a prepare before its WAL write is durable. */
  readonly ackBeforeDurable: boolean;
  /** The view change picks the log with the highest op instead of the highest log_view. */
  readonly logChoiceByHighestOp: boolean;
  /**
   * A new primary stamps prepares after what it prepared or committed itself, not after the
   * uncommitted ops it inherits: under clock skew its timestamps go back (caught with clock faults).
   */
  readonly timestampIgnoresInheritedOps: boolean;
  /**
   * Grid reads check a block's header checksum but not its body's: a corrupt page is executed
   * (caught with grid faults, by the storage and state checkers).
   */
  readonly gridReadWithoutBodyChecksum: boolean;
  /** The redundant header is written alongside its prepare, not after it lands. */
  readonly headerBeforePrepare: boolean;
  /** A join_view (a view-change vote) is sent before the superblock holds the new view. */
  readonly joinViewBeforeDurable: boolean;
  /** A new primary starts its view without holding every uncommitted prepare of its log. */
  readonly primaryWithoutPrepares: boolean;
  /** A join_view nacks the ops of faulty WAL slots, as if a bad checksum meant "never prepared". */
  readonly nackFaultySlots: boolean;
  /**
   * WAL recovery truncates the log at the first faulty slot above the checkpoint, as if corruption
   * in the middle of the log were a torn write at its head.
   */
  readonly truncateAtFaultySlot: boolean;
  /**
   * A replica behind state-syncs to a newer checkpoint as soon as a view names it: neither does
   * WAL repair get a chance, nor does the next checkpoint have to be durable on a quorum.
   */
  readonly syncToUndurableCheckpoint: boolean;
  /**
   * The superblock opens from the newest copy with a valid checksum, without an open quorum and
   * without rewriting the others: a copy left alone by a crash mid-update is taken as durable.
   */
  readonly superblockNewestCopy: boolean;
}

export type PlantedBugName = keyof PlantedBugs;

export const plantedBugNames: readonly PlantedBugName[] = Object.freeze([
  "commitWithoutQuorum", "truncateWithoutNackQuorum", "ackBeforeDurable", "logChoiceByHighestOp",
  "timestampIgnoresInheritedOps", "gridReadWithoutBodyChecksum", "headerBeforePrepare",
  "joinViewBeforeDurable", "primaryWithoutPrepares", "nackFaultySlots", "truncateAtFaultySlot",
  "syncToUndurableCheckpoint", "superblockNewestCopy",
]);

/** The correct replica: every bug off. */
export const noBugs: PlantedBugs = Object.freeze({
  commitWithoutQuorum: false,
  truncateWithoutNackQuorum: false,
  ackBeforeDurable: false,
  logChoiceByHighestOp: false,
  timestampIgnoresInheritedOps: false,
  gridReadWithoutBodyChecksum: false,
  headerBeforePrepare: false,
  joinViewBeforeDurable: false,
  primaryWithoutPrepares: false,
  nackFaultySlots: false,
  truncateAtFaultySlot: false,
  syncToUndurableCheckpoint: false,
  superblockNewestCopy: false,
});

/** A frozen set of bugs with exactly `names` switched on. */
export function plantBugs(...names: PlantedBugName[]): PlantedBugs {
  const bugs: Record<PlantedBugName, boolean> = { ...noBugs };
  for (const name of names) bugs[name] = true;
  return Object.freeze(bugs);
}
