// Coverage probes (src/core/probes.ts), issue #12: the VOPR says what it exercised. A fixed budget
// of seeds must reach every probe of the catalog but the genuinely rare ones; the catalog must
// match the probe calls in the source; counting hits must not change a run.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { probeCatalog, type ProbeName } from "../../src/core/probes.js";
import { ratio } from "../../src/sim/ratio.js";
import { runSimulation, type SimulationOptions } from "../../src/sim/runner/simulator.js";
import { accountingWorkloadFactory } from "../../src/sim/workloads/accounting/accounting_workload.js";

const budget = { ticksMaxRequests: 60_000, ticksMaxConvergence: 60_000 } as const;
/** Crashes and restarts a thousand times as often as the swarm's defaults: recovery gets exercised. */
const crashHeavy = { crashRatio: ratio(1, 20_000), restartRatio: ratio(1, 2_000), requestsMax: 48 } as const;

// Cheap seeds (≈ 6 s together) that, when chosen, reached every required probe at least four
// times between them (a greedy cover over seeds 1–40 of the default swarm and 1–70 crash-heavy),
// but reply_repaired and misdirected_write_repaired, which few seeds reach. After pings to and from
// standbys were dropped and the free set began holding releases until a checkpoint is durable
// (session 22), reply_repaired came in default seeds 33 and 77 of 1–80 and crash-heavy 59 of 1–80
// (77 and 59 are chosen), and misdirected_write_repaired 4 times in the seeds below (with crash-heavy
// 36 added for it); every other required probe at least 5 times. The margin
// lets a protocol change reshuffle a few runs without failing this test; a probe that no seed
// reaches any more fails it, naming the probe.
const runs: readonly { readonly name: string; readonly options: Partial<SimulationOptions>; readonly seeds: readonly bigint[] }[] = [
  { name: "default", options: {}, seeds: [4n, 7n, 8n, 16n, 22n, 30n, 38n, 77n] },
  {
    name: "crash-heavy", options: crashHeavy,
    seeds: [2n, 14n, 23n, 25n, 28n, 29n, 34n, 36n, 41n, 43n, 46n, 47n, 49n, 59n, 61n],
  },
];

/**
 * Probes the fixed budget does not require, and why. The fleet report still lists them when no
 * seed hits them.
 */
const rare: ReadonlySet<ProbeName> = new Set<ProbeName>([
  // Open gives up waiting for grid repair only when no peer holds its checkpoint's blocks any more
  // (all moved on and reused them) for 5 s: about 1 seed in 100 crash-heavy ones.
  "open_without_state",
]);

function options(extra: Partial<SimulationOptions>): SimulationOptions {
  return { log: "none", stateMachine: "accounting", write: () => {}, ...budget, ...extra };
}

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("coverage probes", () => {
  test("the catalog: unique snake_case names, one-line descriptions, 15 to 25 probes", () => {
    const names = probeCatalog.map((probe) => probe.name);
    expect(new Set(names).size).toBe(names.length);
    for (const { name, description } of probeCatalog) {
      expect(name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/);
      expect(description.length, name).toBeGreaterThan(10);
      expect(description, name).not.toMatch(/\n/);
    }
    expect(names.length).toBeGreaterThanOrEqual(15);
    expect(names.length).toBeLessThanOrEqual(25);
    for (const name of rare) expect(names).toContain(name);
  });

  test("every probe the source reports is in the catalog, and every catalog probe is reported somewhere", () => {
    const calls = new Map<string, string[]>();
    for (const file of sources(join(import.meta.dirname, "../../src"))) {
      for (const match of readFileSync(file, "utf8").matchAll(/\.probe\("([^"]*)"\)/g)) {
        calls.set(match[1]!, [...(calls.get(match[1]!) ?? []), file]);
      }
    }
    const names = new Set<string>(probeCatalog.map((probe) => probe.name));
    expect([...calls.keys()].filter((name) => !names.has(name))).toEqual([]);
    expect([...names].filter((name) => !calls.has(name))).toEqual([]);
  });

  test("a probe name outside the catalog is a bug: the simulator's sink asserts", () => {
    const factory = {
      ...accountingWorkloadFactory,
      createStateMachine: (probe?: (name: ProbeName) => void) => {
        probe?.("no_such_probe" as ProbeName);
        return accountingWorkloadFactory.createStateMachine(probe);
      },
    };
    const result = runSimulation(3n, options({ workloadFactory: factory, requestsMax: 4 }));
    expect(result.exitCode).toBe(127);
    expect(result.outcome).toMatch(/probe 'no_such_probe' is not in the catalog/);
  });

  test("a fixed budget of seeds reaches every probe but the rare ones", () => {
    const hits = new Map<string, number>();
    const failures: string[] = [];
    for (const run of runs) {
      for (const seed of run.seeds) {
        const result = runSimulation(seed, options(run.options));
        if (result.exitCode !== 0) failures.push(`${run.name} seed ${seed}: exit ${result.exitCode}: ${result.outcome}`);
        for (const [name, count] of Object.entries(result.probes)) hits.set(name, (hits.get(name) ?? 0) + count);
      }
    }
    expect(failures).toEqual([]);
    const missed = probeCatalog.map((probe) => probe.name).filter((name) => !rare.has(name) && !hits.has(name));
    expect(missed, "probes no seed of the fixed budget reached").toEqual([]);
  });

  test("the same seed twice: the same trace and the same probe counts", () => {
    for (const [seed, extra] of [[30n, {}], [14n, crashHeavy]] as const) {
      const first = runSimulation(seed, options(extra));
      const second = runSimulation(seed, options(extra));
      expect(Object.keys(first.probes).length).toBeGreaterThan(5);
      expect({ hash: second.traceHash, ticks: second.ticks, probes: second.probes })
        .toEqual({ hash: first.traceHash, ticks: first.ticks, probes: first.probes });
    }
  });
});
