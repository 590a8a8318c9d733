// The client side of the TCP transport (spec/wire.md §1, §13): one connection to every replica,
// reconnected with a 50 ms – 1 s backoff; messages framed and checksum-verified on receipt. A send
// while a connection is down is dropped: the VSR client retries on its own timeout anyway.
import { connect, type Socket } from "node:net";
import { MessageFramer } from "../core/header.js";
import type { MessageBus } from "./message_bus.js";

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

function checkPort(port: number, address: string | number): number {
  if (port < 1 || port > 65535) throw new TypeError(`invalid port in replica address '${String(address)}'`);
  return port;
}

export class TcpClientBus implements MessageBus {
  private readonly connections: Connection[];
  private closed = false;

  constructor(addresses: readonly Address[], messageSizeMax: number, onMessage: (message: Uint8Array) => void) {
    this.connections = addresses.map((address) => new Connection(address, messageSizeMax, onMessage, () => this.closed));
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
    this.closed = true;
    for (const connection of this.connections) connection.close();
  }
}

/** One outbound connection, reconnected with backoff; used by clients and by replicas for peers. */
export class Connection {
  private socket: Socket | null = null;
  private connected = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private ref = false;
  /** close() was called: no reconnect, whatever isClosed() says. */
  private closed = false;
  private readonly framer: MessageFramer;

  constructor(
    private readonly address: Address, messageSizeMax: number,
    private readonly onMessage: (message: Uint8Array) => void, private readonly isClosed: () => boolean,
  ) {
    this.framer = new MessageFramer(messageSizeMax);
    this.open();
  }

  send(message: Uint8Array): void {
    if (this.connected && this.socket !== null) this.socket.write(message.slice());
  }

  setRef(ref: boolean): void {
    this.ref = ref;
    if (ref) this.socket?.ref();
    else this.socket?.unref();
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): void {
    const socket = connect({ host: this.address.host, port: this.address.port });
    this.socket = socket;
    this.framer.reset();
    socket.setNoDelay(true);
    if (!this.ref) socket.unref();
    socket.on("connect", () => { this.connected = true; });
    socket.on("data", (chunk: Buffer) => {
      // A corrupt or unknown frame closes the connection (wire.md §1); the reconnect starts clean.
      // A plain Uint8Array view: Buffer#slice shares memory, and receivers copy with slice().
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
      if (this.framer.feed(bytes, this.onMessage) !== null) socket.destroy();
    });
    socket.on("error", () => { /* reported through "close" */ });
    socket.on("close", () => {
      this.connected = false;
      if (this.socket === socket) this.socket = null;
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.isClosed() || this.reconnectTimer !== null) return;
    const delayMs = 50 + Math.floor(Math.random() * 950);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed && !this.isClosed()) this.open();
    }, delayMs);
    this.reconnectTimer.unref();
  }
}
