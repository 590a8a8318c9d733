// The replica side of the TCP transport (portable node:net backend; the io_uring backend comes
// with the production binary). It accepts connections from clients and peers, frames and verifies
// every message (wire.md §1: a bad frame closes the connection), and hands whole messages to the
// replica. Replies go back on the connection a client last sent from; replica-to-replica messages
// go out on one outbound connection per peer.
import { createServer, type Server, type Socket } from "node:net";
import { Command } from "../core/command.js";
import { readU128 } from "../core/bytes.js";
import { FrameField, MessageFramer } from "../core/header.js";
import type { MessageBus } from "./message_bus.js";
import { Connection, type Address } from "./tcp_client_bus.js";

export interface TcpServerBusOptions {
  readonly replica: number;
  /** Every replica's address, by index; this replica listens on its own. */
  readonly addresses: readonly Address[];
  readonly messageSizeMax: number;
  /** Messages of another cluster close their connection (with a log line): a misconfiguration. */
  readonly cluster?: bigint;
  readonly onMessage: (message: Uint8Array) => void;
  readonly log?: (line: string) => void;
}

/** Clients remembered per connection; bounded so a flood of ids cannot exhaust memory. */
const clientsPerConnectionMax = 64;

export class TcpServerBus implements MessageBus {
  private readonly server: Server;
  private readonly peers: (Connection | null)[];
  private readonly clients = new Map<bigint, Socket>();
  /** Every accepted connection (clients' and peers'), destroyed on close. */
  private readonly accepted = new Set<Socket>();

  constructor(private readonly options: TcpServerBusOptions) {
    this.server = createServer((socket) => this.accept(socket));
    this.peers = options.addresses.map((address, index) => index === options.replica ? null
      : new Connection(address, options.messageSizeMax, options.onMessage, () => false));
    for (const peer of this.peers) peer?.setRef(true);
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

  sendToClient(client: bigint, message: Uint8Array): void {
    const socket = this.clients.get(client);
    if (socket !== undefined && !socket.destroyed) socket.write(message.slice());
  }

  /** Stops accepting, closes outbound peer connections and destroys every accepted one. */
  close(): void {
    this.server.close();
    for (const peer of this.peers) peer?.close();
    for (const socket of this.accepted) socket.destroy();
    this.accepted.clear();
    this.clients.clear();
  }

  private accept(socket: Socket): void {
    this.accepted.add(socket);
    socket.setNoDelay(true);
    const framer = new MessageFramer(this.options.messageSizeMax);
    const known = new Set<bigint>();
    let peer = false;
    socket.on("data", (chunk: Buffer) => {
      // A plain Uint8Array view: Buffer#slice shares memory, and receivers copy with slice().
      const error = framer.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), (message) => {
        if (socket.destroyed) return;
        const cluster = readU128(message, FrameField.cluster);
        if (this.options.cluster !== undefined && cluster !== this.options.cluster) {
          this.options.log?.(`refusing connection from ${socket.remoteAddress}:${socket.remotePort}: ` +
            `cluster ${cluster}, but this replica is of cluster ${this.options.cluster} (check the client's cluster_id)`);
          socket.destroy();
          return;
        }
        const command = message[114]!;
        if (!peer && command !== Command.request && command !== Command.ping_client) {
          // Only replicas send anything else: a peer's connection never carries a client's
          // replies, even though backups forward client requests on it.
          peer = true;
          this.forgetClients(socket, known);
        }
        if (!peer) this.learnClient(socket, message, known);
        this.options.onMessage(message);
      });
      if (error !== null) {
        this.options.log?.(`closing connection from ${socket.remoteAddress}:${socket.remotePort}: ${error}`);
        socket.destroy();
      }
    });
    socket.on("error", () => { /* reported through "close" */ });
    socket.on("close", () => {
      this.accepted.delete(socket);
      for (const client of known) if (this.clients.get(client) === socket) this.clients.delete(client);
    });
  }

  /**
   * Requests and pings carry the client id at offset 160 / 128: reply on this connection. A
   * ping_client comes only from the client itself; a request may also be a backup's forward that
   * arrived before the backup's first ping marked its connection as a peer's, so a request never
   * moves a client away from a live connection (the reply would go to the backup, which drops it,
   * and the client would wait for its request timeout).
   */
  private learnClient(socket: Socket, message: Uint8Array, known: Set<bigint>): void {
    const command = message[114];
    const offset = command === Command.request ? 160 : command === Command.ping_client ? 128 : -1;
    if (offset < 0) return;
    const client = readU128(message, offset);
    if (client === 0n) return;
    const current = this.clients.get(client);
    if (command === Command.request && current !== undefined && current !== socket && !current.destroyed) return;
    if (!known.has(client) && known.size >= clientsPerConnectionMax) return;
    known.add(client);
    this.clients.set(client, socket);
  }

  /** A connection turned out to be a peer's: no client's replies go there. */
  private forgetClients(socket: Socket, known: Set<bigint>): void {
    for (const client of known) if (this.clients.get(client) === socket) this.clients.delete(client);
    known.clear();
  }
}
