// `scarab benchmark`: its flags, its figures, and real runs — a temporary cluster it starts and
// removes itself (the replicas are `node bin/scarab.js start`, so that part needs dist/), and an
// existing cluster given by --addresses, where a second run must fail on the accounts it repeats.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import { parseBenchmarkArgs, runBenchmark } from "../../src/cli/benchmark.js";
import { LatencyHistogram, summary } from "../../src/cli/benchmark_latency.js";
import { checkResults } from "../../src/cli/benchmark_load.js";
import { parsePrometheus } from "../../src/cli/benchmark_scrape.js";
import { ReplicaMetrics, serveMetrics } from "../../src/cli/metrics.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";
import { UsageError } from "../../src/cli/usage_error.js";
import { CreateTransferStatus, type Transfer } from "../../src/client/index.js";

const dist = new URL("../../dist/src/cli/main.js", import.meta.url);
const directory = mkdtempSync(join(tmpdir(), "scarab-benchmark-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function usageError(args: string[]): string {
  try {
    parseBenchmarkArgs(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${args.join(" ")}`);
}

/** Runs the command in this process; returns its exit code and what it printed on stdout. */
async function benchmark(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => { stdout.push(String(line)); });
  vi.spyOn(console, "error").mockImplementation((line: unknown) => { stderr.push(String(line)); });
  const code = await runBenchmark(args);
  vi.restoreAllMocks();
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

function temporaryDirectories(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith("scarab-benchmark-") && !name.startsWith("scarab-benchmark-test-"));
}

describe("flags", () => {
  test("defaults: a temporary 1-replica cluster, 10000 accounts, batches of 8189, one client, id() ids", () => {
    expect(parseBenchmarkArgs([])).toMatchObject({
      addresses: null, replicaCount: 1, accountCount: 10_000, transferCount: 1_000_000, transferBatchSize: 8189,
      clients: 1, callsPerClient: 1, idOrder: "sequential", seed: 42n, rate: null, json: false, cluster: 0n,
    });
    expect(parseBenchmarkArgs(["--rate=250000"])).toMatchObject({ rate: 250_000 });
    expect(parseBenchmarkArgs(["--calls-per-client=2"])).toMatchObject({ clients: 1, callsPerClient: 2 });
    expect(() => parseBenchmarkArgs(["--calls-per-client=0"])).toThrow(/calls-per-client/);
    expect(parseBenchmarkArgs(["--help"])).toBeNull();
    expect(parseBenchmarkArgs(["--addresses=3000,127.0.0.1:3001", "--metrics=9100,9101"])).toMatchObject({
      replicaCount: 2, addresses: [{ host: "127.0.0.1", port: 3000 }, { host: "127.0.0.1", port: 3001 }],
    });
    expect(parseBenchmarkArgs(["--embedded", "--transfer-count=5"])).toEqual({ embedded: true, accountCount: 10_000, transferCount: 5, batchSize: 8189 });
  });

  test.each([
    [["--clients=0"], "--clients must be an integer in [1, 64] (got '0')"],
    [["--clients=65"], "--clients must be an integer in [1, 64] (got '65')"],
    [["--transfer-batch-size=8190"], "--transfer-batch-size must be an integer in [1, 8189] (got '8190')"],
    [["--development", "--transfer-batch-size=30"], "--transfer-batch-size must be an integer in [1, 29] (got '30')"],
    [["--account-count=1"], "--account-count must be an integer in [2, 100000000] (got '1')"],
    [["--transfer-count=1e6"], "--transfer-count must be an integer in [1, 1000000000000] (got '1e6')"],
    [["--replica-count=7"], "--replica-count must be an integer in [1, 6] (got '7')"],
    [["--id-order=reversed"], "--id-order must be sequential or random (got 'reversed')"],
    [["--seed=-1"], "--seed must be a decimal u64 (got '-1')"],
    [["--rate=0"], "--rate must be an integer in [1, 1000000000] (got '0')"],
    [["--addresses=3000", "--replica-count=3"], "--replica-count cannot be used with --addresses (they describe a temporary cluster)"],
    [["--metrics=9100"], "--metrics needs --addresses (a temporary cluster is always scraped)"],
    [["--addresses=3000,3001", "--metrics=9100"], "--metrics must list one address per replica (2), got 1"],
    [["--addresses=3000:x"], "--addresses: invalid replica address '3000:x' (expected \"port\", \"host:port\" or \"[ipv6]:port\")"],
    [["--embedded", "--clients=2"], "--clients cannot be used with --embedded (it runs in process and always prints JSON)"],
  ])("%j is refused: %s", (args, message) => {
    expect(usageError(args)).toBe(message);
  });

  test("unknown flags and stray arguments are refused", () => {
    expect(usageError(["--transfers=10"])).toMatch(/Unknown option '--transfers'/);
    expect(usageError(["10"])).toMatch(/Unexpected argument '10'/);
  });
});

describe("figures", () => {
  test("latency percentiles: 0.1 ms buckets, p100 exact", () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) histogram.record(ms);
    histogram.record(12_345.6); // beyond the last bucket
    // A percentile is its bucket's upper bound: at most 0.1 ms above the true sample.
    expect(histogram.percentileMs(50)).toBeGreaterThanOrEqual(51);
    expect(histogram.percentileMs(50)).toBeLessThanOrEqual(51.1 + 1e-9);
    expect(histogram.percentileMs(99)).toBeGreaterThanOrEqual(100);
    expect(histogram.percentileMs(99)).toBeLessThanOrEqual(100.1 + 1e-9);
    expect(histogram.percentileMs(100)).toBe(12_345.6);
    expect(new LatencyHistogram().percentileMs(99)).toBe(0);
    expect(summary([5, 1, 3, 2])).toEqual({ min: 1, median: 2, max: 5 });
    expect(summary([])).toBeNull();
  });

  test("a result other than created is reported with the transfer and its status", () => {
    const batch = [1n, 2n, 3n].map((id) => ({ id }) as Transfer);
    const created = { status: CreateTransferStatus.created };
    expect(checkResults(batch, [created, created, created])).toBeNull();
    expect(checkResults(batch, [created, { status: CreateTransferStatus.exists }, { status: CreateTransferStatus.exceeds_credits }]))
      .toBe("2 of 3 transfers were not created; the first, id 2, failed with exists");
    expect(checkResults(batch, [created])).toBe("create_transfers returned 1 results for 3 transfers");
  });

  test("Prometheus text: plain and labelled samples, comments skipped", () => {
    const values = parsePrometheus("# HELP x y\n# TYPE x gauge\nscarab_view 3\nscarab_status{status=\"normal\"} 1\nscarab_x_total 1.5e+3\n");
    expect([...values]).toEqual([["scarab_view", 3], ["scarab_status{status=\"normal\"}", 1], ["scarab_x_total", 1500]]);
  });
});

describe.skipIf(!existsSync(dist))("runs", () => {
  test("a temporary 1-replica cluster: every transfer created, every figure present, nothing left behind", async () => {
    const before = temporaryDirectories();
    const { code, stdout, stderr } = await benchmark(["--transfer-count=20000", "--account-count=100", "--clients=2", "--json"]);
    expect(code, stderr).toBe(0);
    const figures = JSON.parse(stdout) as Record<string, unknown> & { replica: Record<string, number | null>[] };
    expect(figures).toMatchObject({ system: "scarab", cluster: "temporary", replicas: 1, clients: 2, calls_per_client: 1, transfers_created: 20_000, batches: 3 });
    expect(figures.transfers_per_second).toBeGreaterThan(0);
    const [p50, p99, p100] = [figures.batch_p50_ms, figures.batch_p99_ms, figures.batch_p100_ms] as number[];
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p99!);
    expect(p99).toBeLessThanOrEqual(p100!);
    expect(figures.rss_peak_bytes).toBeGreaterThan(20 * 1024 * 1024);
    const replica = figures.replica[0]!;
    expect(replica.datafile_bytes).toBeGreaterThan(1024 * 1024 * 1024); // sparse: the whole layout
    expect(replica.datafile_allocated_bytes).toBeGreaterThan(0);
    expect(replica.grid_bytes_written).toBeGreaterThanOrEqual(0); // scraped (null if not)
    expect(temporaryDirectories()).toEqual(before);
  });

  test("--addresses: text figures from an existing cluster; repeating its accounts fails the run", async () => {
    const path = join(directory, "existing.scarab");
    const addresses = [{ host: "127.0.0.1", port: 0 }];
    await new Promise<void>((resolve, reject) => formatDataFile({ path, cluster: 7n, replica: 0, addresses },
      (error) => (error ? reject(error) : resolve())));
    const metrics = new ReplicaMetrics();
    const host = await new Promise<ReplicaHost>((resolve, reject) => startReplica({ path, addresses, metrics },
      (error, started) => (error ? reject(error) : resolve(started!))));
    const server = await new Promise<Server>((resolve, reject) => serveMetrics(metrics, addresses[0]!,
      (error, listening) => (error ? reject(error) : resolve(listening!))));
    try {
      const metricsPort = (server.address() as { port: number }).port;
      const args = ["--cluster=7", `--addresses=${host.port}`, `--metrics=${metricsPort}`, "--account-count=50",
        "--transfer-count=3000", "--transfer-batch-size=1000", "--id-order=random", "--seed=9"];
      const first = await benchmark(args);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^transfers created = 3000$/m);
      expect(first.stdout).toMatch(/^3 batches in \d+\.\d\d s$/m);
      expect(first.stdout).toMatch(/^load accepted = [1-9]\d* tx\/s$/m);
      for (const p of [50, 99, 100]) expect(first.stdout).toMatch(new RegExp(`^batch latency p${p} = \\d+\\.\\d ms$`, "m"));
      expect(first.stdout).toMatch(/^rss peak = \d+ bytes \(\d+\.\d MiB\)$/m);
      expect(first.stdout).toMatch(/^datafile = unknown$/m); // not ours to stat
      expect(first.stdout).toMatch(/^bytes written per checkpoint = none \(no checkpoint during the run\)$/m);
      // Same seed, same random account ids: the cluster already has them.
      const second = await benchmark(args);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/scarab benchmark: account \d+ was not created: exists$/m);
      // --rate: batch k waits for its slot, k·1000/5000 s after the start, so 3 batches take ≥ 0.4 s.
      const paced = await benchmark([...args.filter((arg) => !arg.startsWith("--seed")), "--seed=10", "--rate=5000"]);
      expect(paced.code, paced.stderr).toBe(0);
      expect(paced.stdout).toMatch(/^load offered = 5000 tx\/s$/m);
      const seconds = Number(/^3 batches in (\d+\.\d\d) s$/m.exec(paced.stdout)?.[1]);
      expect(seconds).toBeGreaterThanOrEqual(0.4);
    } finally {
      server.close();
      await new Promise<void>((resolve) => host.stop(resolve));
    }
  });
});
