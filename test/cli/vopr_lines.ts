// Hand-made JSON lines of a VOPR fleet, for the report tests: seeds with chosen outcomes, ticks,
// faults and probes, and fleet lines for their shards.
import { noFaults, noRepairs } from "../../src/sim/runner/fault_counts.js";
import type { FleetLine, SeedLine } from "../../src/cli/vopr_seed_line.js";

export const testCommit = "c0ffee0000000000000000000000000000000001";
const flags = ["--lite"];

export function seedLine(seed: number, fields: Partial<SeedLine> = {}): SeedLine {
  const ticks = fields.ticks ?? 1000 * (seed + 1);
  return {
    type: "seed", seed: String(seed), base: "7", index: seed, shard: "0/1", flags, commit: testCommit, node: "v20.0.0",
    parameters: { seed: String(seed), replicas: 3, standbys: 0 }, exitCode: 0, outcome: "passed", details: "", ticks,
    simulatedMs: ticks * 10, wallMs: 100 + seed, rechecked: false, recheckWallMs: 0,
    faults: { ...noFaults(), crashes: seed % 3, packetsDropped: 10 }, repairs: { ...noRepairs(), walPrepares: seed % 2 },
    probes: seed % 2 === 0 ? { view_change_truncated: 1 } : { view_change_truncated: 2, grid_block_repaired: 1 },
    traceHash: `${String(seed).padStart(32, "0")}`, requestsReplied: 96, replay: `scarab vopr --lite ${seed}`, ...fields,
  };
}

export function fleetLine(fields: Partial<FleetLine> = {}): FleetLine {
  return {
    type: "fleet", base: "7", seeds: 10, shard: "0/1", shardSeeds: 10, jobs: 2, startedAt: "2026-01-01T00:00:00.000Z",
    wallMs: 1000, flags, commit: testCommit, node: "v20.0.0", seedTimeoutS: 1800, recheckRatio: "1/20", failed: 0, rechecked: 0,
    ...fields,
  };
}

/** Ten seeds: two failures (a crash and a correctness failure) and a timeout among them. */
export function tenSeeds(): SeedLine[] {
  return Array.from({ length: 10 }, (_, seed) => {
    if (seed === 3) return seedLine(seed, { exitCode: 127, outcome: "crash: assertion: <b>view</b> & \"op\"", details: "AssertionError\n    at x" });
    if (seed === 6) return seedLine(seed, { exitCode: 129, outcome: "correctness: state checker: replica 1 diverged" });
    if (seed === 8) return seedLine(seed, { exitCode: 124, outcome: "timeout: over 600 s of wall clock", ticks: 0, simulatedMs: 0, traceHash: "", probes: {} });
    if (seed === 9) return seedLine(seed, { rechecked: true, recheckWallMs: 90 });
    return seedLine(seed);
  });
}

export const testCatalog = [
  { name: "view_change_truncated", description: "a view change truncated the log" },
  { name: "grid_block_repaired", description: "a grid block was repaired from a peer" },
  { name: "torn_write_recovered", description: "a torn WAL write was recovered" },
];
