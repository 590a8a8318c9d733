// Progress of a long `scarab benchmark` run, on stderr: a bar redrawn in place on a terminal, or a
// plain line every 10 s otherwise (a log file then shows the run is alive, without carriage returns).
import { performance } from "node:perf_hooks";

export interface ProgressOutput {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

const barIntervalMs = 250;
const lineIntervalMs = 10_000;
/** Throughput shown is over the last few seconds, not since the start. */
const rateWindowMs = 5_000;

export class Progress {
  private done = 0;
  private started = 0;
  private readonly history: { at: number; done: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private drawn = false;

  constructor(private readonly total: number, private readonly output: ProgressOutput, private readonly label = "transfers") {}

  start(): void {
    this.started = performance.now();
    this.history.push({ at: this.started, done: this.done });
    const interval = this.output.isTTY ? barIntervalMs : lineIntervalMs;
    this.timer = setInterval(() => this.report(), interval);
    this.timer.unref();
  }

  update(done: number): void {
    this.done = done;
  }

  /** Stops reporting and clears the bar, so what follows starts on a clean line. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.drawn) this.output.write("\r\x1b[K");
    this.drawn = false;
  }

  private report(): void {
    const now = performance.now();
    this.history.push({ at: now, done: this.done });
    while (this.history.length > 2 && now - this.history[0]!.at > rateWindowMs) this.history.shift();
    const oldest = this.history[0]!;
    const rate = now > oldest.at ? ((this.done - oldest.done) * 1000) / (now - oldest.at) : 0;
    const fraction = this.total === 0 ? 1 : this.done / this.total;
    const elapsed = formatSeconds((now - this.started) / 1000);
    const text = `${this.label} ${this.done}/${this.total} (${(fraction * 100).toFixed(1)}%), ${Math.round(rate)} tx/s, ${elapsed} elapsed`;
    if (this.output.isTTY) {
      const width = Math.max(10, Math.min(40, (this.output.columns ?? 80) - text.length - 4));
      const filled = Math.round(fraction * width);
      this.output.write(`\r\x1b[K[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}`);
      this.drawn = true;
    } else {
      this.output.write(`benchmark: ${text}\n`);
    }
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.floor(seconds - minutes * 60)} s`;
}
