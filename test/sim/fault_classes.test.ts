// Fault classes (src/sim/runner/fault_classes.ts), `scarab vopr --faults-off=CLASS,...`: each
// zeroes only its own drawn parameters, after the draws (the PRNG stream does not shift), and a
// run with a class off injects none of its faults.
import { describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { activeFaultClasses, faultClasses, type FaultClass } from "../../src/sim/runner/fault_classes.js";
import { runSimulation, type SimulationOptions } from "../../src/sim/runner/simulator.js";
import { drawSwarm } from "../../src/sim/runner/swarm.js";
import { idealClock, type ClockOffset } from "../../src/sim/world/time_sim.js";

describe("--faults-off", () => {
  /** Leaf paths where two values differ (bigints and Ratio objects compared by value). */
  function differences(a: unknown, b: unknown, path = ""): string[] {
    if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return a === b ? [] : [path];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((key) => differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key));
  }

  test("each class zeroes only its own parameters, after the draws", () => {
    const seed = 2n; // draws every class
    const drawn = drawSwarm(seed, testConfig, { mode: "default" });
    expect(activeFaultClasses(drawn.swarm)).toEqual(faultClasses);
    const nextDraw = drawn.prng.next();
    const clockNodes = (skewed: (clock: ClockOffset) => boolean): string[] =>
      drawn.swarm.clocks.flatMap((clock, node) => (skewed(clock) ? [`clocks.${node}`] : []));
    const own: Record<FaultClass, string[]> = {
      "packet-loss": ["network.packetLossProbability"], "packet-replay": ["network.packetReplayProbability"],
      "path-clogs": ["network.pathClogProbability"], "partitions": ["network.partitionProbability"],
      "crashes": ["process.crashProbability", "process.crashProbabilityWritesPending"],
      "pauses": ["process.pauseProbability"], "reformats": ["process.reformatProbability"],
      "latent-errors": ["storage.readFaultProbability"], "write-corruption": ["storage.writeFaultProbability"],
      "misdirected-writes": ["storage.writeMisdirectProbability"], "torn-writes": ["storage.crashFaultProbability"],
      "clock-skew": clockNodes((clock) => clock !== idealClock), "clock-jumps": clockNodes((clock) => clock.model === "step"),
    };
    const dependents: Partial<Record<FaultClass, FaultClass[]>> = { crashes: ["reformats", "torn-writes"], "clock-skew": ["clock-jumps"] };
    for (const name of faultClasses) {
      const off = drawSwarm(seed, testConfig, { mode: "default", faultsOff: [name] });
      // A ratio is one parameter; a clock, one per node.
      const changed = differences(drawn.swarm, off.swarm)
        .map((path) => path.replace(/\.(numerator|denominator)$/, "").replace(/^(clocks\.[0-9]+)\..*$/, "$1"));
      expect(own[name].length, name).toBeGreaterThan(0);
      expect(new Set(changed), name).toEqual(new Set(own[name]));
      const gone = [name, ...(dependents[name] ?? [])];
      expect(activeFaultClasses(off.swarm), name).toEqual(faultClasses.filter((c) => !gone.includes(c)));
      expect(off.prng.next(), `${name}: the PRNG stream after the draws`).toBe(nextDraw);
    }
  });

  test("a run with classes off injects none of their faults; --clients overrides the draw", () => {
    const base: SimulationOptions = {
      log: "none", stateMachine: "testing", write: () => {}, requestsMax: 48, ticksMaxRequests: 20_000, ticksMaxConvergence: 20_000,
      crashRatio: { numerator: 1, denominator: 2000 }, restartRatio: { numerator: 1, denominator: 200 },
    };
    const seed = 14n; // crashes, reformats, torn writes and every storage fault at this profile
    const drawn = runSimulation(seed, base);
    expect(drawn.faults.crashes).toBeGreaterThan(0);
    expect(drawn.faults.tornWrites).toBeGreaterThan(0);
    const noCrashes = runSimulation(seed, { ...base, faultsOff: ["crashes"] });
    expect([noCrashes.faults.crashes, noCrashes.faults.restarts, noCrashes.faults.tornWrites, noCrashes.faults.reformats]).toEqual([0, 0, 0, 0]);
    const { fault_classes: withCrashes, ...parameters } = drawn.parameters;
    const { fault_classes: withoutCrashes, ...sameParameters } = noCrashes.parameters;
    expect(sameParameters).toEqual(parameters);
    expect(String(withoutCrashes)).toBe(String(withCrashes).split(",").filter((c) => !["crashes", "reformats", "torn-writes"].includes(c)).join(","));
    const quiet = runSimulation(seed, { ...base, faultsOff: [...faultClasses], clientCount: 2 });
    const { evictions: _evictions, packetsDropped: _capacityDrops, ...injected } = quiet.faults;
    expect(Object.values(injected).every((count) => count === 0), JSON.stringify(quiet.faults)).toBe(true);
    expect(quiet.parameters.clients).toBe(2);
    expect(quiet.parameters.fault_classes).toBe("");
  });
});
