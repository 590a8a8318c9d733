// A TCP fault proxy for the multi-process fault test (in the spirit of TigerBeetle's Vörtex): it
// sits on every path between processes and can delay, drop, stall and refuse traffic.
//
// One listening port per LINK, a link being (from, to): from is a replica index or "client", to
// is a replica index. Replica i is started with an --addresses list whose own entry is its real
// port (it binds only its own entry) and whose entry j is the port of link (i → j); clients get
// the ports of links ("client" → j). A Scarab replica sends to a peer only on its own outbound
// connection (src/io/tcp_server_bus.ts), so every byte from i to j crosses link (i → j) and the
// proxy knows both ends of everything it carries: isolating replica r touches exactly the links
// with r at one end. A proxy per replica (shared by all senders) could not tell who is sending.
//
// Faults (all decisions drawn from a seeded PRNG; timing is real):
// - delay: each chunk waits a random 0..delayMsMax ms (order within a connection is kept);
// - drop: each chunk destroys its connection (both sides) with probability dropPerChunk;
// - dropConnections(): destroys the current connections of some links at once;
// - isolate(r): destroys r's connections and refuses new ones until heal(r) (a partition that
//   looks like resets / refused connections to the replicas);
// - stall(r): stops forwarding to and from r, buffering (a partition that looks like a silent
//   network: TCP stays up, bytes arrive late and in order when the stall ends).
//
// It also watches the framing of every stream it carries (WireWatch): each message is a 256-byte
// header whose u32 at offset 96 is the message's size, so after `size` bytes the next header must
// begin. Bytes that do not (a size below 256 or beyond the message size limit, an unknown command)
// mean a sender wrote something other than whole messages: a wire bug, reported in `violations`.
import { connect, createServer, type Server, type Socket } from "node:net";
import { Random } from "./random.js";

export type Endpoint = number | "client";

export interface LinkSpec {
  readonly from: Endpoint;
  readonly to: number;
  /** The real port of replica `to`. */
  readonly targetPort: number;
}

export interface ProxyStats {
  connections: number;
  chunks: number;
  bytes: number;
  /** Connections destroyed by a random drop, dropConnections() or isolate(). */
  dropped: number;
  /** Connections refused because a link was isolated. */
  refused: number;
}

interface Link extends LinkSpec {
  server: Server;
  port: number;
  connections: Set<Connection>;
}

interface Connection {
  readonly link: Link;
  readonly downstream: Socket;
  readonly upstream: Socket;
  closed: boolean;
}

const host = "127.0.0.1";
/** A stalled direction holding more than this is destroyed instead (bounded memory). */
const stallBufferMax = 64 * 1024 * 1024;
/** How often a stalled direction looks again. */
const stallPollMs = 20;

export class FaultProxy {
  readonly stats: ProxyStats = { connections: 0, chunks: 0, bytes: 0, dropped: 0, refused: 0 };
  /** Background faults, changed by the nemesis; heal() zeroes them. */
  delayMsMax = 0;
  dropPerChunk = 0;
  private readonly links: Link[] = [];
  private readonly random: Random;
  private readonly isolated = new Set<number>();
  private readonly stalled = new Set<number>();
  private closing = false;
  /** Framing violations seen on the streams (bounded). */
  readonly violations: string[] = [];

  constructor(seed: number, readonly messageSizeMax: number) {
    this.random = new Random(seed, 1);
  }

  /** Listens on one loopback port per link. */
  async listen(specs: readonly LinkSpec[]): Promise<void> {
    for (const spec of specs) {
      const link: Link = { ...spec, server: createServer(), port: 0, connections: new Set() };
      link.server.on("connection", (socket) => this.accept(link, socket));
      await new Promise<void>((resolve, reject) => {
        link.server.once("error", reject);
        link.server.listen(0, host, () => resolve());
      });
      const address = link.server.address();
      link.port = typeof address === "object" && address !== null ? address.port : 0;
      this.links.push(link);
    }
  }

  port(from: Endpoint, to: number): number {
    const link = this.links.find((l) => l.from === from && l.to === to);
    if (link === undefined) throw new Error(`no proxy link ${from} → ${to}`);
    return link.port;
  }

  /** Refuses and resets everything to and from `replica` until heal(). */
  isolate(replica: number): number {
    this.isolated.add(replica);
    return this.dropConnections((link) => touches(link, replica));
  }

  /** Stops forwarding to and from `replica` (bytes are held, in order) until heal(). */
  stall(replica: number): void {
    this.stalled.add(replica);
  }

  /** Ends `replica`'s partitions, or (no argument) every partition and background fault. */
  heal(replica?: number): void {
    if (replica !== undefined) {
      this.isolated.delete(replica);
      this.stalled.delete(replica);
      return;
    }
    this.isolated.clear();
    this.stalled.clear();
    this.delayMsMax = 0;
    this.dropPerChunk = 0;
  }

  /** Destroys the current connections of the links `filter` selects; returns how many. */
  dropConnections(filter: (link: LinkSpec) => boolean = () => true): number {
    let count = 0;
    for (const link of this.links) {
      if (!filter(link)) continue;
      for (const connection of [...link.connections]) {
        this.destroy(connection);
        count++;
      }
    }
    this.stats.dropped += count;
    return count;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.heal();
    for (const link of this.links) for (const connection of [...link.connections]) this.destroy(connection);
    await Promise.all(this.links.map((link) => new Promise<void>((resolve) => link.server.close(() => resolve()))));
  }

  private blocked(link: Link): boolean {
    return this.closing || this.isolated.has(link.to) || (typeof link.from === "number" && this.isolated.has(link.from));
  }

  private held(link: Link): boolean {
    return this.stalled.has(link.to) || (typeof link.from === "number" && this.stalled.has(link.from));
  }

  private accept(link: Link, downstream: Socket): void {
    downstream.on("error", () => {});
    if (this.blocked(link)) {
      this.stats.refused++;
      downstream.destroy();
      return;
    }
    this.stats.connections++;
    const upstream = connect({ host, port: link.targetPort });
    upstream.on("error", () => {});
    downstream.setNoDelay(true);
    upstream.setNoDelay(true);
    const connection: Connection = { link, downstream, upstream, closed: false };
    link.connections.add(connection);
    const name = `${typeof link.from === "number" ? `r${link.from}` : "client"}→r${link.to}`;
    this.forward(connection, downstream, upstream, new WireWatch(`${name} (sent by ${name.split("→")[0]})`, this));
    this.forward(connection, upstream, downstream, new WireWatch(`${name} (reply direction, sent by r${link.to})`, this));
    downstream.on("close", () => this.destroy(connection));
    upstream.on("close", () => this.destroy(connection));
  }

  /** One direction: chunks queue with a release time; a stall holds the queue. */
  private forward(connection: Connection, source: Socket, sink: Socket, watch: WireWatch): void {
    const queue: { chunk: Buffer; at: number }[] = [];
    let queuedBytes = 0;
    let lastAt = 0;
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      timer = null;
      if (connection.closed) return;
      const now = Date.now();
      if (!this.held(connection.link)) {
        while (queue.length > 0 && queue[0]!.at <= now) {
          const { chunk } = queue.shift()!;
          queuedBytes -= chunk.length;
          sink.write(chunk);
        }
      }
      if (queue.length > 0) {
        const wait = this.held(connection.link) ? stallPollMs : Math.max(0, queue[0]!.at - now);
        timer = setTimeout(flush, wait);
      }
    };
    source.on("data", (chunk: Buffer) => {
      if (connection.closed) return;
      this.stats.chunks++;
      this.stats.bytes += chunk.length;
      watch.feed(chunk);
      if (this.dropPerChunk > 0 && this.random.chance(this.dropPerChunk)) {
        this.stats.dropped++;
        this.destroy(connection);
        return;
      }
      const delay = this.delayMsMax > 0 ? this.random.int(0, this.delayMsMax) : 0;
      lastAt = Math.max(lastAt, Date.now() + delay);
      queue.push({ chunk, at: lastAt });
      queuedBytes += chunk.length;
      if (queuedBytes > stallBufferMax) {
        this.stats.dropped++;
        this.destroy(connection);
        return;
      }
      if (timer === null) {
        if (delay === 0 && queue.length === 1 && !this.held(connection.link)) flush();
        else timer = setTimeout(flush, Math.max(0, lastAt - Date.now()));
      }
    });
    source.on("close", () => {
      if (timer !== null) clearTimeout(timer);
    });
  }

  private destroy(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.link.connections.delete(connection);
    connection.downstream.destroy();
    connection.upstream.destroy();
  }
}

function touches(link: LinkSpec, replica: number): boolean {
  return link.to === replica || link.from === replica;
}

const headerSize = 256;
const sizeOffset = 96;
const commandOffset = 114;
const commandMax = 24;
const violationsMax = 20;

/** Follows the message boundaries of one direction of one connection (see the header comment). */
class WireWatch {
  private readonly header = Buffer.alloc(headerSize);
  private headerBytes = 0;
  /** Body bytes of the current message still to come. */
  private bodyLeft = 0;
  private previous = "none (first message)";
  private broken = false;

  constructor(private readonly stream: string, private readonly proxy: { readonly violations: string[]; readonly messageSizeMax: number }) {}

  feed(chunk: Buffer): void {
    let at = 0;
    while (!this.broken && at < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= take;
        at += take;
        continue;
      }
      const take = Math.min(headerSize - this.headerBytes, chunk.length - at);
      chunk.copy(this.header, this.headerBytes, at, at + take);
      this.headerBytes += take;
      at += take;
      if (this.headerBytes < headerSize) return;
      this.headerBytes = 0;
      const size = this.header.readUInt32LE(sizeOffset);
      const command = this.header[commandOffset]!;
      if (size < headerSize || size > this.proxy.messageSizeMax || command > commandMax) {
        this.broken = true;
        if (this.proxy.violations.length < violationsMax) {
          this.proxy.violations.push(`wire: ${this.stream}: after ${this.previous}, the next header declares size ${size} ` +
            `command ${command} (not a message: bytes beyond a message's declared size?)`);
        }
        return;
      }
      this.previous = `a message with command ${command} and size ${size}`;
      this.bodyLeft = size - headerSize;
    }
  }
}
