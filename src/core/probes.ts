// Coverage probes ("sometimes" assertions): named points in the protocol that a good swarm of VOPR
// seeds should reach now and then (a view change that truncates the log, a torn write recovered, a
// grid block repaired...). A probe never fails a run; the fleet report lists the probes no seed hit.
// The replica reports a hit through a sink passed in as an option (test-only behaviour is never
// module-level state); the simulator counts hits per seed.
//
// A probe call is `probe("literal_name")`: no string is built and nothing is allocated, and in
// production the sink is `noProbe`, so a hit costs one call of an empty function. Names are a
// string-literal union (ProbeName), so a call with a name not in the catalog does not compile.

export interface ProbeInfo {
  /** snake_case, stable: it appears in JSON lines and reports. */
  readonly name: string;
  /** One line: what reaching it means. */
  readonly description: string;
}

/** Every probe, in report order (grouped by protocol concern). */
export const probeCatalog = [
  // View change (src/replica/protocol/view_change.ts, normal.ts).
  { name: "view_change_by_timeout", description: "a backup heard nothing from its primary for a whole heartbeat timeout and voted to leave the view" },
  { name: "primary_abdicated", description: "a primary whose prepares got no prepare_ok for a timeout stopped heartbeating so the backups depose it" },
  { name: "view_change_truncated", description: "a new primary's chosen log ends below the head of some join_view: uncommitted ops were discarded" },
  { name: "primary_forfeited", description: "a would-be primary a checkpoint behind a join_view gave up the view and voted to move on" },
  { name: "view_adopted_by_laggard", description: "a lagging replica installed the log of a view from the answer to its get_view" },
  { name: "recovering_head_entered", description: "open found the WAL head uncertain and waited in recovering_head for a view" },
  // The WAL (src/replica/journal/, protocol/repair.ts, pipeline.ts).
  { name: "wal_wrapped", description: "the primary's prepares went round the WAL once more: an op landed in slot 0 over an older one" },
  { name: "wal_torn_write_truncated", description: "WAL recovery found torn prepares at the head (a crash mid-write) and cut them" },
  { name: "wal_faulty_slot_recovered", description: "WAL recovery found a corrupt slot that peers must repair (case vsr of the recovery table)" },
  { name: "wal_header_repaired", description: "a replica installed WAL headers a peer vouched for (missing or stale ones)" },
  { name: "wal_prepare_repaired", description: "a replica wrote a prepare it lacked or held corrupt from a peer's copy" },
  // Superblock and checkpoints (src/replica/superblock/, protocol/checkpoint.ts).
  { name: "superblock_copy_repaired", description: "open rewrote superblock copies that were damaged or left behind by a crash mid-update" },
  { name: "checkpoint_done", description: "a checkpoint became durable (its superblock is written)" },
  // The grid and state sync (src/grid/, protocol/sync.ts).
  { name: "grid_block_repaired", description: "a grid block of our state read back faulty and was repaired from a peer" },
  { name: "misdirected_write_repaired", description: "a grid block read back as another block (a lost or misdirected write) and was repaired from a peer" },
  { name: "scrubber_fault_found", description: "the grid scrubber read a cold block back faulty" },
  { name: "state_sync_done", description: "a lagging replica installed a newer checkpoint by state sync" },
  { name: "open_without_state", description: "open waited too long for grid repair of its checkpoint and joined without executing until repaired or synced" },
  { name: "state_sync_cancelled", description: "a state sync gave up its target (stalled, or replaced by a newer one) before writing it" },
  // Clients (src/replica/client_sessions.ts, protocol/request.ts, protocol/reply_repair.ts).
  { name: "client_session_evicted", description: "a register found the session table full and evicted the session with the oldest reply" },
  { name: "duplicate_request_replied", description: "a client's duplicate of its latest request was answered from the client_replies zone" },
  { name: "reply_repaired", description: "a stored reply read back faulty and was repaired from a peer" },
  // The cluster clock (src/replica/clock/clock.ts, protocol/ping.ts).
  { name: "clock_sample_rejected", description: "a pong's clock sample fell outside the current window (before it, after it, or m0 > m2) and was dropped" },
  // The ledger (src/core/ledger/).
  { name: "pending_transfer_expired", description: "a pulse expired a pending transfer whose timeout passed" },
  { name: "linked_chain_rolled_back", description: "an event of a linked chain failed and the chain's earlier events were rolled back" },
] as const satisfies readonly ProbeInfo[];

/** The name of a probe in the catalog. */
export type ProbeName = (typeof probeCatalog)[number]["name"];

/** Hits per probe name in one run (names never hit are absent). */
export type ProbeCounts = Record<string, number>;

/** Where replica (and ledger) code reports a probe hit. */
export type ProbeSink = (name: ProbeName) => void;

/** The sink of production and of tests that do not count: reaching a probe does nothing. */
export const noProbe: ProbeSink = () => {};

const probeNames: ReadonlySet<string> = new Set(probeCatalog.map((probe) => probe.name));

/** Whether `name` is a probe of the catalog (the simulator asserts it for every hit). */
export function isProbeName(name: string): name is ProbeName {
  return probeNames.has(name);
}

/**
 * One line for a run's report: the probes hit with their counts, in catalog order, and how many of
 * the catalog were hit: `probes: checkpoint_done=4 grid_block_repaired=2 (2/24 hit)`.
 */
export function describeProbes(counts: ProbeCounts): string {
  const hits: string[] = [];
  for (const { name } of probeCatalog) {
    const count = counts[name] ?? 0;
    if (count > 0) hits.push(`${name}=${count}`);
  }
  return `probes: ${hits.length === 0 ? "none" : hits.join(" ")} (${hits.length}/${probeCatalog.length} hit)`;
}
