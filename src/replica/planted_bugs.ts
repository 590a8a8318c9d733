// Test-only switches that plant known protocol bugs, so the test suite can check that the VOPR
// catches each of them (issue: "self-check of the testbed"). They are read on the few code paths
// they break; nothing outside test/ sets them, and every one defaults to off.

export interface PlantedBugs {
  /** The primary commits an op on its own prepare_ok, without a replication quorum. */
  commitWithoutQuorum: boolean;
  /** The new primary truncates an op on a single nack instead of a nack quorum. */
  truncateWithoutNackQuorum: boolean;
  /** A backup acknowledges a prepare before its WAL write is durable. */
  ackBeforeDurable: boolean;
  /** The view change picks the log with the highest op instead of the highest log_view. */
  logChoiceByHighestOp: boolean;
}

export const plantedBugs: PlantedBugs = {
  commitWithoutQuorum: false,
  truncateWithoutNackQuorum: false,
  ackBeforeDurable: false,
  logChoiceByHighestOp: false,
};

export function clearPlantedBugs(): void {
  plantedBugs.commitWithoutQuorum = false;
  plantedBugs.truncateWithoutNackQuorum = false;
  plantedBugs.ackBeforeDurable = false;
  plantedBugs.logChoiceByHighestOp = false;
}
