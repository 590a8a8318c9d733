// Progress of a VOPR fleet on stderr. On a terminal, a live bar (cli-progress) with seeds done,
// seeds/s, failures and the ETA; in a log (CI, a Kubernetes pod), a plain line at most every few
// seconds, so that a million-seed fleet does not flood it. Failures are said at once either way.
import cliProgress from "cli-progress";

export interface FleetProgress {
  seedDone(failed: boolean): void;
  /** A line that must not be lost under the bar (a failing seed and its replay command). */
  note(text: string): void;
  stop(): void;
}

/** Plain lines no more often than this. */
const plainIntervalMs = 5000;

export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr): FleetProgress {
  return stream.isTTY === true ? new BarProgress(total, stream) : new PlainProgress(total, stream);
}

class Counts {
  done = 0;
  failed = 0;
  private readonly startMs = Date.now();

  constructor(readonly total: number) {}

  add(failed: boolean): void {
    this.done += 1;
    if (failed) this.failed += 1;
  }

  ratePerS(): number {
    return this.done / Math.max(0.001, (Date.now() - this.startMs) / 1000);
  }

  etaText(): string {
    const rate = this.ratePerS();
    if (this.done === 0 || rate <= 0) return "?";
    return formatEta((this.total - this.done) / rate);
  }
}

export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

class PlainProgress implements FleetProgress {
  private readonly counts: Counts;
  private printedAtMs = Date.now();

  constructor(total: number, private readonly stream: NodeJS.WritableStream) {
    this.counts = new Counts(total);
  }

  seedDone(failed: boolean): void {
    this.counts.add(failed);
    const now = Date.now();
    if (now - this.printedAtMs < plainIntervalMs || this.counts.done === this.counts.total) return;
    this.printedAtMs = now;
    const c = this.counts;
    this.stream.write(`vopr: ${c.done}/${c.total} seeds, ${c.failed} failed, ${c.ratePerS().toFixed(2)} seeds/s, ETA ${c.etaText()}\n`);
  }

  note(text: string): void {
    this.stream.write(text + "\n");
  }

  stop(): void {}
}

class BarProgress implements FleetProgress {
  private readonly counts: Counts;
  private readonly bars: cliProgress.MultiBar;
  private readonly bar: cliProgress.SingleBar;

  constructor(total: number, stream: NodeJS.WritableStream) {
    this.counts = new Counts(total);
    this.bars = new cliProgress.MultiBar({
      stream, hideCursor: true, clearOnComplete: false, fps: 5, barsize: 30,
      format: "vopr {bar} {value}/{total} seeds | {rate} seeds/s | {failed} failed | ETA {etaText}",
    }, cliProgress.Presets.shades_classic);
    this.bar = this.bars.create(total, 0, this.payload());
  }

  private payload(): Record<string, string | number> {
    return { rate: this.counts.ratePerS().toFixed(2), failed: this.counts.failed, etaText: this.counts.etaText() };
  }

  seedDone(failed: boolean): void {
    this.counts.add(failed);
    this.bar.update(this.counts.done, this.payload());
  }

  note(text: string): void {
    this.bars.log(text + "\n");
  }

  stop(): void {
    this.bar.update(this.counts.done, this.payload());
    this.bars.stop();
  }
}
