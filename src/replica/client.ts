// The IO-agnostic VSR client (spec/wire.md §9): register, one request in flight, the parent/context
// hash chain, retries with backoff to the primary plus one hedged backup, pings, and eviction.
// It talks to the world only through Time and MessageBus, so the VOPR runs this exact code and the
// public TCP client wraps it with sockets and a real timer.
import { assert } from "../core/assert.js";
import { headerSize } from "../core/config.js";
import { Command, EvictionReason, Operation } from "../core/command.js";
import {
  buildPingClient, buildRegisterRequest, buildRequest, EvictionHeader, Header, PongClientHeader,
  registerResultBodySize, ReplyHeader, validateHeader,
} from "../core/header.js";
import type { Prng } from "../core/prng.js";
import type { MessageBus } from "../io/message_bus.js";
import type { Time } from "../io/time.js";
import { Timeout } from "./timeout.js";

/** Client request timeout: rtt · 2 with rtt = 300 ms (wire.md §9.4). */
const requestTimeoutTicks = 60;
/** ping_client every 30 s (wire.md §9.5). */
const pingTimeoutTicks = 3000;

export interface VsrClientOptions {
  readonly cluster: bigint;
  readonly replicaCount: number;
  readonly clientId: bigint;
  readonly release: number;
  /** The largest request this client may send (header included). */
  readonly messageSizeMax: number;
  /** The most requests that may wait behind the one in flight. */
  readonly queueMax: number;
  readonly time: Time;
  readonly bus: MessageBus;
  readonly prng: Prng;
}

/** Why requests fail: the eviction reason the primary sent, or closed by the owner. */
export type ClientFailure = EvictionReason | "closed";

/** Called once per request: with the reply message (header + body) or with the failure. */
export type ReplyCallback = (failure: ClientFailure | null, reply: Uint8Array | null) => void;

interface Request {
  readonly operation: number;
  readonly body: Uint8Array;
  readonly callback: ReplyCallback;
}

interface InFlight {
  readonly request: Request;
  readonly number: number;
  /** The whole message, byte-identical on every retry (wire.md §9.4). */
  readonly message: Uint8Array;
  readonly checksum: bigint;
}

export class VsrClient {
  readonly id: bigint;
  /** The register's commit number; 0 until registered. */
  session = 0;
  /** batch_size_limit from the register reply; 0 until registered. */
  batchSizeLimit = 0;
  /** The highest view seen. */
  view = 0;
  failure: ClientFailure | null = null;

  private parent = 0n;
  private requestNumber = 0;
  private inFlight: InFlight | null = null;
  private readonly queue: Request[] = [];
  private readonly requestTimeout = new Timeout({ name: "client_request", afterTicks: requestTimeoutTicks });
  private readonly pingTimeout = new Timeout({ name: "client_ping", afterTicks: pingTimeoutTicks });
  private readonly reply = new ReplyHeader(new Uint8Array(headerSize));
  private readonly header = new Header(new Uint8Array(headerSize));

  constructor(private readonly options: VsrClientOptions) {
    assert(options.clientId !== 0n, "client id must be nonzero");
    assert(options.replicaCount >= 1 && options.replicaCount <= 6);
    this.id = options.clientId;
    this.pingTimeout.start();
    this.sendRegister();
  }

  /** Queues a request; the callback runs exactly once. */
  request(operation: number, body: Uint8Array, callback: ReplyCallback): void {
    assert(operation >= 128, "clients send state-machine operations only");
    if (this.failure !== null) return callback(this.failure, null);
    assert(this.queue.length < this.options.queueMax, "client request queue is full");
    assert(headerSize + body.length <= this.options.messageSizeMax, "request body too large");
    this.queue.push({ operation, body, callback });
    if (this.inFlight === null && this.session !== 0) this.sendNext();
  }

  /** Requests in flight or queued. */
  get pending(): number {
    return this.queue.length + (this.inFlight !== null && this.inFlight.number > 0 ? 1 : 0);
  }

  get registered(): boolean {
    return this.session !== 0;
  }

  /** Fails every request, now and later. */
  close(): void {
    this.fail("closed");
  }

  tick(): void {
    if (this.failure !== null) return;
    this.requestTimeout.tick();
    this.pingTimeout.tick();
    if (this.requestTimeout.fired()) {
      this.requestTimeout.backoff(this.options.prng);
      if (this.inFlight !== null) this.sendToPrimaryAndHedge(this.inFlight.message);
    }
    if (this.pingTimeout.fired()) {
      this.pingTimeout.reset();
      this.sendPings();
    }
  }

  /**
   * How many coming ticks would only count (neither timeout due): the simulator lets a client
   * sleep through them (sim/world/cluster_clients.ts) and pays them back with skipQuietTicks
   * before anything reaches the client.
   */
  quietTicksAhead(): number {
    if (this.failure !== null) return Infinity;
    return Math.min(this.requestTimeout.quietTicksAhead, this.pingTimeout.quietTicksAhead);
  }

  skipQuietTicks(ticks: number): void {
    if (this.failure !== null) return;
    this.requestTimeout.skipQuietTicks(ticks);
    this.pingTimeout.skipQuietTicks(ticks);
  }

  /** A message from a replica, already framed with both checksums verified. */
  onMessage(message: Uint8Array): void {
    if (this.failure !== null) return;
    const header = this.header.reset(message, 0);
    if (header.cluster !== this.options.cluster || validateHeader(header) !== null) return;
    if (header.command === Command.reply) this.onReply(message);
    else if (header.command === Command.eviction) this.onEviction(message);
    else if (header.command === Command.pong_client) this.onPongClient(message);
  }

  private onReply(message: Uint8Array): void {
    const reply = this.reply.reset(message, 0);
    const inFlight = this.inFlight;
    if (reply.client !== this.id || inFlight === null) return;
    if (reply.request !== inFlight.number) return; // an old duplicate
    // A reply to our request number with another checksum answers a request we never sent: the
    // official client asserts here; we drop it and keep retrying.
    if (reply.request_checksum !== inFlight.checksum) return;
    if (reply.operation !== inFlight.request.operation || reply.release !== this.options.release) return;
    if (inFlight.number === 0 && !this.acceptRegisterReply(reply, message)) return;
    this.view = Math.max(this.view, reply.view);
    this.parent = reply.context;
    this.inFlight = null;
    this.requestTimeout.stop();
    if (inFlight.number > 0) inFlight.request.callback(null, message);
    if (this.failure === null) this.sendNext();
  }

  private acceptRegisterReply(reply: ReplyHeader, message: Uint8Array): boolean {
    if (reply.size !== headerSize + registerResultBodySize || reply.commit === 0) return false;
    const limit = new DataView(message.buffer, message.byteOffset + headerSize, 4).getUint32(0, true);
    if (limit === 0 || limit > this.options.messageSizeMax - headerSize) return false;
    this.session = reply.commit;
    this.batchSizeLimit = limit;
    return true;
  }

  private onEviction(message: Uint8Array): void {
    const eviction = new EvictionHeader(message, 0);
    if (eviction.client !== this.id || eviction.view < this.view) return;
    this.fail(eviction.reason as EvictionReason);
  }

  private onPongClient(message: Uint8Array): void {
    const pong = new PongClientHeader(message, 0);
    // Pongs only teach newer views (wire.md §9.5); RTT estimation can come later.
    if (pong.replica < this.options.replicaCount) this.view = Math.max(this.view, pong.view);
  }

  private fail(failure: ClientFailure): void {
    if (this.failure !== null) return;
    this.failure = failure;
    this.requestTimeout.stop();
    this.pingTimeout.stop();
    const inFlight = this.inFlight;
    this.inFlight = null;
    if (inFlight !== null && inFlight.number > 0) inFlight.request.callback(failure, null);
    for (const request of this.queue.splice(0)) request.callback(failure, null);
  }

  private sendRegister(): void {
    const message = buildRegisterRequest(this.options.cluster, this.id, this.options.release);
    const noop: Request = { operation: Operation.register, body: message.subarray(headerSize), callback: () => {} };
    this.send({ request: noop, number: 0, message, checksum: new Header(message, 0).checksum });
  }

  private sendNext(): void {
    assert(this.inFlight === null && this.session !== 0);
    const request = this.queue.shift();
    if (request === undefined) return;
    this.requestNumber += 1;
    const message = buildRequest({
      cluster: this.options.cluster, client: this.id, parent: this.parent, session: this.session,
      request: this.requestNumber, operation: request.operation, view: this.view,
      release: this.options.release,
    }, request.body);
    this.send({ request, number: this.requestNumber, message, checksum: new Header(message, 0).checksum });
  }

  /**
   * The first send goes to the primary of the latest known view only, as TigerBeetle's client does:
   * a primary of an older view forwards it, and a primary that is down makes the request time out,
   * and the retries hedge. Hedging the first send as well cost every request a second copy (1 MiB
   * for a full batch) to a backup, which forwarded it to the primary as a third.
   */
  private send(inFlight: InFlight): void {
    this.inFlight = inFlight;
    this.requestTimeout.start();
    this.options.bus.sendToReplica(this.view % this.options.replicaCount, inFlight.message);
  }

  /** A retry: to the primary of the latest known view, plus one random other replica (wire.md §9.4). */
  private sendToPrimaryAndHedge(message: Uint8Array): void {
    const count = this.options.replicaCount;
    const primary = this.view % count;
    this.options.bus.sendToReplica(primary, message);
    if (count > 1) {
      const other = (primary + 1 + this.options.prng.int(count - 1)) % count;
      this.options.bus.sendToReplica(other, message);
    }
  }

  private sendPings(): void {
    const ping = buildPingClient(this.options.cluster, this.id, this.options.time.monotonic(),
      this.session, this.options.release);
    for (let replica = 0; replica < this.options.replicaCount; replica++) {
      this.options.bus.sendToReplica(replica, ping);
    }
  }
}
