// `scarab vopr --seeds N`: many seeds across worker threads, with progress on stderr (at most once
// a second) and a summary: throughput, the simulated-to-wall-clock ratio, the swarm's coverage
// (replica counts, faults exercised) and every failing seed with its replay command.
import { Worker, type MessagePort } from "node:worker_threads";
import { Prng } from "../core/prng.js";
import {
  faultCountKeys, noFaults, noRepairs, repairCountKeys, type FaultCounts, type RepairCounts,
} from "../sim/runner/fault_counts.js";
import type { SimulationResult } from "../sim/runner/simulator.js";

export type RunSeed = (seed: bigint, write: (line: string) => void, log: "full" | "short" | "none") => SimulationResult;

export interface FleetOptions {
  readonly seeds: number;
  readonly jobs: number;
  readonly base: bigint;
  /** The original arguments, re-parsed by each worker. */
  readonly argv: readonly string[];
  /** The run-changing flags, for the fleet's own replay line. */
  readonly flags: readonly string[];
  readonly replay: (seed: bigint) => string;
  /** The module whose top level starts a worker (cli/vopr.ts). */
  readonly workerUrl: URL;
  /** Runs one seed in this thread (used when jobs = 1). */
  readonly run: RunSeed;
}

/** What a worker reports per seed (structured-clone friendly). */
interface SeedReport {
  readonly seed: string;
  readonly exitCode: number;
  readonly ticks: number;
  readonly outcome: string;
  readonly replicas: number;
  readonly standbys: number;
  readonly faults: FaultCounts;
  readonly repairs: RepairCounts;
}

function report(seed: bigint, result: SimulationResult): SeedReport {
  return {
    seed: seed.toString(), exitCode: result.exitCode, ticks: result.ticks, outcome: result.outcome,
    replicas: Number(result.parameters.replicas), standbys: Number(result.parameters.standbys), faults: result.faults,
    repairs: result.repairs,
  };
}

/** Worker side: run each seed the main thread posts, reply with its report. */
export function startWorker(port: MessagePort, run: RunSeed): void {
  port.on("message", (message: { seed: string }) => {
    const seed = BigInt(message.seed);
    port.postMessage(report(seed, run(seed, () => {}, "none")));
  });
  port.postMessage({ ready: true });
}

/** The i-th seed of a fleet: successive draws of a PRNG seeded with the base. */
export function fleetSeeds(base: bigint, count: number): bigint[] {
  const prng = new Prng(base);
  const seeds: bigint[] = [];
  for (let index = 0; index < count; index++) seeds.push(prng.next());
  return seeds;
}

export async function runFleet(options: FleetOptions): Promise<number> {
  const seeds = fleetSeeds(options.base, options.seeds);
  const jobs = Math.min(options.jobs, seeds.length);
  const start = Date.now();
  const reports: SeedReport[] = [];
  const progress = new Progress(seeds.length, start);
  process.stderr.write(`vopr: ${seeds.length} seeds from base ${options.base} on ${jobs} job(s)\n`);
  if (jobs <= 1) {
    for (const seed of seeds) {
      reports.push(report(seed, options.run(seed, () => {}, "none")));
      progress.maybePrint(reports);
    }
  } else {
    await runWorkers(options, seeds, jobs, reports, progress);
  }
  const wallMs = Math.max(1, Date.now() - start);
  for (const line of summary(options, reports, wallMs, jobs)) process.stdout.write(line + "\n");
  // 0 only if every seed passed; otherwise the most severe failure's code (§13.1), never 1 (misuse).
  const worst = reports.reduce((code, entry) => Math.max(code, entry.exitCode), 0);
  return reports.length === seeds.length ? worst : Math.max(worst, 127);
}

function runWorkers(options: FleetOptions, seeds: bigint[], jobs: number, reports: SeedReport[], progress: Progress): Promise<void> {
  return new Promise((resolve) => {
    let next = 0;
    let live = 0;
    const timer = setInterval(() => progress.maybePrint(reports), 1000);
    const finish = () => {
      if (live > 0) return;
      clearInterval(timer);
      resolve();
    };
    const spawn = () => {
      const worker = new Worker(options.workerUrl, { workerData: { voprWorker: true, argv: options.argv } });
      let current: bigint | null = null;
      live += 1;
      const dispatch = () => {
        if (next >= seeds.length) {
          current = null;
          void worker.terminate();
          return;
        }
        current = seeds[next++]!;
        worker.postMessage({ seed: current.toString() });
      };
      worker.on("message", (message: SeedReport | { ready: true }) => {
        if (!("ready" in message)) {
          reports.push(message);
          // Say a failure at once: a long fleet should not hide it until the summary.
          if (message.exitCode !== 0) {
            process.stderr.write(`vopr: seed ${message.seed} failed (exit ${message.exitCode}): ${message.outcome}\n` +
              `  replay: ${options.replay(BigInt(message.seed))}\n`);
          }
        }
        dispatch();
      });
      worker.on("error", (error) => {
        // A harness error outside runSimulation's catch: record the seed, replace the worker.
        if (current !== null) reports.push(crashReport(current, error));
        current = null;
        if (next < seeds.length) spawn();
      });
      worker.on("exit", () => {
        live -= 1;
        finish();
      });
    };
    for (let job = 0; job < jobs; job++) spawn();
  });
}

function crashReport(seed: bigint, error: unknown): SeedReport {
  return {
    seed: seed.toString(), exitCode: 127, ticks: 0, outcome: `worker crashed: ${String(error)}`, replicas: 0, standbys: 0,
    faults: noFaults(), repairs: noRepairs(),
  };
}

class Progress {
  private printedAt = 0;

  constructor(private readonly total: number, private readonly start: number) {}

  maybePrint(reports: readonly SeedReport[]): void {
    const now = Date.now();
    if (now - this.printedAt < 1000) return;
    this.printedAt = now;
    const failed = reports.filter((entry) => entry.exitCode !== 0).length;
    const rate = reports.length / Math.max(0.001, (now - this.start) / 1000);
    process.stderr.write(`vopr: ${reports.length}/${this.total} seeds, ${failed} failed, ${rate.toFixed(1)} seeds/s\n`);
  }
}

/** The fleet summary (also used by tests through runFleet's output). */
export function summary(options: Pick<FleetOptions, "base" | "flags" | "replay" | "seeds">, reports: readonly SeedReport[],
  wallMs: number, jobs: number): string[] {
  const seconds = wallMs / 1000;
  const ticks = reports.reduce((sum, entry) => sum + entry.ticks, 0);
  const ratio = (ticks * 10) / wallMs; // 1 tick = 10 ms of simulated time
  const failures = reports.filter((entry) => entry.exitCode !== 0);
  const lines = [
    `vopr: ${reports.length} seeds in ${seconds.toFixed(1)} s: ${(reports.length / seconds).toFixed(2)} seeds/s on ${jobs} job(s)`,
    `  again: scarab vopr --seeds ${options.seeds} --from ${options.base}${options.flags.length ? " " + options.flags.join(" ") : ""}`,
    `  simulated ${ticks} ticks (${formatDuration(ticks * 10)}): ${ratio.toFixed(0)}x real time, ${(ratio / jobs).toFixed(0)}x per core`,
    `  replicas: ${histogram(reports.map((entry) => `${entry.replicas}`))}`,
    `  standbys: ${histogram(reports.map((entry) => `${entry.standbys}`))}`,
    `  faults: ${countSummary(faultCountKeys, reports.map((entry) => entry.faults))}`,
    `  repairs: ${countSummary(repairCountKeys, reports.map((entry) => entry.repairs))}`,
    `  outcomes: ${histogram(reports.map((entry) => outcomeKind(entry)))}`,
    failures.length === 0 ? "  all seeds passed" : `  FAILED: ${failures.length} seed(s)`,
  ];
  for (const entry of failures) {
    lines.push(`    seed ${entry.seed} exit ${entry.exitCode}: ${entry.outcome}`);
    lines.push(`      replay: ${options.replay(BigInt(entry.seed))}`);
  }
  return lines;
}

/** "key total (seeds with any)", for each key. */
function countSummary<T>(keys: readonly (keyof T)[], counts: readonly T[]): string {
  return keys.map((key) => {
    const total = counts.reduce((sum, entry) => sum + Number(entry[key]), 0);
    const seeds = counts.filter((entry) => Number(entry[key]) > 0).length;
    return `${String(key)} ${total} (${seeds} seeds)`;
  }).join(", ");
}

/** "passed", "no liveness: core_missing_prepare", … without per-seed details. */
function outcomeKind(entry: SeedReport): string {
  const outcome = entry.outcome.replace(/\s*\(.*$/, "");
  if (entry.exitCode === 0) return outcome;
  return `exit ${entry.exitCode}`;
}

function histogram(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => `${key}:${count}`).join(" ");
}

function formatDuration(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 48 ? `${(hours / 24).toFixed(1)} simulated days` : `${hours.toFixed(1)} simulated hours`;
}
