// `scarab vopr report` as text: failures first (each with the commands to replay and to shrink it),
// then what the fleet covered (outcomes, ticks and wall-time distributions, faults, repairs, coverage
// probes, with the probes no seed hit), then what it cost (seeds/s, seeds per core-hour, and the
// simulated-to-wall-clock ratio per core and overall).
import { formatCountTotals, formatSimulated } from "./vopr_fleet_summary.js";
import { throughput, type Distribution, type FleetReport } from "./vopr_report_merge.js";
import type { SeedLine } from "./vopr_seed_line.js";

/** The command that shrinks a failing seed to a smaller run that still fails (`vopr shrink`). */
export function shrinkCommand(line: Pick<SeedLine, "seed" | "flags">): string {
  return ["npx scarab vopr shrink", line.seed, ...line.flags].join(" ");
}

export function reportText(report: FleetReport): string[] {
  return [
    ...headerText(report), "", ...failureText(report), ...warningText(report), "",
    `outcomes: ${report.outcomes.map(([kind, count]) => `${kind} ${count}`).join(", ") || "none"}`,
    `ticks per seed: ${distributionText(report.ticks, (value) => value.toFixed(0))}`,
    `wall time per seed: ${distributionText(report.wallMs, formatMs)}`,
    `rechecks: ${report.rechecked} seed(s) run twice, ${report.nondeterministic} with different trace digests; ` +
      `timeouts: ${report.timeouts}`,
    `faults injected: ${formatCountTotals(report.faults)}`,
    `repairs: ${formatCountTotals(report.repairs)}`,
    "", ...probeText(report), "", ...throughputText(report), ...slowestText(report),
  ];
}

function headerText(report: FleetReport): string[] {
  const files = report.files.length === 0 ? "" : ` from ${report.files.length} file(s)`;
  return [
    `VOPR report: ${report.seeds} seed(s)${files}, ${report.fleets.length} fleet line(s)`,
    `  commit: ${report.commits.join(", ") || "?"}; node: ${report.nodes.join(", ") || "?"}`,
  ];
}

function failureText(report: FleetReport): string[] {
  if (report.failures.length === 0) return [`no failures: all ${report.seeds} seed(s) passed`];
  const lines = [`FAILURES: ${report.failures.length} seed(s)`];
  for (const failure of report.failures) {
    lines.push(`  seed ${failure.seed} exit ${failure.exitCode} (shard ${failure.shard}, commit ${failure.commit}): ${failure.outcome}`);
    lines.push(`    replay: ${failure.replay}`);
    lines.push(`    shrink: ${shrinkCommand(failure)}`);
  }
  return lines;
}

function warningText(report: FleetReport): string[] {
  if (report.warnings.length === 0) return [];
  return ["", `warnings: ${report.warnings.length}`, ...report.warnings.map((warning) => `  ${warning}`)];
}

export function distributionText(d: Distribution, format: (value: number) => string): string {
  if (d.count === 0) return "no seeds";
  return `min ${format(d.min)}, p50 ${format(d.p50)}, p90 ${format(d.p90)}, p99 ${format(d.p99)}, max ${format(d.max)}, ` +
    `mean ${format(d.mean)} (${d.count} seeds)`;
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;
}


function probeText(report: FleetReport): string[] {
  const catalog = report.probes.filter((probe) => probe.inCatalog);
  const hit = catalog.filter((probe) => probe.seeds > 0);
  const lines = [`coverage probes: ${hit.length} of ${catalog.length} in the catalog hit`];
  if (report.probes.length > 0) {
    const width = Math.max(5, ...report.probes.map((probe) => probe.name.length));
    lines.push(`  ${"probe".padEnd(width)}  ${"seeds".padStart(8)}  ${"hits".padStart(10)}  description`);
    for (const probe of report.probes) {
      lines.push(`  ${probe.name.padEnd(width)}  ${String(probe.seeds).padStart(8)}  ${String(probe.hits).padStart(10)}  ${probe.description}`);
    }
  }
  const never = catalog.filter((probe) => probe.seeds === 0).map((probe) => probe.name);
  lines.push(never.length === 0 ? "  never hit: none" : `  never hit (${never.length}): ${never.join(", ")}`);
  return lines;
}

function throughputText(report: FleetReport): string[] {
  const figures = throughput(report);
  const jobs = report.fleets.reduce((sum, fleet) => sum + fleet.jobs, 0);
  const wall = report.spanMs === null ? "wall time unknown (no fleet line)" : `${formatMs(report.spanMs)} of wall clock`;
  const fixed = (value: number | null, digits: number): string => (value === null ? "?" : value.toFixed(digits));
  return [
    `throughput: ${report.seeds} seeds in ${wall} (${jobs} job(s) summed over the shards): ${fixed(figures.seedsPerS, 2)} seeds/s, ` +
      `${fixed(figures.seedsPerCoreHour, 0)} seeds per core-hour`,
    `simulated time: ${formatSimulated(report.simulatedMs)}; ${fixed(figures.ratioPerCore, 0)}x real time per core ` +
      `(simulated / summed per-seed wall time), ${fixed(figures.ratioOverall, 0)}x overall`,
  ];
}

function slowestText(report: FleetReport): string[] {
  if (report.slowest.length === 0) return [];
  return ["slowest seeds:", ...report.slowest.map((line) =>
    `  ${line.seed}: ${formatMs(line.wallMs)}, ${line.ticks} ticks, exit ${line.exitCode}: ${line.outcome}`)];
}
