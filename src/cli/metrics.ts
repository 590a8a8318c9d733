// What an operator scrapes: Prometheus text exposition (prom-client) on `--metrics-address`.
// Prometheus rather than StatsD: a pull endpoint needs no agent beside the replica, one curl shows
// it, and every monitoring stack reads it. Gauges are sampled from the replica at scrape time;
// counters and the commit-latency histogram are fed by the host's commit and event hooks.
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { Operation } from "../core/command.js";
import type { Address } from "../io/tcp_client_bus.js";
import type { Replica, ReplicaEvent } from "../replica/replica.js";

const statuses = ["recovering", "normal", "view_change", "recovering_head"] as const;

export class ReplicaMetrics {
  readonly registry = new Registry();
  private replica: Replica | null = null;
  private readonly commits: Counter<"operation">;
  private readonly events: Counter<"operation">;
  private readonly viewChanges: Counter;
  private readonly checkpoints: Counter;
  private readonly syncs: Counter<"outcome">;
  private readonly evictions: Counter;
  private readonly repairs: Counter<"kind">;
  private readonly scrubFaults: Counter;
  /** Prepare → commit on the primary, from the prepare's cluster timestamp (ledger.md §5). */
  private readonly commitLatency: Histogram;

  constructor() {
    const registers = [this.registry];
    this.commits = new Counter({ name: "scarab_commits_total", help: "Ops committed (executed) by this replica, by operation",
      labelNames: ["operation"], registers });
    this.events = new Counter({ name: "scarab_events_total", help: "Events (accounts, transfers, ids) in committed ops, by operation",
      labelNames: ["operation"], registers });
    this.viewChanges = new Counter({ name: "scarab_view_changes_total", help: "Views this replica entered", registers });
    this.checkpoints = new Counter({ name: "scarab_checkpoints_total", help: "Checkpoints made durable", registers });
    this.syncs = new Counter({ name: "scarab_state_syncs_total", help: "State syncs, by outcome", labelNames: ["outcome"], registers });
    this.evictions = new Counter({ name: "scarab_evictions_total", help: "Clients this replica evicted (as primary)", registers });
    this.repairs = new Counter({ name: "scarab_repairs_total", help: "Repairs, by kind: prepare and headers (WAL, from peers), grid_block and reply (from peers), superblock (copies rewritten at open)",
      labelNames: ["kind"], registers });
    this.scrubFaults = new Counter({ name: "scarab_scrub_faults_total",
      help: "Faulty grid blocks the scrubber found (each repaired from a peer: see scarab_repairs_total{kind=\"grid_block\"})", registers });
    this.commitLatency = new Histogram({
      name: "scarab_commit_latency_seconds", help: "Primary: time from preparing an op to committing it",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5], registers,
    });
    this.gauges();
    this.gridBytesWritten();
    collectDefaultMetrics({ register: this.registry, prefix: "scarab_" });
  }

  /** Starts sampling `replica` (the gauges read it at scrape time). */
  attach(replica: Replica): void {
    this.replica = replica;
  }

  onCommit(replica: Replica, operation: number, events: number, timestamp: bigint): void {
    const name = operationName(operation);
    this.commits.inc({ operation: name });
    if (events > 0) this.events.inc({ operation: name }, events);
    if (replica.isPrimary && replica.status === "normal" && operation !== Operation.pulse) {
      const seconds = Number(replica.time.realtime() - timestamp) / 1e9;
      if (seconds >= 0 && seconds < 3600) this.commitLatency.observe(seconds);
    }
  }

  onEvent(event: ReplicaEvent): void {
    if (event === "eviction") this.evictions.inc();
    else if (event === "repair_prepare") this.repairs.inc({ kind: "prepare" });
    else if (event === "repair_headers") this.repairs.inc({ kind: "headers" });
    else if (event === "repair_block") this.repairs.inc({ kind: "grid_block" });
    else if (event === "repair_superblock") this.repairs.inc({ kind: "superblock" });
    else if (event === "repair_reply") this.repairs.inc({ kind: "reply" });
    else if (event === "scrub_fault") this.scrubFaults.inc();
    else if (event === "view") this.viewChanges.inc();
    else if (event === "checkpoint_done") this.checkpoints.inc();
    else if (event === "sync_done") this.syncs.inc({ outcome: "done" });
    else if (event === "sync_cancel") this.syncs.inc({ outcome: "cancelled" });
    else if (event === "sync_resumed") this.syncs.inc({ outcome: "resumed_after_crash" });
  }

  private gauges(): void {
    const registers = [this.registry];
    const sample = (name: string, help: string, read: (replica: Replica) => number) => new Gauge({
      name, help, registers,
      collect(this: Gauge) {
        const replica = metricsOwner.get(this);
        if (replica?.replica) this.set(read(replica.replica));
      },
    });
    const gauges = [
      sample("scarab_view", "The replica's view", (r) => r.view),
      sample("scarab_log_view", "The last view whose log this replica installed", (r) => r.logView),
      sample("scarab_primary", "1 if this replica is the primary of its view", (r) => (r.isPrimary ? 1 : 0)),
      sample("scarab_op", "The head of the log", (r) => r.op),
      sample("scarab_commit_min", "The highest op executed here", (r) => r.commitMin),
      sample("scarab_commit_max", "The highest op known committed", (r) => r.commitMax),
      sample("scarab_checkpoint_op", "The op of the latest durable checkpoint", (r) => r.opCheckpoint),
      sample("scarab_pipeline_prepares", "Primary: prepares in flight", (r) => r.pipeline.length),
      sample("scarab_request_queue", "Primary: requests waiting for the pipeline", (r) => r.requestQueue.length),
      sample("scarab_journal_dirty_slots", "WAL slots waiting for a write or repair", (r) => r.journal.dirtyCount),
      sample("scarab_journal_faulty_slots", "WAL slots found corrupt, waiting for repair", (r) => r.journal.faultyCount),
      sample("scarab_syncing", "1 while state-syncing", (r) => (r.syncing === null ? 0 : 1)),
      sample("scarab_grid_checkpoint_bytes_written", "Grid bytes written between the previous durable checkpoint and the last one",
        (r) => r.grid.stats.checkpointBytesWritten),
      sample("scarab_grid_blocks_acquired", "Grid blocks in use at the last checkpoint", (r) => r.grid.stats.blocksAcquired),
      sample("scarab_scrub_blocks", "Grid blocks the scrubber read and verified since start", (r) => r.scrubber.stats.blocksScrubbed),
      sample("scarab_scrub_cycles", "Walks of the whole grid state the scrubber completed since start", (r) => r.scrubber.stats.cyclesCompleted),
    ];
    for (const gauge of gauges) metricsOwner.set(gauge, this);
    const status = new Gauge({
      name: "scarab_status", help: "1 for the replica's current status", labelNames: ["status"], registers,
      collect(this: Gauge<"status">) {
        const replica = metricsOwner.get(this)?.replica;
        if (replica) for (const name of statuses) this.set({ status: name }, replica.status === name ? 1 : 0);
      },
    });
    metricsOwner.set(status, this);
  }

  /** The grid's running total of bytes written (src/grid/grid_stats.ts), read at scrape time. */
  private gridBytesWritten(): void {
    const registers = [this.registry];
    const written = new Counter({
      name: "scarab_grid_bytes_written_total", help: "Grid bytes written since the replica started (whole blocks)", registers,
      collect(this: Counter) {
        const replica = metricsOwner.get(this)?.replica;
        if (!replica) return;
        // The grid keeps the running total; the counter mirrors it (reset + inc is prom-client's "set").
        this.reset();
        this.inc(replica.grid.stats.bytesWritten);
      },
    });
    metricsOwner.set(written, this);
  }
}

/** Which ReplicaMetrics a gauge samples (prom-client calls collect() with the gauge as `this`). */
const metricsOwner = new WeakMap<object, ReplicaMetrics>();

/** Operation names by number, built once: commits look them up on every batch. */
const operationNames = new Map<number, string>(Object.entries(Operation).map(([name, value]) => [value as number, name]));

function operationName(operation: number): string {
  return operationNames.get(operation) ?? `operation_${operation}`;
}

/** Serves GET /metrics; calls back once listening (or with the error). */
export function serveMetrics(metrics: ReplicaMetrics, address: Address, callback: (error: Error | null, server: Server | null) => void): void {
  const server = createServer((request, response) => {
    if (request.method !== "GET" || (request.url !== "/metrics" && request.url !== "/")) {
      response.writeHead(404).end("not found: try /metrics\n");
      return;
    }
    metrics.registry.metrics().then((text) => {
      response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text);
    }, (error: unknown) => {
      response.writeHead(500).end(`${String(error)}\n`);
    });
  });
  server.once("error", (error) => callback(error, null));
  server.listen(address.port, address.host, () => callback(null, server));
}
