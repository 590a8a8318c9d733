// One node's MessageBus over the packet simulator (spec/vopr.md §9). Replica indexes are node
// indexes; client ids map to nodes through PacketSimulator.registerClient, in insertion order.
import { assert } from "../../core/assert.js";
import type { MessageBus } from "../../io/message_bus.js";
import type { PacketSimulator } from "./packet_simulator.js";

export class SimMessageBus implements MessageBus {
  constructor(private readonly network: PacketSimulator, readonly node: number) {}

  sendToReplica(replica: number, message: Uint8Array): void {
    // Replicas and standbys are nodes 0..replicaNodeCount−1; anything else is a caller bug.
    assert(Number.isInteger(replica) && replica >= 0 && replica < this.network.replicaNodeCount,
      "sendToReplica: no such replica");
    this.network.send(this.node, replica, message);
  }

  sendToClient(client: bigint, message: Uint8Array): void {
    const target = this.network.clientNode(client);
    // A reply to a client the simulator never registered is lost, as on a real network.
    if (target === undefined) this.network.dropUnknownClient();
    else this.network.send(this.node, target, message);
  }
}
