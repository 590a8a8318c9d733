// The fleet's worker pool, on a stand-in worker (fixtures/fake_vopr_worker.mjs) so that it is fast
// and each case is forced: a seed past --seed-timeout is recorded as exit 124 and its worker
// replaced, a worker thread that dies mid-seed is recorded as a crash (127) and replaced, every seed
// is recorded exactly once, and a worker that cannot start fails the fleet instead of looping.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { runFleet, type FleetOptions } from "../../src/cli/vopr_fleet.js";
import { defaultFleetFlags, fleetSeeds } from "../../src/cli/vopr_fleet_plan.js";
import type { SeedLine } from "../../src/cli/vopr_seed_line.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-vopr-pool-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const fakeWorker = new URL("./fixtures/fake_vopr_worker.mjs", import.meta.url);
let output: string[] = [];

beforeEach(() => {
  output = [];
  const capture = (chunk: string | Uint8Array): boolean => (output.push(String(chunk)), true);
  vi.spyOn(process.stdout, "write").mockImplementation(capture);
  vi.spyOn(process.stderr, "write").mockImplementation(capture);
});
afterEach(() => vi.restoreAllMocks());

function options(json: string, fields: Partial<FleetOptions> = {}): FleetOptions {
  return {
    seeds: 12, jobs: 2, base: 3n, argv: [], flags: [], replay: (seed) => `scarab vopr ${seed}`, workerUrl: fakeWorker,
    fleet: { ...defaultFleetFlags(), json, seedTimeoutS: 0.3, recheck: { numerator: 1, denominator: 1 } }, ...fields,
  };
}

describe("the fleet's worker pool", () => {
  test("timeouts and dead workers are recorded once each, replaced, and the fleet goes on", async () => {
    const json = join(directory, "pool.jsonl");
    const code = await runFleet(options(json));
    const lines = readFileSync(json, "utf8").trim().split("\n").map((line) => JSON.parse(line) as SeedLine);
    const seeds = lines.filter((line) => line.type === "seed");
    const expected = fleetSeeds(3n, 12);
    expect(seeds.map((line) => line.seed).sort()).toEqual(expected.map(String).sort());
    for (const line of seeds) {
      const kind = BigInt(line.seed) % 4n;
      if (kind === 1n) expect(line).toMatchObject({ exitCode: 124, outcome: "timeout: over 0.3 s of wall clock", rechecked: false });
      else if (kind === 2n) expect(line).toMatchObject({ exitCode: 127, outcome: "worker exited with code 3" });
      else expect(line).toMatchObject({ exitCode: 0, outcome: "passed", rechecked: true });
    }
    const kinds = expected.map((seed) => seed % 4n);
    expect(kinds).toContain(1n);
    expect(kinds).toContain(2n);
    expect(code).toBe(127);
    const text = output.join("");
    for (const seed of expected.filter((seed) => seed % 4n === 1n)) expect(text).toContain(`replay: scarab vopr ${seed}`);
  });

  test("a worker that cannot start fails the fleet rather than being restarted forever", async () => {
    const code = await runFleet(options(join(directory, "broken.jsonl"), { argv: ["--broken"] }));
    expect(code).toBe(127);
    const text = output.join("");
    expect(text).toContain("vopr: a worker failed to start: worker crashed: Error: this build is broken");
    expect(text).toContain("vopr: 12 seed(s) not run: no worker could start");
  });
});
