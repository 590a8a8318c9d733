// What `scarab benchmark` learns from the replicas' Prometheus endpoints (`--metrics-address`),
// polled about once a second during the run: resident memory (peak and final), checkpoints, and
// the grid's bytes written. A replica whose endpoint never answers is reported as unknown.
import { get } from "node:http";
import type { Address } from "../io/tcp_client_bus.js";

/** Sample text → values, keyed as written: `name` or `name{label="value"}`. */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.length === 0 || line.startsWith("#")) continue;
    const match = /^([A-Za-z_:][\w:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (match !== null) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** GET /metrics without keep-alive (a lingering connection would slow the replica's stop). */
export function scrape(address: Address, timeoutMs: number): Promise<Map<string, number> | null> {
  return new Promise((resolve) => {
    const request = get({ host: address.host, port: address.port, path: "/metrics", agent: false, timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => { body += chunk; });
      response.on("end", () => resolve(response.statusCode === 200 ? parsePrometheus(body) : null));
      response.on("error", () => resolve(null));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(null));
  });
}

export interface ReplicaFigures {
  readonly replica: number;
  /** Successful scrapes of its endpoint (0: every figure below is unknown). */
  scrapes: number;
  /** Largest `scarab_process_resident_memory_bytes` seen, or null if never scraped. */
  rssPeakBytes: number | null;
  rssFinalBytes: number | null;
  /** Checkpoints made durable during the run (scarab_checkpoints_total, from the first scrape). */
  checkpoints: number;
  /** scarab_grid_checkpoint_bytes_written, read each time the checkpoint count grew. */
  readonly checkpointBytesSamples: number[];
  /** Grid bytes written during the run (scarab_grid_bytes_written_total, from the first scrape). */
  gridBytesWritten: number | null;
  gridBlocksAcquired: number | null;
}

interface Baseline {
  checkpoints: number;
  gridBytes: number;
}

export class ReplicaSampler {
  readonly figures: ReplicaFigures[];
  private readonly baselines: (Baseline | null)[];
  private polling: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly addresses: readonly (Address | null)[]) {
    this.figures = addresses.map((_, replica) => ({
      replica, scrapes: 0, rssPeakBytes: null, rssFinalBytes: null, checkpoints: 0, checkpointBytesSamples: [],
      gridBytesWritten: null, gridBlocksAcquired: null,
    }));
    this.baselines = addresses.map(() => null);
  }

  /** Takes the baseline now, then samples every `intervalMs` until stop(). */
  async start(intervalMs: number): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      if (this.polling === null) this.polling = this.poll().finally(() => { this.polling = null; });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops sampling after one last scrape (the final figures). */
  async stop(): Promise<void> {
    this.cancel();
    await this.polling;
    await this.poll();
  }

  /** Stops sampling at once (the run failed: no final figures needed). */
  cancel(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    const scraped = await Promise.all(this.addresses.map((address) => (address === null ? null : scrape(address, 2000))));
    scraped.forEach((values, replica) => {
      if (values !== null) this.update(replica, values);
    });
  }

  private update(replica: number, values: Map<string, number>): void {
    const figures = this.figures[replica]!;
    figures.scrapes += 1;
    const rss = values.get("scarab_process_resident_memory_bytes");
    if (rss !== undefined) {
      figures.rssFinalBytes = rss;
      figures.rssPeakBytes = Math.max(figures.rssPeakBytes ?? 0, rss);
    }
    const checkpoints = values.get("scarab_checkpoints_total") ?? 0;
    const gridBytes = values.get("scarab_grid_bytes_written_total");
    const baseline = this.baselines[replica] ?? { checkpoints, gridBytes: gridBytes ?? 0 };
    this.baselines[replica] = baseline;
    if (checkpoints - baseline.checkpoints > figures.checkpoints) {
      figures.checkpoints = checkpoints - baseline.checkpoints;
      const bytes = values.get("scarab_grid_checkpoint_bytes_written");
      if (bytes !== undefined) figures.checkpointBytesSamples.push(bytes);
    }
    if (gridBytes !== undefined) figures.gridBytesWritten = gridBytes - baseline.gridBytes;
    const acquired = values.get("scarab_grid_blocks_acquired");
    if (acquired !== undefined) figures.gridBlocksAcquired = acquired;
  }
}
