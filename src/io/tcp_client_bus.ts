// The client side of the TCP transport (spec/wire.md §1, §13): one connection to every replica,
// reconnected with exponential backoff and jitter (50 ms – 1 s); messages framed and
// checksum-verified on receipt. A send while a connection is down, or while its send queue is full,
// is dropped: the VSR client retries on its own timeout anyway. Replicas use the same Connection
// for their peers (tcp_server_bus.ts).
import { connect } from "node:net";
import { readU128 } from "../core/bytes.js";
import { FrameField, MessageFramer } from "../core/header.js";
import type { MessageBus } from "./message_bus.js";
import {
  describeDrops, nowMs, seconds, startSweeps, TcpLink, tcpLimits, transportStats,
  type TcpLimits, type TransportLog, type TransportStats,
} from "./tcp_link.js";

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Parses an address as tigerbeetle-node does: "3000", "host:port", "[v6]:port", or a bare IP (port 3001). */
export function parseAddress(address: string | number): Address {
  const text = String(address).trim();
  if (/^\d+$/.test(text)) return { host: "127.0.0.1", port: checkPort(Number(text), address) };
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: v6[2] === undefined ? 3001 : checkPort(Number(v6[2]), address) };
  const hostPort = /^([^:\s]+):(\d+)$/.exec(text);
  if (hostPort) return { host: hostPort[1]!, port: checkPort(Number(hostPort[2]), address) };
  if (/^[^:\s]+$/.test(text)) return { host: text, port: 3001 };
  throw new TypeError(`invalid replica address '${String(address)}' (expected "port", "host:port" or "[ipv6]:port")`);
}

/** "host:port", or "[v6]:port". */
export function formatAddress(address: Address): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function checkPort(port: number, address: string | number): number {
  if (port < 1 || port > 65535) throw new TypeError(`invalid port in replica address '${String(address)}'`);
  return port;
}


export interface TcpClientBusOptions {
  readonly addresses: readonly Address[];
  readonly messageSizeMax: number;
  /** The cluster this client was created for: every replica's messages carry it. */
  readonly cluster: bigint;
  readonly onMessage: (message: Uint8Array) => void;
  /**
   * The replica at `address` sent a message of another cluster: it belongs to that cluster (a
   * replica answers a connection of the wrong cluster with one message carrying its own, then
   * closes it). The message is not delivered.
   */
  readonly onClusterMismatch: (address: Address, cluster: bigint) => void;
  /** Defaults: tcpLimits(messageSizeMax). */
  readonly limits?: Partial<TcpLimits>;
}

export class TcpClientBus implements MessageBus {
  readonly stats: TransportStats = transportStats();
  private readonly connections: Connection[];
  private readonly stopSweeps: () => void;

  constructor(options: TcpClientBusOptions) {
    const limits = tcpLimits(options.messageSizeMax, options.limits);
    this.connections = options.addresses.map((address, replica) => new Connection({
      address, label: `replica ${replica}`, messageSizeMax: options.messageSizeMax, limits, stats: this.stats,
      cluster: options.cluster, onMessage: options.onMessage,
      onClusterMismatch: (cluster) => options.onClusterMismatch(address, cluster),
    }));
    this.stopSweeps = startSweeps(limits, (now) => {
      for (const connection of this.connections) connection.check(now);
    });
  }

  sendToReplica(replica: number, message: Uint8Array): void {
    this.connections[replica]?.send(message);
  }

  sendToClient(): void {
    throw new Error("a client does not send to clients");
  }

  /** Whether open sockets keep the process alive (only while requests are outstanding). */
  setRef(ref: boolean): void {
    for (const connection of this.connections) connection.setRef(ref);
  }

  close(): void {
    this.stopSweeps();
    for (const connection of this.connections) connection.close();
  }
}

export interface ConnectionOptions {
  readonly address: Address;
  /** Who is at the other end, for log lines: "replica 2". */
  readonly label: string;
  readonly messageSizeMax: number;
  readonly limits: TcpLimits;
  readonly stats: TransportStats;
  /** Messages of another cluster are not delivered: onClusterMismatch, and the connection closes. */
  readonly cluster: bigint;
  readonly onMessage: (message: Uint8Array) => void;
  readonly onClusterMismatch: (cluster: bigint) => void;
  readonly log?: TransportLog;
}

const reconnectDelayMinMs = 50;
const reconnectDelayMaxMs = 1_000;
/** A connection that lived this long was healthy: its successor starts the backoff afresh. */
const connectionHealthyMs = 10_000;

/**
 * Exponential backoff with jitter, as TigerBeetle's message bus: uniform in [min, min · 2^attempts],
 * capped at max. The first retry after a healthy connection is quick (a replica restarting).
 */
export function reconnectDelayMs(attempts: number, random: number = Math.random()): number {
  const ceiling = Math.min(reconnectDelayMaxMs, reconnectDelayMinMs * 2 ** Math.min(attempts, 16));
  return reconnectDelayMinMs + Math.floor(random * (ceiling - reconnectDelayMinMs + 1));
}

/**
 * One outbound connection, reconnected with backoff; used by clients and by replicas for peers.
 * The owner calls check() periodically: a connection that cannot connect, or cannot send what is
 * queued, within the idle timeout is reset (TigerBeetle relies on TCP_USER_TIMEOUT for the same;
 * node:net does not expose it).
 */
export class Connection {
  private link: TcpLink | null = null;
  private connected = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectAttempts = 0;
  private ref = false;
  /** close() was called: no reconnect. */
  private closed = false;
  private readonly framer: MessageFramer;

  constructor(private readonly options: ConnectionOptions) {
    this.framer = new MessageFramer(options.messageSizeMax);
    this.open();
  }

  /**
   * Queues the message (uncopied when `shared`, see TcpLink.send), or drops it (counted) while
   * disconnected or while the send queue is full.
   */
  send(message: Uint8Array, shared = false): void {
    if (this.connected && this.link !== null) this.link.send(message, shared);
  }

  setRef(ref: boolean): void {
    this.ref = ref;
    if (ref) this.link?.socket.ref();
    else this.link?.socket.unref();
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.link?.socket.destroy();
    this.link = null;
    this.connected = false;
  }

  /** Reports drops (rate-limited) and resets a connection that cannot connect or send. */
  check(now: number): void {
    const link = this.link;
    if (link === null) return;
    this.reportDrops(link, now, false);
    const { idleTimeoutMs } = this.options.limits;
    if (!this.connected && link.ageMs >= idleTimeoutMs) {
      this.reset(link, `not connected after ${seconds(idleTimeoutMs)}`);
    } else if (link.stalledForMs(now) >= idleTimeoutMs) {
      this.reset(link, `${link.socket.writableLength} bytes waiting to be sent and none sent for ` +
        `${seconds(link.stalledForMs(now))}: the peer is not reading`);
    }
  }

  private get name(): string {
    return `${this.options.label} (${formatAddress(this.options.address)})`;
  }

  private reset(link: TcpLink, why: string): void {
    this.options.stats.connectionsClosedStalled += 1;
    this.options.log?.warn(`resetting the connection to ${this.name}: ${why}; reconnecting`);
    link.socket.destroy();
  }

  private reportDrops(link: TcpLink, now: number, force: boolean): void {
    const report = link.takeDropReport(now, force);
    if (report !== null) this.options.log?.warn(describeDrops(report, this.name, this.options.limits));
  }

  private open(): void {
    const socket = connect({ host: this.options.address.host, port: this.options.address.port });
    const link = new TcpLink(socket, this.options.limits, this.options.stats);
    this.link = link;
    this.framer.reset();
    socket.setNoDelay(true);
    if (!this.ref) socket.unref();
    socket.on("connect", () => { this.connected = true; });
    socket.on("data", (chunk: Buffer) => this.receive(link, chunk));
    socket.on("error", () => { /* reported through "close" */ });
    socket.on("close", () => {
      if (this.link === link) {
        this.link = null;
        this.connected = false;
      }
      this.reportDrops(link, nowMs(), true);
      this.reconnectAttempts = link.ageMs >= connectionHealthyMs ? 0 : this.reconnectAttempts + 1;
      this.scheduleReconnect();
    });
  }

  private receive(link: TcpLink, chunk: Buffer): void {
    // A plain Uint8Array view: Buffer#slice shares memory, and receivers copy with slice().
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    const error = this.framer.feed(bytes, (message) => {
      if (link.socket.destroyed) return;
      const cluster = readU128(message, FrameField.cluster);
      if (cluster !== this.options.cluster) {
        link.socket.destroy();
        this.options.onClusterMismatch(cluster);
        return;
      }
      link.received();
      this.options.onMessage(message);
    });
    // A corrupt or unknown frame closes the connection (wire.md §1); the reconnect starts clean.
    if (error !== null && !link.socket.destroyed) {
      this.options.log?.warn(`closing the connection to ${this.name}: ${error}`);
      link.socket.destroy();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.open();
    }, reconnectDelayMs(this.reconnectAttempts));
    this.reconnectTimer.unref();
  }
}
