// Merges the JSON-lines files of a VOPR fleet's shards into one report's figures. Files are read as
// streams and folded seed by seed, so a million-seed fleet costs memory for its failures, two
// numbers per seed (ticks and wall time) and one key per seed (to find duplicates), not its lines.
// Damaged lines are errors naming file:line; duplicate seeds and missing shards are warnings.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { probeCatalog, type ProbeInfo } from "../core/probes.js";
import { faultCountKeys, repairCountKeys } from "../sim/runner/fault_counts.js";
import { outcomeKind, type CountTotal } from "./vopr_fleet_summary.js";
import { exitTimeout, parseFleetFileLine, type FleetFileLine, type FleetLine, type SeedLine } from "./vopr_seed_line.js";
import { UsageError } from "./usage_error.js";

export interface Distribution {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  /** Ascending, for histograms. */
  readonly sorted: Float64Array;
}

export type { CountTotal } from "./vopr_fleet_summary.js";

export interface ProbeCoverage {
  readonly name: string;
  readonly description: string;
  /** False for a probe seen in the lines but not in this build's catalog (renamed or removed). */
  readonly inCatalog: boolean;
  readonly seeds: number;
  readonly hits: number;
}

export interface FleetReport {
  readonly files: readonly string[];
  readonly seeds: number;
  readonly duplicates: number;
  readonly warnings: readonly string[];
  /** Most severe exit code first, then in file order. */
  readonly failures: readonly SeedLine[];
  readonly worstExitCode: number;
  /** Outcome kinds, most frequent first. */
  readonly outcomes: readonly (readonly [string, number])[];
  readonly ticks: Distribution;
  readonly wallMs: Distribution;
  readonly faults: readonly CountTotal[];
  readonly repairs: readonly CountTotal[];
  /** The catalog's probes in catalog order, then probes seen but not in the catalog. */
  readonly probes: readonly ProbeCoverage[];
  readonly rechecked: number;
  readonly nondeterministic: number;
  readonly timeouts: number;
  readonly simulatedMs: number;
  /** Summed wall time of the seeds' runs, and with the rechecks' second runs (the fleet's CPU cost). */
  readonly seedWallMs: number;
  readonly coreMs: number;
  /** From the first fleet line's start to the last one's end; null without fleet lines. */
  readonly spanMs: number | null;
  readonly fleets: readonly FleetLine[];
  readonly commits: readonly string[];
  readonly nodes: readonly string[];
  /** The slowest seeds by wall time (the ones nearest the timeout). */
  readonly slowest: readonly SeedLine[];
}

const warningsPerKindMax = 10;
const slowestMax = 10;

/** Reads and merges fleet files; `catalog` is the probe catalog to report coverage against. */
export async function mergeFleetFiles(files: readonly string[], catalog: readonly ProbeInfo[] = probeCatalog): Promise<FleetReport> {
  const merger = new FleetMerger(catalog);
  for (const file of files) {
    let lineNumber = 0;
    try {
      const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
      for await (const text of lines) {
        lineNumber += 1;
        const line = parseFleetFileLine(text, `${file}:${lineNumber}`);
        if (line !== null) merger.add(line);
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return merger.finish(files);
}

/** The same merge over lines already in memory (tests, and one-file callers). */
export function mergeFleetLines(lines: readonly FleetFileLine[], catalog: readonly ProbeInfo[] = probeCatalog, files: readonly string[] = []): FleetReport {
  const merger = new FleetMerger(catalog);
  for (const line of lines) merger.add(line);
  return merger.finish(files);
}

class FleetMerger {
  private readonly seen = new Map<string, string>();
  private readonly duplicateWarnings: string[] = [];
  private duplicates = 0;
  private readonly failures: SeedLine[] = [];
  private readonly outcomes = new Map<string, number>();
  private readonly ticks: number[] = [];
  private readonly wall: number[] = [];
  private readonly faults = new Map<string, { total: number; seeds: number }>();
  private readonly repairs = new Map<string, { total: number; seeds: number }>();
  private readonly probes = new Map<string, { seeds: number; hits: number }>();
  private readonly fleets: FleetLine[] = [];
  private readonly fleetKeys = new Set<string>();
  private duplicateFleets = 0;
  /** Seed lines per "base flags shard", to find shards without a fleet line. */
  private readonly perShard = new Map<string, number>();
  private readonly commits = new Set<string>();
  private readonly nodes = new Set<string>();
  private slowest: SeedLine[] = [];
  private rechecked = 0;
  private nondeterministic = 0;
  private timeouts = 0;
  private simulatedMs = 0;
  private seedWallMs = 0;
  private coreMs = 0;

  constructor(private readonly catalog: readonly ProbeInfo[]) {}

  add(line: FleetFileLine): void {
    this.commits.add(line.commit);
    this.nodes.add(line.node);
    if (line.type === "fleet") {
      this.addFleet(line);
      return;
    }
    if (this.isDuplicate(line)) return;
    const shardKey = `${line.base} ${line.flags.join(" ")} ${line.shard}`;
    this.perShard.set(shardKey, (this.perShard.get(shardKey) ?? 0) + 1);
    if (line.exitCode !== 0) this.failures.push(line);
    const kind = line.exitCode === 0 ? outcomeKind(line) : `${outcomeKind(line)} ${line.outcome.split(":")[0]}`;
    this.outcomes.set(kind, (this.outcomes.get(kind) ?? 0) + 1);
    if (line.exitCode !== exitTimeout) this.ticks.push(line.ticks);
    this.wall.push(line.wallMs);
    this.simulatedMs += line.simulatedMs;
    this.seedWallMs += line.wallMs;
    this.coreMs += line.wallMs + line.recheckWallMs;
    if (line.rechecked) this.rechecked += 1;
    if (line.outcome.startsWith("nondeterministic")) this.nondeterministic += 1;
    if (line.exitCode === exitTimeout) this.timeouts += 1;
    addCounts(this.faults, faultCountKeys, line.faults as unknown as Record<string, number>);
    addCounts(this.repairs, repairCountKeys, line.repairs as unknown as Record<string, number>);
    for (const [name, hits] of Object.entries(line.probes)) {
      if (hits <= 0) continue;
      const entry = this.probes.get(name) ?? { seeds: 0, hits: 0 };
      entry.seeds += 1;
      entry.hits += hits;
      this.probes.set(name, entry);
    }
    this.keepSlowest(line);
  }

  private addFleet(line: FleetLine): void {
    const key = `${line.base} ${line.flags.join(" ")} ${line.shard} ${line.startedAt}`;
    if (this.fleetKeys.has(key)) {
      this.duplicateFleets += 1;
      return;
    }
    this.fleetKeys.add(key);
    this.fleets.push(line);
  }

  /** A seed run twice under the same flags (a file merged twice, overlapping shards): keep the first. */
  private isDuplicate(line: SeedLine): boolean {
    const key = `${line.seed} ${line.flags.join(" ")}`;
    const digest = this.seen.get(key);
    if (digest === undefined) {
      this.seen.set(key, `${line.commit} ${line.traceHash}`);
      return false;
    }
    this.duplicates += 1;
    const [commit, traceHash] = digest.split(" ");
    const differs = commit === line.commit && traceHash !== "" && line.traceHash !== "" && traceHash !== line.traceHash;
    if (differs || this.duplicateWarnings.length < warningsPerKindMax) {
      this.duplicateWarnings.push(differs
        ? `seed ${line.seed} appears twice on commit ${commit} with different trace digests (${traceHash} vs ${line.traceHash}): nondeterminism`
        : `seed ${line.seed} appears more than once; the first line counts`);
    }
    return true;
  }

  private keepSlowest(line: SeedLine): void {
    if (this.slowest.length === slowestMax && line.wallMs <= this.slowest[slowestMax - 1]!.wallMs) return;
    this.slowest.push(line);
    this.slowest.sort((a, b) => b.wallMs - a.wallMs);
    if (this.slowest.length > slowestMax) this.slowest.length = slowestMax;
  }

  finish(files: readonly string[]): FleetReport {
    const failures = this.failures.map((line, order) => ({ line, order }))
      .sort((a, b) => b.line.exitCode - a.line.exitCode || a.order - b.order).map((entry) => entry.line);
    return {
      files, seeds: this.seen.size, duplicates: this.duplicates, warnings: this.warnings(), failures,
      worstExitCode: failures.length > 0 ? failures[0]!.exitCode : 0,
      outcomes: [...this.outcomes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
      ticks: distribution(this.ticks), wallMs: distribution(this.wall),
      faults: totals(faultCountKeys, this.faults), repairs: totals(repairCountKeys, this.repairs),
      probes: this.probeCoverage(), rechecked: this.rechecked, nondeterministic: this.nondeterministic,
      timeouts: this.timeouts, simulatedMs: this.simulatedMs, seedWallMs: this.seedWallMs, coreMs: this.coreMs,
      spanMs: this.spanMs(), fleets: this.fleets, commits: [...this.commits], nodes: [...this.nodes], slowest: this.slowest,
    };
  }

  private probeCoverage(): ProbeCoverage[] {
    const coverage: ProbeCoverage[] = this.catalog.map((probe) => ({
      name: probe.name, description: probe.description, inCatalog: true, ...(this.probes.get(probe.name) ?? { seeds: 0, hits: 0 }),
    }));
    const known = new Set(this.catalog.map((probe) => probe.name));
    for (const [name, entry] of [...this.probes.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (!known.has(name)) coverage.push({ name, description: "(not in this build's catalog)", inCatalog: false, ...entry });
    }
    return coverage;
  }

  private spanMs(): number | null {
    if (this.fleets.length === 0) return null;
    const starts = this.fleets.map((fleet) => Date.parse(fleet.startedAt));
    if (starts.some((start) => Number.isNaN(start))) return null;
    const ends = this.fleets.map((fleet, index) => starts[index]! + fleet.wallMs);
    return Math.max(1, Math.max(...ends) - Math.min(...starts));
  }

  private warnings(): string[] {
    const warnings = [...this.duplicateWarnings];
    if (this.duplicates > this.duplicateWarnings.length) {
      warnings.push(`… ${this.duplicates} duplicate seed line(s) in all, ignored`);
    }
    if (this.duplicateFleets > 0) warnings.push(`${this.duplicateFleets} duplicate fleet line(s) ignored (a file given twice?)`);
    return [...warnings, ...shardWarnings(this.fleets, this.perShard)];
  }
}

/** Shards of a sharded fleet that left no fleet line, or fewer seed lines than they planned. */
function shardWarnings(fleets: readonly FleetLine[], perShard: ReadonlyMap<string, number>): string[] {
  const warnings: string[] = [];
  const groups = new Map<string, { count: number; present: Set<number>; label: string }>();
  for (const fleet of fleets) {
    const [index, count] = fleet.shard.split("/").map(Number) as [number, number];
    const key = `${fleet.base} ${fleet.flags.join(" ")} ${fleet.seeds} ${count}`;
    const group = groups.get(key) ?? { count, present: new Set<number>(), label: `fleet of ${fleet.seeds} seeds from base ${fleet.base}` };
    group.present.add(index);
    groups.set(key, group);
    const lines = perShard.get(`${fleet.base} ${fleet.flags.join(" ")} ${fleet.shard}`) ?? 0;
    if (lines < fleet.shardSeeds) warnings.push(`shard ${fleet.shard} of base ${fleet.base}: ${lines} seed lines, ${fleet.shardSeeds} planned`);
  }
  for (const group of groups.values()) {
    const missing: number[] = [];
    for (let index = 0; index < group.count && missing.length <= warningsPerKindMax; index++) {
      if (!group.present.has(index)) missing.push(index);
    }
    if (missing.length === 0) continue;
    const named = missing.slice(0, warningsPerKindMax).map((index) => `${index}/${group.count}`).join(", ");
    warnings.push(`${group.label}: no fleet line for shard(s) ${named}${missing.length > warningsPerKindMax ? ", …" : ""}`);
  }
  const finished = new Set(fleets.map((fleet) => `${fleet.base} ${fleet.flags.join(" ")} ${fleet.shard}`));
  for (const [key, lines] of perShard) {
    if (finished.has(key)) continue;
    const [base, ...rest] = key.split(" ");
    warnings.push(`shard ${rest[rest.length - 1]} of base ${base}: ${lines} seed lines but no fleet line (did it finish?)`);
  }
  return warnings;
}

function addCounts(totals: Map<string, { total: number; seeds: number }>, keys: readonly string[], counts: Record<string, number>): void {
  for (const key of keys) {
    const value = counts[key] ?? 0;
    const entry = totals.get(key) ?? { total: 0, seeds: 0 };
    entry.total += value;
    if (value > 0) entry.seeds += 1;
    totals.set(key, entry);
  }
}

function totals(keys: readonly string[], sums: ReadonlyMap<string, { total: number; seeds: number }>): CountTotal[] {
  return keys.map((name) => ({ name, ...(sums.get(name) ?? { total: 0, seeds: 0 }) }));
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const count = sorted.length;
  const rank = (fraction: number): number => (count === 0 ? 0 : sorted[Math.min(count - 1, Math.ceil(fraction * count) - 1)]!);
  const mean = count === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / count;
  return {
    count, min: count === 0 ? 0 : sorted[0]!, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99),
    max: count === 0 ? 0 : sorted[count - 1]!, mean, sorted,
  };
}

/** Throughput figures of a report (each null when the lines do not allow it). */
export function throughput(report: FleetReport): {
  seedsPerS: number | null; seedsPerCoreHour: number | null; ratioPerCore: number | null; ratioOverall: number | null;
} {
  const span = report.spanMs;
  return {
    seedsPerS: span === null ? null : report.seeds / (span / 1000),
    seedsPerCoreHour: report.coreMs > 0 ? report.seeds / (report.coreMs / 3_600_000) : null,
    ratioPerCore: report.seedWallMs > 0 ? report.simulatedMs / report.seedWallMs : null,
    ratioOverall: span === null ? null : report.simulatedMs / span,
  };
}
