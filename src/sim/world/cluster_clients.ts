// The simulated clients (spec/vopr.md §9 "Clients"): the real VsrClient, one per client node, each
// with its own clock, at most one request in flight, and an eviction that disables the node.
//
// Each client talks through a bus wrapper that remembers the last request it sent: that is the
// "currently in-flight request" the state checker matches new client ops against (§11.1). The
// record is cleared when the client accepts the reply, so a later commit of the same request is
// caught as a duplicate execution.
import { assert } from "../../core/assert.js";
import { Command } from "../../core/command.js";
import { headerSize, type Config } from "../../core/config.js";
import { FrameField, RequestHeader, verifyFrame } from "../../core/header.js";
import type { Prng } from "../../core/prng.js";
import type { MessageBus } from "../../io/message_bus.js";
import { VsrClient, type ClientFailure } from "../../replica/client.js";
import type { PacketSimulator } from "./packet_simulator.js";
import type { ClientRequest } from "../checkers/state_checker.js";
import { idealClock, TimeSim } from "./time_sim.js";

export interface ClientsObserver {
  /** A reply to a workload request (never the register). The buffer is valid during the call. */
  clientReply(clientIndex: number, reply: Uint8Array): void;
  clientEvicted(clientIndex: number, reason: ClientFailure): void;
}

/** Records the client's request sends, then forwards them to the network. */
class ClientBus implements MessageBus {
  inFlight: ClientRequest | null = null;
  private lastMessage: Uint8Array | null = null;
  private readonly header = new RequestHeader(new Uint8Array(headerSize));

  constructor(private readonly network: PacketSimulator, private readonly node: number) {}

  sendToReplica(replica: number, message: Uint8Array): void {
    // Retries and hedges resend the very same buffer (wire.md §9.4): parse each request once.
    if (message !== this.lastMessage && message[FrameField.command] === Command.request) {
      this.lastMessage = message;
      const header = this.header.reset(message, 0);
      this.inFlight = {
        client: header.client, request: header.request, checksum: header.checksum,
        operation: header.operation, size: header.size,
      };
    }
    this.network.send(this.node, replica, message);
  }

  sendToClient(): void {
    assert(false, "clients never send to clients");
  }
}

interface SimClient {
  readonly index: number;
  readonly node: number;
  readonly time: TimeSim;
  readonly bus: ClientBus;
  readonly client: VsrClient;
  /** A workload request is queued or in flight (at most one, §9). */
  pending: boolean;
  evicted: boolean;
  /** Asleep (SimClientsOptions.sleepWhenQuiet) until this tick; the quiet ticks it owes its timeouts. */
  wakeAt: number;
  ticksOwed: number;
}

export interface SimClientsOptions {
  readonly cluster: bigint;
  readonly replicaCount: number;
  readonly clientCount: number;
  readonly config: Config;
  readonly release: number;
  readonly network: PacketSimulator;
  /** Draws the client ids and each client's own PRNG, in client order. */
  readonly prng: Prng;
  readonly observer: ClientsObserver;
  /** Clients sleep through the ticks on which neither timeout is due (VsrClient.quietTicksAhead). */
  readonly sleepWhenQuiet?: boolean;
}

export class SimClients {
  readonly count: number;
  evictedCount = 0;
  requestsSent = 0;
  /** Requests that failed because their client was evicted: never replied, never counted. */
  requestsCancelled = 0;
  private readonly clients: SimClient[] = [];
  private readonly byId = new Map<bigint, SimClient>();
  private readonly network: PacketSimulator;
  private readonly observer: ClientsObserver;
  /** Client nodes follow the replicas and standbys, in index order. */
  private readonly firstNode: number;
  private readonly sleepWhenQuiet: boolean;
  private ticks = 0;

  constructor(options: SimClientsOptions) {
    this.count = options.clientCount;
    this.observer = options.observer;
    const network = options.network;
    this.network = network;
    this.firstNode = network.replicaNodeCount;
    this.sleepWhenQuiet = options.sleepWhenQuiet === true;
    // Ids are drawn (distinct, nonzero u128), then registered in index order; all clients register
    // at start (§9) because VsrClient sends its register request on construction.
    for (let index = 0; index < options.clientCount; index++) {
      let id = 0n;
      while (id === 0n || this.byId.has(id)) id = (options.prng.next() << 64n) | options.prng.next();
      const node = network.registerClient(id);
      const time = new TimeSim({ offset: idealClock, epochNs: simulatorEpochNs });
      const bus = new ClientBus(network, node);
      const client = new VsrClient({
        cluster: options.cluster, replicaCount: options.replicaCount, clientId: id, release: options.release,
        messageSizeMax: options.config.messageSizeMax, queueMax: 1, time, bus, prng: options.prng.split(),
      });
      const entry: SimClient = { index, node, time, bus, client, pending: false, evicted: false, wakeAt: 0, ticksOwed: 0 };
      this.clients.push(entry);
      this.byId.set(id, entry);
    }
  }

  /** §11.1: the in-flight request of client `id` (register included), or null. */
  inFlight(id: bigint): ClientRequest | null {
    return this.byId.get(id)?.bus.inFlight ?? null;
  }

  /** §5 cluster.tick step 3: every clock advances; evicted clients do nothing else. */
  tick(): void {
    const tick = ++this.ticks;
    for (const entry of this.clients) {
      entry.time.tick();
      if (tick < entry.wakeAt) {
        entry.ticksOwed += 1;
        continue;
      }
      this.wake(entry);
      entry.client.tick();
      if (this.sleepWhenQuiet) entry.wakeAt = tick + 1 + entry.client.quietTicksAhead();
    }
  }

  /** Pays a sleeping client's quiet ticks back before anything reaches it; it ticks next. */
  private wake(entry: SimClient): void {
    entry.wakeAt = 0;
    if (entry.ticksOwed === 0) return;
    entry.client.skipQuietTicks(entry.ticksOwed);
    entry.ticksOwed = 0;
  }

  /** A delivery to client node `node`. */
  deliver(node: number, message: Uint8Array): void {
    const entry = this.clients[node - this.firstNode]!;
    assert(entry.node === node, "SimClients: node mapping");
    // VsrClient expects framed messages with both checksums verified (client.ts onMessage).
    if (verifyFrame(message) !== null) return; // a packet is exactly its header's size
    this.wake(entry);
    const registered = entry.client.registered;
    entry.client.onMessage(message);
    if (!registered && entry.client.registered && entry.bus.inFlight?.request === 0) entry.bus.inFlight = null;
    if (entry.client.failure !== null && !entry.evicted) this.evict(entry, entry.client.failure);
  }

  private evict(entry: SimClient, reason: ClientFailure): void {
    entry.evicted = true;
    entry.pending = false;
    entry.bus.inFlight = null;
    this.evictedCount += 1;
    this.network.setNodeEnabled(entry.node, false); // §9: an eviction disables the client
    this.observer.clientEvicted(entry.index, reason);
  }

  /** Clients that may take a new request now: not evicted, nothing pending. */
  idleClients(into: number[]): number[] {
    into.length = 0;
    for (const entry of this.clients) if (!entry.evicted && !entry.pending) into.push(entry.index);
    return into;
  }

  get allEvicted(): boolean {
    return this.evictedCount === this.count;
  }

  /** Workload requests queued or in flight, plus registers not yet answered (§6.2 item 1). */
  get requestsInFlight(): number {
    let count = 0;
    for (const entry of this.clients) {
      if (entry.evicted) continue;
      if (entry.pending || !entry.client.registered) count += 1;
    }
    return count;
  }

  request(index: number, operation: number, body: Uint8Array): void {
    const entry = this.clients[index]!;
    assert(!entry.evicted && !entry.pending, "SimClients: request to a busy or evicted client");
    entry.pending = true;
    this.requestsSent += 1;
    this.wake(entry);
    entry.client.request(operation, body, (failure, reply) => {
      entry.pending = false;
      if (failure !== null || reply === null) {
        this.requestsCancelled += 1; // the eviction itself is handled in deliver()
        return;
      }
      entry.bus.inFlight = null;
      this.observer.clientReply(index, reply);
    });
  }
}

/** Realtime at tick 0 of every simulated clock (an arbitrary fixed epoch, in ns). */
export const simulatorEpochNs = 1_700_000_000_000_000_000n;
