// Milestones of a long `scarab benchmark` run: at each tenth of the transfers, the throughput of
// that tenth and the replicas' resident memory then. They show what one figure for the whole run
// hides: whether the ledger slows down or grows in memory as it fills (issue: RSS at 50M within
// 256 MiB of RSS at 5M; the last 5M at least 70% as fast as the first).
import { performance } from "node:perf_hooks";
import type { ReplicaFigures } from "./benchmark_scrape.js";

export interface Milestone {
  /** Transfers created when the milestone was passed. */
  readonly transfers: number;
  /** Transfers per second since the previous milestone (or the start). */
  readonly segmentTransfersPerSecond: number;
  /** The largest RSS among the replicas at the last scrape, null when unknown. */
  readonly rssBytes: number | null;
}

export class Milestones {
  readonly passed: Milestone[] = [];
  private started = 0;
  private previous = { at: 0, transfers: 0 };

  constructor(private readonly total: number, private readonly replicas: readonly ReplicaFigures[], private readonly count = 10) {}

  start(): void {
    this.started = performance.now();
    this.previous = { at: this.started, transfers: 0 };
  }

  update(done: number): void {
    const next = Math.ceil(((this.passed.length + 1) * this.total) / this.count);
    if (this.passed.length >= this.count || done < next) return;
    const now = performance.now();
    const seconds = (now - this.previous.at) / 1000;
    let rss: number | null = null;
    for (const figures of this.replicas) {
      if (figures.rssFinalBytes !== null) rss = Math.max(rss ?? 0, figures.rssFinalBytes);
    }
    this.passed.push({
      transfers: done,
      segmentTransfersPerSecond: seconds > 0 ? Math.round((done - this.previous.transfers) / seconds) : 0,
      rssBytes: rss,
    });
    this.previous = { at: now, transfers: done };
  }
}

export function milestoneLines(milestones: readonly Milestone[]): string[] {
  return milestones.map((m) => `at ${m.transfers} transfers: ${m.segmentTransfersPerSecond} tx/s over the last tenth, ` +
    `rss ${m.rssBytes === null ? "unknown" : `${(m.rssBytes / 2 ** 20).toFixed(1)} MiB`}`);
}
