// `scarab vopr`: run the deterministic cluster simulator (spec/vopr.md §13). One seed, replayable
// with the printed command; or a fleet of seeds over worker threads with a summary (--seeds N),
// sharded over machines (--shard) and written as JSON lines (--json) for `scarab vopr report`.
// The simulator is imported lazily, so `--help` and flag errors never load the replica.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { parseSeed } from "../core/prng.js";
import type { SimulationOptions, SimulationResult } from "../sim/runner/simulator.js";
import type { TimelineRecorder } from "../sim/runner/timeline.js";
import { describeCounts } from "../sim/runner/fault_counts.js";
import type { WorkloadFactory } from "../sim/workloads/workload.js";
import { UsageError } from "./usage_error.js";
import { plantBugs, plantedBugNames, type PlantedBugName } from "../replica/bugs.js";
import { faultClasses, isFaultClass, type FaultClass } from "../sim/runner/fault_classes.js";
import { runFleet, startWorker, type FleetOptions } from "./vopr_fleet.js";
import {
  applyFleetFlag, commitBase, defaultFleetFlags, fleetFlagsGiven, fleetValueFlags, isCommitHash, type FleetFlags,
} from "./vopr_fleet_plan.js";
import { checkTracePath } from "./vopr_trace_path.js";

export const voprHelp = `Usage: scarab vopr [options] [SEED]
       scarab vopr --seeds N [--jobs J] [--from SEED] [--shard I/N] [--json FILE] [options]
       scarab vopr report FILE... [--html OUT]
       scarab vopr shrink SEED [options]   (the smallest run that fails the same way; shrink --help)

Runs the VOPR, the deterministic cluster simulator. One u64 seed decides everything; the same
seed and code replay a run byte for byte. SEED is a decimal u64 or a 40-hex-digit commit hash
(its last 16 hex digits); without one, a random seed is chosen and printed.

Options:
  --lite                     3 replicas, no standbys, no liveness phase
  --performance              6 replicas, no faults, 256 requests; prints message counts
  --replicas N               override the drawn replica count (1..6)
  --clients N                override the drawn client count (1..13)
  --requests-max=N           replies to wait for in the safety phase (default 96)
  --ticks-max=N              both budgets below at once
  --ticks-max-requests=N     safety-phase budget of ticks without a new reply (default 40000000)
  --ticks-max-convergence=N  liveness-phase budget (default 10000000)
  --packet-loss-ratio=A/B    override the drawn packet loss probability
  --crash-ratio=A/B          override the replica crash probability per tick (2/10000000)
  --restart-ratio=A/B        override the crashed replica's restart probability per tick (2/1000000)
  --skew-clocks              skew the clocks of every seed, not of half of them (clock bugs)
  --faults-off=CLASS,...     switch fault classes off after the draws (other parameters keep theirs):
                             ${faultClasses.join(", ")}
  --plant-bug NAME           plant a protocol bug, for testing the VOPR itself (src/replica/bugs.ts)
  --state-machine NAME       accounting (the ledger, default) or testing (echo)
  --log MODE                 short (state transitions), full (every message) or none
  --trace FILE               also write the run's timeline to FILE, one self-contained HTML page
                             (replicas × ticks: status, view, commits, faults, drop reasons)
  --seeds N                  run N seeds derived from --from (or a random base) and summarise
  --jobs J                   worker threads for --seeds (default: available cores)
  --from SEED                base of the derived seeds for --seeds
  --seed-from-commit [HASH]  base for --seeds from a commit: HASH, else $GITHUB_SHA, else git HEAD
  --shard I/N                run only the derived seeds k with k mod N = I (shards never overlap)
  --json FILE                append a JSON line per seed as it ends, then a fleet line (vopr report)
  --seed-timeout SECONDS     stop a seed after this much wall clock: exit 124; the fleet goes on
                             (default 1800)
  --recheck-ratio A/B        run A/B of the seeds (chosen by a hash of the seed) twice and compare
                             their trace digests; a difference is exit 127 (default 1/20; 0: off)
  --help                     print this help

Subcommands:
  report FILE... [--html OUT]  merge fleet JSON lines (of one or many shards) into a report; see
                               'scarab vopr report --help'
  shrink SEED [options]        search for the smallest run of a failing seed that fails the same
                               way; see 'scarab vopr shrink --help'

Exit codes: 0 passed, 1 misuse, 124 seed timed out (fleets), 127 crash or nondeterministic recheck,
128 liveness, 129 correctness. A fleet exits with its most severe seed's code.`;

/** The default state machine: the ledger (spec/vopr.md §4). */
const defaultStateMachine: "accounting" | "testing" = "accounting";

export interface VoprArgs {
  seed: bigint | null;
  lite: boolean;
  performance: boolean;
  replicaCount?: number;
  clientCount?: number;
  requestsMax?: number;
  ticksMaxRequests?: number;
  ticksMaxConvergence?: number;
  packetLoss?: { numerator: number; denominator: number };
  crashRatio?: { numerator: number; denominator: number };
  restartRatio?: { numerator: number; denominator: number };
  faultsOff?: FaultClass[];
  skewClocks?: boolean;
  plantBug?: PlantedBugName;
  stateMachine: "accounting" | "testing";
  log: "full" | "short" | "none";
  seeds?: number;
  jobs?: number;
  from?: bigint;
  /** --shard, --seed-from-commit, --json, --seed-timeout, --recheck-ratio (cli/vopr_fleet_plan.ts). */
  fleet: FleetFlags;
  /** `--trace FILE`: the timeline viewer's output (single seed only). */
  trace?: string;
  help: boolean;
}

const booleanFlags = new Set(["lite", "performance", "help", "skew-clocks"]);
const valueFlags = new Set([
  "replicas", "requests-max", "ticks-max", "ticks-max-requests", "ticks-max-convergence", "packet-loss-ratio",
  "crash-ratio", "restart-ratio", "state-machine", "log", "seeds", "jobs", "from", "clients", "faults-off", "plant-bug",
  "trace",
]);
const unsupportedFlags = new Set(["replica-missing", "replica-missing-until-request"]);

/** Parses `scarab vopr` arguments; a mistake throws a UsageError (one line, exit 1). */
export function parseVoprArgs(args: readonly string[]): VoprArgs {
  const parsed: VoprArgs = { seed: null, lite: false, performance: false, stateMachine: defaultStateMachine, log: "short", fleet: defaultFleetFlags(), help: false };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (!arg.startsWith("--")) {
      if (parsed.seed !== null) throw new UsageError(`vopr takes one seed (got '${arg}' after a seed)`);
      const seed = parseSeed(arg);
      if (seed === null) throw new UsageError(`seed must be a decimal u64 or a 40-hex-digit commit hash (got '${arg}')`);
      parsed.seed = seed;
      continue;
    }
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    if (unsupportedFlags.has(name)) throw new UsageError(`--${name} is not implemented yet`);
    if (booleanFlags.has(name)) {
      if (equals !== -1) throw new UsageError(`--${name} takes no value`);
      if (name === "help") parsed.help = true;
      else if (name === "lite") parsed.lite = true;
      else if (name === "skew-clocks") parsed.skewClocks = true;
      else parsed.performance = true;
      continue;
    }
    if (name === "seed-from-commit") {
      // The hash is optional: take the next argument only if it is one.
      const hash = equals !== -1 ? arg.slice(equals + 1) : isCommitHash(args[index + 1] ?? "") ? args[++index]! : "";
      applyFleetFlag(parsed.fleet, name, hash);
      continue;
    }
    if (!valueFlags.has(name) && !fleetValueFlags.has(name)) throw new UsageError(`unknown option '${arg}'`);
    let value = equals === -1 ? args[++index] : arg.slice(equals + 1);
    if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
    if (fleetValueFlags.has(name)) applyFleetFlag(parsed.fleet, name, value);
    else applyValue(parsed, name, value);
  }
  if (parsed.lite && parsed.performance) throw new UsageError("--lite and --performance exclude each other");
  if (parsed.seeds !== undefined && parsed.seed !== null) throw new UsageError("with --seeds, give the base seed as --from SEED");
  if (parsed.seeds === undefined && (parsed.jobs !== undefined || parsed.from !== undefined || fleetFlagsGiven(parsed.fleet))) {
    throw new UsageError("--jobs, --from, --shard, --seed-from-commit, --json, --seed-timeout and --recheck-ratio only apply with --seeds N");
  }
  if (parsed.from !== undefined && parsed.fleet.seedFromCommit !== null) throw new UsageError("--from and --seed-from-commit exclude each other");
  if (parsed.seeds !== undefined && parsed.trace !== undefined) throw new UsageError("--trace records one seed: it does not apply with --seeds");
  return parsed;
}

function applyValue(parsed: VoprArgs, name: string, value: string): void {
  switch (name) {
    case "replicas": parsed.replicaCount = integer(name, value, 1, 6); break;
    case "clients": parsed.clientCount = integer(name, value, 1, 13); break;
    case "faults-off": parsed.faultsOff = faultsOffArg(value); break;
    case "plant-bug":
      if (!(plantedBugNames as readonly string[]).includes(value)) throw new UsageError(`--plant-bug must be one of ${plantedBugNames.join(", ")} (got '${value}')`);
      parsed.plantBug = value as PlantedBugName;
      break;
    case "requests-max": parsed.requestsMax = integer(name, value, 1, 1_000_000_000); break;
    case "ticks-max":
      // Shorthand for both budgets.
      parsed.ticksMaxRequests = integer(name, value, 1, Number.MAX_SAFE_INTEGER);
      parsed.ticksMaxConvergence = parsed.ticksMaxRequests;
      break;
    case "ticks-max-requests": parsed.ticksMaxRequests = integer(name, value, 1, Number.MAX_SAFE_INTEGER); break;
    case "ticks-max-convergence": parsed.ticksMaxConvergence = integer(name, value, 1, Number.MAX_SAFE_INTEGER); break;
    case "seeds": parsed.seeds = integer(name, value, 1, Number.MAX_SAFE_INTEGER); break;
    case "jobs": parsed.jobs = integer(name, value, 1, 1024); break;
    case "packet-loss-ratio": parsed.packetLoss = ratioArg(name, value); break;
    case "crash-ratio": parsed.crashRatio = ratioArg(name, value); break;
    case "restart-ratio": parsed.restartRatio = ratioArg(name, value); break;
    case "state-machine":
      if (value !== "accounting" && value !== "testing") throw new UsageError(`--state-machine must be accounting or testing (got '${value}')`);
      parsed.stateMachine = value;
      break;
    case "log":
      if (value !== "full" && value !== "short" && value !== "none") throw new UsageError(`--log must be full, short or none (got '${value}')`);
      parsed.log = value;
      break;
    case "trace":
      if (value.startsWith("-")) throw new UsageError(`--trace needs a file name (got '${value}')`);
      parsed.trace = value;
      break;
    case "from": {
      const seed = parseSeed(value);
      if (seed === null) throw new UsageError(`--from must be a decimal u64 or a 40-hex-digit commit hash (got '${value}')`);
      parsed.from = seed;
      break;
    }
  }
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}] (got '${text}')`);
  }
  return value;
}

/** `--faults-off=a,b`: known classes, each once, kept in the canonical order of faultClasses. */
function faultsOffArg(text: string): FaultClass[] {
  const names = text.split(",");
  for (const name of names) {
    if (!isFaultClass(name)) throw new UsageError(`--faults-off: unknown fault class '${name}' (valid: ${faultClasses.join(", ")})`);
  }
  return faultClasses.filter((name) => names.includes(name));
}

function ratioArg(name: string, text: string): { numerator: number; denominator: number } {
  const match = /^([0-9]+)\/([0-9]+)$/.exec(text);
  const numerator = match ? Number(match[1]) : Number.NaN;
  const denominator = match ? Number(match[2]) : Number.NaN;
  if (!(denominator > 0 && denominator <= 1_000_000_000 && numerator >= 0 && numerator <= denominator)) {
    throw new UsageError(`--${name} must be A/B with 0 ≤ A ≤ B (got '${text}')`);
  }
  return { numerator, denominator };
}

/** The flags that change a run, normalised, for replay commands (§13.3). */
export function runFlags(args: VoprArgs): string[] {
  const flags: string[] = [];
  if (args.lite) flags.push("--lite");
  if (args.performance) flags.push("--performance");
  if (args.replicaCount !== undefined) flags.push(`--replicas=${args.replicaCount}`);
  if (args.clientCount !== undefined) flags.push(`--clients=${args.clientCount}`);
  if (args.requestsMax !== undefined) flags.push(`--requests-max=${args.requestsMax}`);
  if (args.ticksMaxRequests !== undefined) flags.push(`--ticks-max-requests=${args.ticksMaxRequests}`);
  if (args.ticksMaxConvergence !== undefined) flags.push(`--ticks-max-convergence=${args.ticksMaxConvergence}`);
  if (args.packetLoss !== undefined) flags.push(`--packet-loss-ratio=${args.packetLoss.numerator}/${args.packetLoss.denominator}`);
  if (args.crashRatio !== undefined) flags.push(`--crash-ratio=${args.crashRatio.numerator}/${args.crashRatio.denominator}`);
  if (args.restartRatio !== undefined) flags.push(`--restart-ratio=${args.restartRatio.numerator}/${args.restartRatio.denominator}`);
  if (args.skewClocks === true) flags.push("--skew-clocks");
  if (args.faultsOff !== undefined && args.faultsOff.length > 0) flags.push(`--faults-off=${args.faultsOff.join(",")}`);
  if (args.stateMachine !== defaultStateMachine) flags.push(`--state-machine=${args.stateMachine}`);
  if (args.plantBug !== undefined) flags.push(`--plant-bug=${args.plantBug}`);
  return flags;
}

export function replayCommand(seed: bigint, args: VoprArgs): string {
  return ["scarab vopr", ...runFlags(args), seed.toString()].join(" ");
}

/** A RunSeed that can also record the run's timeline (--trace). */
type RunSeedTraced = (seed: bigint, write: (line: string) => void, log: "full" | "short" | "none",
  timeline?: TimelineRecorder) => SimulationResult;

/** Loads the simulator (and the replica) only when a run starts. */
export async function loadSimulation(args: VoprArgs): Promise<RunSeedTraced> {
  // The workloads the CLI can choose from (§4): the ledger's or the echo machine's.
  const [{ runSimulation }, { echoWorkloadFactory }, { accountingWorkloadFactory }] = await Promise.all([
    import("../sim/runner/simulator.js"), import("../sim/workloads/workload.js"), import("../sim/workloads/accounting/accounting_workload.js"),
  ]);
  const factory: WorkloadFactory = args.stateMachine === "accounting" ? accountingWorkloadFactory : echoWorkloadFactory;
  return (seed, write, log, timeline) => {
    const options: SimulationOptions = {
      lite: args.lite, performance: args.performance, replicaCount: args.replicaCount,
      ticksMaxRequests: args.ticksMaxRequests, ticksMaxConvergence: args.ticksMaxConvergence,
      requestsMax: args.requestsMax, packetLoss: args.packetLoss, crashRatio: args.crashRatio,
      restartRatio: args.restartRatio, log, stateMachine: args.stateMachine,
      workloadFactory: factory, write, clientCount: args.clientCount, faultsOff: args.faultsOff,
      skewClocks: args.skewClocks, timeline,
      bugs: args.plantBug === undefined ? undefined : plantBugs(args.plantBug),
    };
    return runSimulation(seed, options);
  };
}

export function randomSeed(): bigint {
  return randomBytes(8).readBigUInt64LE(0);
}

/** Buffers lines for stdout: full logs are large, and one write per line is slow. */
class LineWriter {
  private lines: string[] = [];
  private bytes = 0;

  readonly write = (line: string): void => {
    this.lines.push(line);
    this.bytes += line.length + 1;
    if (this.bytes >= 1 << 16) this.flush();
  };

  flush(): void {
    if (this.lines.length === 0) return;
    process.stdout.write(this.lines.join("\n") + "\n");
    this.lines = [];
    this.bytes = 0;
  }
}

/** `scarab vopr …`: exit code per spec/vopr.md §13.1; misuse prints one line and the usage. */
export async function runVopr(argv: string[]): Promise<number> {
  if (argv[0] === "report") return (await import("./vopr_report.js")).runVoprReport(argv.slice(1));
  if (argv[0] === "shrink") {
    const vopr = { parse: parseVoprArgs, replay: replayCommand, load: loadSimulation };
    return (await import("./vopr_shrink.js")).runShrink(argv.slice(1), vopr);
  }
  let args: VoprArgs;
  let simulate: RunSeedTraced;
  let commit: { hash: string; base: bigint } | undefined;
  try {
    args = parseVoprArgs(argv);
    if (args.help) {
      console.log(voprHelp);
      return 0;
    }
    if (args.fleet.seedFromCommit !== null) commit = commitBase(args.fleet.seedFromCommit);
    if (args.trace !== undefined) checkTracePath(args.trace);
    simulate = await loadSimulation(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`scarab vopr: ${error.message}\n\n${voprHelp}`);
    return 1;
  }
  // Replica failures are debugged from the stack: keep more than V8's default 10 frames.
  Error.stackTraceLimit = 50;
  if (args.seeds !== undefined) {
    const fleet: FleetOptions = {
      seeds: args.seeds, jobs: args.jobs ?? availableParallelism(), base: commit?.base ?? args.from ?? randomSeed(),
      argv, flags: runFlags(args), replay: (seed) => replayCommand(seed, args),
      workerUrl: new URL(import.meta.url), fleet: args.fleet, commitHash: commit?.hash,
    };
    return runFleet(fleet);
  }
  return runOne(args, simulate);
}

async function runOne(args: VoprArgs, simulate: RunSeedTraced): Promise<number> {
  const seed = args.seed ?? randomSeed();
  const out = new LineWriter();
  if (args.log === "none") out.write(`SEED=${seed}`);
  const timeline = args.trace === undefined ? undefined : new (await import("../sim/runner/timeline.js")).TimelineRecorder();
  const result = simulate(seed, out.write, args.log, timeline);
  if (args.log === "none") {
    const note = result.outcome === "passed" ? "" : ` — ${result.outcome}`;
    out.write(describeCounts(result.faults, result.repairs));
    out.write(result.exitCode === 0 ? `PASSED (${result.ticks} ticks)${note}` : `FAILED exit=${result.exitCode}: ${result.outcome}`);
    if (result.details !== "") out.write(result.details);
  }
  if (result.exitCode !== 0) out.write(`replay: ${replayCommand(seed, args)}`);
  if (timeline !== undefined) out.write(await writeTrace(args.trace!, timeline, result, replayCommand(seed, args)));
  out.flush();
  return result.exitCode;
}

/** Renders the recorded timeline into `path`; returns the line to print. */
async function writeTrace(path: string, timeline: TimelineRecorder, result: SimulationResult, replay: string): Promise<string> {
  const { renderTraceHtml } = await import("./trace_viewer/page.js");
  const html = renderTraceHtml(timeline.finish(result.ticks), {
    replay, exitCode: result.exitCode, outcome: result.outcome, details: result.details,
    faults: result.faults, repairs: result.repairs, requestsReplied: result.requestsReplied,
  });
  writeFileSync(path, html);
  return `trace: ${path} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB)`;
}

// A fleet worker: this module, loaded by vopr_fleet.ts's Worker (see runWorker there).
if (!isMainThread && parentPort !== null && (workerData as { voprWorker?: boolean } | null)?.voprWorker === true) {
  const args = parseVoprArgs((workerData as { argv: string[] }).argv);
  startWorker(parentPort, await loadSimulation(args));
}
