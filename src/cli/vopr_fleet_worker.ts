// The worker-thread side of a VOPR fleet: run each seed the main thread posts, time it, and (for
// the seeds chosen by --recheck-ratio) run it a second time and compare the two trace digests.
// Two runs of one seed on one build must be identical (DESIGN.md, determinism rules); a mismatch
// means a replay would not reproduce what the fleet saw, which is a bug of its own.
import type { MessagePort } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import type { ProbeCounts } from "../core/probes.js";
import type { FaultCounts, RepairCounts } from "../sim/runner/fault_counts.js";
import type { SimulationResult } from "../sim/runner/simulator.js";

export type RunSeed = (seed: bigint, write: (line: string) => void, log: "full" | "short" | "none") => SimulationResult;

/** Main thread → worker. */
export interface SeedRequest {
  readonly seed: string;
  readonly recheck: boolean;
}

/** Worker → main thread, per seed (structured-clone friendly: no bigint). */
export interface SeedRun {
  readonly seed: string;
  readonly exitCode: number;
  readonly outcome: string;
  readonly details: string;
  readonly ticks: number;
  readonly parameters: Readonly<Record<string, string | number>>;
  readonly traceHash: string;
  readonly faults: FaultCounts;
  readonly repairs: RepairCounts;
  readonly probes: ProbeCounts;
  readonly requestsReplied: number;
  readonly wallMs: number;
  readonly rechecked: boolean;
  readonly recheckWallMs: number;
}

export type WorkerMessage = SeedRun | { readonly ready: true };

/** Exit code of a seed whose two runs differ: like a crash, it is a bug in the code (§13.1). */
export const exitNondeterministic = 127;

/** Worker side: announce readiness, then run each seed the main thread posts. */
export function startWorker(port: MessagePort, run: RunSeed): void {
  port.on("message", (request: SeedRequest) => {
    port.postMessage(runChecked(run, BigInt(request.seed), request.recheck));
  });
  port.postMessage({ ready: true });
}

/** Runs a seed once, or twice when `recheck`, comparing the trace digests of both runs. */
export function runChecked(run: RunSeed, seed: bigint, recheck: boolean, now: () => number = () => performance.now()): SeedRun {
  const start = now();
  const first = run(seed, () => {}, "none");
  const wallMs = roundMs(now() - start);
  const result: SeedRun = {
    seed: seed.toString(), exitCode: first.exitCode, outcome: first.outcome, details: first.details, ticks: first.ticks,
    parameters: first.parameters, traceHash: first.traceHash, faults: first.faults, repairs: first.repairs,
    probes: first.probes, requestsReplied: first.requestsReplied, wallMs, rechecked: false, recheckWallMs: 0,
  };
  if (!recheck) return result;
  const secondStart = now();
  const second = run(seed, () => {}, "none");
  const recheckWallMs = roundMs(now() - secondStart);
  if (second.traceHash === first.traceHash) return { ...result, rechecked: true, recheckWallMs };
  return {
    ...result, rechecked: true, recheckWallMs, exitCode: exitNondeterministic,
    outcome: `nondeterministic: trace digests differ (${first.traceHash} vs ${second.traceHash})`,
    details: `first run: exit ${first.exitCode}, ${first.ticks} ticks, ${first.outcome}\n` +
      `second run: exit ${second.exitCode}, ${second.ticks} ticks, ${second.outcome}` +
      (first.details !== "" ? `\n${first.details}` : ""),
  };
}

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
