// `scarab vopr --seeds N`: a fleet of seeds over worker threads (always workers, even with one job,
// so that a seed past its wall-clock limit can be stopped). It runs this process's shard of the
// derived seeds, writes a JSON line per seed as it finishes (--json), shows progress on stderr, and
// ends with a summary. A seed past --seed-timeout is recorded with exit code 124 and its worker is
// replaced; a worker that dies is recorded as a crash (127) and replaced; the fleet goes on.
import { closeSync, openSync, writeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { noFaults, noRepairs } from "../sim/runner/fault_counts.js";
import {
  formatRatio, installationCommit, recheckChosen, shardSeeds, shardSize, type FleetFlags,
} from "./vopr_fleet_plan.js";
import { summary } from "./vopr_fleet_summary.js";
import { createProgress } from "./vopr_progress.js";
import { exitTimeout, formatLine, type FleetFileLine, type FleetLine, type RunOrigin, type SeedLine } from "./vopr_seed_line.js";
import type { SeedRequest, SeedRun, WorkerMessage } from "./vopr_fleet_worker.js";

// The fleet's parts, under the names cli/vopr.ts and the tests have always imported from here.
export { startWorker, type RunSeed } from "./vopr_fleet_worker.js";
export { fleetSeeds } from "./vopr_fleet_plan.js";
export { summary } from "./vopr_fleet_summary.js";

export interface FleetOptions {
  readonly seeds: number;
  readonly jobs: number;
  readonly base: bigint;
  /** The original arguments, re-parsed by each worker. */
  readonly argv: readonly string[];
  /** The run-changing flags, for replay commands and the JSON lines. */
  readonly flags: readonly string[];
  readonly replay: (seed: bigint) => string;
  /** The module whose top level starts a worker (cli/vopr.ts). */
  readonly workerUrl: URL;
  readonly fleet: FleetFlags;
  /** The hash the base came from (--seed-from-commit), for the header line. */
  readonly commitHash?: string;
}

interface Task {
  readonly index: number;
  readonly seed: bigint;
  readonly recheck: boolean;
}

export async function runFleet(options: FleetOptions): Promise<number> {
  const { shard, seedTimeoutS, recheck } = options.fleet;
  const total = shardSize(options.seeds, shard);
  const jobs = Math.max(1, Math.min(options.jobs, total));
  const json = options.fleet.json === null ? null : JsonLines.open(options.fleet.json);
  if (json instanceof Error) {
    process.stderr.write(`scarab vopr: cannot open --json file: ${json.message}\n`);
    return 1;
  }
  const origin: RunOrigin = { commit: installationCommit(), node: process.version };
  const from = options.commitHash === undefined ? "" : ` (commit ${options.commitHash})`;
  process.stderr.write(`vopr: ${total} of ${options.seeds} seeds (shard ${shard.index}/${shard.count}) from base ${options.base}` +
    `${from} on ${jobs} job(s), timeout ${seedTimeoutS} s per seed, recheck ${formatRatio(recheck)}\n`);
  const startedAt = new Date();
  const start = performance.now();
  const lines: SeedLine[] = [];
  const progress = createProgress(total);
  const seeds = shardSeeds(options.base, options.seeds, shard);
  const next = (): Task | null => {
    const entry = seeds.next();
    return entry.done ? null : { ...entry.value, recheck: recheckChosen(entry.value.seed, recheck) };
  };
  const done = (task: Task, run: SeedRun): void => {
    const line = seedLine(options, origin, task, run);
    lines.push(line);
    json?.write(line);
    progress.seedDone(line.exitCode !== 0);
    // Say a failure at once: a long fleet should not hide it until the summary.
    if (line.exitCode !== 0) progress.note(`vopr: seed ${line.seed} failed (exit ${line.exitCode}): ${line.outcome}\n  replay: ${line.replay}`);
  };
  try {
    if (total > 0) await runPool({ workerUrl: options.workerUrl, argv: options.argv, jobs, timeoutS: seedTimeoutS, next, done });
  } finally {
    progress.stop();
  }
  const wallMs = Math.max(1, Math.round(performance.now() - start));
  json?.write(fleetLine(options, origin, lines, { total, jobs, startedAt, wallMs }));
  json?.close();
  for (const line of summary({ ...options, shard }, lines, wallMs, jobs)) process.stdout.write(line + "\n");
  // 0 only if every seed passed; otherwise the most severe failure's code (§13.1), never 1 (misuse).
  const worst = lines.reduce((code, entry) => Math.max(code, entry.exitCode), 0);
  return lines.length === total ? worst : Math.max(worst, 127);
}

function seedLine(options: FleetOptions, origin: RunOrigin, task: Task, run: SeedRun): SeedLine {
  const { shard } = options.fleet;
  return {
    type: "seed", seed: run.seed, base: options.base.toString(), index: task.index, shard: `${shard.index}/${shard.count}`,
    flags: options.flags, ...origin, parameters: run.parameters, exitCode: run.exitCode, outcome: run.outcome,
    details: run.details, ticks: run.ticks, simulatedMs: run.ticks * 10, wallMs: run.wallMs, rechecked: run.rechecked,
    recheckWallMs: run.recheckWallMs, faults: run.faults, repairs: run.repairs, probes: run.probes,
    traceHash: run.traceHash, requestsReplied: run.requestsReplied, replay: options.replay(task.seed),
  };
}

function fleetLine(options: FleetOptions, origin: RunOrigin, lines: readonly SeedLine[],
  run: { total: number; jobs: number; startedAt: Date; wallMs: number }): FleetLine {
  const { shard, seedTimeoutS, recheck } = options.fleet;
  return {
    type: "fleet", base: options.base.toString(), seeds: options.seeds, shard: `${shard.index}/${shard.count}`,
    shardSeeds: run.total, jobs: run.jobs, startedAt: run.startedAt.toISOString(), wallMs: run.wallMs, flags: options.flags,
    ...origin, seedTimeoutS, recheckRatio: formatRatio(recheck),
    failed: lines.filter((line) => line.exitCode !== 0).length, rechecked: lines.filter((line) => line.rechecked).length,
  };
}

/** Appends whole lines, one write each, so that a file shared or killed mid-run holds only whole lines. */
class JsonLines {
  private constructor(private readonly fd: number) {}

  static open(path: string): JsonLines | Error {
    try {
      return new JsonLines(openSync(path, "a"));
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  write(line: FleetFileLine): void {
    writeSync(this.fd, formatLine(line) + "\n");
  }

  close(): void {
    closeSync(this.fd);
  }
}

interface PoolOptions {
  readonly workerUrl: URL;
  readonly argv: readonly string[];
  readonly jobs: number;
  readonly timeoutS: number;
  /** The next seed to run, or null when the shard is exhausted. */
  readonly next: () => Task | null;
  readonly done: (task: Task, run: SeedRun) => void;
}

/** Runs tasks on `jobs` workers until `next` runs dry; resolves when every worker has exited. */
function runPool(options: PoolOptions): Promise<void> {
  return new Promise((resolve) => {
    let live = 0;
    let exhausted = false;
    const spawn = (): void => {
      live += 1;
      const worker = new Worker(options.workerUrl, { workerData: { voprWorker: true, argv: options.argv } });
      let current: Task | null = null;
      let startMs = 0;
      let timer: NodeJS.Timeout | null = null;
      // A retired worker is being (or has been) terminated: whatever it still says is ignored.
      let retired = false;
      const settle = (run: SeedRun): void => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        const task = current!;
        current = null;
        options.done(task, run);
      };
      const retire = (replace: boolean): void => {
        retired = true;
        if (timer !== null) clearTimeout(timer);
        void worker.terminate();
        if (replace && !exhausted) spawn();
      };
      const timeOut = (): void => {
        if (retired || current === null) return;
        settle(abortedRun(current.seed, exitTimeout, `timeout: over ${options.timeoutS} s of wall clock`, performance.now() - startMs));
        retire(true);
      };
      const dispatch = (): void => {
        const task = options.next();
        if (task === null) {
          exhausted = true;
          retire(false);
          return;
        }
        current = task;
        startMs = performance.now();
        // The limit is per run: a rechecked seed runs twice.
        timer = setTimeout(timeOut, options.timeoutS * 1000 * (task.recheck ? 2 : 1));
        const request: SeedRequest = { seed: task.seed.toString(), recheck: task.recheck };
        worker.postMessage(request);
      };
      worker.on("message", (message: WorkerMessage) => {
        if (retired) return;
        if (!("ready" in message)) settle(message);
        dispatch();
      });
      worker.on("error", (error) => {
        // A harness error outside runSimulation's catch (out of memory, say): record, replace.
        if (retired) return;
        if (current !== null) settle(abortedRun(current.seed, 127, `worker crashed: ${String(error)}`, performance.now() - startMs));
        retire(true);
      });
      worker.on("exit", (code) => {
        if (!retired) {
          if (current !== null) settle(abortedRun(current.seed, 127, `worker exited with code ${code}`, performance.now() - startMs));
          retire(true);
        }
        live -= 1;
        if (live === 0) resolve();
      });
    };
    for (let job = 0; job < options.jobs; job++) spawn();
  });
}

/** A seed whose run did not finish: no ticks, parameters or digest to report. */
function abortedRun(seed: bigint, exitCode: number, outcome: string, wallMs: number): SeedRun {
  return {
    seed: seed.toString(), exitCode, outcome, details: "", ticks: 0, parameters: {}, traceHash: "", faults: noFaults(),
    repairs: noRepairs(), probes: {}, requestsReplied: 0, wallMs: Math.round(wallMs * 10) / 10, rechecked: false, recheckWallMs: 0,
  };
}
