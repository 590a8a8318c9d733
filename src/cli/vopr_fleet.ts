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
    const startFailed = (reason: string): void => progress.note(`vopr: a worker failed to start: ${reason}`);
    if (total > 0) await new WorkerPool({ workerUrl: options.workerUrl, argv: options.argv, jobs, timeoutS: seedTimeoutS, next, done, startFailed }).run();
  } finally {
    progress.stop();
  }
  if (lines.length < total) process.stderr.write(`vopr: ${total - lines.length} seed(s) not run: no worker could start\n`);
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
  /** A worker died before it could run a seed (a broken build): it is not replaced. */
  readonly startFailed: (reason: string) => void;
}

/** Runs tasks on `jobs` workers until `next` runs dry; resolves when every worker has exited. */
class WorkerPool {
  private live = 0;
  private exhausted = false;
  private resolve: () => void = () => {};

  constructor(readonly options: PoolOptions) {}

  run(): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      for (let job = 0; job < this.options.jobs; job++) this.spawn();
    });
  }

  nextTask(): Task | null {
    const task = this.exhausted ? null : this.options.next();
    if (task === null) this.exhausted = true;
    return task;
  }

  /** A worker was stopped (timeout) or died while seeds remain: start another. */
  replace(): void {
    if (!this.exhausted) this.spawn();
  }

  exited(): void {
    this.live -= 1;
    if (this.live === 0) this.resolve();
  }

  private spawn(): void {
    this.live += 1;
    new PoolWorker(this);
  }
}

/** One worker thread: runs one seed at a time under the wall-clock limit. */
class PoolWorker {
  private readonly worker: Worker;
  private current: Task | null = null;
  private startMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  /** Being (or already) terminated: whatever it still says is ignored. */
  private retired = false;

  constructor(private readonly pool: WorkerPool) {
    const { workerUrl, argv } = pool.options;
    this.worker = new Worker(workerUrl, { workerData: { voprWorker: true, argv } });
    this.worker.on("message", (message: WorkerMessage) => this.onMessage(message));
    // A harness error outside runSimulation's catch (out of memory, say): record the seed, replace.
    this.worker.on("error", (error) => this.onFailure(`worker crashed: ${String(error)}`));
    this.worker.on("exit", (code) => {
      this.onFailure(`worker exited with code ${code}`);
      this.pool.exited();
    });
  }

  private onMessage(message: WorkerMessage): void {
    if (this.retired) return;
    if ("ready" in message) this.started = true;
    else this.settle(message);
    this.dispatch();
  }

  private dispatch(): void {
    const task = this.pool.nextTask();
    if (task === null) {
      this.retire(false);
      return;
    }
    this.current = task;
    this.startMs = performance.now();
    // The limit is per run: a rechecked seed runs twice.
    this.timer = setTimeout(() => this.onTimeout(), this.pool.options.timeoutS * 1000 * (task.recheck ? 2 : 1));
    const request: SeedRequest = { seed: task.seed.toString(), recheck: task.recheck };
    this.worker.postMessage(request);
  }

  private onTimeout(): void {
    if (this.retired || this.current === null) return;
    this.abort(exitTimeout, `timeout: over ${this.pool.options.timeoutS} s of wall clock`);
    this.retire(true);
  }

  private onFailure(reason: string): void {
    if (this.retired) return;
    if (!this.started) {
      this.pool.options.startFailed(reason);
      this.retire(false);
      return;
    }
    if (this.current !== null) this.abort(127, reason);
    this.retire(true);
  }

  private settle(run: SeedRun): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const task = this.current!;
    this.current = null;
    this.pool.options.done(task, run);
  }

  /** Records the current seed as not finished. */
  private abort(exitCode: number, outcome: string): void {
    this.settle(abortedRun(this.current!.seed, exitCode, outcome, performance.now() - this.startMs));
  }

  private retire(replace: boolean): void {
    this.retired = true;
    if (this.timer !== null) clearTimeout(this.timer);
    void this.worker.terminate();
    if (replace) this.pool.replace();
  }
}

/** A seed whose run did not finish: no ticks, parameters or digest to report. */
function abortedRun(seed: bigint, exitCode: number, outcome: string, wallMs: number): SeedRun {
  return {
    seed: seed.toString(), exitCode, outcome, details: "", ticks: 0, parameters: {}, traceHash: "", faults: noFaults(),
    repairs: noRepairs(), probes: {}, requestsReplied: 0, wallMs: Math.round(wallMs * 10) / 10, rechecked: false, recheckWallMs: 0,
  };
}
