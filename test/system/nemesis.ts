// The nemesis of the multi-process fault test: one process or network fault at a time (3 replicas
// tolerate one faulty replica), drawn from a seeded PRNG. Every kind runs at least once per
// scenario, in a seed-shuffled order, then kinds are drawn at random until the load ends.
// Background network faults (chunk delays, rare connection drops) stay on throughout and are
// redrawn before each fault.
import type { Cluster } from "./cluster.js";
import { sleep } from "./cluster.js";
import type { FaultProxy } from "./fault_proxy.js";
import type { Random } from "./random.js";
import { damageDataFile, type DamageKind } from "./disk_damage.js";

export const faultKinds = [
  "kill_primary", // SIGKILL the primary, restart it a few seconds later
  "pause_backup", // SIGSTOP a backup for a few seconds, then SIGCONT
  "term_backup", // SIGTERM a backup (exit 0 within 5 s), restart it
  "second_start", // a second `scarab start` of a live replica's file: exit 1, "in use", no harm
  "isolate", // the proxy resets and refuses everything to and from one replica for a while
  "stall", // the proxy stops forwarding to and from one replica for a while (bytes held)
  "drop_connections", // the proxy destroys the current connections of some links at once
  "damage_wal", // SIGTERM a backup, overwrite prepares and a header sector of its WAL, restart it
  "damage_superblock", // the same with two of its four superblock copies
  "damage_grid", // the same with the headers of some of its grid blocks
] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface NemesisOptions {
  readonly cluster: Cluster;
  readonly proxy: FaultProxy;
  readonly random: Random;
  /** Progress lines ("fault: ..."). */
  readonly log: (line: string) => void;
  /** Something that must fail the run (a bad exit code, a liveness timeout). */
  readonly problem: (line: string) => void;
}

/** Down or partitioned for this long (ms). */
const outageMs: [number, number] = [1500, 3500];
/** Waits before each fault for the cluster to have every replica up and a primary. */
const healthyTimeoutMs = 30_000;

export class Nemesis {
  readonly counts: Record<FaultKind, number> = Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  private readonly pending: FaultKind[];
  private stopping = false;

  constructor(private readonly options: NemesisOptions) {
    this.pending = options.random.shuffle([...faultKinds]);
  }

  /** Every kind has run at least once. */
  get covered(): boolean {
    return this.pending.length === 0;
  }

  stop(): void {
    this.stopping = true;
  }

  /** Runs faults until stop() (after the one in progress) or until `until()` says so. */
  async run(until: () => boolean): Promise<void> {
    const { proxy, random } = this.options;
    while (!this.stopping && !until()) {
      if (this.options.cluster.crashes().length > 0) {
        this.options.log("a replica exited unexpectedly: no more faults (it is reported at the end)");
        return;
      }
      const primary = await this.waitHealthy();
      if (this.stopping) break;
      await sleep(random.int(500, 1500));
      proxy.delayMsMax = random.pick([0, 1, 2, 3, 5]);
      proxy.dropPerChunk = random.pick([0, 0, 1 / 5000, 1 / 2000]);
      const kind = this.pending.shift() ?? random.pick(faultKinds);
      await this.inject(kind, primary);
    }
  }

  private async inject(kind: FaultKind, primary: number | null): Promise<void> {
    const { cluster, proxy, random, log, problem } = this.options;
    const replicas = Array.from({ length: cluster.replicaCount }, (_, i) => i);
    const backups = replicas.filter((r) => r !== primary);
    const outage = () => random.int(...outageMs);
    this.counts[kind]++;
    switch (kind) {
      case "kill_primary": {
        if (primary === null) return this.skip(kind, "no primary known");
        const ms = outage();
        log(`fault: SIGKILL primary r${primary}, restart in ${ms} ms`);
        const exit = await cluster.kill(primary, "SIGKILL", 5000);
        if (exit === null) problem(`r${primary} did not die within 5 s of SIGKILL`);
        await sleep(ms);
        cluster.start(primary);
        return;
      }
      case "pause_backup": {
        const backup = random.pick(backups);
        const ms = outage();
        log(`fault: SIGSTOP backup r${backup} for ${ms} ms`);
        cluster.pause(backup);
        await sleep(ms);
        cluster.resume(backup);
        return;
      }
      case "term_backup": {
        const backup = random.pick(backups);
        const ms = outage();
        const started = Date.now();
        const exit = await cluster.kill(backup, "SIGTERM", 5000);
        if (exit === null) {
          problem(`r${backup} did not exit within 5 s of SIGTERM`);
          await cluster.killNow(backup);
        } else if (exit.code !== 0) {
          problem(`r${backup} exited with code ${exit.code} signal ${exit.signal} after SIGTERM (expected 0)`);
        }
        log(`fault: SIGTERM backup r${backup}: exit ${exit?.code ?? "none"} in ${Date.now() - started} ms, restart in ${ms} ms`);
        await sleep(ms);
        cluster.start(backup);
        return;
      }
      case "second_start": {
        const target = random.pick(replicas);
        const result = await cluster.secondStart(target);
        const firstLine = result.stderr.trim().split("\n")[0] ?? "";
        log(`fault: second start of r${target}'s file: exit ${result.code} in ${result.ms} ms: ${firstLine}`);
        if (result.code !== 1 || !/in use/.test(result.stderr)) {
          problem(`second start of r${target}: exit ${result.code}, stderr ${JSON.stringify(result.stderr.slice(0, 300))} ` +
            `(expected exit 1 and "in use")`);
        }
        await sleep(300);
        if (!cluster.isUp(target)) problem(`r${target} died after a second start of its file`);
        return;
      }
      case "isolate":
      case "stall": {
        const target = random.chance(0.4) && primary !== null ? primary : random.pick(replicas);
        const ms = outage();
        if (kind === "isolate") {
          const dropped = proxy.isolate(target);
          log(`fault: isolate r${target}${target === primary ? " (primary)" : ""} for ${ms} ms (${dropped} connections reset)`);
        } else {
          proxy.stall(target);
          log(`fault: stall r${target}${target === primary ? " (primary)" : ""} for ${ms} ms`);
        }
        await sleep(ms);
        proxy.heal(target);
        return;
      }
      case "damage_wal":
      case "damage_superblock":
      case "damage_grid": {
        const backup = random.pick(backups);
        const exit = await cluster.kill(backup, "SIGTERM", 5000);
        if (exit === null) {
          problem(`r${backup} did not exit within 5 s of SIGTERM`);
          await cluster.killNow(backup);
        }
        const damage = kind.slice("damage_".length) as DamageKind;
        const spots = damageDataFile(cluster.dataPath(backup), damage, random);
        log(`fault: ${damage} of stopped backup r${backup} overwritten (${spots}); restarting it`);
        cluster.start(backup);
        // It must come back to status normal in the cluster's view; then say what it repaired.
        const deadline = Date.now() + healthyTimeoutMs;
        for (;;) {
          const [mine, theirs] = [await cluster.metrics(backup), await cluster.primary()];
          if (mine !== null && mine.normal && theirs !== null && mine.view === theirs.view) break;
          if (Date.now() > deadline) return problem(`r${backup} not back in status normal ${healthyTimeoutMs / 1000} s after its ${damage} was damaged`);
          await sleep(250);
        }
        log(`r${backup} back after ${damage} damage: ${cluster.repairLines(backup)} repair line(s) in its log since the restart`);
        return;
      }
      case "drop_connections": {
        const target = random.pick([...replicas, "client", "all"] as const);
        const dropped = proxy.dropConnections((link) => target === "all" || link.from === target || link.to === target);
        log(`fault: drop connections of ${typeof target === "number" ? `r${target}` : target} (${dropped} dropped)`);
        return;
      }
    }
  }

  private skip(kind: FaultKind, why: string): void {
    this.counts[kind]--;
    this.pending.unshift(kind);
    this.options.log(`fault: ${kind} postponed: ${why}`);
  }

  /** Every replica running and unpaused, and a primary in status normal: its index. */
  private async waitHealthy(): Promise<number | null> {
    const { cluster, problem } = this.options;
    const deadline = Date.now() + healthyTimeoutMs;
    while (!this.stopping && Date.now() < deadline) {
      if (cluster.crashes().length > 0) return null;
      const primary = await cluster.primary();
      const allUp = Array.from({ length: cluster.replicaCount }, (_, i) => i).every((i) => cluster.isUp(i) && !cluster.isPaused(i));
      if (allUp && primary !== null) return primary.replica;
      await sleep(200);
    }
    if (!this.stopping && cluster.crashes().length === 0) problem(`liveness: no primary in status normal ${healthyTimeoutMs / 1000} s after the last fault healed`);
    return null;
  }
}
