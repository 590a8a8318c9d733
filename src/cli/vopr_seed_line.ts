// The JSON-lines file of a VOPR fleet (`scarab vopr --seeds N --json FILE`): one `seed` line per
// seed as it finishes, then one `fleet` line. Shards on many machines write one file each, and
// `scarab vopr report` merges them. This module is the one place that says what a line holds: the
// fleet builds lines here and the report reads them back through `parseFleetFileLine`.
import type { ProbeCounts } from "../core/probes.js";
import { faultCountKeys, repairCountKeys, type FaultCounts, type RepairCounts } from "../sim/runner/fault_counts.js";
import { UsageError } from "./usage_error.js";

/** coreutils `timeout` convention: a seed that ran past `--seed-timeout`. */
export const exitTimeout = 124;

/** Where a line was written: the build and host it ran on, the same for every line of a fleet. */
export interface RunOrigin {
  /** The installation's git HEAD, or "unknown". */
  readonly commit: string;
  /** `process.version`. */
  readonly node: string;
}

export interface SeedLine extends RunOrigin {
  readonly type: "seed";
  /** Decimal u64 (JSON numbers lose precision past 2^53). */
  readonly seed: string;
  /** The fleet's base seed and this seed's index k among its derived seeds (shard k mod n). */
  readonly base: string;
  readonly index: number;
  /** "i/n"; "0/1" when the fleet was not sharded. */
  readonly shard: string;
  /** The run-changing flags, normalised (as in the replay command). */
  readonly flags: readonly string[];
  readonly parameters: Readonly<Record<string, string | number>>;
  /** spec/vopr.md §13.1, plus 124 for a seed past its wall-clock limit. */
  readonly exitCode: number;
  readonly outcome: string;
  /** A crash's or correctness failure's stack, else "". */
  readonly details: string;
  readonly ticks: number;
  /** ticks × 10 ms. */
  readonly simulatedMs: number;
  /** Wall-clock time of the run (of the first run when rechecked). */
  readonly wallMs: number;
  /** True when the seed ran twice to compare trace digests (--recheck-ratio). */
  readonly rechecked: boolean;
  /** Wall-clock time of the second run, 0 when not rechecked. */
  readonly recheckWallMs: number;
  readonly faults: FaultCounts;
  readonly repairs: RepairCounts;
  readonly probes: ProbeCounts;
  /** The determinism digest over the whole trace; "" when the run did not finish. */
  readonly traceHash: string;
  readonly requestsReplied: number;
  readonly replay: string;
}

export interface FleetLine extends RunOrigin {
  readonly type: "fleet";
  readonly base: string;
  /** N: the number of seeds derived from the base, over all shards. */
  readonly seeds: number;
  readonly shard: string;
  /** The seeds this shard ran. */
  readonly shardSeeds: number;
  readonly jobs: number;
  /** ISO 8601, when the shard started; with wallMs it places shards that ran side by side. */
  readonly startedAt: string;
  readonly wallMs: number;
  readonly flags: readonly string[];
  readonly seedTimeoutS: number;
  /** "A/B", or "0" when rechecks were off. */
  readonly recheckRatio: string;
  readonly failed: number;
  readonly rechecked: number;
}

export type FleetFileLine = SeedLine | FleetLine;

export function formatLine(line: FleetFileLine): string {
  return JSON.stringify(line);
}

type FieldKind = "string" | "number" | "boolean" | "object" | "strings";
const seedFields: Record<string, FieldKind> = {
  seed: "string", base: "string", index: "number", shard: "string", flags: "strings", commit: "string", node: "string",
  parameters: "object", exitCode: "number", outcome: "string", details: "string", ticks: "number", simulatedMs: "number",
  wallMs: "number", rechecked: "boolean", recheckWallMs: "number", faults: "object", repairs: "object", probes: "object",
  traceHash: "string", requestsReplied: "number", replay: "string",
};
const fleetFields: Record<string, FieldKind> = {
  base: "string", seeds: "number", shard: "string", shardSeeds: "number", jobs: "number", startedAt: "string",
  wallMs: "number", flags: "strings", commit: "string", node: "string", seedTimeoutS: "number", recheckRatio: "string",
  failed: "number", rechecked: "number",
};

/**
 * Reads one line of a fleet file. `where` is "file:line" for the error. Blank lines give null.
 * A line that is not JSON, or lacks a field, is a UsageError: a report over a damaged file must
 * say where, not count it silently.
 */
export function parseFleetFileLine(text: string, where: string): FleetFileLine | null {
  if (text.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${where}: not a JSON line (${text.length > 60 ? text.slice(0, 60) + "…" : text})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`${where}: not a JSON object`);
  const record = value as Record<string, unknown>;
  const fields = record.type === "seed" ? seedFields : record.type === "fleet" ? fleetFields : null;
  if (fields === null) throw new UsageError(`${where}: "type" must be "seed" or "fleet" (got ${JSON.stringify(record.type)})`);
  for (const [name, kind] of Object.entries(fields)) {
    if (!hasKind(record[name], kind)) throw new UsageError(`${where}: ${record.type} line: field "${name}" missing or not ${kind === "strings" ? "a string array" : `a ${kind}`}`);
  }
  if (record.type === "seed") checkCounts(record, where);
  return record as unknown as FleetFileLine;
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  if (kind === "strings") return Array.isArray(value) && value.every((item) => typeof item === "string");
  if (kind === "object") return typeof value === "object" && value !== null && !Array.isArray(value);
  if (kind === "number") return typeof value === "number" && Number.isFinite(value);
  return typeof value === kind;
}

/** Fault and repair counts are summed by the report: every key must be a number. */
function checkCounts(record: Record<string, unknown>, where: string): void {
  const groups: [string, readonly string[]][] = [["faults", faultCountKeys], ["repairs", repairCountKeys]];
  for (const [group, keys] of groups) {
    const counts = record[group] as Record<string, unknown>;
    for (const key of keys) {
      // A key added after the line was written reads as 0; a wrong type is damage.
      if (counts[key] === undefined) continue;
      if (typeof counts[key] !== "number") throw new UsageError(`${where}: seed line: ${group}.${key} is not a number`);
    }
  }
  for (const [name, hits] of Object.entries(record.probes as Record<string, unknown>)) {
    if (typeof hits !== "number") throw new UsageError(`${where}: seed line: probes.${name} is not a number`);
  }
}
