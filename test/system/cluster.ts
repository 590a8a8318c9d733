// Real replica processes for the multi-process fault test: `scarab format` and `scarab start`
// (bin/scarab.js, which needs dist/) as child processes, each replica's stdout and stderr appended
// to its own log file. Every exit is recorded with whether the schedule asked for it, so a crash
// (an exit nobody asked for) is found however short it was. The replicas stay in the runner's
// process group: whoever started the runner kills the group at the end (runner_process.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { Agent, get } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** bin/scarab.js, or SCARAB_FAULT_BIN (another build's bin/scarab.js, e.g. to try a fix). */
export const scarabBin = process.env.SCARAB_FAULT_BIN ?? fileURLToPath(new URL("../../bin/scarab.js", import.meta.url));
const host = "127.0.0.1";

export interface ReplicaExit {
  readonly replica: number;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The schedule sent this signal (SIGKILL, or SIGTERM with exit code 0). */
  readonly expected: boolean;
  readonly at: number;
}

export interface ReplicaMetrics {
  readonly view: number;
  readonly primary: boolean;
  readonly normal: boolean;
  readonly op: number;
  readonly commitMin: number;
  readonly commitMax: number;
}

interface Slot {
  readonly index: number;
  readonly path: string;
  readonly log: string;
  child: ChildProcess | null;
  paused: boolean;
  /** The signal the schedule sent and whose exit is therefore expected. */
  expecting: NodeJS.Signals | null;
  starts: number;
  exited: Promise<ReplicaExit> | null;
}

export interface ClusterOptions {
  readonly dir: string;
  readonly clusterId: bigint;
  readonly replicaCount: number;
  /** Real (listening) port of each replica. */
  readonly ports: readonly number[];
  readonly metricsPorts: readonly number[];
  /** addresses[i]: replica i's --addresses list (its own entry real, the others via the proxy). */
  readonly addresses: readonly string[];
  /**
   * Poll /metrics over keep-alive connections, as Prometheus does. Off by default: a replica that
   * a keep-alive scraper is connected to takes up to ~8 s to exit after SIGTERM (the metrics
   * server's idle connections hold its event loop; see the report), which fails the 5 s check.
   */
  readonly metricsKeepAlive?: boolean;
}

export class Cluster {
  readonly exits: ReplicaExit[] = [];
  private readonly slots: Slot[];

  constructor(readonly options: ClusterOptions) {
    this.slots = Array.from({ length: options.replicaCount }, (_, index) => ({
      index, path: join(options.dir, `0_${index}.scarab`), log: join(options.dir, `replica_${index}.log`),
      child: null, paused: false, expecting: null, starts: 0, exited: null,
    }));
  }

  get replicaCount(): number {
    return this.slots.length;
  }

  logPath(replica: number): string {
    return this.slots[replica]!.log;
  }

  dataPath(replica: number): string {
    return this.slots[replica]!.path;
  }

  /** Lines of the replica's log since its last start that report a repair (WAL, grid) or a state sync. */
  repairLines(replica: number): number {
    const log = readFileSync(this.slots[replica]!.log, "utf8");
    const sinceStart = log.slice(log.lastIndexOf("--- fault test: start #"));
    return sinceStart.split("\n").filter((line) => /repaired|rewrote superblock|state sync done/.test(line)).length;
  }

  isUp(replica: number): boolean {
    return this.slots[replica]!.child !== null;
  }

  isPaused(replica: number): boolean {
    return this.slots[replica]!.paused;
  }

  starts(replica: number): number {
    return this.slots[replica]!.starts;
  }

  /** Unexpected exits: crashes, or a SIGTERM that did not end in exit code 0. */
  crashes(): ReplicaExit[] {
    return this.exits.filter((exit) => !exit.expected);
  }

  async format(): Promise<void> {
    for (const slot of this.slots) {
      const result = await run([scarabBin, "format", `--cluster=${this.options.clusterId}`, `--replica=${slot.index}`,
        `--replica-count=${this.slots.length}`, "--development", slot.path], 30_000);
      if (result.code !== 0) throw new Error(`format of replica ${slot.index} failed (${result.code}): ${result.stderr}`);
    }
  }

  start(replica: number): void {
    const slot = this.slots[replica]!;
    if (slot.child !== null) throw new Error(`replica ${replica} is already running`);
    const fd = openSync(slot.log, "a");
    writeSync(fd, `--- fault test: start #${slot.starts + 1} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [scarabBin, "start", "--development",
      `--addresses=${this.options.addresses[replica]}`, `--metrics-address=${host}:${this.options.metricsPorts[replica]}`,
      slot.path], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    slot.child = child;
    slot.paused = false;
    slot.expecting = null;
    slot.starts++;
    slot.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        const expected = slot.expecting !== null &&
          (slot.expecting === "SIGKILL" ? signal === "SIGKILL" : code === 0 && signal === null);
        const exit: ReplicaExit = { replica, pid: child.pid ?? -1, code, signal, expected, at: Date.now() };
        this.exits.push(exit);
        if (slot.child === child) {
          slot.child = null;
          slot.paused = false;
        }
        resolve(exit);
      });
    });
  }

  /** Sends `signal` and waits (at most timeoutMs) for the exit; null if it did not exit in time. */
  async kill(replica: number, signal: "SIGKILL" | "SIGTERM", timeoutMs: number): Promise<ReplicaExit | null> {
    const slot = this.slots[replica]!;
    if (slot.child === null) throw new Error(`replica ${replica} is not running`);
    slot.expecting = signal;
    const exited = slot.exited!;
    slot.child.kill(signal);
    if (slot.paused && signal !== "SIGKILL") slot.child.kill("SIGCONT");
    return Promise.race([exited, sleep(timeoutMs).then(() => null)]);
  }

  pause(replica: number): void {
    const slot = this.slots[replica]!;
    if (slot.child === null || slot.paused) return;
    slot.child.kill("SIGSTOP");
    slot.paused = true;
  }

  resume(replica: number): void {
    const slot = this.slots[replica]!;
    if (slot.child === null || !slot.paused) return;
    slot.child.kill("SIGCONT");
    slot.paused = false;
  }

  /** A second `scarab start` of a live replica's data file: it must exit 1 at once, saying "in use". */
  secondStart(replica: number): Promise<{ code: number | null; stderr: string; ms: number }> {
    const slot = this.slots[replica]!;
    const started = Date.now();
    return run([scarabBin, "start", "--development", `--addresses=${this.options.addresses[replica]}`, slot.path], 20_000)
      .then((result) => ({ ...result, ms: Date.now() - started }));
  }

  /** Resumes every paused replica and starts every stopped one. */
  healAll(): void {
    for (const slot of this.slots) {
      if (slot.paused) this.resume(slot.index);
      if (slot.child === null) this.start(slot.index);
    }
  }

  async metrics(replica: number, timeoutMs = 1000): Promise<ReplicaMetrics | null> {
    if (this.slots[replica]!.child === null || this.slots[replica]!.paused) return null;
    const text = await httpGet(`http://${host}:${this.options.metricsPorts[replica]}/metrics`, timeoutMs,
      this.options.metricsKeepAlive === true ? keepAliveAgent : false);
    if (text === null) return null;
    const value = (name: string) => {
      const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text);
      return match === null ? NaN : Number(match[1]);
    };
    return {
      view: value("scarab_view"), primary: value("scarab_primary") === 1,
      normal: value('scarab_status{status="normal"}') === 1, op: value("scarab_op"),
      commitMin: value("scarab_commit_min"), commitMax: value("scarab_commit_max"),
    };
  }

  async allMetrics(): Promise<(ReplicaMetrics | null)[]> {
    return Promise.all(this.slots.map((slot) => this.metrics(slot.index)));
  }

  /** The primary of the highest view that a replica in status normal reports, or null. */
  async primary(): Promise<{ replica: number; view: number } | null> {
    const metrics = await this.allMetrics();
    let best: { replica: number; view: number } | null = null;
    metrics.forEach((m, replica) => {
      if (m !== null && m.normal && m.primary && (best === null || m.view > best.view)) best = { replica, view: m.view };
    });
    return best;
  }

  /** Waits until every replica runs and reports status normal in one view; false on timeout. */
  async waitAllNormal(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const metrics = await this.allMetrics();
      if (metrics.every((m) => m !== null && m.normal && m.view === metrics[0]!.view)) return true;
      await sleep(250);
    }
    return false;
  }

  /** Stops every replica with SIGTERM (exit 0 expected within timeoutMs), SIGKILL if not. */
  async stopAll(timeoutMs: number): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(this.slots.map(async (slot) => {
      if (slot.child === null) return;
      const exit = await this.kill(slot.index, "SIGTERM", timeoutMs);
      if (exit === null) {
        problems.push(`replica ${slot.index} did not exit within ${timeoutMs} ms of SIGTERM`);
        await this.killNow(slot.index);
      }
    }));
    return problems;
  }

  /** SIGKILL, no questions (clean-up). */
  async killNow(replica: number): Promise<void> {
    const slot = this.slots[replica]!;
    if (slot.child === null) return;
    slot.expecting = "SIGKILL";
    const exited = slot.exited!;
    slot.child.kill("SIGKILL");
    await Promise.race([exited, sleep(5000)]);
  }

  logTail(replica: number, lines = 30): string {
    try {
      return readFileSync(this.slots[replica]!.log, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

/**
 * Distinct free loopback ports (all held open together, then released), chosen below Linux's
 * ephemeral range (32768–60999): a port the kernel hands out for `listen(0)` — the fault proxy's
 * own listeners, say — can then never be one of these before the replica binds it (a 30-minute
 * run lost an epoch to that: EADDRINUSE on a replica port).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: import("node:net").Server[] = [];
  const ports = new Set<number>();
  for (let attempts = 0; ports.size < count; attempts++) {
    if (attempts === 1000) throw new Error(`freePorts: no ${count} free ports in 20000–32767`);
    const port = 20000 + Math.floor(Math.random() * 12768);
    if (ports.has(port)) continue;
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, host, () => resolve(true));
    });
    if (!bound) continue;
    servers.push(server);
    ports.add(port);
  }
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return [...ports];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? null : -1), stderr });
    });
  });
}

const keepAliveAgent = new Agent({ keepAlive: true });

function httpGet(url: string, timeoutMs: number, agent: Agent | false): Promise<string | null> {
  return new Promise((resolve) => {
    const request = get(url, { agent }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve(response.statusCode === 200 ? body : null));
      response.on("error", () => resolve(null));
    });
    request.setTimeout(timeoutMs, () => request.destroy());
    request.on("error", () => resolve(null));
  });
}
