// Coverage probes ("sometimes" assertions): named points in the protocol that a good swarm of VOPR
// seeds should reach now and then (a view change that truncates the log, a torn write recovered, a
// grid block repaired...). A probe never fails a run; the fleet report lists the probes no seed hit.
// The replica reports a hit through a sink passed in as an option (test-only behaviour is never
// module-level state); the simulator counts hits per seed.

export interface ProbeInfo {
  /** snake_case, stable: it appears in JSON lines and reports. */
  readonly name: string;
  /** One line: what reaching it means. */
  readonly description: string;
}

/** Every probe, in report order. */
export const probeCatalog: readonly ProbeInfo[] = [];

/** Hits per probe name in one run (names never hit are absent). */
export type ProbeCounts = Record<string, number>;

/** Where replica (and ledger) code reports a probe hit. */
export type ProbeSink = (name: string) => void;
