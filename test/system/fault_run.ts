// One scenario of the multi-process fault test (TigerBeetle's Vörtex and Jepsen in miniature):
// format 3 replicas (--development) in a temp dir, start them as real processes behind the fault
// proxy, run the official client's workload while the nemesis injects process and network faults,
// then heal everything and check: every acknowledged transfer exists, every account matches the
// model, the replicas converge, stop cleanly on SIGTERM, and none exited unless told to.
//
// Runs as its own process (runner_process.ts starts it in a new process group, with the TypeScript
// loader ts_loader.mjs): the official client logs to fd 2 and aborts its process on a protocol
// violation, and neither may reach the test runner. Prints progress lines and, last, one line
// "VERDICT {json}"; exit code 0 (pass) or 1.
//
//   node --import ./test/system/ts_loader.mjs test/system/fault_run.ts --duration=25 --seed=1
//   options: --duration=S (load, default 25) --seed=N --transfers=N (default 3500) --accounts=N
//            (default 64) --lanes=N (default 4) --progress=S (default 5) --keep (keep the temp dir)
//            --metrics-keep-alive (scrape like Prometheus: shows the slow exit after SIGTERM)
//            --allow-wire-violations (the proxy's framing violations become warnings)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Cluster, freePorts, sleep } from "./cluster.js";
import { FaultProxy, type LinkSpec } from "./fault_proxy.js";
import { Nemesis, type FaultKind } from "./nemesis.js";
import { Random } from "./random.js";
import { Workload, type VerifyResult, type WorkloadStats } from "./workload.js";

export interface ScenarioOptions {
  readonly seed: number;
  /** Seconds of load (the nemesis goes on until every fault kind ran at least once). */
  readonly durationSec: number;
  readonly transfers: number;
  readonly accounts: number;
  readonly lanes: number;
  readonly progressSec: number;
  readonly keep: boolean;
  /** Scrape /metrics with keep-alive connections, like Prometheus (reproduces a slow SIGTERM exit). */
  readonly metricsKeepAlive: boolean;
  /** Report the proxy's framing violations as warnings, not failures (to look past a known wire bug). */
  readonly allowWireViolations: boolean;
  readonly log: (line: string) => void;
}

export interface Verdict {
  ok: boolean;
  seed: number;
  durationSec: number;
  elapsedSec: number;
  /** Acknowledged transfers per second of load. */
  tps: number;
  faults: Record<FaultKind, number>;
  workload: WorkloadStats | null;
  verify: VerifyResult | null;
  proxy: { connections: number; dropped: number; refused: number; bytes: number } | null;
  replicaStarts: number[];
  problems: string[];
  /** Framing violations, when allowWireViolations made them warnings. */
  warnings: string[];
  dir: string;
}

const replicaCount = 3;
const clusterId = 0xfa17n;
const healTimeoutMs = 60_000;
/** The --development message size (src/core/config.ts testConfig). */
const messageSizeMax = 4096;

export async function runScenario(options: ScenarioOptions): Promise<Verdict> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "scarab-fault-"));
  const problems: string[] = [];
  const problem = (line: string) => {
    problems.push(line);
    options.log(`PROBLEM: ${line}`);
  };
  const at = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s]`;
  const log = (line: string) => options.log(`${at()} ${line}`);
  const proxy = new FaultProxy(options.seed, messageSizeMax);
  let cluster: Cluster | null = null;
  let workload: Workload | null = null;
  let nemesis: Nemesis | null = null;
  let verify: VerifyResult | null = null;
  let stats: WorkloadStats | null = null;
  let loadMs = 0;
  let ticker: NodeJS.Timeout | null = null;
  try {
    // One call, so the ports are distinct: two calls could hand out the same free port twice (the
    // 30-minute run lost an epoch to a replica port that was also another replica's metrics port).
    const free = await freePorts(2 * replicaCount);
    const [ports, metricsPorts] = [free.slice(0, replicaCount), free.slice(replicaCount)];
    const links: LinkSpec[] = [];
    for (let to = 0; to < replicaCount; to++) {
      links.push({ from: "client", to, targetPort: ports[to]! });
      for (let from = 0; from < replicaCount; from++) if (from !== to) links.push({ from, to, targetPort: ports[to]! });
    }
    await proxy.listen(links);
    const addresses = ports.map((port, self) => ports.map((_, peer) =>
      `127.0.0.1:${peer === self ? port : proxy.port(self, peer)}`).join(","));
    cluster = new Cluster({ dir, clusterId, replicaCount, ports, metricsPorts, addresses, metricsKeepAlive: options.metricsKeepAlive });
    log(`seed ${options.seed}, ${options.durationSec} s of load, ${options.transfers} transfers, dir ${dir}`);
    await cluster.format();
    for (let i = 0; i < replicaCount; i++) cluster.start(i);
    if (!(await cluster.waitAllNormal(healTimeoutMs))) throw new Error("the cluster did not reach status normal");
    const primary = await cluster.primary();
    log(`cluster up: primary r${primary?.replica} view ${primary?.view}`);

    const clientAddresses = ports.map((_, to) => `127.0.0.1:${proxy.port("client", to)}`);
    workload = new Workload({ clusterId, addresses: clientAddresses, accounts: options.accounts, batchSize: 25,
      lanes: options.lanes, transferBudget: options.transfers, random: new Random(options.seed, 3) });
    stats = workload.stats;
    await workload.createAccounts(healTimeoutMs);
    log(`${options.accounts} accounts created`);

    const loadStart = Date.now();
    const loadEnd = loadStart + options.durationSec * 1000;
    workload.start(options.durationSec * 1000);
    nemesis = new Nemesis({ cluster, proxy, random: new Random(options.seed, 2), log, problem });
    let lastAcknowledged = 0;
    let lastTick = Date.now();
    const w = workload;
    const n = nemesis;
    ticker = setInterval(() => {
      const now = Date.now();
      const rate = ((w.stats.acknowledged - lastAcknowledged) * 1000) / Math.max(1, now - lastTick);
      [lastAcknowledged, lastTick] = [w.stats.acknowledged, now];
      const faults = Object.values(n.counts).reduce((a, b) => a + b, 0);
      log(`acknowledged ${w.stats.acknowledged} (${rate.toFixed(0)} tx/s) sent ${w.stats.sent} maybe ${w.stats.maybe} ` +
        `lookups ${w.stats.lookupRequests} in flight ${w.outstanding} | faults ${faults}`);
    }, options.progressSec * 1000);
    // The nemesis may run past the load's end (bounded) until every fault kind ran once.
    const hardEnd = loadEnd + Math.max(60_000, options.durationSec * 1000);
    await nemesis.run(() => Date.now() >= hardEnd || (Date.now() >= loadEnd && n.covered));
    const remaining = loadEnd - Date.now();
    if (remaining > 0) await sleep(remaining);
    workload.stop();
    loadMs = Date.now() - loadStart;
    if (!nemesis.covered) problem("not every fault kind ran (the cluster was too slow to become healthy between faults)");

    clearInterval(ticker);
    log("healing: proxy faults off, every replica resumed and started");
    proxy.heal();
    cluster.healAll();
    if (!(await cluster.waitAllNormal(healTimeoutMs))) {
      problem(`liveness: not all replicas in status normal ${healTimeoutMs / 1000} s after healing: ` +
        JSON.stringify(await cluster.allMetrics()));
    }
    if (!(await workload.drain(healTimeoutMs))) {
      problem(`liveness: ${workload.outstanding} requests still outstanding ${healTimeoutMs / 1000} s after healing`);
      workload.renewClient();
    }
    log(`load over: ${workload.stats.acknowledged} acknowledged, ${workload.stats.maybe} maybe; verifying`);
    verify = await workload.verify(healTimeoutMs);
    for (const line of [...workload.problems, ...verify.problems]) problem(line);
    log(`verified ${verify.acknowledgedChecked} acknowledged and ${verify.maybeChecked} maybe transfers ` +
      `(${verify.maybeFound} exist), ${verify.accountsChecked} accounts`);
    await checkConvergence(cluster, problem, log);
    workload.destroy();
    workload = null;
    for (const line of await cluster.stopAll(5000)) problem(line);
  } catch (error) {
    problem(`scenario aborted: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  } finally {
    if (ticker !== null) clearInterval(ticker);
    nemesis?.stop();
    workload?.destroy();
    if (cluster !== null) {
      for (let i = 0; i < replicaCount; i++) await cluster.killNow(i);
      for (const exit of cluster.crashes()) {
        problem(`replica ${exit.replica} (pid ${exit.pid}) exited unexpectedly: code ${exit.code} signal ${exit.signal}; ` +
          `log ${cluster.logPath(exit.replica)}, last lines:\n${cluster.logTail(exit.replica)}`);
      }
    }
    await proxy.close();
    if (proxy.violations.length > 0) {
      const summary = `wire: ${proxy.violations.length}${proxy.violations.length >= 20 ? "+" : ""} streams broke framing; ` +
        `the first ${Math.min(3, proxy.violations.length)}:\n  ${proxy.violations.slice(0, 3).join("\n  ")}`;
      if (options.allowWireViolations) options.log(`WARNING (allowed): ${summary}`);
      else problem(summary);
    }
  }
  const ok = problems.length === 0;
  if (ok && !options.keep) rmSync(dir, { recursive: true, force: true });
  return {
    ok, seed: options.seed, durationSec: options.durationSec, elapsedSec: (Date.now() - started) / 1000,
    tps: loadMs > 0 && stats !== null ? Math.round((stats.acknowledged * 1000) / loadMs) : 0,
    faults: nemesis?.counts ?? ({} as Record<FaultKind, number>),
    workload: stats, verify,
    proxy: { connections: proxy.stats.connections, dropped: proxy.stats.dropped, refused: proxy.stats.refused, bytes: proxy.stats.bytes },
    replicaStarts: cluster === null ? [] : Array.from({ length: replicaCount }, (_, i) => cluster!.starts(i)),
    problems, warnings: options.allowWireViolations ? [...proxy.violations] : [], dir,
  };
}

/** After the load: every replica executes up to the highest known commit (bounded). */
async function checkConvergence(cluster: Cluster, problem: (line: string) => void, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 30_000;
  let metrics = await cluster.allMetrics();
  while (Date.now() < deadline) {
    const target = Math.max(...metrics.map((m) => m?.commitMax ?? 0));
    if (metrics.every((m) => m !== null && m.commitMin === target)) {
      log(`converged: every replica executed op ${target}`);
      return;
    }
    await sleep(250);
    metrics = await cluster.allMetrics();
  }
  problem(`replicas did not converge within 30 s: ${JSON.stringify(metrics)}`);
}

function parseArgs(argv: string[]): ScenarioOptions {
  const values: Record<string, string> = {};
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unknown argument: ${arg}`);
    values[match[1]!] = match[2] ?? "true";
  }
  const number = (name: string, fallback: number) => {
    if (values[name] === undefined) return fallback;
    const value = Number(values[name]);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} needs a non-negative integer`);
    return value;
  };
  for (const name of Object.keys(values)) {
    if (!["duration", "seed", "transfers", "accounts", "lanes", "progress", "keep", "metrics-keep-alive", "allow-wire-violations"].includes(name)) throw new Error(`unknown option --${name}`);
  }
  return {
    seed: number("seed", Math.floor(Math.random() * 2 ** 32)), durationSec: number("duration", 25),
    transfers: number("transfers", 3500), accounts: Math.max(2, number("accounts", 64)), lanes: Math.max(1, number("lanes", 4)),
    progressSec: Math.max(1, number("progress", 5)), keep: values.keep === "true",
    metricsKeepAlive: values["metrics-keep-alive"] === "true", allowWireViolations: values["allow-wire-violations"] === "true", log: (line) => console.log(line),
  };
}

async function main(): Promise<void> {
  // Started by runner_process.ts as the leader of its own process group: if that parent goes
  // away (stdin closes), take the whole group down (the replicas included).
  if (process.env.SCARAB_FAULT_GROUP === "1") {
    process.stdin.on("end", () => process.kill(-process.pid, "SIGKILL"));
    process.stdin.resume();
  }
  const options = parseArgs(process.argv.slice(2));
  const verdict = await runScenario(options);
  console.log(`VERDICT ${JSON.stringify(verdict)}`);
  process.exit(verdict.ok ? 0 : 1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
