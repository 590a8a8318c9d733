// One TCP connection's health, shared by both ends of the transport (tcp_server_bus.ts,
// tcp_client_bus.ts): a bound on what may wait to be sent, and the clocks that tell a live
// connection from a dead, stopped or misbehaving one. Nothing here waits on a peer: a peer that
// does not read loses messages (VSR retries, and tolerates loss), a peer that says nothing is cut
// off; no other connection ever notices either.
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface TcpLimits {
  /**
   * Bytes one connection may hold waiting to be sent (beyond what the kernel has taken). A message
   * that would exceed it is dropped and counted, never buffered: a peer that stops reading must not
   * grow our memory. At least one message of the largest size.
   */
  readonly sendQueueBytesMax: number;
  /**
   * A connection is closed (an outbound one then reconnects with backoff) when, for this long, an
   * accepted connection has received no complete message, or an outbound one has not connected or
   * has had bytes waiting to be sent without sending any. Replicas ping each other every second and
   * clients (ours and tigerbeetle-node) ping every replica every 30 s, so a live connection is never
   * silent this long; a peer that sent half a message and went quiet is.
   */
  readonly idleTimeoutMs: number;
}

/** Twice the clients' 30 s ping interval: one late ping never cuts a live, idle client off. */
export const idleTimeoutMsDefault = 60_000;

/**
 * Largest messages a send queue holds by default. Our primary sends every prepare to every backup
 * (TigerBeetle relays them along a ring and queues only 4 per connection), so a backup's queue
 * must hold a whole pipeline (8 prepares of up to 1 MiB) plus the commits and pings beside it: with
 * 4, a briefly busy backup lost prepares under full 8189-transfer batches and had to repair them.
 */
export const sendQueueMessagesDefault = 16;

/**
 * The defaults, overridden by `limits`: a send queue of sendQueueMessagesDefault of the largest
 * messages and idleTimeoutMsDefault. Throws on limits that could never work, when the bus is made
 * rather than at its first connection.
 */
export function tcpLimits(messageSizeMax: number, limits: Partial<TcpLimits> = {}): TcpLimits {
  const resolved = { sendQueueBytesMax: sendQueueMessagesDefault * messageSizeMax, idleTimeoutMs: idleTimeoutMsDefault, ...limits };
  if (!(resolved.sendQueueBytesMax >= messageSizeMax)) throw new RangeError("sendQueueBytesMax must hold one message of the largest size");
  if (!(resolved.idleTimeoutMs > 0)) throw new RangeError("idleTimeoutMs must be positive");
  return resolved;
}

/** The transport's operator log: problems at warn, expected closes at info. */
export interface TransportLog {
  info(line: string): void;
  warn(line: string): void;
}

/** Running totals of one bus, for metrics. */
export interface TransportStats {
  messagesDropped: number;
  bytesDropped: number;
  /** Accepted connections closed because no complete message arrived for idleTimeoutMs. */
  connectionsClosedIdle: number;
  /** Connections closed (outbound ones then reconnect) that could not connect or send for idleTimeoutMs. */
  connectionsClosedStalled: number;
}

export function transportStats(): TransportStats {
  return { messagesDropped: 0, bytesDropped: 0, connectionsClosedIdle: 0, connectionsClosedStalled: 0 };
}

/** How often a bus checks its connections' clocks: often enough to close within ~1/4 of the timeout. */
export function sweepIntervalMs(limits: TcpLimits): number {
  return Math.max(10, Math.min(1_000, Math.floor(limits.idleTimeoutMs / 4)));
}

/**
 * Calls `sweep(now)` every sweepIntervalMs; returns the stop function. A sweep that comes late
 * means this process was blocked, not its peers: timers run before the sockets' pending bytes are
 * read, so every connection would look silent. That round is skipped; the next one judges.
 */
export function startSweeps(limits: TcpLimits, sweep: (now: number) => void): () => void {
  const intervalMs = sweepIntervalMs(limits);
  let lastMs = nowMs();
  const timer = setInterval(() => {
    const now = nowMs();
    const late = now - lastMs > 2 * intervalMs + 100;
    lastMs = now;
    if (!late) sweep(now);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** At most one line about drops per connection this often; drops in between are summed. */
const dropReportIntervalMs = 10_000;

export function nowMs(): number {
  return performance.now();
}

export interface DropReport {
  readonly messages: number;
  readonly bytes: number;
  readonly queuedBytes: number;
}

export class TcpLink {
  private readonly openedAtMs = nowMs();
  private receivedAtMs = this.openedAtMs;
  /** When bytes last left the send queue for the kernel, or when the queue last became non-empty. */
  private sentAtMs = this.openedAtMs;
  private droppedMessages = 0;
  private droppedBytes = 0;
  private reportedAtMs = -Infinity;
  private readonly onWritten = (): void => { this.sentAtMs = nowMs(); };

  constructor(readonly socket: Socket, private readonly limits: TcpLimits, private readonly stats: TransportStats) {}

  /**
   * Queues a copy of `message` (or `message` itself when `shared`: the caller never modifies it
   * again), or drops it if the send queue would exceed its bound.
   */
  send(message: Uint8Array, shared = false): boolean {
    const queued = this.socket.writableLength;
    if (queued > 0 && queued + message.length > this.limits.sendQueueBytesMax) {
      this.droppedMessages += 1;
      this.droppedBytes += message.length;
      this.stats.messagesDropped += 1;
      this.stats.bytesDropped += message.length;
      return false;
    }
    if (queued === 0) this.sentAtMs = nowMs();
    this.socket.write(shared ? message : message.slice(), this.onWritten);
    return true;
  }

  /** A complete message arrived. */
  received(): void {
    this.receivedAtMs = nowMs();
  }

  /** How long no complete message has arrived. */
  silentForMs(now: number): number {
    return now - this.receivedAtMs;
  }

  /** How long bytes have been waiting to be sent with none sent; 0 when nothing waits. */
  stalledForMs(now: number): number {
    return this.socket.writableLength > 0 ? now - this.sentAtMs : 0;
  }

  get ageMs(): number {
    return nowMs() - this.openedAtMs;
  }

  /** Drops not yet reported, once per dropReportIntervalMs (or at once with `force`, on close). */
  takeDropReport(now: number, force = false): DropReport | null {
    if (this.droppedMessages === 0 || (!force && now - this.reportedAtMs < dropReportIntervalMs)) return null;
    const report = { messages: this.droppedMessages, bytes: this.droppedBytes, queuedBytes: this.socket.writableLength };
    this.droppedMessages = this.droppedBytes = 0;
    this.reportedAtMs = now;
    return report;
  }
}

export function describeDrops(report: DropReport, peer: string, limits: TcpLimits): string {
  return `dropped ${report.messages} message(s) (${report.bytes} bytes) to ${peer}: its send queue is full ` +
    `(${report.queuedBytes} bytes waiting, limit ${limits.sendQueueBytesMax}); the peer is not reading fast enough`;
}

/** Allows one event per interval (e.g. one log line about a repeating misconfiguration). */
export class RateLimit {
  private lastMs = -Infinity;
  private suppressedCount = 0;

  constructor(private readonly intervalMs: number) {}

  /** Whether to act now; if not, the event is counted in `suppressed`. */
  allow(now: number = nowMs()): boolean {
    if (now - this.lastMs < this.intervalMs) {
      this.suppressedCount += 1;
      return false;
    }
    this.lastMs = now;
    return true;
  }

  /** Events refused since the last allowed one; reading resets it. */
  takeSuppressed(): number {
    const count = this.suppressedCount;
    this.suppressedCount = 0;
    return count;
  }
}

export function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}
