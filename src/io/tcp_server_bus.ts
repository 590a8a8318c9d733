// The replica side of the TCP transport (portable node:net backend; the io_uring backend comes
// with the production binary). It accepts connections from clients and peers, frames and verifies
// every message (wire.md §1: a bad frame closes the connection), and hands whole messages to the
// replica. Replies go back on the connection a client last sent from; replica-to-replica messages
// go out on one outbound connection per peer (tcp_client_bus.ts, Connection).
//
// No connection can hold up another or grow memory without bound (tcp_link.ts): every send queue is
// bounded (a message beyond it is dropped and counted; VSR retries), and a connection on which no
// complete message arrives for the idle timeout (a silent peer, a stopped client, one that sent
// half a message and went quiet) is closed.
import { createServer, type Server, type Socket } from "node:net";
import { Command } from "../core/command.js";
import { readU128 } from "../core/bytes.js";
import { releaseCurrent } from "../core/config.js";
import { buildPongClient, FrameField, MessageFramer } from "../core/header.js";
import type { MessageBus } from "./message_bus.js";
import { Connection, formatAddress, type Address } from "./tcp_client_bus.js";
import {
  describeDrops, nowMs, RateLimit, seconds, startSweeps, TcpLink, tcpLimits, transportStats,
  type TcpLimits, type TransportLog, type TransportStats,
} from "./tcp_link.js";

export interface TcpServerBusOptions {
  readonly replica: number;
  /** Every replica's address, by index; this replica listens on its own. */
  readonly addresses: readonly Address[];
  readonly messageSizeMax: number;
  /**
   * This replica's cluster. A connection whose messages carry another (a misconfiguration) is
   * refused with a log line, after one message of this cluster that tells the other end why.
   */
  readonly cluster: bigint;
  readonly onMessage: (message: Uint8Array) => void;
  readonly log?: TransportLog;
  /** Defaults: tcpLimits(messageSizeMax). */
  readonly limits?: Partial<TcpLimits>;
}

/** Clients remembered per connection; bounded so a flood of ids cannot exhaust memory. */
const clientsPerConnectionMax = 64;
/** A refused connection is given this long to read our one message before it is destroyed. */
const refusalLingerMs = 1_000;
/** A misconfigured client or peer retries about every second: one log line per this interval. */
const misconfigurationLogIntervalMs = 10_000;

/** An accepted connection: a client's, or a peer replica's (which then only sends to us). */
interface Accepted {
  readonly link: TcpLink;
  readonly framer: MessageFramer;
  /** "127.0.0.1:51234", for log lines. */
  readonly remote: string;
  /** Clients whose replies go to this connection. */
  readonly clients: Set<bigint>;
  /** The peer's index once it sent a replica command: its connection never carries replies. */
  peerReplica: number | null;
  /** Of another cluster: told so, and closing; nothing more is read from it. */
  refused: boolean;
}

export class TcpServerBus implements MessageBus {
  readonly stats: TransportStats = transportStats();
  private readonly limits: TcpLimits;
  private readonly server: Server;
  private readonly peers: (Connection | null)[];
  private readonly clients = new Map<bigint, Accepted>();
  /** Every accepted connection (clients' and peers'), destroyed on close. */
  private readonly accepted = new Set<Accepted>();
  private readonly stopSweeps: () => void;
  private readonly refusalLog = new RateLimit(misconfigurationLogIntervalMs);

  constructor(private readonly options: TcpServerBusOptions) {
    this.limits = tcpLimits(options.messageSizeMax, options.limits);
    this.server = createServer((socket) => this.accept(socket));
    this.peers = options.addresses.map((address, index) => index === options.replica ? null : this.connectPeer(address, index));
    for (const peer of this.peers) peer?.setRef(true);
    this.stopSweeps = startSweeps(this.limits, (now) => this.sweep(now));
  }

  /** Starts listening; calls back once bound (or with the error, e.g. EADDRINUSE). */
  listen(callback: (error: Error | null) => void): void {
    const address = this.options.addresses[this.options.replica]!;
    this.server.once("error", (error) => callback(error));
    this.server.listen(address.port, address.host, () => callback(null));
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  sendToReplica(replica: number, message: Uint8Array): void {
    this.peers[replica]?.send(message);
  }

  sendToReplicaShared(replica: number, message: Uint8Array): void {
    this.peers[replica]?.send(message, true);
  }

  sendToClient(client: bigint, message: Uint8Array): void {
    const connection = this.clients.get(client);
    if (connection !== undefined && !connection.link.socket.destroyed) connection.link.send(message);
  }

  /** Stops accepting, closes outbound peer connections and destroys every accepted one. */
  close(): void {
    this.stopSweeps();
    this.server.close();
    for (const peer of this.peers) peer?.close();
    for (const connection of this.accepted) connection.link.socket.destroy();
    this.accepted.clear();
    this.clients.clear();
  }

  private connectPeer(address: Address, replica: number): Connection {
    const mismatchLog = new RateLimit(misconfigurationLogIntervalMs);
    return new Connection({
      address, label: `replica ${replica}`, messageSizeMax: this.options.messageSizeMax, limits: this.limits,
      stats: this.stats, cluster: this.options.cluster, onMessage: this.options.onMessage,
      ...(this.options.log && { log: this.options.log }),
      onClusterMismatch: (cluster) => {
        if (!mismatchLog.allow()) return;
        this.options.log?.warn(`replica ${replica} at ${formatAddress(address)} belongs to cluster ${cluster}, ` +
          `but this replica is of cluster ${this.options.cluster} (check --addresses)`);
      },
    });
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const connection: Accepted = {
      link: new TcpLink(socket, this.limits, this.stats), framer: new MessageFramer(this.options.messageSizeMax),
      remote: `${socket.remoteAddress}:${socket.remotePort}`, clients: new Set(), peerReplica: null, refused: false,
    };
    this.accepted.add(connection);
    socket.on("data", (chunk: Buffer) => this.receive(connection, chunk));
    socket.on("error", () => { /* reported through "close" */ });
    socket.on("close", () => {
      this.reportDrops(connection, nowMs(), true);
      this.accepted.delete(connection);
      this.forgetClients(connection);
    });
  }

  private receive(connection: Accepted, chunk: Buffer): void {
    if (connection.refused) return;
    // A plain Uint8Array view: Buffer#slice shares memory, and receivers copy with slice().
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    const error = connection.framer.feed(bytes, (message) => this.deliver(connection, message));
    if (error !== null && !connection.refused && !connection.link.socket.destroyed) {
      this.options.log?.warn(`closing the connection from ${connection.remote}: ${error}`);
      connection.link.socket.destroy();
    }
  }

  private deliver(connection: Accepted, message: Uint8Array): void {
    if (connection.refused || connection.link.socket.destroyed) return;
    const cluster = readU128(message, FrameField.cluster);
    if (cluster !== this.options.cluster) return this.refuse(connection, cluster);
    connection.link.received();
    const command = message[FrameField.command]!;
    if (connection.peerReplica === null && command !== Command.request && command !== Command.ping_client) {
      // Only replicas send anything else: a peer's connection never carries a client's
      // replies, even though backups forward client requests on it.
      connection.peerReplica = message[FrameField.replica]!;
      this.forgetClients(connection);
    }
    if (connection.peerReplica === null) this.learnClient(connection, message);
    this.options.onMessage(message);
  }

  /**
   * Another cluster's client or replica. It gets one message carrying this replica's cluster, so it
   * can tell its operator (our client fails its requests with "cluster mismatch"; tigerbeetle-node
   * drops a message of another cluster, closes the connection and retries, as it would anyway). A
   * pong_client of view 0 is the most harmless message a client can receive: it teaches nothing.
   */
  private refuse(connection: Accepted, cluster: bigint): void {
    connection.refused = true;
    if (this.refusalLog.allow()) {
      const more = this.refusalLog.takeSuppressed();
      this.options.log?.warn(`refusing connection from ${connection.remote}: cluster ${cluster}, but this replica is of ` +
        `cluster ${this.options.cluster} (check the client's cluster_id)` +
        (more > 0 ? `; ${more} more connection(s) refused since the last such line` : ""));
    }
    const socket = connection.link.socket;
    // end() sends the notice before the FIN; destroy() later, whatever the other end does.
    socket.end(buildPongClient(this.options.cluster, 0n, 0, this.options.replica, releaseCurrent));
    const linger = setTimeout(() => socket.destroy(), refusalLingerMs).unref();
    socket.once("close", () => clearTimeout(linger));
  }

  private sweep(now: number): void {
    for (const peer of this.peers) peer?.check(now);
    const { idleTimeoutMs } = this.limits;
    for (const connection of this.accepted) {
      this.reportDrops(connection, now, false);
      if (connection.refused) continue; // closes on its own (refusalLingerMs)
      const link = connection.link;
      if (link.silentForMs(now) >= idleTimeoutMs) this.closeSilent(connection, now);
      else if (link.stalledForMs(now) >= idleTimeoutMs) {
        this.stats.connectionsClosedStalled += 1;
        this.options.log?.warn(`closing the connection from ${this.describe(connection)}: ` +
          `${link.socket.writableLength} bytes waiting to be sent and none sent for ${seconds(link.stalledForMs(now))}: it is not reading`);
        link.socket.destroy();
      }
    }
  }

  /** Nothing complete arrived for the idle timeout: a vanished client is routine, the rest are not. */
  private closeSilent(connection: Accepted, now: number): void {
    this.stats.connectionsClosedIdle += 1;
    const partial = connection.framer.bufferedBytes;
    const line = `closing the connection from ${this.describe(connection)}: no complete message for ` +
      `${seconds(connection.link.silentForMs(now))}` + (partial > 0 ? ` (${partial} bytes of a partial message pending)` : "");
    if (partial > 0 || connection.peerReplica !== null) this.options.log?.warn(line);
    else this.options.log?.info(line);
    connection.link.socket.destroy();
  }

  private describe(connection: Accepted): string {
    if (connection.peerReplica !== null) return `replica ${connection.peerReplica} (${connection.remote})`;
    return connection.clients.size > 0 ? `a client (${connection.remote})` : connection.remote;
  }

  private reportDrops(connection: Accepted, now: number, force: boolean): void {
    const report = connection.link.takeDropReport(now, force);
    if (report !== null) this.options.log?.warn(describeDrops(report, this.describe(connection), this.limits));
  }

  /**
   * Requests and pings carry the client id at offset 160 / 128: reply on this connection. A
   * ping_client comes only from the client itself; a request may also be a backup's forward that
   * arrived before the backup's first ping marked its connection as a peer's, so a request never
   * moves a client away from a live connection (the reply would go to the backup, which drops it,
   * and the client would wait for its request timeout).
   */
  private learnClient(connection: Accepted, message: Uint8Array): void {
    const command = message[FrameField.command];
    const offset = command === Command.request ? 160 : command === Command.ping_client ? 128 : -1;
    if (offset < 0) return;
    const client = readU128(message, offset);
    if (client === 0n) return;
    const current = this.clients.get(client);
    if (command === Command.request && current !== undefined && current !== connection && !current.link.socket.destroyed) return;
    if (!connection.clients.has(client) && connection.clients.size >= clientsPerConnectionMax) return;
    connection.clients.add(client);
    this.clients.set(client, connection);
  }

  /** A connection closed, or turned out to be a peer's: no client's replies go there. */
  private forgetClients(connection: Accepted): void {
    for (const client of connection.clients) if (this.clients.get(client) === connection) this.clients.delete(client);
    connection.clients.clear();
  }
}
