// `scarab vopr shrink SEED [run flags]`: from a failing seed, search for a smaller run of the same
// seed that fails the same way, and print its replay command. Greedy passes until none helps:
// fewer requests (binary search), fewer replicas, fewer clients, fault classes off one by one,
// then lower tick budgets. Every candidate is a full in-process run (log none); only a candidate
// that fails the same way is kept, so the result is always a verified reproduction.
//
// "The same way" (failureSignature): the same exit code and the same outcome line once every
// number is stripped — every word made of hex digits with at least one decimal digit (counts, op
// numbers, replica indexes, ticks, checksums) becomes '#'. So "correctness: state checker:
// replica 2: op 16 has checksum 9d1b…, canonical 2921…" matches the same check on replica 0 at
// op 3, but not another checker, another assertion, or a crash turned into a liveness failure.
import { faultClasses, type FaultClass } from "../sim/runner/fault_classes.js";
import { UsageError } from "./usage_error.js";
import type { VoprArgs } from "./vopr.js";
import type { RunSeed } from "./vopr_fleet.js";

export const shrinkHelp = `Usage: scarab vopr shrink SEED [run options] [--shrink-budget SECONDS] [--shrink-candidates N]

Searches for the smallest run of a failing SEED that fails the same way: the same exit code and
the same outcome line once every number (counts, ops, replica indexes, hex checksums) is read as
'#'. It tries fewer requests, replicas and clients, fault classes switched off one by one
(--faults-off), and tick budgets cut to the failing tick. The run options are those of
'scarab vopr' (e.g. --plant-bug NAME --state-machine testing); they describe the original run.
Progress goes to stderr, one line per candidate; the smallest replay command to stdout. (To
check a fix with the shrunk command, drop its --ticks-max-* flags: a fixed run may need more.)

  --shrink-budget SECONDS    stop searching after this long (default 300)
  --shrink-candidates N      stop after this many candidate runs (default 200)

Exit codes: 0 a reproduction was found (even if nothing could be removed), 1 misuse or the seed passes.`;

/** What `scarab vopr` lends the shrinker: passed in, so that this module never imports vopr.ts back. */
export interface VoprCommand {
  readonly parse: (argv: readonly string[]) => VoprArgs;
  readonly replay: (seed: bigint, args: VoprArgs) => string;
  readonly load: (args: VoprArgs) => Promise<RunSeed>;
}

/** What a candidate run reports: how it ended, and the configuration it actually ran with. */
export interface ShrinkRun {
  readonly exitCode: number;
  readonly outcome: string;
  readonly ticks: number;
  readonly replicas: number;
  readonly clients: number;
  readonly requestsMax: number;
  readonly ticksMaxRequests: number;
  readonly ticksMaxConvergence: number;
  /** The fault classes that can fire in this run (fault_classes.ts activeFaultClasses). */
  readonly faults: readonly FaultClass[];
}

export type ShrinkRunner = (seed: bigint, args: VoprArgs) => ShrinkRun | Promise<ShrinkRun>;

export interface ShrinkOptions {
  readonly seed: bigint;
  /** The original run's flags. */
  readonly args: VoprArgs;
  readonly run: ShrinkRunner;
  readonly budgetMs: number;
  readonly candidatesMax: number;
  readonly now: () => number;
  readonly progress: (line: string) => void;
}

export type ShrinkResult =
  | { readonly kind: "passes"; readonly original: ShrinkRun }
  | {
      readonly kind: "shrunk";
      readonly original: ShrinkRun;
      readonly best: ShrinkRun;
      readonly args: VoprArgs;
      readonly candidates: number;
      /** The search stopped on its time or candidate budget, not because nothing else helped. */
      readonly stopped: boolean;
    };

/** An outcome line with every number (decimal, hex, checksum) replaced by '#'. */
export function normaliseOutcome(outcome: string): string {
  return outcome.replace(/\b(?:0x)?[0-9a-f]*[0-9][0-9a-f]*\b/gi, "#");
}

export function failureSignature(run: { exitCode: number; outcome: string }): string {
  return `exit ${run.exitCode}: ${normaliseOutcome(run.outcome)}`;
}

/** Runs the search; the original must fail. */
export async function shrink(options: ShrinkOptions): Promise<ShrinkResult> {
  const original = await options.run(options.seed, options.args);
  options.progress(`original: ${describeRun(original)}`);
  if (original.exitCode === 0) return { kind: "passes", original };
  const search = new Search(options, original);
  await search.run();
  return {
    kind: "shrunk", original, best: search.best, args: search.bestArgs, candidates: search.candidates,
    stopped: search.stopped,
  };
}

function describeRun(run: ShrinkRun): string {
  return run.exitCode === 0 ? `passes (${run.ticks} ticks)` : `exit ${run.exitCode} after ${run.ticks} ticks: ${run.outcome}`;
}

class Search {
  best: ShrinkRun;
  bestArgs: VoprArgs;
  candidates = 0;
  stopped = false;
  private readonly signature: string;
  private readonly started: number;
  private readonly tried = new Set<string>();

  constructor(private readonly options: ShrinkOptions, original: ShrinkRun) {
    this.best = original;
    this.bestArgs = options.args;
    this.signature = failureSignature(original);
    this.started = options.now();
    options.progress(`signature: ${this.signature}`);
  }

  async run(): Promise<void> {
    await this.cutTicks();
    for (let changed = true; changed && !this.outOfBudget();) {
      changed = false;
      if (await this.fewerRequests()) changed = true;
      if (await this.fewerNodes("replicas", this.best.replicas, (n) => ({ replicaCount: n }))) changed = true;
      if (await this.fewerNodes("clients", this.best.clients, (n) => ({ clientCount: n }))) changed = true;
      if (await this.faultsOff()) changed = true;
      if (this.best.exitCode === 128) {
        if (await this.lowerBudget("ticks-max-convergence", (run) => run.ticksMaxConvergence, (n) => ({ ticksMaxConvergence: n }))) changed = true;
        if (await this.lowerBudget("ticks-max-requests", (run) => run.ticksMaxRequests, (n) => ({ ticksMaxRequests: n }))) changed = true;
      }
      await this.cutTicks();
    }
  }

  /**
   * Both budgets down to the failing tick + 1: the same run, as neither budget ran out before the
   * failure, but every later candidate is bounded by how long the failure took to show.
   */
  private async cutTicks(): Promise<boolean> {
    const limit = this.best.ticks + 1;
    const requests = Math.min(this.best.ticksMaxRequests, limit);
    const convergence = Math.min(this.best.ticksMaxConvergence, limit);
    if (requests === this.best.ticksMaxRequests && convergence === this.best.ticksMaxConvergence) return false;
    return this.attempt(`ticks-max-requests=${requests} ticks-max-convergence=${convergence}`,
      { ticksMaxRequests: requests, ticksMaxConvergence: convergence });
  }

  /** Binary search on requests_max, as if failing were monotone in it (each step is verified). */
  private async fewerRequests(): Promise<boolean> {
    let low = 1;
    let high = this.best.requestsMax;
    let changed = false;
    while (low < high && !this.outOfBudget()) {
      const middle = Math.floor((low + high) / 2);
      if (await this.attempt(`requests-max=${middle}`, { requestsMax: middle })) {
        high = middle;
        changed = true;
      } else {
        low = middle + 1;
      }
    }
    return changed;
  }

  /** The smallest count below the current one that fails the same way, trying a few from 1 up. */
  private async fewerNodes(name: string, current: number, change: (n: number) => Partial<VoprArgs>): Promise<boolean> {
    const tries = [...new Set([1, 2, 3, Math.floor(current / 2), current - 1])].filter((n) => n >= 1 && n < current);
    for (const n of tries.sort((a, b) => a - b)) {
      if (await this.attempt(`${name}=${n}`, change(n))) return true;
    }
    return false;
  }

  /** Each active class off in turn, kept off if the run still fails the same way. */
  private async faultsOff(): Promise<boolean> {
    let changed = false;
    for (const name of faultClasses) {
      if (!this.best.faults.includes(name) || this.outOfBudget()) continue;
      const off = faultClasses.filter((c) => c === name || (this.bestArgs.faultsOff ?? []).includes(c));
      // A ratio override of a class that is off would only confuse the replay command.
      const drop: Partial<VoprArgs> = name === "packet-loss" ? { packetLoss: undefined }
        : name === "crashes" ? { crashRatio: undefined, restartRatio: undefined }
        : name === "clock-skew" ? { skewClocks: undefined } : {};
      if (await this.attempt(`faults-off=${off.join(",")}`, { ...drop, faultsOff: off })) changed = true;
    }
    return changed;
  }

  /**
   * A liveness failure (exit 128) shows when a budget runs out, so a lower budget can show it
   * sooner: binary search, keeping a budget only if the run fails the same way in fewer ticks,
   * and stopping within 1/16 of the budget (a coarse, cheap cut). Crashes and correctness
   * failures show when they happen; cutTicks already bounds their budgets.
   */
  private async lowerBudget(name: string, get: (run: ShrinkRun) => number, change: (n: number) => Partial<VoprArgs>): Promise<boolean> {
    let low = 1;
    let high = get(this.best);
    let changed = false;
    while (high - low > Math.max(1, high >> 4) && !this.outOfBudget()) {
      const middle = Math.floor((low + high) / 2);
      if (await this.attempt(`${name}=${middle}`, change(middle), true)) {
        high = middle;
        changed = true;
      } else {
        low = middle + 1;
      }
    }
    return changed;
  }

  /** Runs the best configuration with `change`; keeps it if it fails the same way. */
  private async attempt(label: string, change: Partial<VoprArgs>, sooner = false): Promise<boolean> {
    const args: VoprArgs = { ...this.bestArgs, ...change };
    const key = JSON.stringify({ ...args, seed: undefined, log: undefined }, (_, v) => (typeof v === "bigint" ? `${v}` : v));
    if (this.tried.has(key) || this.outOfBudget()) return false;
    this.tried.add(key);
    this.candidates += 1;
    const started = this.options.now();
    const run = await this.options.run(this.options.seed, args);
    const seconds = ((this.options.now() - started) / 1000).toFixed(1);
    const same = run.exitCode !== 0 && failureSignature(run) === this.signature;
    const verdict = same ? `fails the same way (tick ${run.ticks})` : run.exitCode === 0 ? "passes"
      : `fails differently: exit ${run.exitCode}: ${run.outcome.slice(0, 160)}`;
    const late = same && sooner && run.ticks >= this.best.ticks;
    this.options.progress(`try ${label}: ${verdict}${late ? ", but no sooner" : ""} [${seconds} s]`);
    if (same && !late) {
      this.best = run;
      this.bestArgs = args;
    }
    return same && !late;
  }

  private outOfBudget(): boolean {
    if (this.candidates >= this.options.candidatesMax || this.options.now() - this.started >= this.options.budgetMs) {
      this.stopped = true;
    }
    return this.stopped;
  }
}

/** "requests-max 96 → 7, replicas 5 → 3, faults off: partitions, pauses, failing tick 8680 → 990". */
export function describeReduction(original: ShrinkRun, originalArgs: VoprArgs, best: ShrinkRun, bestArgs: VoprArgs): string {
  const parts: string[] = [];
  const compare = (name: string, from: number, to: number): void => {
    if (from !== to) parts.push(`${name} ${from} → ${to}`);
  };
  compare("requests-max", original.requestsMax, best.requestsMax);
  compare("replicas", original.replicas, best.replicas);
  compare("clients", original.clients, best.clients);
  const off = (bestArgs.faultsOff ?? []).filter((name) => !(originalArgs.faultsOff ?? []).includes(name));
  if (off.length > 0) parts.push(`faults off: ${off.join(", ")}`);
  compare("ticks-max-requests", original.ticksMaxRequests, best.ticksMaxRequests);
  compare("ticks-max-convergence", original.ticksMaxConvergence, best.ticksMaxConvergence);
  compare("failing tick", original.ticks, best.ticks);
  return parts.length === 0 ? "nothing could be removed" : parts.join(", ");
}

/** The production runner: each candidate is a full in-process simulation with log none. */
export async function loadShrinkRunner(load: VoprCommand["load"]): Promise<ShrinkRunner> {
  const { ticksMaxRequestsDefault, ticksMaxConvergenceDefault } = await import("../sim/runner/simulator.js");
  return async (seed, args) => {
    const result = (await load(args))(seed, () => {}, "none");
    const p = result.parameters;
    return {
      exitCode: result.exitCode, outcome: result.outcome, ticks: result.ticks,
      replicas: Number(p.replicas), clients: Number(p.clients), requestsMax: Number(p.requests_max),
      ticksMaxRequests: args.ticksMaxRequests ?? ticksMaxRequestsDefault,
      ticksMaxConvergence: args.ticksMaxConvergence ?? ticksMaxConvergenceDefault,
      faults: String(p.fault_classes).split(",").filter((name) => name !== "") as FaultClass[],
    };
  };
}

interface ShrinkArgs {
  readonly args: VoprArgs;
  readonly budgetSeconds: number;
  readonly candidatesMax: number;
  readonly help: boolean;
}

/** `scarab vopr shrink` arguments: its own two flags, then everything else as `scarab vopr`'s. */
export function parseShrinkArgs(argv: readonly string[], parseVoprArgs: VoprCommand["parse"]): ShrinkArgs {
  let budgetSeconds = 300;
  let candidatesMax = 200;
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const match = /^--(shrink-budget|shrink-candidates)(?:=(.*))?$/.exec(argv[index]!);
    if (match === null) {
      rest.push(argv[index]!);
      continue;
    }
    const text = match[2] ?? argv[++index] ?? "";
    const value = /^[0-9]+$/.test(text) ? Number(text) : 0;
    if (!(value >= 1 && value <= 1_000_000)) throw new UsageError(`--${match[1]} must be an integer in [1, 1000000] (got '${text}')`);
    if (match[1] === "shrink-budget") budgetSeconds = value;
    else candidatesMax = value;
  }
  const args = parseVoprArgs(rest);
  if (args.help) return { args, budgetSeconds, candidatesMax, help: true };
  if (args.seeds !== undefined) throw new UsageError("shrink takes one SEED, not --seeds");
  if (args.seed === null) throw new UsageError("shrink needs the failing SEED");
  return { args, budgetSeconds, candidatesMax, help: false };
}

/** `scarab vopr shrink …`. */
export async function runShrink(argv: string[], vopr: VoprCommand): Promise<number> {
  let parsed: ShrinkArgs;
  try {
    parsed = parseShrinkArgs(argv, vopr.parse);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`scarab vopr shrink: ${error.message}\n\n${shrinkHelp}`);
    return 1;
  }
  if (parsed.help) {
    console.log(shrinkHelp);
    return 0;
  }
  Error.stackTraceLimit = 50;
  const seed = parsed.args.seed!;
  const result = await shrink({
    seed, args: parsed.args, run: await loadShrinkRunner(vopr.load), budgetMs: parsed.budgetSeconds * 1000,
    candidatesMax: parsed.candidatesMax, now: () => performance.now(), progress: (line) => console.error(line),
  });
  if (result.kind === "passes") {
    console.error(`scarab vopr shrink: seed ${seed} passes (${vopr.replay(seed, parsed.args)}); nothing to shrink`);
    return 1;
  }
  const { original, best } = result;
  console.log(`original: ${vopr.replay(seed, parsed.args)}`);
  console.log(`  exit ${original.exitCode} after ${original.ticks} ticks: ${original.outcome}`);
  console.log(`shrunk (${result.candidates} candidates${result.stopped ? ", search stopped by its budget" : ""}):`);
  console.log(`  exit ${best.exitCode} after ${best.ticks} ticks: ${best.outcome}`);
  console.log(`removed: ${describeReduction(original, parsed.args, best, result.args)}`);
  console.log(`replay: ${vopr.replay(seed, result.args)}`);
  return 0;
}
