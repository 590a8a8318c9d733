// The temporary cluster of `scarab benchmark`: a fresh directory, `scarab format` for each
// replica, `scarab start` child processes on free loopback ports (each with a Prometheus endpoint),
// and a teardown that always runs — SIGTERM, wait, SIGKILL if needed, remove the directory — on
// success, on error, on Ctrl-C, and (best effort, synchronously) when this process exits.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "../io/tcp_client_bus.js";
import { BenchmarkFailure } from "./benchmark_load.js";
import { scrape } from "./benchmark_scrape.js";

const host = "127.0.0.1";
const startTimeoutMs = 60_000;
const stopTimeoutMs = 15_000;

/** bin/scarab.js of this package, found from this module (src/cli in tests, dist/src/cli installed). */
export function scarabBin(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const candidate = join(directory, "bin", "scarab.js");
    if (existsSync(candidate) && existsSync(join(directory, "package.json"))) return candidate;
    directory = dirname(directory);
  }
  throw new BenchmarkFailure("cannot find bin/scarab.js beside this package's package.json");
}

/** Ports the OS says are free now (all held open together, so they are distinct). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, host, resolve);
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

interface Child {
  readonly replica: number;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  exitedAlready: boolean;
}

export class TemporaryCluster {
  readonly directory: string;
  readonly addresses: Address[] = [];
  readonly metricsAddresses: Address[] = [];
  private readonly children: Child[] = [];
  private stopping = false;
  /** Called once if a replica exits while the cluster is meant to be up. */
  private onCrash: ((message: string) => void) | null = null;
  private readonly exitGuard = () => this.killNow();

  constructor(readonly replicaCount: number, readonly cluster: bigint, readonly development: boolean) {
    this.directory = mkdtempSync(join(tmpdir(), "scarab-benchmark-"));
    process.once("exit", this.exitGuard);
  }

  dataFile(replica: number): string {
    return join(this.directory, `0_${replica}.scarab`);
  }

  logFile(replica: number): string {
    return join(this.directory, `replica_${replica}.log`);
  }

  /** Formats every data file, starts every replica, waits until one is a primary in status normal. */
  async start(onCrash: (message: string) => void): Promise<void> {
    const bin = scarabBin();
    for (let replica = 0; replica < this.replicaCount; replica++) {
      const args = [bin, "format", `--cluster=${this.cluster}`, `--replica=${replica}`, `--replica-count=${this.replicaCount}`,
        ...(this.development ? ["--development"] : []), this.dataFile(replica)];
      const { code, stderr } = await runToEnd(args);
      if (code !== 0) throw new BenchmarkFailure(`scarab format of replica ${replica} failed (exit ${code}): ${stderr.trim()}`);
    }
    const ports = await freePorts(2 * this.replicaCount);
    for (let replica = 0; replica < this.replicaCount; replica++) {
      this.addresses.push({ host, port: ports[replica]! });
      this.metricsAddresses.push({ host, port: ports[this.replicaCount + replica]! });
    }
    const addressList = this.addresses.map((address) => `${address.host}:${address.port}`).join(",");
    for (let replica = 0; replica < this.replicaCount; replica++) {
      const metrics = this.metricsAddresses[replica]!;
      this.spawnReplica(replica, [bin, "start", `--addresses=${addressList}`, `--metrics-address=${metrics.host}:${metrics.port}`,
        ...(this.development ? ["--development"] : []), this.dataFile(replica)]);
    }
    await this.waitServing();
    this.onCrash = onCrash;
  }

  private spawnReplica(replica: number, args: string[]): void {
    const log = openSync(this.logFile(replica), "a");
    // Its own process group: a Ctrl-C at the terminal reaches only the benchmark, which then stops
    // the replicas itself (instead of racing them to report their exit as a crash).
    const child = spawn(process.execPath, args, { stdio: ["ignore", log, log], detached: true });
    closeSync(log);
    const entry: Child = {
      replica, process: child, exitedAlready: false,
      exited: new Promise((resolve) => child.once("exit", (code, signal) => {
        entry.exitedAlready = true;
        resolve();
        if (!this.stopping) {
          this.onCrash?.(`replica ${replica} exited (${signal ?? `code ${code}`}) during the benchmark; its log ends:\n${this.logTail(replica)}`);
        }
      })),
    };
    this.children.push(entry);
  }

  private async waitServing(): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      const exited = this.children.find((child) => child.exitedAlready);
      if (exited !== undefined) throw new BenchmarkFailure(`replica ${exited.replica} exited while starting; its log ends:\n${this.logTail(exited.replica)}`);
      const scraped = await Promise.all(this.metricsAddresses.map((address) => scrape(address, 1000)));
      const normal = scraped.filter((values) => values?.get('scarab_status{status="normal"}') === 1);
      const primary = normal.some((values) => values?.get("scarab_primary") === 1);
      if (normal.length === this.replicaCount && primary) return;
      await sleep(100);
    }
    throw new BenchmarkFailure(`the temporary cluster did not become ready within ${startTimeoutMs / 1000} s; replica 0's log ends:\n${this.logTail(0)}`);
  }

  /** The data file's apparent size and the bytes it occupies on disk (it is sparse). */
  dataFileSize(replica: number): { bytes: number; allocatedBytes: number } | null {
    try {
      const stat = statSync(this.dataFile(replica));
      return { bytes: stat.size, allocatedBytes: stat.blocks * 512 };
    } catch {
      return null;
    }
  }

  logTail(replica: number, lines = 25): string {
    try {
      return readFileSync(this.logFile(replica), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** SIGTERM every replica (SIGKILL after 15 s), then removes the directory. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const child of this.children) if (!child.exitedAlready) child.process.kill("SIGTERM");
    const all = Promise.all(this.children.map((child) => child.exited));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), stopTimeoutMs);
    })]);
    clearTimeout(timer);
    if (timedOut) {
      for (const child of this.children) if (!child.exitedAlready) child.process.kill("SIGKILL");
      await all;
    }
    rmSync(this.directory, { recursive: true, force: true });
    process.removeListener("exit", this.exitGuard);
  }

  /** Last resort at process exit (an uncaught error): kill the replicas and delete their files. */
  private killNow(): void {
    this.stopping = true;
    for (const child of this.children) if (!child.exitedAlready) child.process.kill("SIGKILL");
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function runToEnd(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    child.once("error", (error) => resolve({ code: null, stderr: error.message }));
    child.once("close", (code) => resolve({ code, stderr }));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
