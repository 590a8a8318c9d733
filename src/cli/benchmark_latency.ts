// Batch latencies for `scarab benchmark`: a fixed histogram (0.1 ms buckets up to 10 s, then one
// overflow bucket) rather than a list of every sample, so a 50M-transfer run with tiny batches
// still uses a few hundred KiB. The maximum is kept exactly, so p100 is the true worst batch.
import { assert } from "../core/assert.js";

const bucketMs = 0.1;
const bucketCount = 100_001; // 0 .. 10 s in 0.1 ms steps, then "10 s or more"

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(bucketCount);
  count = 0;
  maxMs = 0;

  record(ms: number): void {
    assert(ms >= 0 && Number.isFinite(ms), "latency must be a finite duration");
    this.buckets[Math.min(bucketCount - 1, Math.floor(ms / bucketMs))]! += 1;
    this.count += 1;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** The smallest bucket bound below which at least p% of the samples fall; p100 is exact. */
  percentileMs(p: number): number {
    assert(p > 0 && p <= 100, "percentile in (0, 100]");
    if (this.count === 0) return 0;
    if (p === 100) return this.maxMs;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let bucket = 0; bucket < bucketCount; bucket++) {
      seen += this.buckets[bucket]!;
      if (seen >= rank) return bucket === bucketCount - 1 ? this.maxMs : Math.min(this.maxMs, (bucket + 1) * bucketMs);
    }
    return this.maxMs;
  }
}

/** min, median and max of a list of samples (null when there are none). */
export function summary(samples: readonly number[]): { min: number; median: number; max: number } | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted[sorted.length - 1]! };
}
