// A TCP proxy for client tests: forwards bytes between clients and one replica unchanged, parses
// the client → replica stream into messages (wire.md §1: 256-byte header, `size` at offset 96)
// and records every request (command 5) of a ledger operation with its batch count (the u16 at
// the end of its multi-batch body, wire.md §8). It can also hold client bytes back (pause), as a
// replica that stopped answering would look to the client, and deliver them later (resume).
import { createServer, connect, type Server, type Socket } from "node:net";

const headerSize = 256;
const commandRequest = 5;

export interface RecordedRequest {
  /** The client id (header offset 160), as hex. */
  readonly client: string;
  readonly operation: number;
  /** The request number (header offset 192): retransmissions repeat it. */
  readonly request: number;
  readonly batchCount: number;
}

export class WireProxy {
  /** Requests of operations ≥ 128, in the order they were sent, retransmissions included. */
  readonly requests: RecordedRequest[] = [];
  port = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private paused = false;
  private readonly held: Array<() => void> = [];

  constructor(private readonly replicaPort: number) {
    this.server = createServer((client) => this.onClient(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** The requests without retransmissions (a client resends a request with the same number). */
  distinct(): RecordedRequest[] {
    const seen = new Set<string>();
    const distinct: RecordedRequest[] = [];
    for (const request of this.requests) {
      const key = `${request.client}/${request.request}`;
      if (seen.has(key)) continue;
      seen.add(key);
      distinct.push(request);
    }
    return distinct;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const deliver of this.held.splice(0)) deliver();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onClient(client: Socket): void {
    const replica = connect(this.replicaPort, "127.0.0.1");
    this.sockets.add(client).add(replica);
    let pending = Buffer.alloc(0);
    client.on("data", (chunk) => {
      pending = this.record(Buffer.concat([pending, chunk]));
      if (this.paused) this.held.push(() => replica.write(chunk));
      else replica.write(chunk);
    });
    replica.on("data", (chunk) => client.write(chunk));
    const end = () => { client.destroy(); replica.destroy(); };
    client.on("error", end).on("close", end);
    replica.on("error", end).on("close", end);
  }

  /** Records the whole messages at the start of `bytes`; returns the incomplete rest. */
  private record(bytes: Buffer): Buffer {
    let offset = 0;
    while (bytes.length - offset >= headerSize) {
      const size = bytes.readUInt32LE(offset + 96);
      if (bytes.length - offset < size) break;
      const command = bytes[offset + 114]!;
      const operation = bytes[offset + 196]!;
      if (command === commandRequest && operation >= 128 && size > headerSize) {
        const client = bytes.subarray(offset + 160, offset + 176).toString("hex");
        const request = bytes.readUInt32LE(offset + 192);
        this.requests.push({ client, operation, request, batchCount: bytes.readUInt16LE(offset + size - 2) });
      }
      offset += size;
    }
    return bytes.subarray(offset);
  }
}
