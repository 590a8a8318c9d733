// openLedger({ path }): the durable embedded ledger. A one-replica Scarab cluster runs in this
// process on the data file (embedded_replica.ts: formatted on first use, the same replica code and
// storage backends as `scarab start`), and the client core (client_core.ts: the official client's
// checks, encoding and coalescing) talks to it over an in-process bus. A call resolves once its
// request is committed, that is, durable in the WAL: after a crash, kill -9 included, reopening
// the file recovers every acknowledged call.
import { ClientCore, clientMethods, type Client, type ClientTransport, type TransportHandlers } from "./client_core.js";
import { EmbeddedReplica, type EmbeddedReplicaOptions } from "./embedded_replica.js";
import type { MessageBus } from "../io/message_bus.js";

export interface DurableLedger extends Client {
  /** Like destroy(), then resolves once the data file is closed and unlocked (it may be reopened). */
  close(): Promise<void>;
}

/** Client messages sent while the replica is still opening: register and its retries. */
const openingQueueMax = 16;

/**
 * The transport to the embedded replica. Until the replica has opened, client messages wait
 * here (a recovering replica would ignore them and the client would retry only after its 600 ms
 * timeout); a failed open fails every call with its error.
 */
class EmbeddedTransport implements ClientTransport {
  readonly replicaCount = 1;
  private replica: EmbeddedReplica | null = null;
  private toReplica: MessageBus | null = null;
  private readonly opening: Uint8Array[] = [];
  private ref = false;
  private closing = false;
  private readonly closeWaiters: (() => void)[] = [];
  private settled = false;

  readonly bus: MessageBus = {
    sendToReplica: (replica, message) => {
      if (this.toReplica !== null) return this.toReplica.sendToReplica(replica, message);
      if (this.opening.length < openingQueueMax) this.opening.push(message.slice());
    },
    sendToClient: () => {},
  };

  constructor(options: EmbeddedReplicaOptions, handlers: TransportHandlers) {
    // Opening starts after the client core is built: a failure (a locked file) may be immediate.
    setImmediate(() => this.open(options, handlers));
  }

  private open(options: EmbeddedReplicaOptions, handlers: TransportHandlers): void {
    if (this.closing) return this.settle(); // destroyed before it began
    EmbeddedReplica.open(options, (error, replica) => {
      if (error !== null) {
        this.settle();
        return handlers.fail(error);
      }
      this.replica = replica!;
      if (this.closing) return replica!.close(() => this.settle());
      this.toReplica = replica!.connect({ onMessage: handlers.onMessage }, handlers.fail);
      replica!.setRef(this.ref);
      for (const message of this.opening.splice(0)) this.toReplica.sendToReplica(0, message);
    });
  }

  setRef(ref: boolean): void {
    this.ref = ref;
    this.replica?.setRef(ref);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.toReplica = null;
    this.replica?.close(() => this.settle());
  }

  /** Resolves once the file is closed, or was never opened. */
  closed(): Promise<void> {
    return new Promise((resolve) => (this.settled ? resolve() : this.closeWaiters.push(resolve)));
  }

  private settle(): void {
    this.settled = true;
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }
}

export function openDurableLedger(options: EmbeddedReplicaOptions): DurableLedger {
  let transport: EmbeddedTransport | null = null;
  const core = new ClientCore(0n, (handlers) => (transport = new EmbeddedTransport(options, handlers)), null);
  const methods = clientMethods(core);
  return {
    ...methods,
    close: () => {
      methods.destroy();
      return transport!.closed();
    },
  };
}
