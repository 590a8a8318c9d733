#!/usr/bin/env node
// Compares the simulator's speed of two builds: runs the same seeds on both at once, each in a
// process of its own pinned to a core of its own (swapping cores every round), and adds up the
// rounds. On a shared VM whose speed drifts by a third within minutes, only runs side by side
// compare builds; a change of a few percent needs several rounds to show.
//
// Each side is a directory holding a compiled build (its dist/, as `npm run build` leaves it, and
// its build/Release addon if any), e.g. a `git worktree` of another commit. The seeds run in
// process through runSimulation with that build's own `scarab vopr` heap options, after warm-up
// seeds that are not counted; the trace digests of the two sides are printed, so a change that
// should leave the runs alone can be seen to.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const usage = `Usage: node scripts/bench-vopr-ab.mjs --a <dir> --b <dir> [--seeds <n>] [--from <seed>] [--rounds <n>]
       [--ticks-max <n>]

Runs --seeds seeds from --from on build A and build B at once, --rounds times, each side pinned
to its own core (taskset, when present), and prints each round's simulated-time ratio per core,
the sums, B's speed relative to A's, and both trace digests.

  --a, --b <dir>   a checkout with a compiled dist/ (the one not given: this checkout)
  --seeds <n>      seeds per side per round (default 16)
  --from <seed>    first seed (default 2026)
  --rounds <n>     rounds (default 4)
  --warmup <n>     uncounted seeds before them, per process (default 2)
  --ticks-max <n>  both tick budgets of each seed (default 200000, the fleet figures' budget)`;

const childFlag = "--child";

if (process.argv[2] === childFlag) await child(process.argv.slice(3));
else await main();

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        a: { type: "string" }, b: { type: "string" }, seeds: { type: "string", default: "16" },
        from: { type: "string", default: "2026" }, rounds: { type: "string", default: "4" },
        warmup: { type: "string", default: "2" }, "ticks-max": { type: "string", default: "200000" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    fail(error.message);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
  if (values.a === undefined && values.b === undefined) fail("name another checkout with --a or --b");
  const sides = [{ name: "A", dir: resolve(values.a ?? root) }, { name: "B", dir: resolve(values.b ?? root) }];
  for (const side of sides) {
    for (const module of ["sim/runner/simulator.js", "cli/heap_options.js"]) {
      if (!existsSync(join(side.dir, "dist", "src", module))) {
        fail(`${side.dir}: no compiled dist/src/${module}; run \`npm run build\` there`);
      }
    }
  }
  const counts = {};
  for (const name of ["seeds", "rounds", "warmup", "ticks-max"]) {
    const value = Number(values[name]);
    if (!Number.isSafeInteger(value) || value < (name === "warmup" ? 0 : 1)) fail(`--${name} must be a positive integer`);
    counts[name] = value;
  }
  if (!/^\d+$/.test(values.from)) fail("--from must be a decimal seed");
  const pinned = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
  console.log(`${counts.seeds} seeds from ${values.from}, ${counts.rounds} rounds, ${pinned ? "each side pinned to a core" : "unpinned (no taskset)"}`);
  const totals = sides.map(() => ({ ticks: 0, cpuUs: 0, digests: new Set() }));
  for (let round = 0; round < counts.rounds; round++) {
    const results = await Promise.all(sides.map((side, index) => run(side.dir, pinned ? (index + round) % 2 : null, {
      seeds: counts.seeds, from: values.from, warmup: counts.warmup, ticksMax: counts["ticks-max"],
    })));
    const line = results.map((result, index) => {
      totals[index].ticks += result.ticks;
      totals[index].cpuUs += result.cpuUs;
      totals[index].digests.add(result.digest);
      return `${sides[index].name} ${ratio(result.ticks, result.cpuUs)}x`;
    });
    console.log(`round ${round + 1}: ${line.join("  ")}`);
  }
  const ratios = totals.map((total) => total.ticks * 10_000 / total.cpuUs);
  sides.forEach((side, index) => {
    const total = totals[index];
    console.log(`${side.name} ${side.dir}: ${total.ticks} ticks in ${(total.cpuUs / 1e6).toFixed(2)} s of CPU, ` +
      `${Math.round(ratios[index])}x real time per core, digest ${[...total.digests].join(",")}`);
  });
  const same = [...totals[0].digests].join() === [...totals[1].digests].join();
  console.log(`B/A: ${(ratios[1] / ratios[0]).toFixed(3)} (${same ? "the same runs" : "different runs: the digests differ"})`);
}

/** Runs one side's seeds in a child process, with its own `vopr` heap options; resolves with its ticks, CPU time and digest. */
async function run(dir, core, options) {
  const { heapOptionsFor } = await import(pathToFileURL(join(dir, "dist", "src", "cli", "heap_options.js")).href);
  const args = [...heapOptionsFor("vopr"), fileURLToPath(import.meta.url), childFlag, dir, options.from, String(options.seeds),
    String(options.warmup), String(options.ticksMax)];
  const [command, argv] = core === null ? [process.execPath, args] : ["taskset", ["-c", String(core), process.execPath, ...args]];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk) => { output += chunk; });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${dir}: the seeds exited with code ${code}`));
      resolvePromise(JSON.parse(output));
    });
  });
}

async function child([dir, from, seeds, warmup, ticksMax]) {
  const { runSimulation } = await import(pathToFileURL(join(dir, "dist", "src", "sim", "runner", "simulator.js")).href);
  const { createHash } = await import("node:crypto");
  const options = {
    ticksMaxRequests: Number(ticksMax), ticksMaxConvergence: Number(ticksMax), log: "none", stateMachine: "accounting",
    write: () => {},
  };
  // Warm-up seeds far from the measured ones, so that both sides compile the same code first.
  for (let index = 0; index < Number(warmup); index++) runSimulation(1000n + BigInt(index), options);
  const hash = createHash("sha256");
  let ticks = 0;
  const start = process.cpuUsage();
  for (let index = 0n; index < BigInt(seeds); index++) {
    const result = runSimulation(BigInt(from) + index, options);
    ticks += result.ticks;
    hash.update(`${result.traceHash} ${result.outcome}\n`);
  }
  const cpu = process.cpuUsage(start);
  process.stdout.write(JSON.stringify({ ticks, cpuUs: cpu.user + cpu.system, digest: hash.digest("hex").slice(0, 16) }));
}

function ratio(ticks, cpuUs) {
  return Math.round(ticks * 10_000 / cpuUs); // a tick is 10 ms: ticks × 10⁴ µs of simulated time per µs of CPU
}

function fail(message) {
  console.error(`bench-vopr-ab: ${message}\n\n${usage}`);
  process.exit(1);
}
