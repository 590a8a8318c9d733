// Which seeds a fleet runs, and how: the seeds derived from a base (given, random, or a commit
// hash), the shard of them this process takes (`--shard i/n`), the seeds run twice to check
// determinism (`--recheck-ratio`), and the wall-clock limit per seed (`--seed-timeout`).
// Everything here is a pure function of the flags, so that every shard of a fleet, on any machine,
// agrees on the partition, and anyone can replay a seed from its line.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSeed, Prng } from "../core/prng.js";
import type { Ratio } from "../sim/ratio.js";
import { UsageError } from "./usage_error.js";

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** The fleet flags beyond --seeds/--jobs/--from (parsed by cli/vopr.ts through applyFleetFlag). */
export interface FleetFlags {
  shard: Shard;
  /** null: not given; "": given without a hash (use $GITHUB_SHA or git HEAD). */
  seedFromCommit: string | null;
  json: string | null;
  seedTimeoutS: number;
  recheck: Ratio;
}

/** Long enough for a seed that exhausts the default 40M-tick safety budget; the CFO's limit (§13.3). */
export const seedTimeoutDefaultS = 1800;
export const recheckDefault: Ratio = { numerator: 1, denominator: 20 };

export function defaultFleetFlags(): FleetFlags {
  return { shard: { index: 0, count: 1 }, seedFromCommit: null, json: null, seedTimeoutS: seedTimeoutDefaultS, recheck: recheckDefault };
}

/** The flags with a value; --seed-from-commit's hash is optional and handled by takesOptionalHash. */
export const fleetValueFlags = new Set(["shard", "json", "seed-timeout", "recheck-ratio"]);

export function applyFleetFlag(flags: FleetFlags, name: string, value: string): void {
  switch (name) {
    case "shard": flags.shard = parseShard(value); break;
    case "json": flags.json = value; break;
    case "seed-timeout": flags.seedTimeoutS = parseSeconds(value); break;
    case "recheck-ratio": flags.recheck = parseRecheckRatio(value); break;
    case "seed-from-commit":
      if (value !== "" && !isCommitHash(value)) throw new UsageError(`--seed-from-commit takes a 40-hex-digit commit hash (got '${value}')`);
      flags.seedFromCommit = value;
      break;
    default: throw new UsageError(`unknown option '--${name}'`);
  }
}

/** True when the fleet flags differ from their defaults (they need --seeds N). */
export function fleetFlagsGiven(flags: FleetFlags): boolean {
  const plain = defaultFleetFlags();
  return flags.shard.count !== 1 || flags.seedFromCommit !== null || flags.json !== null ||
    flags.seedTimeoutS !== plain.seedTimeoutS || formatRatio(flags.recheck) !== formatRatio(plain.recheck);
}

export function isCommitHash(text: string): boolean {
  return /^[0-9a-fA-F]{40}$/.test(text);
}

export function parseShard(text: string): Shard {
  const match = /^([0-9]+)\/([0-9]+)$/.exec(text);
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!(Number.isSafeInteger(count) && count >= 1 && count <= 1_000_000 && index >= 0 && index < count)) {
    throw new UsageError(`--shard must be i/n with 0 ≤ i < n ≤ 1000000 (got '${text}')`);
  }
  return { index, count };
}

function parseSeconds(text: string): number {
  const value = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0 && value <= 7 * 24 * 3600)) throw new UsageError(`--seed-timeout must be seconds in (0, 604800] (got '${text}')`);
  return value;
}

export function parseRecheckRatio(text: string): Ratio {
  if (text === "0") return { numerator: 0, denominator: 1 };
  const match = /^([0-9]+)\/([0-9]+)$/.exec(text);
  const numerator = match ? Number(match[1]) : Number.NaN;
  const denominator = match ? Number(match[2]) : Number.NaN;
  if (!(denominator > 0 && denominator <= 1_000_000_000 && numerator >= 0 && numerator <= denominator)) {
    throw new UsageError(`--recheck-ratio must be A/B with 0 ≤ A ≤ B, or 0 (got '${text}')`);
  }
  return { numerator, denominator };
}

export function formatRatio(ratio: Ratio): string {
  return ratio.numerator === 0 ? "0" : `${ratio.numerator}/${ratio.denominator}`;
}

/** The i-th seed of a fleet: successive draws of a PRNG seeded with the base. */
export function fleetSeeds(base: bigint, count: number): bigint[] {
  return [...shardSeeds(base, count, { index: 0, count: 1 })].map((entry) => entry.seed);
}

/**
 * The seeds of one shard: of the `count` seeds derived from `base`, those whose index k has
 * k mod n = i. Lazy, so a shard of a million-seed fleet holds only its own seeds in flight.
 */
export function* shardSeeds(base: bigint, count: number, shard: Shard): Generator<{ index: number; seed: bigint }> {
  const prng = new Prng(base);
  for (let index = 0; index < count; index++) {
    const seed = prng.next();
    if (index % shard.count === shard.index) yield { index, seed };
  }
}

/** How many of `count` seeds fall in the shard. */
export function shardSize(count: number, shard: Shard): number {
  return shard.index < count ? Math.floor((count - 1 - shard.index) / shard.count) + 1 : 0;
}

/** Whether a seed is run twice: a hash of the seed, so every shard and every replay agree. */
export function recheckChosen(seed: bigint, ratio: Ratio): boolean {
  if (ratio.numerator === 0) return false;
  // Salted so that the choice does not line up with the fleet's own draws from a base.
  const draw = new Prng(seed ^ 0x7265_6368_6563_6b21n).next();
  return draw % BigInt(ratio.denominator) < BigInt(ratio.numerator);
}

/**
 * The base of a --seed-from-commit fleet: the given hash, else $GITHUB_SHA, else the installation's
 * git HEAD. Its last 16 hex digits are the base, as for a commit hash given as a seed.
 */
export function commitBase(given: string, env: NodeJS.ProcessEnv = process.env): { hash: string; base: bigint } {
  const fromEnv = env.GITHUB_SHA?.trim();
  if (given === "" && fromEnv !== undefined && fromEnv !== "" && !isCommitHash(fromEnv)) {
    throw new UsageError(`--seed-from-commit: $GITHUB_SHA is not a 40-hex-digit hash ('${fromEnv}')`);
  }
  const hash = given !== "" ? given : fromEnv || installationCommit();
  if (hash === "unknown") {
    throw new UsageError("--seed-from-commit: give a hash; $GITHUB_SHA is unset and this installation is not a git checkout");
  }
  const base = parseSeed(hash);
  if (base === null) throw new UsageError(`--seed-from-commit: not a commit hash ('${hash}')`);
  return { hash: hash.toLowerCase(), base };
}

let cachedCommit: string | null = null;

/** The git HEAD of the Scarab installation this code runs from, or "unknown"; looked up once. */
export function installationCommit(): string {
  if (cachedCommit !== null) return cachedCommit;
  cachedCommit = "unknown";
  const root = packageRoot();
  if (root === null) return cachedCommit;
  try {
    const options = { cwd: root, encoding: "utf8" as const, stdio: ["ignore", "pipe", "ignore"] as ("ignore" | "pipe")[] };
    // Only the installation's own repository: not a repository that happens to contain it.
    const top = execFileSync("git", ["rev-parse", "--show-toplevel"], options).trim();
    if (resolve(top) !== resolve(root)) return cachedCommit;
    const head = execFileSync("git", ["rev-parse", "HEAD"], options).trim();
    if (isCommitHash(head)) cachedCommit = head.toLowerCase();
  } catch {
    // No git, or not a checkout (an npm installation): "unknown".
  }
  return cachedCommit;
}

/** The folder of Scarab's package.json, from src/cli (tests) or dist/src/cli (the binary). */
function packageRoot(): string | null {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const manifest = join(folder, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "scarab") return folder;
      } catch {
        return null;
      }
    }
    folder = dirname(folder);
  }
  return null;
}
