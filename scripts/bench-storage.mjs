#!/usr/bin/env node
// The data file's two Storage backends side by side: the portable one (node:fs, grouped
// fdatasync) and io_uring + O_DIRECT (durable through grouped fdatasync, or through O_DSYNC).
// Uses the compiled modules in dist/ (`npm run build`), so it measures what the replica runs.
//
// Writes are what the replica waits for (a WAL write must be durable before a prepare_ok), so
// every write counts as done only when its callback says it is durable. Reads of the portable
// backend come from the page cache when the file was just written (it is buffered); O_DIRECT
// reads go to the device each time: the replica's own block cache is meant to absorb repeats.
import { mkdtempSync, rmSync } from "node:fs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const usage = `Usage: node scripts/bench-storage.mjs [--dir <path>] [--write-mib <n>] [--reads <n>] [--rounds <n>] [--json]

Per backend: sequential 1 MiB durable writes at queue depth 1 and 8, 4 KiB durable writes at
depth 16 (small writes growing the file: where O_DSYNC and grouped fdatasync differ most), then
4 KiB random reads at queue depth 1 and 32 over what was written. Prints MB/s (10^6 bytes/s) and p50/p99 latency, each
the median over --rounds rounds; the backends take turns within a round, so that a neighbour's
load on a shared machine spreads over all of them rather than falling on one.

  --dir <path>     where the temporary data files go (default: a directory under the cwd's
                   filesystem, ./bench-storage-*; tmpfs would not measure a disk)
  --write-mib <n>  MiB written per write case (default 256)
  --reads <n>      reads per read case (default 20000)
  --rounds <n>     rounds (default 3)
  --aligned        pass 4096-aligned buffers (zero-copy for io_uring) instead of ordinary ones
  --json           one JSON object instead of the table`;

function parseArgs(argv) {
  const options = { dir: null, writeMib: 256, reads: 20000, rounds: 3, aligned: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return { ...options, help: true };
    if (arg === "--json") options.json = true;
    else if (arg === "--aligned") options.aligned = true;
    else if (arg === "--dir") options.dir = argv[++i];
    else if (arg === "--write-mib") options.writeMib = positive(argv[++i], arg);
    else if (arg === "--reads") options.reads = positive(argv[++i], arg);
    else if (arg === "--rounds") options.rounds = positive(argv[++i], arg);
    else throw new Error(`unknown argument: ${arg}`);
  }
  return options;
}

function positive(text, flag) {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer`);
  return value;
}

async function loadModules() {
  const url = (path) => new URL(`../dist/src/${path}`, import.meta.url);
  const paths = ["core/config.js", "core/native_addon.js", "io/storage.js", "io/data_file/file_storage.js", "io/data_file/uring_storage.js"];
  if (paths.some((path) => !existsSync(fileURLToPath(url(path))))) throw new Error("dist/ is missing; run `npm run build` first");
  const [config, native, storage, file, uring] = await Promise.all(paths.map((path) => import(url(path).href)));
  return { testConfig: config.testConfig, nativeAddon: native.nativeAddon, Zone: storage.Zone,
    FileStorage: file.FileStorage, UringStorage: uring.UringStorage };
}

/** The backends compared: each opens a fresh data file of the test layout (the grid starts early). */
function backends(modules) {
  const { testConfig, nativeAddon, FileStorage, UringStorage } = modules;
  const size = testConfig.zones.gridOffset;
  const list = [{ name: "portable (node:fs, fdatasync)", open: (path) => new FileStorage(path, testConfig, { create: true, sizeBytes: size }) }];
  if (nativeAddon?.uringCreate === undefined) return list;
  const uring = (options) => (path) => new UringStorage(path, testConfig, nativeAddon, { create: true, sizeBytes: size, ...options });
  list.push({ name: "io_uring + O_DIRECT, fdatasync", open: uring({}) });
  list.push({ name: "io_uring + O_DIRECT, O_DSYNC", open: uring({ durability: "dsync" }) });
  list.push({ name: "io_uring + O_DIRECT, fdatasync, no growth steps", open: uring({ growStepBytes: 0 }) });
  return list;
}

/** A Uint8Array of `size` bytes; with `aligned`, a view starting on a 4096-byte boundary. */
function makeBuffer(modules, size, aligned, fill) {
  if (!aligned) return new Uint8Array(size).fill(fill);
  const backing = new Uint8Array(size + 4096);
  const misalignment = modules.nativeAddon.bufferAlignment(backing);
  return backing.subarray((4096 - misalignment) % 4096, (4096 - misalignment) % 4096 + size).fill(fill);
}

/** Runs `count` operations, `depth` at a time; returns elapsed seconds and each one's latency (ms). */
function runOps(count, depth, start) {
  return new Promise((resolve) => {
    const latencies = new Float64Array(count);
    let started = 0;
    let done = 0;
    const begin = process.hrtime.bigint();
    const launch = () => {
      const index = started++;
      const t0 = process.hrtime.bigint();
      start(index, () => {
        latencies[index] = Number(process.hrtime.bigint() - t0) / 1e6;
        done += 1;
        if (done === count) return resolve({ seconds: Number(process.hrtime.bigint() - begin) / 1e9, latencies });
        if (started < count) launch();
      });
    };
    for (let i = 0; i < Math.min(depth, count); i++) launch();
  });
}

function summary(workload, bytesPerOp, count, { seconds, latencies }) {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { workload, mbPerSecond: (bytesPerOp * count) / seconds / 1e6, p50Ms: at(0.5), p99Ms: at(0.99), seconds };
}

async function benchBackend(modules, backend, directory, options) {
  const { Zone } = modules;
  const path = join(directory, `${backend.name.replace(/[^a-z0-9]+/gi, "_")}.scarab`);
  const storage = backend.open(path);
  const mib = 1024 * 1024;
  const writes = options.writeMib;
  const results = [];
  const writeBuffers = Array.from({ length: 8 }, (_, i) => makeBuffer(modules, mib, options.aligned, i + 1));
  for (const depth of [1, 8]) {
    const base = depth === 1 ? 0 : writes * mib; // the second case grows the file further
    const run = await runOps(writes, depth, (index, done) =>
      storage.write(Zone.grid, base + index * mib, writeBuffers[index % 8], done));
    results.push(summary(`write 1 MiB seq, depth ${depth}`, mib, writes, run));
  }
  const small = 4000;
  const smallBuffers = Array.from({ length: 16 }, (_, i) => makeBuffer(modules, 4096, options.aligned, i + 1));
  const smallBase = 2 * writes * mib;
  const smallRun = await runOps(small, 16, (index, done) =>
    storage.write(Zone.grid, smallBase + index * 4096, smallBuffers[index % 16], done));
  results.push(summary("write 4 KiB seq, depth 16", 4096, small, smallRun));
  const sectors = (2 * writes * mib) / 4096;
  const readBuffers = Array.from({ length: 32 }, () => makeBuffer(modules, 4096, options.aligned, 0));
  let seed = 12345;
  const nextSector = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % sectors;
  for (const depth of [1, 32]) {
    const run = await runOps(options.reads, depth, (index, done) =>
      storage.read(Zone.grid, nextSector() * 4096, readBuffers[index % 32], done));
    results.push(summary(`read 4 KiB random, depth ${depth}`, 4096, options.reads, run));
  }
  await new Promise((resolve) => storage.close(resolve));
  rmSync(path, { force: true });
  return { backend: backend.name, results };
}

/** Per workload, the median of each figure over the rounds. */
function medians(backend, roundsResults) {
  const median = (values) => Float64Array.from(values).sort()[Math.floor(values.length / 2)];
  const results = roundsResults[0].map((first, index) => ({
    workload: first.workload,
    mbPerSecond: median(roundsResults.map((results) => results[index].mbPerSecond)),
    p50Ms: median(roundsResults.map((results) => results[index].p50Ms)),
    p99Ms: median(roundsResults.map((results) => results[index].p99Ms)),
    rounds: roundsResults.map((results) => Math.round(results[index].mbPerSecond)),
  }));
  return { backend, results };
}

function printTable(all, options) {
  console.log(`storage benchmark: ${options.writeMib} MiB per write case, ${options.reads} reads per read case, ` +
    `${options.aligned ? "4096-aligned" : "ordinary (unaligned)"} buffers, median of ${options.rounds} rounds`);
  for (const { backend, results } of all) {
    console.log(`\n${backend}`);
    for (const r of results) {
      console.log(`  ${r.workload.padEnd(30)} ${r.mbPerSecond.toFixed(1).padStart(8)} MB/s   p50 ${r.p50Ms.toFixed(3).padStart(8)} ms` +
        `   p99 ${r.p99Ms.toFixed(3).padStart(8)} ms   (rounds: ${r.rounds.join(", ")} MB/s)`);
    }
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) return console.log(usage);
  const modules = await loadModules();
  const directory = mkdtempSync(join(options.dir ?? process.cwd(), "bench-storage-"));
  try {
    const list = backends(modules);
    const rounds = [];
    for (let round = 0; round < options.rounds; round++) {
      const results = [];
      for (const backend of list) results.push(await benchBackend(modules, backend, directory, options));
      rounds.push(results);
    }
    const all = list.map((backend, index) => medians(backend.name, rounds.map((results) => results[index].results)));
    if (options.json) console.log(JSON.stringify({ options, results: all }));
    else printTable(all, options);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench-storage: ${error.message}`);
  process.exitCode = 1;
});
