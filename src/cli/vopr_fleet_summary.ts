// The summary a fleet prints when it ends: throughput, the simulated-to-wall-clock ratio, the
// swarm's coverage (replica counts, faults exercised, repairs), the rechecks, and every failing seed
// with its replay command. (`scarab vopr report` prints the fuller, mergeable version.)
import { faultCountKeys, repairCountKeys } from "../sim/runner/fault_counts.js";
import type { Shard } from "./vopr_fleet_plan.js";
import type { SeedLine } from "./vopr_seed_line.js";

export interface SummaryFleet {
  readonly base: bigint;
  readonly seeds: number;
  readonly flags: readonly string[];
  readonly shard: Shard;
}

type SummaryLine = Pick<SeedLine, "seed" | "exitCode" | "ticks" | "outcome" | "parameters" | "faults" | "repairs" | "rechecked" | "replay">;

export function summary(fleet: SummaryFleet, lines: readonly SummaryLine[], wallMs: number, jobs: number): string[] {
  const seconds = wallMs / 1000;
  const ticks = lines.reduce((sum, entry) => sum + entry.ticks, 0);
  const ratio = (ticks * 10) / Math.max(1, wallMs); // 1 tick = 10 ms of simulated time
  const failures = lines.filter((entry) => entry.exitCode !== 0);
  const shard = fleet.shard.count === 1 ? "" : ` --shard ${fleet.shard.index}/${fleet.shard.count}`;
  const rechecked = lines.filter((entry) => entry.rechecked);
  const differing = rechecked.filter((entry) => entry.outcome.startsWith("nondeterministic"));
  const summaryLines = [
    `vopr: ${lines.length} seeds in ${seconds.toFixed(1)} s: ${(lines.length / Math.max(0.001, seconds)).toFixed(2)} seeds/s on ${jobs} job(s)`,
    `  again: scarab vopr --seeds ${fleet.seeds} --from ${fleet.base}${shard}${fleet.flags.length ? " " + fleet.flags.join(" ") : ""}`,
    `  simulated ${ticks} ticks (${formatSimulated(ticks * 10)}): ${ratio.toFixed(0)}x real time, ${(ratio / jobs).toFixed(0)}x per core`,
    `  replicas: ${histogram(lines.map((entry) => `${entry.parameters.replicas ?? "?"}`))}`,
    `  standbys: ${histogram(lines.map((entry) => `${entry.parameters.standbys ?? "?"}`))}`,
    `  faults: ${countSummary(faultCountKeys, lines.map((entry) => entry.faults))}`,
    `  repairs: ${countSummary(repairCountKeys, lines.map((entry) => entry.repairs))}`,
    `  outcomes: ${histogram(lines.map((entry) => outcomeKind(entry)))}`,
    `  rechecked: ${rechecked.length} seed(s) run twice, ${differing.length === 0 ? "trace digests equal" : `${differing.length} with different trace digests`}`,
    failures.length === 0 ? "  all seeds passed" : `  FAILED: ${failures.length} seed(s)`,
  ];
  for (const entry of failures) {
    summaryLines.push(`    seed ${entry.seed} exit ${entry.exitCode}: ${entry.outcome}`);
    summaryLines.push(`      replay: ${entry.replay}`);
  }
  return summaryLines;
}

/** A count summed over seeds: its total, and how many seeds had any. */
export interface CountTotal {
  readonly name: string;
  readonly total: number;
  readonly seeds: number;
}

/** "name total (N seeds)", comma-separated: the fleet summary's and the report's form. */
export function formatCountTotals(counts: readonly CountTotal[]): string {
  return counts.map((count) => `${count.name} ${count.total} (${count.seeds} seeds)`).join(", ");
}

function countSummary<T>(keys: readonly (keyof T)[], counts: readonly T[]): string {
  return formatCountTotals(keys.map((key) => ({
    name: String(key),
    total: counts.reduce((sum, entry) => sum + Number(entry[key] ?? 0), 0),
    seeds: counts.filter((entry) => Number(entry[key] ?? 0) > 0).length,
  })));
}

/** "passed", "no liveness: core_missing_prepare", … without per-seed details; failures by exit code. */
export function outcomeKind(entry: Pick<SeedLine, "exitCode" | "outcome">): string {
  if (entry.exitCode !== 0) return `exit ${entry.exitCode}`;
  return entry.outcome.replace(/\s*\(.*$/, "");
}

function histogram(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => `${key}:${count}`).join(" ");
}

export function formatSimulated(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 24 * 365 * 2) return `${(hours / 24 / 365).toFixed(1)} simulated years`;
  return hours >= 48 ? `${(hours / 24).toFixed(1)} simulated days` : `${hours.toFixed(1)} simulated hours`;
}
